from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kaohe.audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        from kaohe.audit import checks, receivers  # noqa: F401 - registers checks and signals
