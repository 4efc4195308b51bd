"""Writing and checking the audit log."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from kaohe.audit.context import current_ip
from kaohe.audit.models import AuditEntry

GENESIS = "0" * 64
# Any 64-bit constant: the advisory lock that serializes appends on PostgreSQL.
_CHAIN_LOCK = 7_305_2017
_SECRET_WORDS = ("password", "token", "secret", "otp")


def _mask(data):
    """Replace the value of any key that names a secret, at any depth."""
    if isinstance(data, dict):
        return {
            k: "***" if any(word in str(k).lower() for word in _SECRET_WORDS) else _mask(v)
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [_mask(v) for v in data]
    if isinstance(data, str):
        return data.replace("\x00", "")  # PostgreSQL cannot store NUL in text or JSON
    return data


def log_action(
    action: str,
    *,
    actor=None,
    target=None,
    data: dict | None = None,
    success: bool = True,
    actor_repr: str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction, chained to the previous one."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        user = actor if actor is not None and getattr(actor, "pk", None) else None
        entry = AuditEntry(
            created_at=timezone.now(),
            actor=user,
            actor_repr=actor_repr if actor_repr is not None else (
                user.get_username() if user else ""
            ),
            action=action,
            target_type=target._meta.label if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_repr=str(target)[:300] if target is not None else "",
            data=_mask(data or {}),
            ip=ip if ip is not None else current_ip.get(),
            success=success,
            prev_hash=last or GENESIS,
        )
        entry.hash = entry.compute_hash()
        entry.save()
    return entry


@dataclass
class ChainReport:
    checked: int
    first_broken_id: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain() -> ChainReport:
    """Walk the log in order; name the first entry whose link or content does not match."""
    expected_prev = GENESIS
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != expected_prev:
            return ChainReport(checked, entry.id, "link to the previous entry does not match")
        if entry.compute_hash() != entry.hash:
            return ChainReport(checked, entry.id, "content does not match its hash")
        expected_prev = entry.hash
        checked += 1
    return ChainReport(checked, None)
