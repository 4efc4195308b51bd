"""Workflow steps of the submissions (save, attach, submit, return, extend), one part a
module: ``errors`` (the refusals), ``slots`` (what a self-report asks and what is still
missing), ``self_report`` (save, submit, return), ``self_report_evidence`` (attach, add a link,
detach), ``provincial`` (the provincial summary report), ``extensions`` (deadline extensions)
and ``cadres`` (seconded cadres and first secretaries). Each service owns its transaction and
audit entry; saves carry the revision the user started from, and a save based on an older
revision is refused as a conflict, so two people editing the same report never overwrite each
other silently. This package names every public service, so ``services.self_report_save(...)``
works as before; code may also import from the part itself.
"""

from kaohe.submissions.services.cadres import (
    cadre_add,
    cadre_is_locked,
    cadre_lock_reason,
    cadre_remove,
    cadre_withdraw,
    cadres_open,
    first_secretary_add,
)
from kaohe.submissions.services.errors import (
    ClosedError,
    ConflictError,
    GapsNotConfirmed,
    LockedError,
    SubmissionError,
)
from kaohe.submissions.services.extensions import extension_grant, extension_party
from kaohe.submissions.services.provincial import (
    deep_poverty_indicator,
    provincial_attach,
    provincial_closed_message,
    provincial_detach,
    provincial_finding_add,
    provincial_report_for,
    provincial_report_missing,
    provincial_report_save,
    provincial_report_snapshot,
    provincial_report_start,
    provincial_report_submit,
)
from kaohe.submissions.services.self_report import (
    MAX_ANSWER_CHARS,
    self_report_for,
    self_report_return,
    self_report_return_refusal,
    self_report_save,
    self_report_snapshot,
    self_report_submit,
)
from kaohe.submissions.services.self_report_evidence import (
    self_report_add_link,
    self_report_attach,
    self_report_detach,
)
from kaohe.submissions.services.slots import Gap, Slot, self_report_gaps, self_report_slots

__all__ = [
    "MAX_ANSWER_CHARS",
    "ClosedError",
    "ConflictError",
    "Gap",
    "GapsNotConfirmed",
    "LockedError",
    "Slot",
    "SubmissionError",
    "cadre_add",
    "cadre_is_locked",
    "cadre_lock_reason",
    "cadre_remove",
    "cadre_withdraw",
    "cadres_open",
    "deep_poverty_indicator",
    "extension_grant",
    "extension_party",
    "first_secretary_add",
    "provincial_attach",
    "provincial_closed_message",
    "provincial_detach",
    "provincial_finding_add",
    "provincial_report_for",
    "provincial_report_missing",
    "provincial_report_save",
    "provincial_report_snapshot",
    "provincial_report_start",
    "provincial_report_submit",
    "self_report_add_link",
    "self_report_attach",
    "self_report_detach",
    "self_report_for",
    "self_report_gaps",
    "self_report_return",
    "self_report_return_refusal",
    "self_report_save",
    "self_report_slots",
    "self_report_snapshot",
    "self_report_submit",
]
