"""The working group's comprehensive review and the leading group's approval."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    APPROVE_RESULTS,
    RELEASE_RESULTS,
    RUN_REVIEW,
    VIEW_RESULTS,
    capability_required,
    has_capability,
)
from kaohe.audit.services import log_action
from kaohe.grading import engine, services
from kaohe.grading.models import SNAPSHOTS, Decision, ResultSet, ResultSetStatus, SealBroken
from kaohe.grading.vocabulary import GRADE_ORDER
from kaohe.lib.dbfunctions import JSONArrayLength
from kaohe.lib.http import AuthenticatedRequest, current_round_or_404
from kaohe.outcomes import services as outcomes
from kaohe.reviews.models import CategorySubmission
from kaohe.reviews.selectors import lead_departments_ranked
from kaohe.rounds.models import RoundStatus


def _result_set(pk: int) -> ResultSet:
    # The version's own round, so an earlier year's results stay reachable once the next
    # round starts; a round in preparation has none (nothing is computed before it starts).
    result_set = get_object_or_404(
        ResultSet.objects.select_related("round").exclude(round__status=RoundStatus.PREPARING),
        pk=pk)
    return result_set


@capability_required(VIEW_RESULTS)
def index(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    submissions = {s.lead_department_id: s for s in CategorySubmission.objects.filter(
        round=round_)}
    leads = [(lead, submissions.get(lead.pk)) for lead in lead_departments_ranked()]
    return render(request, "grading/index.html", {
        "round": round_, "leads": leads,
        # Versions listed by name: the units counted in the database, the snapshots unread
        # (issue 19: the index decoded every version).
        "result_sets": ResultSet.objects.filter(round=round_).select_related("created_by")
        .defer(*SNAPSHOTS).annotate(unit_count=JSONArrayLength("inputs")),
        "can_run": has_capability(request.user, RUN_REVIEW),
        "released": ResultSet.objects.filter(round=round_,
                                             status=ResultSetStatus.RELEASED).exists(),
        "open_correction": services.open_correction(round_),
    })


@capability_required(RUN_REVIEW)
@require_POST
def compute(request: AuthenticatedRequest) -> HttpResponse:
    try:
        result_set = services.result_set_compute(round=current_round_or_404(), actor=request.user)
    except services.GradingError as exc:
        messages.error(request, str(exc))
        return redirect("grading:index")
    messages.success(request, _("已生成第%(v)s版等次建议。") % {"v": result_set.version})
    return redirect("grading:detail", pk=result_set.pk)


def _label(code: str) -> str:
    return engine.GRADE_LABELS[engine.Grade(code)]


@dataclass(frozen=True)
class _DecisionShown:
    """A decision as the page shows it: grades in words (较好), never by their codes
    (fairly_good), and the unit by name; everything else is the decision's own."""

    decision: Decision
    previous_label: str
    grade_label: str
    engine_label: str
    unit_name: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decision, name)


def _decisions(result_set: ResultSet) -> list[_DecisionShown]:
    """Every manual decision with who, when and why."""
    names = services.unit_names(result_set)
    engine_grades = {r["unit"]: r["grade_code"] for r in result_set.outputs["results"]}
    return [
        _DecisionShown(
            decision, previous_label=_label(decision.previous), grade_label=_label(decision.grade),
            engine_label=_label(engine_grades.get(decision.unit_code, "pending")),
            unit_name=names.get(decision.unit_code, decision.unit_code))
        for decision in result_set.decisions.select_related("decided_by")
    ]


def _rows(result_set: ResultSet, category: str, decisions: list[_DecisionShown],
          rules: engine.DecisionRules) -> list[dict[str, Any]]:
    inputs = {item["unit"]: item for item in result_set.inputs}
    final = result_set.final_grades()
    by_unit: dict[str, list[_DecisionShown]] = {}
    for decision in decisions:
        by_unit.setdefault(decision.unit_code, []).append(decision)
    rows = []
    for result in result_set.outputs["results"]:
        item = inputs[result["unit"]]
        if category and item["category"] != category:
            continue
        allowed = rules.allowed(result["unit"]) if result["unit"] in rules.units else ()
        rows.append({
            "result": result, "input": item,
            "areas": [_label(item["grades"][code]) for code in engine.AREA_CODES],
            "final": final[result["unit"]],
            "final_label": _label(final[result["unit"]]),
            "decisions": by_unit.get(result["unit"], []),
            # Only the grades section 七 allows at the unit's position are offered.
            "choices": [(grade.value, grade.label) for grade in allowed],
            "tie_reason": next((msg for code, msg in zip(result["reason_codes"],
                                                         result["reasons"], strict=True)
                                if code.startswith("tie")), ""),
        })
    return rows


