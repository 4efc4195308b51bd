"""Corrections of a released round: the leading group opens one with a written reason (the
working group gets a draft copy of the released version to correct) or withdraws it. The
released grades stand until the correction's version is approved and released
(``result_set_release``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.grading import readmodel
from kaohe.grading.models import Correction, Decision, EventAction, ResultSet, ResultSetEvent
from kaohe.grading.services.lifecycle import (
    _OPEN,
    GradingError,
    _in_force,
    _round_closed_message,
    _transition,
    open_correction,
)
from kaohe.lib import clock
from kaohe.lib.errors import refuse_longer
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Round, RoundStatus

if TYPE_CHECKING:
    from kaohe.accounts.models import User

# The longest reason for opening or abandoning a correction: a longer one is refused.
REASON_LIMIT = 5000


@transaction.atomic
def correction_open(*, round: Round, actor: User, reason: str) -> ResultSet:
    """The leading group reopens a released round with a written reason. The working group
    gets a new draft version, a copy of the released one with its decisions, to correct
    (or computes a new one); the released grades stand until the correction is approved and
    released."""
    ensure_round_writable(round, error=GradingError)
    round_ = Round.objects.select_for_update().get(pk=round.pk)
    if round_.status == RoundStatus.CLOSED:
        raise GradingError(_round_closed_message(round_))
    in_force = _in_force(round_)
    if in_force is None:
        raise GradingError(_("本年度考核结果尚未反馈，无需更正；请在审定前退回考核工作组调整。"))
    if not reason.strip():
        raise GradingError(_("请填写更正理由。"))
    refuse_longer(reason, REASON_LIMIT, field=_("更正理由"), error=GradingError)
    existing = open_correction(round_)
    if existing is not None:
        raise GradingError(_("领导小组已于%(at)s提出更正，尚未完成；请先完成该更正。")
                           % {"at": timezone.localtime(existing.opened_at)
                              .strftime("%Y-%m-%d %H:%M")})
    in_force.verify_seal()
    now = clock.now()
    correction = Correction.objects.create(round=round_, corrects=in_force, reason=reason,
                                           opened_by=actor, opened_at=now)
    version = (ResultSet.objects.filter(round=round_).aggregate(v=Max("version"))["v"] or 0) + 1
    draft = ResultSet.objects.create(
        round=round_, version=version, inputs=in_force.inputs, method=in_force.method,
        outputs=in_force.outputs, created_by=actor, correction=correction)
    readmodel.write_rows(draft)
    Decision.objects.bulk_create(
        Decision(result_set=draft, unit_code=d.unit_code, kind=d.kind, previous=d.previous,
                 grade=d.grade, reason=d.reason, decided_by_id=d.decided_by_id,
                 decided_at=d.decided_at)
        for d in in_force.decisions.order_by("decided_at", "pk"))
    for result_set in (in_force, draft):
        ResultSetEvent.objects.create(result_set=result_set,
                                      action=EventAction.CORRECTION_OPENED,
                                      status=result_set.status, actor=actor, at=now,
                                      comments=reason)
    log_action("grading.correction.opened", actor=actor, target=in_force,
               data={"reason": reason, "corrects": in_force.version, "version": version})
    return draft


@transaction.atomic
def correction_abandon(*, round: Round, actor: User, reason: str) -> Correction:
    """The leading group withdraws its open correction, with a written reason. Every version
    of the correction still being worked on is abandoned (kept, with its history); the
    released version stays in force and the round can be closed."""
    ensure_round_writable(round, error=GradingError)
    round_ = Round.objects.select_for_update().get(pk=round.pk)
    correction = open_correction(round_)
    if correction is None:
        raise GradingError(_("%(year)s年度考核结果没有正在进行的更正。") % {"year": round_.year})
    if not reason.strip():
        raise GradingError(_("请填写撤销更正的理由。"))
    refuse_longer(reason, REASON_LIMIT, field=_("撤销理由"), error=GradingError)
    now = clock.now()
    correction.abandoned_at, correction.abandoned_by = now, actor
    correction.abandon_reason = reason
    correction.save(update_fields=["abandoned_at", "abandoned_by", "abandon_reason"])
    versions = []
    for result_set in ResultSet.objects.select_for_update().filter(
            correction=correction, status__in=_OPEN).order_by("version"):
        _transition(result_set, "abandon", actor=actor, comments=reason)
        versions.append(result_set.version)
    # The released version's history shows the withdrawal beside the opening.
    ResultSetEvent.objects.create(result_set=correction.corrects,
                                  action=EventAction.CORRECTION_ABANDONED,
                                  status=correction.corrects.status, actor=actor, at=now,
                                  comments=reason)
    log_action("grading.correction.abandoned", actor=actor, target=correction.corrects,
               data={"reason": reason, "corrects": correction.corrects.version,
                     "versions": versions})
    return correction
