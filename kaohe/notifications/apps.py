from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kaohe.notifications"
