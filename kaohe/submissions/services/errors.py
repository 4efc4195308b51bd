"""The refusals of the submission services: a plain refusal, a conflict with someone else's
newer save, a closed deadline, a locked report, and a self-report submitted with gaps the
unit has not confirmed. Each message is for the user (Chinese); the API maps each kind to
its own status code.
"""

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from kaohe.lib.errors import ServiceError

if TYPE_CHECKING:
    from kaohe.submissions.services.slots import Gap


class SubmissionError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


class ConflictError(SubmissionError):
    pass


class ClosedError(SubmissionError):
    pass


class LockedError(SubmissionError):
    pass


class GapsNotConfirmed(SubmissionError):
    """The report still has gaps and the unit has not confirmed submitting it so."""

    def __init__(self, gaps: list["Gap"]) -> None:
        super().__init__(_("仍有%(n)s项材料未提供，请确认后再提交。") % {"n": len(gaps)})
        self.gaps = gaps
