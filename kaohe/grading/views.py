"""The working group's comprehensive review and the leading group's approval."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
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
from kaohe.grading.models import ResultSet, SealBroken
from kaohe.lib.http import current_round_or_404
from kaohe.outcomes import services as outcomes
from kaohe.reviews.models import CategorySubmission
from kaohe.reviews.selectors import lead_departments_ranked

GRADE_ORDER = ["good", "fairly_good", "average", "poor", "pending"]



def _result_set(pk) -> ResultSet:
    result_set = get_object_or_404(ResultSet.objects.select_related("round"), pk=pk,
                                   round=current_round_or_404())
    return result_set


@capability_required(VIEW_RESULTS)
def index(request):
    round_ = current_round_or_404()
    submissions = {s.lead_department_id: s for s in CategorySubmission.objects.filter(
        round=round_)}
    leads = [(lead, submissions.get(lead.pk)) for lead in lead_departments_ranked()]
    return render(request, "grading/index.html", {
        "round": round_, "leads": leads,
        "result_sets": ResultSet.objects.filter(round=round_).select_related("created_by"),
        "can_run": has_capability(request.user, RUN_REVIEW),
    })


@capability_required(RUN_REVIEW)
@require_POST
def compute(request):
    try:
        result_set = services.result_set_compute(round=current_round_or_404(), actor=request.user)
    except services.GradingError as exc:
        messages.error(request, str(exc))
        return redirect("grading:index")
    messages.success(request, _("已生成第%(v)s版等次建议。") % {"v": result_set.version})
    return redirect("grading:detail", pk=result_set.pk)


def _rows(result_set: ResultSet, category: str):
    inputs = {item["unit"]: item for item in result_set.inputs}
    final = result_set.final_grades()
    decisions = {}
    for decision in result_set.decisions.select_related("decided_by"):
        # The page names grades in words (较好), never by their codes (fairly_good).
        decision.previous_label = engine.GRADE_LABELS[engine.Grade(decision.previous)]
        decision.grade_label = engine.GRADE_LABELS[engine.Grade(decision.grade)]
        decisions.setdefault(decision.unit_code, []).append(decision)
    rows = []
    for result in result_set.outputs["results"]:
        item = inputs[result["unit"]]
        if category and item["category"] != category:
            continue
        rows.append({
            "result": result, "input": item,
            "areas": [engine.GRADE_LABELS[engine.Grade(item["grades"][code])]
                      for code in engine.AREA_CODES],
            "final": final[result["unit"]],
            "final_label": engine.GRADE_LABELS[engine.Grade(final[result["unit"]])],
            "decisions": decisions.get(result["unit"], []),
            "tie_reason": next((msg for code, msg in zip(result["reason_codes"],
                                                         result["reasons"], strict=True)
                                if code.startswith("tie")), ""),
        })
    return rows


@capability_required(VIEW_RESULTS)
def detail(request, pk):
    result_set = _result_set(pk)
    try:
        result_set.verify_seal()
    except SealBroken:
        log_action("grading.result_set.seal_broken", actor=request.user, target=result_set,
                   success=False)
        messages.error(request, _(
            "该版本的内容与审定时的封存校验值不符，可能已被篡改，请立即报告安全管理员。"
        ))
    category = request.GET.get("category", "")
    rows = _rows(result_set, category)
    final = result_set.final_grades()
    counts = {code: 0 for code in GRADE_ORDER}
    for grade in final.values():
        counts[grade] += 1
    categories = sorted({item["category"] for item in result_set.inputs})
    by_category = {c: {code: 0 for code in GRADE_ORDER} for c in categories}
    inputs = {item["unit"]: item for item in result_set.inputs}
    for unit, grade in final.items():
        by_category[inputs[unit]["category"]][grade] += 1
    chart = {
        "labels": [engine.GRADE_LABELS[engine.Grade(c)] for c in GRADE_ORDER],
        "categories": categories,
        "series": {engine.GRADE_LABELS[engine.Grade(c)]: [by_category[cat][c]
                                                          for cat in categories]
                   for c in GRADE_ORDER},
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
    pending = [row for row in rows if row["result"]["grade_code"] == "pending"]
    log_action("grading.result_set.viewed", actor=request.user, target=result_set)
    return render(request, "grading/detail.html", {
        "result_set": result_set, "round": result_set.round, "rows": rows,
        "category": category, "categories": categories,
        "counts": [(engine.GRADE_LABELS[engine.Grade(c)], counts[c]) for c in GRADE_ORDER],
        "chart": chart, "pending": pending,
        "warnings": result_set.outputs["warnings"],
        "sensitivity": [p for p in result_set.outputs.get("sensitivity", []) if p["changes"]],
        "calibration": result_set.outputs.get("calibration", {}),
        "grade_choices": [(c, engine.GRADE_LABELS[engine.Grade(c)]) for c in GRADE_ORDER[:4]],
        "can_decide": has_capability(request.user, RUN_REVIEW) and result_set.is_editable,
        "can_submit": has_capability(request.user, RUN_REVIEW) and result_set.is_editable,
        "can_approve": (has_capability(request.user, APPROVE_RESULTS)
                        and result_set.status == "submitted"),
        "can_release": (has_capability(request.user, RELEASE_RESULTS)
                        and result_set.status == "approved"),
        "others": ResultSet.objects.filter(round=result_set.round).exclude(pk=result_set.pk),
    })


@capability_required(RUN_REVIEW)
@require_POST
def decide(request, pk):
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
def submit(request, pk):
    try:
        services.result_set_submit(result_set=_result_set(pk), actor=request.user)
    except services.GradingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("等次建议已报国务院扶贫开发领导小组审定。"))
    return redirect("grading:detail", pk=pk)


@capability_required(APPROVE_RESULTS)
@require_POST
def approve(request, pk):
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
def release(request, pk):
    try:
        outcomes.release(result_set=_result_set(pk), actor=request.user)
    except (services.GradingError, outcomes.OutcomeError, SealBroken) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("考核结果已反馈，各单位只能看到本单位的等次。"))
    return redirect("grading:detail", pk=pk)


@capability_required(VIEW_RESULTS)
def compare(request, pk, other_pk):
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
