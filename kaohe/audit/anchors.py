"""Anchors of the audit log outside the database (security.md 28).

The keyed chain (kaohe.audit.chain) shows that no entry was changed, but a log whose newest
entries were cut off is still a valid chain. An anchor records the head of the log at a
moment: how many entries it held, the id and the hash of the last one. Anchors are
appended, one line each, to AUDIT_ANCHOR_FILE (in the data directory, outside the
database), daily by the task worker and on demand by `kaohe audit_anchor`, which also
prints the head for the auditor's paper record. `kaohe verify` compares the log with every
anchor (kaohe.audit.services.verify_chain).

A line is tab-separated: time (ISO 8601), entry count, last entry id, head hash, and an
HMAC of those four under AUDIT_KEY, so that a line cannot be forged or altered without the
key. Whoever can write the data directory can still delete lines: the paper record, and a
copy of the file kept elsewhere (or a write-once mount for AUDIT_ANCHOR_FILE), are the
answer to that.
"""

import datetime
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from kaohe.audit import chain

ANCHOR_ACTION = "audit.anchor.written"
DAILY = datetime.timedelta(hours=24)
# Keeps an anchor line's MAC apart from every entry hash made with the same key.
_MAC_CONTEXT = b"kaohe-audit-anchor\n"


@dataclass(frozen=True)
class Anchor:
    count: int
    head: str
    last_id: int | None = None
    written_at: datetime.datetime | None = None
    line: int = 0  # its line in the anchor file; 0 for one given on the command line
    valid: bool = True  # False: the line was altered (its MAC does not match) or is garbled

    @property
    def label(self) -> str:
        """How messages name it: by its time, or as the anchor given on the command line."""
        if self.written_at is None:
            return "the command line"
        return timezone.localtime(self.written_at).strftime("%Y-%m-%d %H:%M:%S")


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_FILE)


def _mac(fields: list[str]) -> str:
    message = _MAC_CONTEXT + "\t".join(fields).encode("utf-8")
    return hmac.new(chain.audit_key(), message, hashlib.sha256).hexdigest()


def current_head() -> tuple[int, int, str] | None:
    """(entry count, last id, last hash) of the log, or None while it is empty."""
    from kaohe.audit.models import AuditEntry

    last = AuditEntry.objects.order_by("-id").values_list("id", "hash").first()
    if last is None:
        return None
    # Entries are appended one at a time under a lock (log_action), so every entry with a
    # smaller id was committed before the last one: this count is its position.
    return AuditEntry.objects.filter(id__lte=last[0]).count(), last[0], last[1]


def _append(path: Path, line: str) -> None:
    """Append one line and make it durable; the file is only ever opened for appending."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        data = line.encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        # The new directory entry must survive a crash too.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_anchor(*, actor_repr: str, now: datetime.datetime | None = None) -> Anchor:
    """Record the anchoring in the log, then append the log's head (that record included)
    to the anchor file."""
    from kaohe.audit.services import log_action

    path = anchor_path()
    log_action(ANCHOR_ACTION, actor_repr=actor_repr, data={"file": str(path)})
    # The log is never empty here: the anchoring was just recorded in it.
    count, last_id, head = current_head() or (0, 0, chain.GENESIS)
    # Real time, not kaohe.lib.clock: anchors are kept outside the database on a real
    # daily schedule (anchor_if_due, verify's staleness check).
    when = timezone.localtime(now or timezone.now()).replace(microsecond=0)
    fields = [when.isoformat(), str(count), str(last_id), head]
    _append(path, "\t".join([*fields, _mac(fields)]) + "\n")
    return Anchor(count=count, head=head, last_id=last_id, written_at=when,
                  line=len(read_anchors(path)))


def read_anchors(path: Path | None = None) -> list[Anchor]:
    """Every anchor in the file, in order; an altered or garbled line is kept, not valid."""
    path = path or anchor_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found: list[Anchor] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("\t")
        try:
            when, count, last_id, head, mac = fields
            anchor = Anchor(count=int(count), head=head, last_id=int(last_id),
                            written_at=datetime.datetime.fromisoformat(when), line=number)
        except ValueError:
            found.append(Anchor(count=0, head="", line=number, valid=False))
            continue
        if _written_at(anchor).tzinfo is None or not hmac.compare_digest(
                _mac(fields[:4]).encode("ascii"), mac.encode("ascii", "replace")):
            anchor = Anchor(count=anchor.count, head=anchor.head, last_id=anchor.last_id,
                            written_at=None, line=number, valid=False)
        found.append(anchor)
    return found


def latest_anchor(anchors: list[Anchor] | None = None) -> Anchor | None:
    valid = [a for a in (read_anchors() if anchors is None else anchors)
             if a.valid and a.written_at is not None]
    return max(valid, key=_written_at) if valid else None


def _written_at(anchor: Anchor) -> datetime.datetime:
    return anchor.written_at or datetime.datetime.min.replace(tzinfo=datetime.UTC)


def anchor_if_due(*, actor_repr: str, now: datetime.datetime | None = None) -> Anchor | None:
    """Anchor unless the newest anchor is less than a day old."""
    now = now or timezone.now()
    latest = latest_anchor()
    if latest is not None and now - _written_at(latest) < DAILY:
        return None
    return write_anchor(actor_repr=actor_repr, now=now)


def parse_paper(text: str) -> Anchor:
    """An anchor as printed by `kaohe audit_anchor` for paper: COUNT:HASH."""
    count, _, head = text.strip().partition(":")
    head = head.strip().replace(" ", "").lower()
    count = count.strip()
    if not (count.isascii() and count.isdigit()) or len(head) != 64 or not all(
            c in "0123456789abcdef" for c in head):
        raise ValueError(f"an anchor is COUNT:HASH (64 hex digits), not {text!r}")
    return Anchor(count=int(count), head=head)
