"""Evidence files and the resumable uploads that produce them.

An Upload is a tus upload in progress: its bytes live in a partial file (in the staging
directory) until the last byte arrives. Only then is the file checked (type by content,
size), stored in the default storage and hashed on the way, and an Evidence row created,
in that order, so that a cut at any moment leaves no half file listed as evidence.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib.fields import StampedDateTimeField


class Upload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="uploads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads"
    )
    # The owner whose scope decides who may read the evidence.
    unit = models.ForeignKey("directory.Unit", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="uploads")
    province = models.ForeignKey("directory.Province", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="uploads")
    original_name = models.CharField(_("原文件名"), max_length=255)
    length = models.BigIntegerField(_("文件大小"))
    offset = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = StampedDateTimeField(auto_now_add=True)
    updated_at = StampedDateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Set when the finished file was refused (wrong type, say): the reason shown to the user.
    rejected_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("上传")

    def __str__(self):
        return f"{self.original_name} ({self.offset}/{self.length})"


class EvidenceKind(models.TextChoices):
    FILE = "file", _("文件")
    LINK = "link", _("链接")


class Evidence(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="evidence")
    unit = models.ForeignKey("directory.Unit", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="evidence")
    province = models.ForeignKey("directory.Province", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=10, choices=EvidenceKind.choices,
                            default=EvidenceKind.FILE)
    # A label only: the stored file's name is the evidence id, never anything a user typed.
    original_name = models.CharField(_("名称"), max_length=255)
    storage_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    url = models.URLField(_("链接"), max_length=1000, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("证明材料")
        constraints = [
            models.CheckConstraint(
                name="evidence_has_one_owner",
                condition=(models.Q(unit__isnull=False, province__isnull=True)
                           | models.Q(unit__isnull=True, province__isnull=False)),
            ),
        ]

    def __str__(self):
        return self.original_name

    @property
    def previewable(self) -> bool:
        return self.content_type in {"image/jpeg", "image/png", "application/pdf"}
