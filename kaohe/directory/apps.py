from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "kaohe.directory"
    verbose_name = "单位与定点扶贫县"
