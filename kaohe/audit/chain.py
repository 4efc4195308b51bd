"""The hashes of the audit chain, keyed with AUDIT_KEY (security.md 28).

Each entry's hash is HMAC-SHA256 under AUDIT_KEY over the entry's canonical JSON, which
includes the previous entry's hash. The key lives outside the database (environment or a
file), so that whoever holds only the database can neither rewrite an entry and recompute
the chain, nor start a chain of their own.

Logs begun before the key were chained with plain SHA-256 over the same JSON. Such a log
is carried over, not rewritten (entries are never changed): migration 0004 appends one keyed
entry, "audit.chain.keyed", that records how many plain entries precede it and the last
one's hash. `verify_chain` accepts plain entries only before that record; a log without it,
or with a plain entry after it, fails.
"""

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

from kaohe.lib import clock

GENESIS = "0" * 64
KEYED_START = "audit.chain.keyed"


def audit_key() -> bytes:
    return settings.AUDIT_KEY.encode("utf-8")


def canonical(entry: Any) -> bytes:
    """The entry's content in one fixed form: what both kinds of hash cover."""
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
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def keyed_hash(entry: Any, key: bytes | None = None) -> str:
    return hmac.new(key if key is not None else audit_key(), canonical(entry),
                    hashlib.sha256).hexdigest()


def plain_hash(entry: Any) -> str:
    """The hash of entries written before the chain was keyed."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def matches(digest: str, stored: str) -> bool:
    return hmac.compare_digest(digest.encode("ascii"), stored.encode("ascii", "replace"))


def start_keyed_chain(model: Any, *, using: str = "default") -> Any:
    """Carry a plain (pre-key) chain into the keyed one: append the keyed record of the
    plain entries, once. Called by migration 0004 with its historical model.

    Returns the new entry, or None when there is nothing to carry over (an empty log, or a
    log that already ends in a keyed entry).
    """
    manager = model._default_manager.db_manager(using)
    last = manager.order_by("-id").first()
    if last is None or matches(keyed_hash(last), last.hash):
        return None
    entry = model(
        created_at=clock.now(), actor_id=None, actor_repr="kaohe migrate",
        action=KEYED_START, target_type="", target_id="", target_repr="",
        data={"plain_entries": manager.count(), "plain_head": last.hash},
        ip=None, success=True, prev_hash=last.hash,
    )
    entry.hash = keyed_hash(entry)
    entry.save(using=using)
    return entry
