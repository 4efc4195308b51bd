from django.apps import AppConfig


class LaunchConfig(AppConfig):
    name = "kaohe.launch"
    verbose_name = "考核启动和组织培训"
