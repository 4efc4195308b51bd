"""The working group's comprehensive review and the leading group's approval."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.functions import Coalesce
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
from kaohe.grading import engine, selectors, services
from kaohe.grading.models import (
    SNAPSHOTS,
    Decision,
    ResultSet,
    ResultSetStatus,
    ResultSummary,
    SealBroken,
)
from kaohe.grading.vocabulary import GRADE_ORDER
from kaohe.lib.dbfunctions import JSONArrayLength
from kaohe.lib.http import AuthenticatedRequest, current_round_or_404, run_service
from kaohe.outcomes import services as outcomes
from kaohe.reviews.models import CategorySubmission
from kaohe.reviews.selectors import lead_departments_ranked
from kaohe.rounds.models import RoundStatus


def _result_set(pk: int) -> ResultSet:
    # The version's own round, so an earlier year's results stay reachable once the next
    # round starts; a round in preparation has none (nothing is computed before it starts).
    # Named with its correction; the snapshots stay unread (the pages read its rows).
    result_set = get_object_or_404(
        ResultSet.objects.select_related("round", "created_by", "correction__corrects",
                                         "correction__opened_by", "correction__abandoned_by")
        .defer(*SNAPSHOTS, *(f"correction__corrects__{field}" for field in SNAPSHOTS))
        .exclude(round__status=RoundStatus.PREPARING),
        pk=pk)
    return result_set


@capability_required(VIEW_RESULTS)
def index(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    # Each category's units as counted when it was submitted: its snapshot of every unit's
    # grades (1.2 MB for a category at 3,100 units) stays unread, by Python and database.
    submissions = {s.lead_department_id: s for s in CategorySubmission.objects.filter(
        round=round_).without_grades()}
    leads = [(lead, submissions.get(lead.pk)) for lead in lead_departments_ranked()]
    return render(request, "grading/index.html", {
        "round": round_, "leads": leads,
        # Versions listed by name: the units counted from their summary (or, for a version
        # without rows yet, by the database), the snapshots unread (issue 19).
        "result_sets": ResultSet.objects.filter(round=round_).select_related("created_by")
        .defer(*SNAPSHOTS).annotate(unit_count=Coalesce(F("summary__units"),
                                                        JSONArrayLength("inputs"))),
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
    """Every manual decision with who, when and why; the units named from their rows."""
    decisions = list(result_set.decisions.select_related("decided_by"))
    rows = {row.unit_code: row for row in selectors.result_rows(
        result_set, units={d.unit_code for d in decisions}, ensure=False)}
    shown = []
    for decision in decisions:
        row = rows.get(decision.unit_code)
        shown.append(_DecisionShown(
            decision, previous_label=_label(decision.previous),
            grade_label=_label(decision.grade),
            engine_label=_label(row.grade if row is not None else "pending"),
            unit_name=row.unit_name if row is not None else decision.unit_code))
    return shown


@dataclass(frozen=True)
class _RowShown:
    """A unit's row as the ranking shows it: area and final grades in words, its decisions,
    and the grades section 七 lets the working group choose (when it may decide)."""

    row: selectors.Row
    areas: list[str]
    final: str
    final_label: str
    candidate_labels: list[str]
    decisions: list[_DecisionShown]
    choices: list[tuple[str, str]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def _shown(rows: Iterable[selectors.Row], decisions: list[_DecisionShown],
           can_decide: bool) -> list[_RowShown]:
    by_unit: dict[str, list[_DecisionShown]] = {}
    for decision in decisions:
        by_unit.setdefault(decision.unit_code, []).append(decision)
    return [
        _RowShown(row, areas=[_label(row.area_grades[code]) for code in engine.AREA_CODES],
                  final=row.final_grade, final_label=_label(row.final_grade),
                  candidate_labels=[_label(code) for code in row.candidates],
                  decisions=by_unit.get(row.unit_code, []),
                  # Only the grades section 七 allows at the unit's position are offered.
                  choices=([(code, _label(code)) for code in row.allowed_grades]
                           if can_decide else []))
        for row in rows
    ]


WARNING_KINDS = {
    "recommendation.far": _lazy("省级推荐等次与考核等次相差两个及以上等次"),
    "problem.outside_bottom": _lazy("存在突出问题但不在较差区间"),
    "incident.in_top_band": _lazy("出现重大涉贫事件的单位位次在“好”的区间"),
    "bands.overlap": _lazy("较差区间与好、较好区间重叠"),
}
# The units whose warnings the page lists; the ranking filtered to warned units shows all.
WARNED_UNITS_SHOWN = 30


def _warnings(result_set: ResultSet, summary: ResultSummary) -> list[dict[str, Any]]:
    """The round-wide warnings, then those of the first warned units, each with its name."""
    warnings: list[dict[str, Any]] = [{"unit": None, "name": "", **w} for w in summary.warnings]
    for row in selectors.result_rows(result_set, warned=True, ensure=False)[:WARNED_UNITS_SHOWN]:
        warnings += [{"unit": row.unit_code, "name": row.unit_name, **w} for w in row.warnings]
    return warnings


def _filters(request: AuthenticatedRequest, categories: list[str]) -> dict[str, Any]:
    """The ranking's filters from the query string; unknown values are ignored."""
    category = request.GET.get("category", "")
    grade = request.GET.get("grade", "")
    return {"category": category if category in categories else "",
            "grade": grade if grade in GRADE_ORDER else "",
            "warned": request.GET.get("warned") == "1"}


