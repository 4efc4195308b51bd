"""Workflow of the comprehensive review: compute a result set, decide, submit, approve,
release, correct. The engine (package engine) knows nothing of Django; this module feeds it
the lead departments' submitted results and keeps its answer as a versioned snapshot.

Every status change goes through ``_transition`` and the model's ``TRANSITIONS`` table.
Decisions are bound by section 七 (``engine.DecisionRules``). A released round is closed:
nothing is computed, decided, approved or released for it again except through a
``Correction`` that the leading group opens with a written reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import Unit
from kaohe.grading import engine, readmodel
from kaohe.grading.models import (
    TRANSITIONS,
    Correction,
    Decision,
    DecisionKind,
    EventAction,
    ResultSet,
    ResultSetEvent,
    ResultSetStatus,
)
from kaohe.grading.vocabulary import AREA_GRADES, Grade
from kaohe.lib import clock
from kaohe.lib.errors import ServiceError
from kaohe.reviews.models import (
    CategorySubmission,
    CategorySubmissionStatus,
    FindingSource,
    MajorIncident,
    SeriousProblem,
)
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Round, RoundStatus
from kaohe.rounds.selectors import scheme_hash
from kaohe.submissions.models import FindingKind, ProvincialFinding, ProvincialReport, ReportStatus

if TYPE_CHECKING:
    from kaohe.accounts.models import User

# Versions still being worked on: superseded once a later version is approved or the round
# is released.
_OPEN = [ResultSetStatus.DRAFT, ResultSetStatus.SUBMITTED, ResultSetStatus.RETURNED,
         ResultSetStatus.APPROVED]


class GradingError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


# --------------------------------------------------------------------------- engine inputs


def engine_inputs(round_: Round) -> list[dict[str, Any]]:
    """One entry per unit of every submitted category, from the grades as submitted.

    These are sealed with the result set, so they hold codes and data, never a label in the
    reader's language: a serious problem is its kind (code and name), its source (code) and,
    for a province's finding, the province (code and name)."""
    submissions = CategorySubmission.objects.filter(
        round=round_, status=CategorySubmissionStatus.SUBMITTED)
    entries = {}
    for submission in submissions:
        for item in submission.snapshot.get("units", []):
            entries[item["unit"]] = {
                "unit": item["unit"], "name": item["name"], "grades": item["grades"],
                "serious_problems": [], "incidents": [], "recommended_grade": None,
            }
    units = {u.code: u for u in Unit.objects.filter(code__in=entries)
             .select_related("category")}
    for code, entry in entries.items():
        entry["category"] = units[code].category.name
    by_id = {u.pk: u.code for u in units.values()}
    # A withdrawn finding stays in the history but no longer counts.
    for problem in SeriousProblem.objects.filter(round=round_, unit_id__in=by_id,
                                                 withdrawn_at__isnull=True).select_related(
            "kind"):
        entries[by_id[problem.unit_id]]["serious_problems"].append(
            {"kind": problem.kind.code, "name": problem.kind.name, "source": problem.source})
    for incident in MajorIncident.objects.filter(round=round_, unit_id__in=by_id,
                                                 withdrawn_at__isnull=True).select_related(
            "county"):
        entries[by_id[incident.unit_id]]["incidents"].append(
            {"county": incident.county.code, "county_name": incident.county.name,
             "description": incident.description[:60], "source": incident.source})
    findings = ProvincialFinding.objects.filter(
        report__round=round_, report__status=ReportStatus.SUBMITTED,
        report__unit_id__in=by_id).select_related("county", "problem_kind", "report__province")
    for finding in findings:
        entry = entries[by_id[finding.report.unit_id]]
        province = finding.report.province
        if finding.kind == FindingKind.MAJOR_INCIDENT:
            entry["incidents"].append(
                {"county": finding.county.code, "county_name": finding.county.name,
                 "description": finding.description[:60], "source": FindingSource.PROVINCE,
                 "province": province.code, "province_name": province.name})
        elif (kind := finding.problem_kind) is not None:  # a problem always names its kind
            entry["serious_problems"].append(
                {"kind": kind.code, "name": kind.name,
                 "source": FindingSource.PROVINCE, "province": province.code,
                 "province_name": province.name})
    # Where several provinces recommend a grade, the most cautious one counts.
    for unit_id, grade in ProvincialReport.objects.filter(
            round=round_, status=ReportStatus.SUBMITTED, unit_id__in=by_id).exclude(
            recommended_grade="").values_list("unit_id", "recommended_grade"):
        entry = entries[by_id[unit_id]]
        current = entry["recommended_grade"]
        if current is None or Grade(grade).level > Grade(current).level:
            entry["recommended_grade"] = grade
    return sorted(entries.values(), key=lambda e: e["unit"])


