from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "kaohe.grading"
    verbose_name = "综合评议"