@capability_required(VIEW_RESULTS)
def detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    result_set = _result_set(pk)
    try:
        summary = selectors.result_summary(result_set)
    except SealBroken as exc:
        # Rows are only ever taken from a version whose seal holds.
        log_action("grading.result_set.seal_broken", actor=request.user, target=result_set,
                   success=False)
        messages.error(request, str(exc))
        return redirect("grading:index")
    runs_review = has_capability(request.user, RUN_REVIEW)
    can_decide = runs_review and result_set.is_editable
    by_category = selectors.final_grade_counts(result_set, summary)
    categories = sorted(by_category)
    totals: Counter[str] = Counter()
    for counted in by_category.values():
        totals.update(counted)
    filters = _filters(request, categories)
    decisions = _decisions(result_set)
    page = Paginator(selectors.result_rows(result_set, ensure=False, **filters),
                     selectors.ROWS_PER_PAGE).get_page(request.GET.get("page"))
    rows = _shown(page, decisions, can_decide)
    pending = _shown(selectors.result_rows(result_set, ensure=False).filter(
        grade=engine.Grade.PENDING), decisions, can_decide)
    chart: dict[str, Any] = {
        "labels": [_label(c) for c in GRADE_ORDER],
        "categories": categories,
        "series": {_label(c): [by_category[cat][c] for cat in categories] for c in GRADE_ORDER},
    }
    calibration = summary.calibration
    chart["calibration_labels"] = [_("本类别"), _("其他类别")]
    chart["calibration"] = {
        "categories": [category for category, _data in calibration],
        "own": [round(100 * c["overall"]["category"]["shares"].get("好", 0), 1)
                for _category, c in calibration],
        "others": [round(100 * c["overall"]["others"]["shares"].get("好", 0), 1)
                   for _category, c in calibration],
    }
    # The charts' data as text (issue 21, WCAG 1.1.1): one table row per category.
    chart_table = [(cat, [by_category[cat][c] for c in GRADE_ORDER]) for cat in categories]
    calibration_table = list(zip(chart["calibration"]["categories"], chart["calibration"]["own"],
                                 chart["calibration"]["others"], strict=True))
    warnings = _warnings(result_set, summary)
    sensitivity = summary.sensitivity
    open_correction = services.open_correction(result_set.round)
    log_action("grading.result_set.viewed", actor=request.user, target=result_set)
    return render(request, "grading/detail.html", {
        "result_set": result_set, "round": result_set.round, "rows": rows, "page": page,
        "categories": categories, **filters,
        "grades": [(c, _label(c)) for c in GRADE_ORDER],
        "ranking_open": can_decide or any(request.GET.get(key) for key in
                                          ("category", "grade", "warned", "page")),
        "counts": [(_label(c), totals[c]) for c in GRADE_ORDER],
        "chart": chart, "chart_table": chart_table, "calibration_table": calibration_table,
        "pending": pending, "decisions": decisions,
        "warnings": warnings,
        "warnings_total": sum(n for _code, n in summary.warning_kinds),
        "warning_kinds": [(str(WARNING_KINDS.get(code, code)), n)
                          for code, n in summary.warning_kinds],
        "warned_units": summary.warned_units,
        "warned_units_shown": WARNED_UNITS_SHOWN,
        "pending_open": totals[engine.Grade.PENDING],
        # Only a version being worked on can still break section 七: a submitted or approved
        # one passed the check when it was submitted and approved.
        "breaches": (selectors.rule_breaches(result_set, summary, totals)
                     if result_set.is_editable else []),
        "events": result_set.events.select_related("actor"),
        "sensitivity": sensitivity,
        "sensitivity_max": max((p["count"] for p in sensitivity), default=0),
        "calibration": calibration,
        # Versions named by number only: in SQLite a row's later columns lie behind its
        # snapshots (reading them walks 7 MB of pages at 3,100 units), id and version before.
        "superseded_by": (ResultSet.objects.only("pk", "version").filter(
            pk=result_set.superseded_by_id).first() if result_set.superseded_by_id else None),
        "can_decide": can_decide,
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
        "released": ResultSet.objects.filter(round=result_set.round_id,
                                             status=ResultSetStatus.RELEASED).exists(),
        "open_correction": open_correction,
        "others": ResultSet.objects.filter(round=result_set.round).exclude(pk=result_set.pk)
        .only("pk", "version"),
    })


