"""Every export of a document, and the Word templates the office substitutes for ours.

An Export row exists for every document made, before it is rendered: its code is printed in
the document's mark, so a leaked copy leads back to this row and its audit entry.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib.fields import StampedDateTimeField


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    EXPIRED = "expired", _("已过期")


# The error recorded on an export whose worker stopped renewing its lease.
INTERRUPTED = "interrupted"
# The start of the error recorded on a bulk export stopped because a paper it holds was
# withdrawn while it was made (kaohe.documents.withdrawal.stop_export); the user is told why.
STOPPED = "stopped: "


class Export(models.Model):
    round = models.ForeignKey("rounds.Round", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    identifier = models.CharField(max_length=50)
    fmt = models.CharField(max_length=10)
    object_key = models.CharField(max_length=50, blank=True)
    title = models.CharField(_("文书"), max_length=300)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)
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
    def stopped(self) -> bool:
        """Failed because a paper it holds was withdrawn while it was made."""
        return self.status == ExportStatus.FAILED and self.error.startswith(STOPPED)

    @property
    def stopped_reason(self) -> str:
        return self.error.removeprefix(STOPPED) if self.stopped else ""

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
    uploaded_at = StampedDateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("文书模板")

    def __str__(self):
        return self.original_name


class DocumentKind(models.TextChoices):
    """The kinds of outgoing paper (GB/T 9704 文种) whose 发文字号 run in their own sequence."""

    NOTICE = "notice", _("通知")
    CIRCULAR = "circular", _("通报")
    LETTER = "letter", _("函")
    REPORT = "report", _("报告")


class NumberSequence(models.Model):
    """The office's 发文字号 for one year and one kind of paper: 国开办函〔2018〕12号 is
    prefix 国开办函, year 2018, number 12. Kinds that share a prefix share its numbers."""

    year = models.PositiveSmallIntegerField(_("年份"))
    kind = models.CharField(_("文种"), max_length=20, choices=DocumentKind.choices)
    prefix = models.CharField(_("机关代字"), max_length=30)
    next_number = models.PositiveIntegerField(_("下一个序号"), default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = StampedDateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "kind"]
        verbose_name = _("发文字号")
        constraints = [models.UniqueConstraint(fields=["year", "kind"],
                                               name="documents_sequence_year_kind")]

    def __str__(self):
        return f"{self.prefix}〔{self.year}〕"


class SignOff(models.Model):
    """A paper the office signed off (签发): its 成文日期, its 发文字号 and its content are
    fixed here, and every later copy is printed from ``content`` (checked by ``sha256``)."""

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    identifier = models.CharField(max_length=50)
    object_key = models.CharField(max_length=50)
    title = models.CharField(_("文书"), max_length=300)
    kind = models.CharField(_("文种"), max_length=20, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField()
    prefix = models.CharField(max_length=30)
    number = models.PositiveIntegerField()
    doc_number = models.CharField(_("发文字号"), max_length=60)
    issued_on = models.DateField(_("成文日期"))
    signer = models.CharField(_("签发人"), max_length=50, blank=True)
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    signed_at = StampedDateTimeField(auto_now_add=True)
    # Withdrawn (作废) by the office, with its reason: the row and its 发文字号 stay (the
    # number is never given again), and the paper may be signed off anew.
    withdrawn_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    withdraw_reason = models.TextField(_("作废原因"), blank=True)

    class Meta:
        ordering = ["-signed_at", "-pk"]
        verbose_name = _("签发")
        constraints = [
            # One paper in force per document; withdrawn ones stay beside it.
            models.UniqueConstraint(fields=["identifier", "object_key"],
                                    condition=models.Q(withdrawn_at__isnull=True),
                                    name="documents_signoff_in_force"),
            models.UniqueConstraint(fields=["year", "prefix", "number"],
                                    name="documents_signoff_number"),
        ]
        # A document's papers, withdrawn ones included (the desk reads a page of documents'
        # papers at once; the partial index above serves only those in force: issue 19).
        indexes = [models.Index(fields=["identifier", "object_key"],
                                name="documents_signoff_papers")]

    def __str__(self):
        return f"{self.doc_number} {self.title}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class DocumentCopy(models.Model):
    """One numbered copy (份号) of a confidential paper, made by one export: a leaked paper
    names its copy, and its copy its export (maker, time, code)."""

    export = models.ForeignKey(Export, on_delete=models.PROTECT, related_name="copies")
    identifier = models.CharField(max_length=50)
    object_key = models.CharField(max_length=50)
    number = models.PositiveIntegerField()
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identifier", "object_key", "number"]
        constraints = [models.UniqueConstraint(fields=["identifier", "object_key", "number"],
                                               name="documents_copy_number")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """GB/T 9704 7.2.1: six Arabic digits."""
        return f"{self.number:06d}"
