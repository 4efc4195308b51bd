"""Workflow of the comprehensive review: compute a result set, decide, submit, approve,
release. The engine itself (engine.py) knows nothing of Django; this module feeds it the
lead departments' submitted results and keeps its answer as a versioned snapshot.
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import Unit
from kaohe.grading import engine
from kaohe.grading.models import Decision, DecisionKind, ResultSet, ResultSetStatus
from kaohe.reviews.models import (
    CategorySubmission,
    CategorySubmissionStatus,
    MajorIncident,
    SeriousProblem,
)
from kaohe.submissions.models import FindingKind, ProvincialFinding, ProvincialReport, ReportStatus

_LEVEL = {"good": 0, "fairly_good": 1, "average": 2, "poor": 3}


class GradingError(Exception):
    """A request the rules refuse; the message is for the user (Chinese)."""


def engine_inputs(round_) -> list[dict]:
    """One entry per unit of every submitted category, from the grades as submitted."""
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
    for problem in SeriousProblem.objects.filter(round=round_, unit_id__in=by_id).select_related(
            "kind", "county"):
        entries[by_id[problem.unit_id]]["serious_problems"].append(
            f"{problem.kind.name}（{problem.get_source_display()}）")
    for incident in MajorIncident.objects.filter(round=round_, unit_id__in=by_id).select_related(
            "county"):
        entries[by_id[incident.unit_id]]["incidents"].append(
            f"{incident.county.name}：{incident.description[:60]}")
    findings = ProvincialFinding.objects.filter(
        report__round=round_, report__status=ReportStatus.SUBMITTED,
        report__unit_id__in=by_id).select_related("county", "problem_kind", "report__province")
    for finding in findings:
        entry = entries[by_id[finding.report.unit_id]]
        if finding.kind == FindingKind.MAJOR_INCIDENT:
            entry["incidents"].append(f"{finding.county.name}：{finding.description[:60]}"
                                      f"（{finding.report.province.name}报告）")
        else:
            entry["serious_problems"].append(
                f"{finding.problem_kind.name}（{finding.report.province.name}报告）")
    # Where several provinces recommend a grade, the most cautious one counts.
    for unit_id, grade in ProvincialReport.objects.filter(
            round=round_, status=ReportStatus.SUBMITTED, unit_id__in=by_id).exclude(
            recommended_grade="").values_list("unit_id", "recommended_grade"):
        entry = entries[by_id[unit_id]]
        current = entry["recommended_grade"]
        if current is None or _LEVEL[grade] > _LEVEL[current]:
            entry["recommended_grade"] = grade
    return sorted(entries.values(), key=lambda e: e["unit"])


def _unit_inputs(inputs: list[dict]) -> list[engine.UnitInput]:
    return [
        engine.UnitInput(
            unit=item["unit"],
            grades={area: engine.Grade(grade) for area, grade in item["grades"].items()},
            serious_problems=tuple(item["serious_problems"]),
            major_incident=bool(item["incidents"]),
            recommended_grade=(engine.Grade(item["recommended_grade"])
                               if item["recommended_grade"] else None),
            category=item["category"],
        )
        for item in inputs
    ]


def run_engine(inputs: list[dict], method: dict) -> dict:
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


@transaction.atomic
def result_set_compute(*, round, actor) -> ResultSet:
    """Run the engine on the submitted preliminary results; a new draft version."""
    inputs = engine_inputs(round)
    if not inputs:
        raise GradingError(_("尚无牵头部门报送初步考核结果，无法进行综合评议。"))
    version = (ResultSet.objects.select_for_update().filter(round=round)
               .aggregate(v=Max("version"))["v"] or 0) + 1
    result_set = ResultSet.objects.create(
        round=round, version=version, inputs=inputs, method=round.method,
        outputs=run_engine(inputs, round.method), created_by=actor,
    )
    log_action("grading.result_set.computed", actor=actor, target=result_set,
               data={"version": version, "units": len(inputs),
                     "counts": result_set.outputs["counts"]})
    return result_set


def _locked(result_set: ResultSet) -> ResultSet:
    return ResultSet.objects.select_for_update().get(pk=result_set.pk)


@transaction.atomic
def decision_record(*, result_set: ResultSet, unit_code: str, grade: str, reason: str,
                    actor) -> Decision:
    result_set = _locked(result_set)
    if not result_set.is_editable:
        raise GradingError(_("该版本已报送或审定，不能修改；如需调整，请生成新版本。"))
    engine_grades = {r["unit"]: r["grade_code"] for r in result_set.outputs["results"]}
    if unit_code not in engine_grades:
        raise GradingError(_("该单位不在本次综合评议范围内。"))
    if grade not in _LEVEL:
        raise GradingError(_("请选择好、较好、一般或较差。"))
    if not reason.strip():
        raise GradingError(_("请填写确定或调整等次的理由。"))
    previous = result_set.final_grades()[unit_code]
    decision = Decision.objects.create(
        result_set=result_set, unit_code=unit_code,
        kind=(DecisionKind.PENDING if engine_grades[unit_code] == "pending"
              else DecisionKind.ADJUSTMENT),
        previous=previous, grade=grade, reason=reason, decided_by=actor,
        decided_at=timezone.now(),
    )
    log_action("grading.decision.recorded", actor=actor, target=result_set,
               data={"unit": unit_code, "old": previous, "new": grade, "reason": reason})
    return decision


def _ranked_unit_count(round_) -> int:
    return Unit.objects.filter(active=True, category__ranked=True).count()


@transaction.atomic
def result_set_submit(*, result_set: ResultSet, actor) -> ResultSet:
    result_set = _locked(result_set)
    if result_set.status == ResultSetStatus.SUBMITTED:
        return result_set
    if not result_set.is_editable:
        raise GradingError(_("该版本不能报送。"))
    pending = [u for u, g in result_set.final_grades().items() if g == "pending"]
    if pending:
        raise GradingError(_("仍有%(n)s家单位等次待定，请先逐一确定：%(units)s")
                           % {"n": len(pending), "units": "、".join(pending[:20])})
    expected = _ranked_unit_count(result_set.round)
    if len(result_set.inputs) < expected:
        raise GradingError(
            _("只有%(have)s家单位的初步考核结果，应为%(want)s家；请待各牵头部门报送后重新生成。")
            % {"have": len(result_set.inputs), "want": expected}
        )
    result_set.status = ResultSetStatus.SUBMITTED
    result_set.submitted_at, result_set.submitted_by = timezone.now(), actor
    result_set.save(update_fields=["status", "submitted_at", "submitted_by"])
    log_action("grading.result_set.submitted", actor=actor, target=result_set)
    return result_set


@transaction.atomic
def result_set_approve(*, result_set: ResultSet, actor, comments: str = "") -> ResultSet:
    result_set = _locked(result_set)
    if result_set.status != ResultSetStatus.SUBMITTED:
        raise GradingError(_("只能审定已报送的等次建议。"))
    newer = ResultSet.objects.filter(round=result_set.round, version__gt=result_set.version)
    if newer.exists():
        raise GradingError(_("已有更新的版本，不能审定旧版本。"))
    result_set.status = ResultSetStatus.APPROVED
    result_set.decided_at, result_set.decided_by = timezone.now(), actor
    result_set.leader_comments = comments
    result_set.seal = result_set.content_hash()
    result_set.save(update_fields=["status", "decided_at", "decided_by", "leader_comments",
                                   "seal"])
    log_action("grading.result_set.approved", actor=actor, target=result_set,
               data={"seal": result_set.seal})
    return result_set


@transaction.atomic
def result_set_return(*, result_set: ResultSet, actor, comments: str) -> ResultSet:
    result_set = _locked(result_set)
    if result_set.status != ResultSetStatus.SUBMITTED:
        raise GradingError(_("只能退回已报送的等次建议。"))
    if not comments.strip():
        raise GradingError(_("请填写退回意见。"))
    result_set.status = ResultSetStatus.RETURNED
    result_set.decided_at, result_set.decided_by = timezone.now(), actor
    result_set.leader_comments = comments
    result_set.save(update_fields=["status", "decided_at", "decided_by", "leader_comments"])
    log_action("grading.result_set.returned", actor=actor, target=result_set,
               data={"comments": comments})
    return result_set


@transaction.atomic
def result_set_release(*, result_set: ResultSet, actor) -> ResultSet:
    """Make each unit's own grade visible to that unit: one act for the whole round."""
    result_set = _locked(result_set)
    if result_set.status == ResultSetStatus.RELEASED:
        return result_set
    if result_set.status != ResultSetStatus.APPROVED:
        raise GradingError(_("只能反馈已经领导小组审定的考核结果。"))
    result_set.verify_seal()
    if ResultSet.objects.filter(round=result_set.round,
                                status=ResultSetStatus.RELEASED).exists():
        raise GradingError(_("本年度考核结果已反馈。"))
    result_set.status = ResultSetStatus.RELEASED
    result_set.released_at, result_set.released_by = timezone.now(), actor
    result_set.save(update_fields=["status", "released_at", "released_by"])
    log_action("grading.result_set.released", actor=actor, target=result_set)
    return result_set
