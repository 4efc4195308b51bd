"""The state machine of a result set and the checks every workflow step makes first.

``_transition`` is the one place where a result set's status changes, checked against the
model's ``TRANSITIONS`` table, kept in the version's history and in the audit log. Here too:
the error the rules raise (``GradingError``), the versions still being worked on (``_OPEN``),
the version in force (``_in_force``) and the open correction, whether the results are final
(``results_final``) or a version is before the leading group, and the refusals of a released
or closed round (``_check_round_open``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.grading.models import (
    SNAPSHOTS,
    TRANSITIONS,
    Correction,
    EventAction,
    ResultSet,
    ResultSetEvent,
    ResultSetStatus,
)
from kaohe.lib import clock
from kaohe.lib.errors import ServiceError
from kaohe.rounds.models import Round, RoundStatus

if TYPE_CHECKING:
    from kaohe.accounts.models import User

# Versions still being worked on: superseded once a later version is approved or the round
# is released.
_OPEN = [ResultSetStatus.DRAFT, ResultSetStatus.SUBMITTED, ResultSetStatus.RETURNED,
         ResultSetStatus.APPROVED]


class GradingError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


_EVENTS = {
    "submit": EventAction.SUBMITTED, "return": EventAction.RETURNED,
    "approve": EventAction.APPROVED, "release": EventAction.RELEASED,
    "supersede": EventAction.SUPERSEDED, "abandon": EventAction.CORRECTION_ABANDONED,
}


def _refusal(action: str, result_set: ResultSet) -> str:
    if result_set.status == ResultSetStatus.SUPERSEDED and result_set.superseded_by_id:
        newer = ResultSet.objects.get(pk=result_set.superseded_by_id)
        return _("第%(version)s版已被第%(newer)s版取代，不能再报送、审定或反馈。") % {
            "version": result_set.version, "newer": newer.version}
    status = result_set.get_status_display()
    messages = {
        "submit": _("第%(version)s版当前为“%(status)s”，不能报送。"),
        "return": _("只能退回已报送的等次建议（第%(version)s版当前为“%(status)s”）。"),
        "approve": _("只能审定已报送的等次建议（第%(version)s版当前为“%(status)s”）。"),
        "release": _("只能反馈已经领导小组审定的考核结果（第%(version)s版当前为“%(status)s”）。"),
        "supersede": _("第%(version)s版当前为“%(status)s”，不能被取代。"),
        "abandon": _("第%(version)s版当前为“%(status)s”，不能撤销。"),
    }
    return messages[action] % {"version": result_set.version, "status": status}


def _transition(result_set: ResultSet, action: str, *, actor: User, comments: str = "",
                fields: tuple[str, ...] = (), data: dict[str, Any] | None = None) -> ResultSet:
    """The one place where a result set's status changes: check the move against
    TRANSITIONS, save it with the given fields, keep it in the version's history (with
    the comments) and in the audit log."""
    sources, target = TRANSITIONS[action]
    if result_set.status not in sources:
        raise GradingError(_refusal(action, result_set))
    event = _EVENTS[action]
    result_set.status = target
    result_set.save(update_fields=["status", *fields])
    ResultSetEvent.objects.create(result_set=result_set, action=event, status=target,
                                  actor=actor, at=clock.now(), comments=comments)
    log_action(f"grading.result_set.{event}", actor=actor, target=result_set,
               data={"version": result_set.version, **(data or {})})
    return result_set


def _supersede(result_set: ResultSet, *, by: ResultSet, actor: User) -> None:
    result_set.superseded_at, result_set.superseded_by = clock.now(), by
    _transition(result_set, "supersede", actor=actor, fields=("superseded_at", "superseded_by"),
                data={"by": by.version})


def _locked(result_set: ResultSet) -> ResultSet:
    return ResultSet.objects.select_for_update(of=("self",)).select_related(
        "correction").get(pk=result_set.pk)


def _released(round_: Round | int) -> QuerySet[ResultSet]:
    return ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED)


def _open_corrections(round_: Round | int) -> QuerySet[Correction]:
    return Correction.objects.filter(round=round_, released_at__isnull=True,
                                     abandoned_at__isnull=True)


def _in_force(round_: Round | int) -> ResultSet | None:
    """The released version units read (at most one per round)."""
    return _released(round_).first()


def open_correction(round_: Round | int) -> Correction | None:
    return _open_corrections(round_).first()


def results_final(round_: Round | int) -> bool:
    """Whether a released version is in force with no correction open: the round's results
    are final, and nothing they were computed from may be reopened. Asked by pages of one
    unit: two EXISTS, no result set read (its snapshots grow with the units, issue 19)."""
    return _released(round_).exists() and not _open_corrections(round_).exists()


def before_the_leading_group(round_: Round | int) -> ResultSet | None:
    """The version the leading group has before it (submitted) or has approved and not yet
    released, if any: it holds the preliminary results it was computed from."""
    return (ResultSet.objects.filter(round=round_, status__in=[ResultSetStatus.SUBMITTED,
                                                               ResultSetStatus.APPROVED])
            .defer(*SNAPSHOTS).order_by("-version").first())


def _closed_message() -> str:
    return _("本年度考核结果已反馈，不能再生成、确定、审定或修改；如需更正，须由领导小组"
             "提出更正并说明理由。")


def _round_closed_message(round_: Round) -> str:
    return _("%(year)s年度考核已结束，只能查阅，不能修改。") % {"year": round_.year}


def _check_round_open(result_set: ResultSet) -> None:
    """After release only the versions of an open correction can change."""
    if result_set.round.status == RoundStatus.CLOSED:
        raise GradingError(_round_closed_message(result_set.round))
    correction = result_set.correction
    if correction is not None and correction.is_open:
        return
    if ResultSet.objects.filter(round_id=result_set.round_id,
                                status=ResultSetStatus.RELEASED).exists():
        raise GradingError(_closed_message())

