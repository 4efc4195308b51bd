"""Workflow of steps 6 and 7: feedback drafted and released, rectification filed and
tracked, summons for 较差 units, dispatches recorded, unfinished items carried over. Each
service owns its transaction and audit entry.

One part a module: ``common`` (the refusal every service raises, how a day is written),
``feedback`` (letters drafted and edited, the release), ``rectification`` (the unit's report,
its review, extension and when it may change) and ``summons`` (summons talks and dispatches).
Callers import from this package, which names them all.
"""

from kaohe.outcomes.services.common import OutcomeError, day_label
from kaohe.outcomes.services.feedback import feedback_prepare, feedback_update, release
from kaohe.outcomes.services.rectification import (
    editable_items,
    item_review,
    rectification_attach,
    rectification_detach,
    rectification_extend,
    rectification_follow_letters,
    rectification_for,
    rectification_items,
    rectification_save,
    rectification_submit,
    rectification_upload_closed,
    reopened,
    unfinished_items,
)
from kaohe.outcomes.services.summons import dispatch_record, summons_update

__all__ = [
    "OutcomeError",
    "day_label",
    "dispatch_record",
    "editable_items",
    "feedback_prepare",
    "feedback_update",
    "item_review",
    "rectification_attach",
    "rectification_detach",
    "rectification_extend",
    "rectification_follow_letters",
    "rectification_for",
    "rectification_items",
    "rectification_save",
    "rectification_submit",
    "rectification_upload_closed",
    "release",
    "reopened",
    "summons_update",
    "unfinished_items",
]