def _source_text(item: dict[str, Any]) -> str:
    """Who found it, in the engine's language (Chinese) whatever the reader's language."""
    if item.get("province_name"):
        return f"{item['province_name']}报告"
    with translation.override(settings.LANGUAGE_CODE):
        return str(FindingSource(item["source"]).label)


def problem_text(item: str | dict[str, Any]) -> str:
    """A serious problem as the engine's reasons name it; sets sealed before problems were
    stored as codes hold the text itself."""
    if isinstance(item, str):
        return item
    return f"{item['name']}（{_source_text(item)}）"


def incident_text(item: str | dict[str, Any]) -> str:
    if isinstance(item, str):
        return item
    where = f"（{item['province_name']}报告）" if item.get("province_name") else ""
    return f"{item['county_name']}：{item['description']}{where}"


def _unit_inputs(inputs: list[dict[str, Any]]) -> list[engine.UnitInput]:
    return [
        engine.UnitInput(
            unit=item["unit"],
            grades={area: engine.Grade(grade) for area, grade in item["grades"].items()},
            serious_problems=tuple(problem_text(p) for p in item["serious_problems"]),
            major_incident=bool(item["incidents"]),
            recommended_grade=(engine.Grade(item["recommended_grade"])
                               if item["recommended_grade"] else None),
            category=item["category"],
            name=item.get("name"),
        )
        for item in inputs
    ]


def run_engine(inputs: list[dict[str, Any]], method: dict[str, Any]) -> dict[str, Any]:
    units = _unit_inputs(inputs)
    evaluation = engine.evaluate(units, method)
    outputs = evaluation.to_dict()
    outputs["sensitivity"] = [
        {"parameter": p.parameter, "label": p.label, "before": str(p.before),
         "after": str(p.after),
         "changes": [{"unit": c.unit, "before": c.before.value, "after": c.after.value}
                     for c in p.changes]}
        for p in engine.sensitivity(units, method)
    ]
    outputs["calibration"] = {
        name: cal.to_dict() for name, cal in engine.calibration(units).items()
    }
    return outputs


# --------------------------------------------------------------------------- section 七


def plan_words(round_: Round) -> engine.PlanWords:
    """The plan's sentences a refusal quotes, as the round holds them."""
    return engine.PlanWords(grading_rule=round_.grading_rule_text,
                            major_incident=round_.major_incident_text)


def decision_rules(result_set: ResultSet) -> engine.DecisionRules:
    """What section 七 allows the working group to decide in this version."""
    return engine.DecisionRules.from_outputs(result_set.outputs, _unit_inputs(result_set.inputs),
                                             result_set.method, plan_words(result_set.round))


def rule_breaches(result_set: ResultSet, *, complete: bool = True) -> list[engine.RuleBreach]:
    return engine.check_final_grades(decision_rules(result_set), result_set.final_grades(),
                                     complete=complete)


def unit_names(result_set: ResultSet) -> dict[str, str]:
    return {item["unit"]: item.get("name") or item["unit"] for item in result_set.inputs}


def _listed(breaches: Sequence[engine.RuleBreach], limit: int = 10) -> str:
    shown = "；".join(b.message for b in breaches[:limit])
    return shown if len(breaches) <= limit else _("%(shown)s；等%(n)s项") % {
        "shown": shown, "n": len(breaches)}


def _check_rules(result_set: ResultSet, verb: str) -> None:
    """Refuse a version whose final grades break section 七 (or leave a unit pending)."""
    breaches = rule_breaches(result_set)
    pending = [b for b in breaches if b.rule == "pending"]
    if pending:
        names = unit_names(result_set)
        listed = "、".join(names.get(b.unit, b.unit) for b in pending[:20] if b.unit)
        raise GradingError(_("仍有%(n)s家单位等次待定，请先逐一确定：%(units)s")
                           % {"n": len(pending), "units": listed
                              + ("等" if len(pending) > 20 else "")})
    if breaches:
        raise GradingError(
            _("第%(version)s版有%(n)s处不符合考核实施方案第七部分，不能%(verb)s：%(list)s")
            % {"version": result_set.version, "n": len(breaches), "verb": verb,
               "list": _listed(breaches)})


# --------------------------------------------------------------------------- state machine


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


def _in_force(round_: Round | int) -> ResultSet | None:
    """The released version units read (at most one per round)."""
    return ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED).first()


def open_correction(round_: Round | int) -> Correction | None:
    return Correction.objects.filter(round=round_, released_at__isnull=True,
                                     abandoned_at__isnull=True).first()


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


# --------------------------------------------------------------------------- workflow


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
