"""Writing and checking the audit log."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from kaohe.audit import chain
from kaohe.audit.anchors import Anchor, latest_anchor, read_anchors
from kaohe.audit.chain import GENESIS
from kaohe.audit.context import current_ip
from kaohe.audit.models import AuditEntry
from kaohe.lib import clock

# Any 64-bit constant: the advisory lock that serializes appends on PostgreSQL.
_CHAIN_LOCK = 7_305_2017
_SECRET_WORDS = ("password", "token", "secret", "otp")


def _mask(data: Any) -> Any:
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
    actor: Any = None,
    target: Any = None,
    data: dict[str, Any] | None = None,
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
            created_at=clock.now(),
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


@dataclass(frozen=True)
class AnchorProblem:
    """An anchor the log does not agree with.

    kind: "truncated" (the log holds fewer entries than the anchor records), "mismatch"
    (the entry at the anchored position is another one: the log was rewritten before it),
    or "altered" (the anchor line itself was changed or is garbled).
    """

    kind: str
    anchor: Anchor
    held: int  # entries in the log


@dataclass
class ChainReport:
    checked: int
    first_broken_id: int | None
    reason: str = ""
    anchor_problems: list[AnchorProblem] = field(default_factory=list)
    anchors_checked: int = 0
    latest_anchor: Anchor | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None and not self.anchor_problems

    @property
    def truncation(self) -> AnchorProblem | None:
        return next((p for p in self.anchor_problems if p.kind == "truncated"), None)


def verify_chain(*, extra_anchors: Sequence[Anchor] = ()) -> ChainReport:
    """Walk the log in order; name the first entry whose link or content does not match,
    and every anchor (from the anchor file, and extra_anchors from paper) that the log
    does not agree with.

    Every hash must be the HMAC under AUDIT_KEY, except plain SHA-256 entries written
    before the chain was keyed, which must all come first and be followed by the keyed
    record of them (kaohe.audit.chain.start_keyed_chain).
    """
    key = chain.audit_key()
    anchors = [*read_anchors(), *extra_anchors]
    problems = [AnchorProblem("altered", a, 0) for a in anchors if not a.valid]
    pending: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        if anchor.valid:
            pending.setdefault(anchor.count, []).append(anchor)
    expected_prev = GENESIS
    checked = held = plain = 0
    first_plain = None
    keyed_seen = False
    broken: tuple[int | None, str] | None = None
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        held += 1
        if broken is None:
            keyed, reason = _check_entry(entry, expected_prev, key, keyed_seen, plain)
            if reason:
                broken = (entry.id, reason)
            elif keyed:
                keyed_seen = True
                checked += 1
            else:
                plain += 1
                first_plain = first_plain or entry.id
                checked += 1
        expected_prev = entry.hash
        # Anchors are compared even past a break: they still say what was there.
        for anchor in pending.pop(held, []):
            if entry.hash != anchor.head or anchor.last_id not in (None, entry.id):
                problems.append(AnchorProblem("mismatch", anchor, held))
    if broken is None and plain and not keyed_seen:
        broken = (first_plain, "entries are not keyed with AUDIT_KEY and no keyed record of "
                               "them follows (`kaohe migrate` carries an older log over)")
        checked = 0
    if pending:
        longest = max(pending)
        problems.extend(AnchorProblem("truncated", a, held) for a in pending[longest])
    first_broken_id, reason = broken or (None, "")
    return ChainReport(checked, first_broken_id, reason, anchor_problems=problems,
                       anchors_checked=sum(1 for a in anchors if a.valid),
                       latest_anchor=latest_anchor(anchors))


def _check_entry(entry: AuditEntry, expected_prev: str, key: bytes, keyed_seen: bool,
                 plain: int) -> tuple[bool, str]:
    """(whether the entry is keyed, why it breaks the chain or "")."""
    if entry.prev_hash != expected_prev:
        return False, "link to the previous entry does not match"
    if chain.matches(chain.keyed_hash(entry, key), entry.hash):
        if plain and not keyed_seen and not (
                entry.action == chain.KEYED_START
                and entry.data == {"plain_entries": plain, "plain_head": expected_prev}):
            return True, ("the keyed chain does not begin with the record of the plain "
                          "entries before it")
        return True, ""
    if not keyed_seen and chain.matches(chain.plain_hash(entry), entry.hash):
        return False, ""
    return False, ("content does not match its hash (or AUDIT_KEY is not the key it was "
                   "written with)")
