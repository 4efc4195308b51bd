"""What the owner of the database can do to the audit log without the application.

These helpers are the attacker's own code, written from the published entry format (not
imported from Kaohe): with the append-only triggers lifted, rewrite rows and recompute the
hash chain from a given entry on, with plain SHA-256 or with an HMAC under a guessed key.
"""

import hashlib
import hmac
import json

from django.db import connection

from kaohe.audit.guard import append_only_guard_lifted
from kaohe.audit.models import AuditEntry


def canonical(entry) -> bytes:
    payload = {
        "created_at": entry.created_at.isoformat(),
        "actor": entry.actor_id,
        "actor_repr": entry.actor_repr,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "data": entry.data,
        "ip": entry.ip,
        "success": entry.success,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def plain_sha256(entry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def hmac_with(key: bytes):
    def digest(entry) -> str:
        return hmac.new(key, canonical(entry), hashlib.sha256).hexdigest()
    return digest


def rewrite(from_id: int, *, change=None, digest=plain_sha256, until_id=None) -> None:
    """Apply change(entry) to the entry from_id, then recompute every hash from it on
    (up to until_id, excluded, if given)."""
    entries = list(AuditEntry.objects.order_by("id"))
    if until_id is not None:
        entries = [entry for entry in entries if entry.id < until_id]
    previous = None
    with append_only_guard_lifted(), connection.cursor() as cursor:
        for entry in entries:
            if entry.id >= from_id:
                if entry.id == from_id and change is not None:
                    change(entry)
                entry.prev_hash = previous.hash if previous else "0" * 64
                entry.hash = digest(entry)
                cursor.execute(
                    "UPDATE audit_auditentry SET action=%s, data=%s, prev_hash=%s, hash=%s "
                    "WHERE id=%s",
                    [entry.action, json.dumps(entry.data), entry.prev_hash, entry.hash,
                     entry.id])
            previous = entry


def delete_newest(n: int) -> None:
    newest = list(AuditEntry.objects.order_by("-id").values_list("id", flat=True)[:n])
    with append_only_guard_lifted(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM audit_auditentry WHERE id IN ({', '.join(['%s'] * len(newest))})",  # noqa: S608
            newest)
