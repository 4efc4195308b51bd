"""API tokens of organizations, and the log of every call made with the API.

A token acts as one user account (a unit's, a province's or the office's), so its scope
is exactly that user's: every endpoint reads through the same scoped selectors and
writes through the same services as the pages. The security administrator authorizes a
token; the account's holder activates it, and only then is it made (kaohe.api.services).
Only the SHA-256 of a token is stored; the token itself is shown once, to the holder.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib import clock


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="api_tokens", verbose_name=_("代表的账户"))
    name = models.CharField(_("名称"), max_length=100)
    # The first characters of the token, shown in lists so that its holder can tell which
    # one it is; far too short to guess the rest. Both empty until the holder activates it.
    prefix = models.CharField(_("前缀"), max_length=16, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("授权时间"), default=clock.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    activated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("接口令牌")

    def __str__(self):
        return f"{self.name}（{self.prefix}…）" if self.prefix else self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.activated_at is not None

    @property
    def is_pending(self) -> bool:
        """Authorized, not yet activated by its holder (and not revoked)."""
        return self.revoked_at is None and self.activated_at is None


class ApiCall(models.Model):
    """One request to an API operation: who (the token, none when it was missing or
    refused), what (method and path, never the body) and how it ended (status)."""

    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="calls")
    at = models.DateTimeField(default=clock.now, db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("接口调用记录")

    def __str__(self):
        return f"{self.method} {self.path} {self.status}"
