from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "kaohe.maintenance"
    verbose_name = "备份与恢复"
