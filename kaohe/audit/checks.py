"""System checks for the audit log's guarantees (security.md 14 and 17)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

# The Cybersecurity Law (网络安全法, art. 21) asks for network logs kept at least six months.
MIN_RETENTION_DAYS = 180


@register(Tags.security)
def check_audit_retention(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    days = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if not isinstance(days, int) or days < MIN_RETENTION_DAYS:
        return [Error(
            f"AUDIT_RETENTION_DAYS is {days!r}; audit entries must be kept at least "
            f"{MIN_RETENTION_DAYS} days.",
            hint="Set AUDIT_RETENTION_DAYS to 180 or more (审计日志至少保存六个月).",
            id="audit.E001",
        )]
    return []


@register(Tags.security, deploy=True)
def check_no_superuser(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Kaohe grants nothing to is_superuser, but such an account should not exist at all:
    the three administrator duties (等保 三员) are roles, and no account holds all three."""
    from kaohe.accounts.models import User

    try:
        names = list(User.objects.filter(is_superuser=True).values_list("username", flat=True)[:5])
    except DatabaseError:
        return []  # no database (yet): nothing to report
    if not names:
        return []
    return [Warning(
        f"Superuser accounts exist: {', '.join(names)}.",
        hint="Kaohe grants nothing to is_superuser (capabilities come from the role): give "
             "these people a role through the security administrator, then clear the flag "
             "or remove the account with `kaohe shell` (不设超级管理员).",
        id="audit.W001",
    )]


@register(Tags.security)
def check_audit_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The audit chain's key (security.md 28): the demo's fixed key only in debug, and a key
    of its own, not the SECRET_KEY that every part of Django already uses."""
    if getattr(settings, "AUDIT_KEY_IS_DEMO", False):
        return [Warning(
            "AUDIT_KEY is not set: the audit log is chained with the fixed demo key, which "
            "anyone can read in Kaohe's source.",
            hint="Debug (the demo) only. Set AUDIT_KEY or AUDIT_KEY_FILE to a random secret "
                 "of at least 32 characters kept outside the database (审计日志密钥).",
            id="audit.W002",
        )]
    if settings.AUDIT_KEY == settings.SECRET_KEY:
        return [Warning(
            "AUDIT_KEY is the same as SECRET_KEY.",
            hint="Give the audit chain a key of its own (AUDIT_KEY or AUDIT_KEY_FILE).",
            id="audit.W003",
        )]
    return []
