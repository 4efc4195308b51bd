"""Every export of a document, and the Word templates the office substitutes for ours.

An Export row exists for every document made, before it is rendered: its code is printed in
the document's mark, so a leaked copy leads back to this row and its audit entry.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    EXPIRED = "expired", _("已过期")


# The error recorded on an export whose worker stopped renewing its lease.
INTERRUPTED = "interrupted"


class Export(models.Model):
    round = models.ForeignKey("rounds.Round", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    identifier = models.CharField(max_length=50)
    fmt = models.CharField(max_length=10)
    object_key = models.CharField(max_length=50, blank=True)
    title = models.CharField(_("文书"), max_length=300)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ExportStatus.choices,
                              default=ExportStatus.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # Bulk exports keep their file until it expires; single documents are streamed and
    # keep only their hash.
    storage_name = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The lease of a running bulk export: renewed while its worker lives (services.run_export).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["made_by", "-created_at"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"K{self.pk:07d}"

    @property
    def interrupted(self) -> bool:
        """Failed because its worker died mid-way (services.recover_stale_exports)."""
        return self.status == ExportStatus.FAILED and self.error.startswith(INTERRUPTED)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return round(100 * self.progress / self.total) if self.total else 0


class DocumentTemplate(models.Model):
    """The office's own Word template for one document (docxtpl), replacing the built-in layout."""

    identifier = models.CharField(max_length=50, unique=True)
    original_name = models.CharField(_("文件名"), max_length=255)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("文书模板")

    def __str__(self):
        return self.original_name
