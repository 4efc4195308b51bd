"""The steps of a version's workflow: compute a draft from the submitted preliminary
results, record the working group's decisions, submit, approve or return, and release. Each
owns its transaction and audit entry and changes a status only through ``_transition``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import Unit
from kaohe.grading import engine, readmodel
from kaohe.grading.models import Decision, DecisionKind, ResultSet, ResultSetStatus
from kaohe.grading.services.inputs import engine_inputs, run_engine
from kaohe.grading.services.lifecycle import (
    _OPEN,
    GradingError,
    _check_round_open,
    _closed_message,
    _in_force,
    _locked,
    _refusal,
    _round_closed_message,
    _supersede,
    _transition,
    open_correction,
)
from kaohe.grading.services.rules import _check_rules, decision_rules
from kaohe.grading.vocabulary import AREA_GRADES
from kaohe.lib import clock
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Round, RoundStatus
from kaohe.rounds.selectors import scheme_hash

if TYPE_CHECKING:
    from kaohe.accounts.models import User


@transaction.atomic
def result_set_compute(*, round: Round, actor: User) -> ResultSet:
    """Run the engine on the submitted preliminary results; a new draft version."""
    ensure_round_writable(round, error=GradingError)
    # The round's row is the lock that numbers versions one at a time (a double click
    # makes versions n and n + 1, never two of n).
    round_ = Round.objects.select_for_update().get(pk=round.pk)
    if round_.status != RoundStatus.ACTIVE:
        raise GradingError(_("%(year)s年度考核不在进行中（%(status)s），不能进行综合评议。")
                           % {"year": round_.year, "status": round_.get_status_display()})
    correction = None
    if _in_force(round_) is not None:
        correction = open_correction(round_)
        if correction is None:
            raise GradingError(_closed_message())
    inputs = engine_inputs(round_)
    if not inputs:
        raise GradingError(_("尚无牵头部门报送初步考核结果，无法进行综合评议。"))
    version = (ResultSet.objects.filter(round=round_).aggregate(v=Max("version"))["v"] or 0) + 1
    result_set = ResultSet.objects.create(
        round=round_, version=version, inputs=inputs, method=round_.method,
        outputs=run_engine(inputs, round_.method), created_by=actor, correction=correction,
        # The scheme the version was computed on, sealed with it (issue 16).
        scheme_hash=scheme_hash(round_),
    )
    # The pages' rows, in the same transaction: a version never exists without them.
    readmodel.write_rows(result_set)
    log_action("grading.result_set.computed", actor=actor, target=result_set,
               data={"version": version, "units": len(inputs),
                     "counts": result_set.outputs["counts"],
                     "correction": correction.pk if correction else None})
    return result_set


@transaction.atomic
def decision_record(*, result_set: ResultSet, unit_code: str, grade: str, reason: str,
                    actor: User) -> Decision:
    """A grade the working group sets by hand, with its reason, within section 七."""
    ensure_round_writable(result_set.round_id, error=GradingError)
    result_set = _locked(result_set)
    _check_round_open(result_set)
    if not result_set.is_editable:
        raise GradingError(_("该版本已报送或审定，不能修改；如需调整，请生成新版本。"))
    engine_grades = {r["unit"]: r["grade_code"] for r in result_set.outputs["results"]}
    if unit_code not in engine_grades:
        raise GradingError(_("该单位不在本次综合评议范围内。"))
    if grade not in AREA_GRADES:
        raise GradingError(_("请选择好、较好、一般或较差。"))
    if not reason.strip():
        raise GradingError(_("请填写确定或调整等次的理由。"))
    rules = decision_rules(result_set)
    current = result_set.final_grades()
    proposed = {**current, unit_code: grade}
    breaches = [b for b in [rules.breach(unit_code, engine.Grade(grade))] if b is not None]
    # A quota counts against this decision only when the decision breaks it.
    already = {b.rule for b in rules.quota_breaches(_decided(current))}
    breaches += [b for b in rules.quota_breaches(_decided(proposed)) if b.rule not in already]
    if breaches:
        raise GradingError("；".join(b.message for b in breaches))
    previous = current[unit_code]
    decision = Decision.objects.create(
        result_set=result_set, unit_code=unit_code,
        kind=(DecisionKind.PENDING if engine_grades[unit_code] == "pending"
              else DecisionKind.ADJUSTMENT),
        previous=previous, grade=grade, reason=reason, decided_by=actor,
        decided_at=clock.now(),
    )
    log_action("grading.decision.recorded", actor=actor, target=result_set,
               data={"unit": unit_code, "old": previous, "new": grade, "reason": reason})
    return decision


def _decided(final: dict[str, str]) -> dict[str, str]:
    return {unit: grade for unit, grade in final.items() if grade != "pending"}


def _check_inputs_current(result_set: ResultSet, act: str) -> None:
    """Refuse to pass on a version computed from preliminary results that have changed
    since (a category returned or submitted again, a finding added or withdrawn): what the
    leading group decides on must be what the lead departments hold now.

    The round's category submissions are locked first, as returning one locks its row:
    a return that commits meanwhile is seen here, and one that comes after sees this
    version before the leading group (kaohe.reviews.services.category_return)."""
    from kaohe.reviews.models import CategorySubmission

    list(CategorySubmission.objects.select_for_update().filter(round_id=result_set.round_id)
         .values_list("pk", flat=True))
    current = json.loads(json.dumps(engine_inputs(result_set.round), cls=DjangoJSONEncoder))
    if current != result_set.inputs:
        raise GradingError(_("第%(version)s版生成后，各牵头部门的初步考核结果或问题认定已有变化"
                             "（退回、重新报送或增减问题），不能%(act)s；请重新生成等次建议。")
                           % {"version": result_set.version, "act": act})


def _ranked_unit_count(round_: Round) -> int:
    return Unit.objects.filter(active=True, category__ranked=True).count()


@transaction.atomic
def result_set_submit(*, result_set: ResultSet, actor: User) -> ResultSet:
    ensure_round_writable(result_set.round_id, error=GradingError)
    result_set = _locked(result_set)
    if result_set.status == ResultSetStatus.SUBMITTED:
        return result_set  # a double click
    _check_round_open(result_set)
    if not result_set.can("submit"):
        raise GradingError(_refusal("submit", result_set))
    _check_rules(result_set, _("报送"))
    expected = _ranked_unit_count(result_set.round)
    if len(result_set.inputs) < expected:
        raise GradingError(
            _("只有%(have)s家单位的初步考核结果，应为%(want)s家；请待各牵头部门报送后重新生成。")
            % {"have": len(result_set.inputs), "want": expected}
        )
    _check_inputs_current(result_set, _("报送领导小组"))
    result_set.submitted_at, result_set.submitted_by = clock.now(), actor
    return _transition(result_set, "submit", actor=actor, fields=("submitted_at", "submitted_by"))


@transaction.atomic
def result_set_approve(*, result_set: ResultSet, actor: User, comments: str = "") -> ResultSet:
    """The leading group approves: the version is sealed and every earlier version still
    open (draft, submitted, returned or approved) is superseded by it."""
    ensure_round_writable(result_set.round_id, error=GradingError)
    result_set = _locked(result_set)
    _check_round_open(result_set)
    if not result_set.can("approve"):
        raise GradingError(_refusal("approve", result_set))
    newer = ResultSet.objects.filter(round_id=result_set.round_id,
                                     version__gt=result_set.version).exclude(
        status=ResultSetStatus.SUPERSEDED)
    if newer.exists():
        raise GradingError(_("已有更新的版本，不能审定旧版本。"))
    _check_rules(result_set, _("审定"))
    _check_inputs_current(result_set, _("审定"))
    # What the pages show of the version must be what is sealed: its rows are checked
    # against its snapshots here, once (and by `kaohe verify` afterwards).
    readmodel.ensure_rows(result_set)
    if readmodel.row_disagreements(result_set):
        raise GradingError(_("第%(version)s版的排名与等次数据与计算结果不一致，不能审定；"
                             "请重新生成等次建议并报告安全管理员。")
                           % {"version": result_set.version})
    now = clock.now()
    result_set.decided_at, result_set.decided_by = now, actor
    result_set.approved_at, result_set.approved_by = now, actor
    result_set.leader_comments = comments
    result_set.seal = result_set.content_hash()
    _transition(result_set, "approve", actor=actor, comments=comments,
                fields=("decided_at", "decided_by", "approved_at", "approved_by",
                        "leader_comments", "seal"),
                data={"seal": result_set.seal})
    for older in ResultSet.objects.select_for_update().filter(
            round_id=result_set.round_id, version__lt=result_set.version, status__in=_OPEN):
        _supersede(older, by=result_set, actor=actor)
    return result_set


@transaction.atomic
def result_set_return(*, result_set: ResultSet, actor: User, comments: str) -> ResultSet:
    """The leading group sends a submitted version back with its comments; they stay in the
    version's history beside every later comment."""
    ensure_round_writable(result_set.round_id, error=GradingError)
    result_set = _locked(result_set)
    _check_round_open(result_set)
    if not result_set.can("return"):
        raise GradingError(_refusal("return", result_set))
    if not comments.strip():
        raise GradingError(_("请填写退回意见。"))
    result_set.decided_at, result_set.decided_by = clock.now(), actor
    return _transition(result_set, "return", actor=actor, comments=comments,
                       fields=("decided_at", "decided_by"), data={"comments": comments})


