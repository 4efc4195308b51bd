"""The audit log: append-only and chained with keyed hashes (kaohe.audit.chain), so that a
rewritten or removed entry can be found."""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.audit import chain


class AppendOnlyError(Exception):
    pass


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit entries cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        # DO_NOTHING: an entry is never rewritten, not even when its user is deleted
        # (actor_repr keeps the name); SET_NULL would break the hash chain.
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    actor_repr = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(_("对象"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    success = models.BooleanField(_("成功"), default=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("审计记录")

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit entries cannot be deleted")

    def compute_hash(self) -> str:
        """HMAC-SHA256 under AUDIT_KEY of the entry and its predecessor's hash."""
        return chain.keyed_hash(self)