WARNING_KINDS = {
    "recommendation.far": _lazy("省级推荐等次与考核等次相差两个及以上等次"),
    "problem.outside_bottom": _lazy("存在突出问题但不在较差区间"),
    "incident.in_top_band": _lazy("出现重大涉贫事件的单位位次在“好”的区间"),
    "bands.overlap": _lazy("较差区间与好、较好区间重叠"),
}


def _warning_kinds(warnings: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(w["code"] for w in warnings)
    return [(str(WARNING_KINDS.get(code, code)), n) for code, n in counts.most_common()]


def _warnings(result_set: ResultSet) -> list[dict[str, Any]]:
    """The engine's warnings, each with the name of its unit."""
    names = services.unit_names(result_set)
    return [{"unit": w.get("unit"), "name": names.get(w.get("unit") or "", ""),
             "code": w.get("code", ""), "message": w["message"]}
            for w in result_set.outputs.get("warnings", [])]


def _sensitivity(result_set: ResultSet) -> list[dict[str, Any]]:
    names = services.unit_names(result_set)
    out = []
    for p in result_set.outputs.get("sensitivity", []):
        if p["changes"]:
            out.append({**p, "names": [names.get(c["unit"], c["unit"]) for c in p["changes"]]})
    return out


@capability_required(VIEW_RESULTS)
def detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    result_set = _result_set(pk)
    try:
        result_set.verify_seal()
    except SealBroken as exc:
        log_action("grading.result_set.seal_broken", actor=request.user, target=result_set,
                   success=False)
        messages.error(request, str(exc))
    category = request.GET.get("category", "")
    decisions = _decisions(result_set)
    rules = services.decision_rules(result_set)
    rows = _rows(result_set, category, decisions, rules)
    final = result_set.final_grades()
    counts: dict[str, int] = {code: 0 for code in GRADE_ORDER}
    for grade in final.values():
        counts[grade] += 1
    categories = sorted({item["category"] for item in result_set.inputs})
    by_category: dict[str, dict[str, int]] = {
        c: {code: 0 for code in GRADE_ORDER} for c in categories}
    inputs = {item["unit"]: item for item in result_set.inputs}
    for unit, grade in final.items():
        by_category[inputs[unit]["category"]][grade] += 1
    chart: dict[str, Any] = {
        "labels": [_label(c) for c in GRADE_ORDER],
        "categories": categories,
        "series": {_label(c): [by_category[cat][c] for cat in categories] for c in GRADE_ORDER},
    }
    calibration = result_set.outputs.get("calibration", {})
    chart["calibration_labels"] = [_("本类别"), _("其他类别")]
    chart["calibration"] = {
        "categories": list(calibration),
        "own": [round(100 * c["overall"]["category"]["shares"].get("好", 0), 1)
                for c in calibration.values()],
        "others": [round(100 * c["overall"]["others"]["shares"].get("好", 0), 1)
                   for c in calibration.values()],
    }
    # The charts' data as text (issue 21, WCAG 1.1.1): one table row per category.
    chart_table = [(cat, [by_category[cat][c] for c in GRADE_ORDER]) for cat in categories]
    calibration_table = list(zip(chart["calibration"]["categories"], chart["calibration"]["own"],
                                 chart["calibration"]["others"], strict=True))
    pending = [row for row in rows if row["result"]["grade_code"] == "pending"]
    warnings = _warnings(result_set)
    sensitivity = _sensitivity(result_set)
    runs_review = has_capability(request.user, RUN_REVIEW)
    released = ResultSet.objects.filter(round=result_set.round,
                                        status=ResultSetStatus.RELEASED).first()
    open_correction = services.open_correction(result_set.round)
    log_action("grading.result_set.viewed", actor=request.user, target=result_set)
    return render(request, "grading/detail.html", {
        "result_set": result_set, "round": result_set.round, "rows": rows,
        "category": category, "categories": categories,
        "counts": [(_label(c), counts[c]) for c in GRADE_ORDER],
        "chart": chart, "chart_table": chart_table, "calibration_table": calibration_table,
        "pending": pending, "decisions": decisions,
        "warnings": warnings, "warning_kinds": _warning_kinds(warnings),
        "pending_open": sum(1 for grade in final.values() if grade == "pending"),
        "breaches": services.rule_breaches(result_set, complete=False),
        "events": result_set.events.select_related("actor"),
        "sensitivity": sensitivity,
        "sensitivity_max": max((len(p["changes"]) for p in sensitivity), default=0),
        "calibration": calibration,
        "superseded_by": (ResultSet.objects.filter(pk=result_set.superseded_by_id).first()
                          if result_set.superseded_by_id else None),
        "can_decide": runs_review and result_set.is_editable,
        "can_submit": runs_review and result_set.is_editable,
        "can_approve": (has_capability(request.user, APPROVE_RESULTS)
                        and result_set.status == ResultSetStatus.SUBMITTED),
        "can_release": (has_capability(request.user, RELEASE_RESULTS)
                        and result_set.status == ResultSetStatus.APPROVED),
        "can_reopen": (has_capability(request.user, APPROVE_RESULTS)
                       and result_set.status == ResultSetStatus.RELEASED
                       and open_correction is None),
        "can_abandon": (has_capability(request.user, APPROVE_RESULTS)
                        and open_correction is not None
                        and pk in (open_correction.corrects_id, *open_correction.versions
                                   .values_list("pk", flat=True))),
        "released": released, "open_correction": open_correction,
        "others": ResultSet.objects.filter(round=result_set.round).exclude(pk=result_set.pk),
    })


@capability_required(RUN_REVIEW)
@require_POST
def decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    result_set = _result_set(pk)
    try:
        services.decision_record(result_set=result_set, unit_code=request.POST.get("unit", ""),
                                 grade=request.POST.get("grade", ""),
                                 reason=request.POST.get("reason", ""), actor=request.user)
    except services.GradingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已记录。"))
    return redirect("grading:detail", pk=pk)


@capability_required(RUN_REVIEW)
@require_POST
def submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        services.result_set_submit(result_set=_result_set(pk), actor=request.user)
    except services.GradingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("等次建议已报国务院扶贫开发领导小组审定。"))
    return redirect("grading:detail", pk=pk)


