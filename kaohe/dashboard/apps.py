from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "kaohe.dashboard"
    verbose_name = "首页"
