"""What the auditor sees of an audit entry (security.md 27).

The auditor audits who did what, not the assessment's results: grades, scores, ranks,
counts that reveal them, decisions, reasons and feedback text are hidden in every page and
export of the log. The entry itself, its time, actor, address, action, object (type and
number) and outcome stay visible, and so do the keys of its data, which say which fields
changed. The stored entry is never touched: the hash chain covers its real values.

The rule is redact by default: a value is shown only where its key is known to hold no
result (identifiers, file names and hashes, field lists, people), or where the whole
action is about accounts, sign-ins, the log itself, files or the set-up of a round. A new
kind of entry is therefore hidden until someone decides its keys are safe to show.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kaohe.audit.models import AuditEntry

# The placeholder for a hidden value; the same in pages and in the CSV.
HIDDEN = "［已隐去］"

# Actions that record no assessment result: their data is shown whole.
_OPEN_ACTIONS = (
    "auth.", "account.", "security.", "audit.", "maintenance.", "demo.", "round.",
    "directory.", "evidence.", "document.", "launch.working_group.", "launch.refined_item.",
    "launch.training.",
)
# Keys whose values name what was acted on or who took part, never how it was judged.
_VISIBLE_KEYS = frozenset({
    # which object or part of it
    "unit", "county", "indicator", "requirement", "evidence", "item", "step", "session",
    "version", "document", "format", "object", "code",
    # which fields changed (names, not values)
    "changed", "fields",
    # files
    "name", "file", "size", "sha256", "content_type", "url", "replaced",
    # people and organisation
    "username", "liaison", "previous_liaison", "position", "body", "post", "village",
    "members", "refiled", "created", "linked", "place", "topic", "method",
    # dates of a schedule, not of a judgement
    "filed_on", "held_on", "sent_on", "until",
    # how many units a step covered (not how many in a band)
    "units",
})
# Values hidden whole even where they are dicts: their keys are grades (band counts) or
# the before and after of a judgement.
_OPAQUE_KEYS = frozenset({"counts", "old", "new", "grade", "grades", "snapshot"})
# Objects whose own name states a finding or feedback text (e.g. a rectification item is
# named by its text): shown by type and number only.
# In the results' own steps, which units a decision, a correction or a summons concerned is
# itself a result (the units adjusted, the units whose grade changed): hidden there.
_RESULT_ACTIONS = ("grading.", "outcomes.")
_RESULT_UNIT_KEYS = frozenset({"unit", "units"})
# Objects that exist only for some grades (a summons only for 较差): not even their number
# is shown, so counting them does not give the size of a band.
UNNUMBERED_TARGET_TYPES = frozenset({"outcomes.Summons"})
REDACTED_TARGET_TYPES = frozenset({
    "reviews.AreaGrade", "reviews.Verification", "reviews.SeriousProblem",
    "reviews.MajorIncident", "grading.Decision", "outcomes.RectificationItem",
    "outcomes.Summons",
})


# Papers made only for some grades (a summons notice only for a unit graded 较差): in an
# entry about one, which paper it was (the object's name, number and key, its 文号 and 份号)
# says which unit got that grade, so only its kind and the act are shown.
RESULT_DOCUMENTS = frozenset({"summons_notice"})
_RESULT_DOCUMENT_KEYS = frozenset({"object", "doc_number", "copy_number", "reason"})

# Keys hidden even in an open action: a withdrawn paper's reason may quote the paper (a
# unit's problems, a wrong grade), which the auditor, reaching no assessment record
# (kaohe.accounts.scope), does not read. The entry still shows what was withdrawn and when.
_HIDDEN_IN_OPEN_ACTIONS: dict[str, frozenset[str]] = {
    "document.withdrawn": frozenset({"reason"}),
}


def _is_open(action: str) -> bool:
    return action.startswith(_OPEN_ACTIONS)


def _hide(data: Any, *, hidden_keys: frozenset[str] = frozenset()) -> Any:
    if not isinstance(data, dict):
        return HIDDEN
    shown: dict[str, Any] = {}
    for key, value in data.items():
        # "units" as a number says how many a step covered; as a list, which ones.
        named = key in hidden_keys and (key == "unit" or isinstance(value, list))
        if key in _VISIBLE_KEYS and not named:
            shown[key] = value
        elif key in _OPAQUE_KEYS or not isinstance(value, dict):
            shown[key] = HIDDEN
        else:
            # e.g. {area: {old, new}}: the area stays visible
            shown[key] = _hide(value, hidden_keys=hidden_keys)
    return shown


def visible_data(action: str, data: Any) -> Any:
    """The entry's data as the auditor sees it: keys kept, business values hidden."""
    if _is_open(action):
        hidden = _HIDDEN_IN_OPEN_ACTIONS.get(action, frozenset())
        if hidden and isinstance(data, dict):
            return {key: HIDDEN if key in hidden else value for key, value in data.items()}
        return data
    hidden_keys = _RESULT_UNIT_KEYS if action.startswith(_RESULT_ACTIONS) else frozenset()
    return _hide(data, hidden_keys=hidden_keys) if isinstance(data, dict) else HIDDEN


def about_result_document(action: str, data: Any) -> bool:
    """Whether the entry is about a paper that exists only for some grades."""
    return (action.startswith("document.") and isinstance(data, dict)
            and data.get("document") in RESULT_DOCUMENTS)


def visible_target_repr(target_type: str, target_repr: str) -> str:
    if target_type in REDACTED_TARGET_TYPES and target_repr:
        return HIDDEN
    return target_repr


@dataclass(frozen=True)
class AuditorEntry:
    """An audit entry as the auditor sees it: the same fields, values hidden."""

    id: int
    created_at: datetime.datetime
    actor_id: int | None
    actor_repr: str
    action: str
    target_type: str
    target_id: str
    target_repr: str
    data: object
    ip: str | None
    success: bool
    prev_hash: str
    hash: str

    @property
    def data_text(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, sort_keys=True) if self.data else ""


def for_auditor(entries: Iterable[AuditEntry]) -> Iterator[AuditorEntry]:
    for entry in entries:
        target_id = ("" if entry.target_type in UNNUMBERED_TARGET_TYPES else entry.target_id)
        target_repr = visible_target_repr(entry.target_type, entry.target_repr)
        data = visible_data(entry.action, entry.data)
        if about_result_document(entry.action, entry.data):
            target_id, target_repr = "", HIDDEN if entry.target_repr else ""
            data = {key: HIDDEN if key in _RESULT_DOCUMENT_KEYS else value
                    for key, value in data.items()}
        yield AuditorEntry(
            id=entry.id, created_at=entry.created_at, actor_id=entry.actor_id,
            actor_repr=entry.actor_repr, action=entry.action, target_type=entry.target_type,
            target_id=target_id, target_repr=target_repr, data=data, ip=entry.ip,
            success=entry.success, prev_hash=entry.prev_hash, hash=entry.hash,
        )
