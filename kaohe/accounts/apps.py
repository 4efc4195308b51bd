from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kaohe.accounts"
    verbose_name = "账户与角色"

    def ready(self):
        from kaohe.accounts import checks, receivers  # noqa: F401 - registers checks and signals
