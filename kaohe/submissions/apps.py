from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "kaohe.submissions"
    verbose_name = "自评与省级报告"