@capability_required(APPROVE_RESULTS)
@require_POST
def approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    result_set = _result_set(pk)
    comments = request.POST.get("comments", "")
    try:
        if request.POST.get("decision") == "approve":
            services.result_set_approve(result_set=result_set, actor=request.user,
                                        comments=comments)
            messages.success(request, _("已审定。"))
        else:
            services.result_set_return(result_set=result_set, actor=request.user,
                                       comments=comments)
            messages.success(request, _("已退回考核工作组。"))
    except services.GradingError as exc:
        messages.error(request, str(exc))
    return redirect("grading:detail", pk=pk)


@capability_required(RELEASE_RESULTS)
@require_POST
def release(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    result_set = _result_set(pk)
    try:
        outcomes.release(result_set=result_set, actor=request.user)
    except SealBroken as exc:
        log_action("grading.result_set.seal_broken", actor=request.user, target=result_set,
                   success=False)
        messages.error(request, str(exc))
    except (services.GradingError, outcomes.OutcomeError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("考核结果已反馈，各单位只能看到本单位的等次。"))
    return redirect("grading:detail", pk=pk)


@capability_required(APPROVE_RESULTS)
@require_POST
def reopen(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The leading group opens a correction of the released version, with its reason."""
    result_set = _result_set(pk)
    if result_set.status != ResultSetStatus.RELEASED:
        messages.error(request, _("只能对已反馈的版本提出更正。"))
        return redirect("grading:detail", pk=pk)
    try:
        draft = services.correction_open(round=result_set.round, actor=request.user,
                                         reason=request.POST.get("reason", "")[:5000])
    except (services.GradingError, SealBroken) as exc:
        messages.error(request, str(exc))
        return redirect("grading:detail", pk=pk)
    messages.success(request, _("已提出更正，考核工作组在第%(v)s版中修改后报领导小组审定。")
                     % {"v": draft.version})
    return redirect("grading:detail", pk=draft.pk)


@capability_required(APPROVE_RESULTS)
@require_POST
def abandon(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The leading group withdraws its open correction, with its reason; the released
    version stays in force."""
    result_set = _result_set(pk)
    try:
        correction = services.correction_abandon(round=result_set.round, actor=request.user,
                                                 reason=request.POST.get("reason", "")[:5000])
    except services.GradingError as exc:
        messages.error(request, str(exc))
        return redirect("grading:detail", pk=pk)
    messages.success(request, _("已撤销更正，第%(v)s版考核结果继续有效。")
                     % {"v": correction.corrects.version})
    return redirect("grading:detail", pk=correction.corrects_id)


@capability_required(VIEW_RESULTS)
def compare(request: AuthenticatedRequest, pk: int, other_pk: int) -> HttpResponse:
    result_set, other = _result_set(pk), _result_set(other_pk)
    mine, theirs = result_set.final_grades(), other.final_grades()
    names = {item["unit"]: item["name"] for item in result_set.inputs + other.inputs}
    changes = [
        {"unit": unit, "name": names.get(unit, unit),
         "mine": engine.GRADE_LABELS[engine.Grade(mine[unit])] if unit in mine else "—",
         "theirs": engine.GRADE_LABELS[engine.Grade(theirs[unit])] if unit in theirs else "—"}
        for unit in sorted(set(mine) | set(theirs)) if mine.get(unit) != theirs.get(unit)
    ]
    return render(request, "grading/compare.html",
                  {"result_set": result_set, "other": other, "changes": changes})