@capability_required(RUN_REVIEW)
@require_POST
def decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run_service(request, services.decision_record, success=_("已记录。"),
                result_set=_result_set(pk), unit_code=request.POST.get("unit", ""),
                grade=request.POST.get("grade", ""), reason=request.POST.get("reason", ""),
                actor=request.user)
    return redirect("grading:detail", pk=pk)


@capability_required(RUN_REVIEW)
@require_POST
def submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run_service(request, services.result_set_submit,
                success=_("等次建议已报国务院扶贫开发领导小组审定。"),
                result_set=_result_set(pk), actor=request.user)
    return redirect("grading:detail", pk=pk)


@capability_required(APPROVE_RESULTS)
@require_POST
def approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service: Callable[..., ResultSet]
    if request.POST.get("decision") == "approve":
        service, success = services.result_set_approve, _("已审定。")
    else:
        service, success = services.result_set_return, _("已退回考核工作组。")
    run_service(request, service, success=success, result_set=_result_set(pk),
                actor=request.user, comments=request.POST.get("comments", ""))
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
                                         reason=request.POST.get("reason", ""))
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
                                                 reason=request.POST.get("reason", ""))
    except services.GradingError as exc:
        messages.error(request, str(exc))
        return redirect("grading:detail", pk=pk)
    messages.success(request, _("已撤销更正，第%(v)s版考核结果继续有效。")
                     % {"v": correction.corrects.version})
    return redirect("grading:detail", pk=correction.corrects_id)


@capability_required(VIEW_RESULTS)
def compare(request: AuthenticatedRequest, pk: int, other_pk: int) -> HttpResponse:
    """The units whose final grade differs between two versions, read from their rows."""
    result_set, other = _result_set(pk), _result_set(other_pk)
    names: dict[str, str] = {}
    mine: dict[str, str] = {}
    theirs: dict[str, str] = {}
    for version, grades in ((other, theirs), (result_set, mine)):
        for code, name, grade in selectors.result_rows(version).values_list(
                "unit_code", "unit_name", "final_grade"):
            names[code], grades[code] = name, grade
    changes = [
        {"unit": unit, "name": names.get(unit, unit),
         "mine": engine.GRADE_LABELS[engine.Grade(mine[unit])] if unit in mine else "—",
         "theirs": engine.GRADE_LABELS[engine.Grade(theirs[unit])] if unit in theirs else "—"}
        for unit in sorted(set(mine) | set(theirs)) if mine.get(unit) != theirs.get(unit)
    ]
    return render(request, "grading/compare.html",
                  {"result_set": result_set, "other": other, "changes": changes})
