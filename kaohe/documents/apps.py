from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "kaohe.documents"
    verbose_name = _("文书导出")

    def ready(self):
        # Importing the exporters registers them.
        from kaohe.documents import checks, exporters  # noqa: F401
