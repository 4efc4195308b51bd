from django.apps import AppConfig


class RoundsConfig(AppConfig):
    name = "kaohe.rounds"
    verbose_name = "考核年度"