def check_releasable(result_set: ResultSet) -> None:
    """Refuse to release anything but the newest approved version, and after release
    anything but the approved version of the open correction of the released one."""
    if not result_set.can("release"):
        raise GradingError(_refusal("release", result_set))
    if result_set.round.status == RoundStatus.CLOSED:
        raise GradingError(_round_closed_message(result_set.round))
    newer = ResultSet.objects.filter(
        round_id=result_set.round_id, version__gt=result_set.version,
        status__in=[ResultSetStatus.APPROVED, ResultSetStatus.RELEASED]).order_by(
        "-version").first()
    if newer is not None:
        raise GradingError(_("第%(newer)s版已经领导小组审定，只能反馈最新审定的版本。")
                           % {"newer": newer.version})
    in_force = _in_force(result_set.round_id)
    if in_force is not None:
        correction = result_set.correction
        if correction is None or not correction.is_open or correction.corrects_id != in_force.pk:
            raise GradingError(_closed_message())


@transaction.atomic
def result_set_release(*, result_set: ResultSet, actor: User) -> ResultSet:
    """Make each unit's own grade visible to that unit: one act for the whole round. A
    correction's release supersedes the version it corrects and closes the correction."""
    ensure_round_writable(result_set.round_id, error=GradingError)
    Round.objects.select_for_update().get(pk=result_set.round_id)
    result_set = _locked(result_set)
    if result_set.status == ResultSetStatus.RELEASED:
        return result_set
    check_releasable(result_set)
    result_set.verify_seal()
    in_force = _in_force(result_set.round_id)
    now = clock.now()
    result_set.released_at, result_set.released_by = now, actor
    if in_force is not None:
        _supersede(in_force, by=result_set, actor=actor)
        correction = result_set.correction
        if correction is None:  # check_releasable refused a second release without one
            raise GradingError(_closed_message())
        correction.released_as, correction.released_at = result_set, now
        correction.save(update_fields=["released_as", "released_at"])
        log_action("grading.correction.released", actor=actor, target=result_set,
                   data={"corrects": in_force.version, "version": result_set.version})
    _transition(result_set, "release", actor=actor, fields=("released_at", "released_by"))
    # Whatever else was still being worked on is stale now: the round is closed.
    for other in ResultSet.objects.select_for_update().filter(
            round_id=result_set.round_id, status__in=_OPEN).exclude(pk=result_set.pk):
        _supersede(other, by=result_set, actor=actor)
    return result_set
