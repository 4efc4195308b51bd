"""Pages of steps 6 and 7: feedback, rectification, summons and the use of results."""

import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    MANAGE_SUMMONS,
    RECORD_DISPATCH,
    RELEASE_RESULTS,
    TRACK_RECTIFICATION,
    VIEW_OWN_RESULT,
    capability_required,
)
from kaohe.audit.services import log_action
from kaohe.directory.selectors import units_visible_to
from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.grading.models import ResultSet, ResultSetStatus
from kaohe.grading.selectors import released_result_set
from kaohe.lib.http import current_round_or_404
from kaohe.outcomes import services
from kaohe.outcomes.models import (
    Dispatch,
    DispatchKind,
    Feedback,
    ItemStatus,
    RectificationItem,
    RectificationReport,
    Summoned,
    Summoner,
    Summons,
)
from kaohe.outcomes.selectors import (
    earlier_letters,
    released_feedback,
    tracking_round,
    unit_results_round,
)
from kaohe.rounds.models import RoundStatus
from kaohe.submissions import deadlines


def _label(code):
    return GRADE_LABELS[Grade(code)]


# Feedback (the office) ------------------------------------------------------------------


def _approved(round_):
    return ResultSet.objects.filter(
        round=round_, status__in=[ResultSetStatus.APPROVED, ResultSetStatus.RELEASED]
    ).order_by("-version").first()


@capability_required(RELEASE_RESULTS)
def feedback_list(request):
    round_ = current_round_or_404()
    result_set = _approved(round_)
    # The letters of the version released (or about to be): earlier versions' stay on record.
    feedback = Feedback.objects.filter(round=round_, result_set=result_set).select_related(
        "unit", "unit__category", "replaces__result_set")
    return render(request, "outcomes/feedback_list.html", {
        "round": round_, "result_set": result_set,
        "feedback": [(f, _label(f.grade)) for f in feedback.order_by("unit__code")],
        "can_prepare": result_set is not None and result_set.status == ResultSetStatus.APPROVED,
    })


@capability_required(RELEASE_RESULTS)
@require_POST
def feedback_prepare(request):
    result_set = _approved(current_round_or_404())
    if result_set is None:
        messages.error(request, _("尚无经领导小组审定的等次建议。"))
    else:
        try:
            n = services.feedback_prepare(result_set=result_set, actor=request.user)
        except services.OutcomeError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已起草%(n)s份反馈意见。") % {"n": n})
    return redirect("outcomes:feedback_list")


@capability_required(RELEASE_RESULTS)
def feedback_edit(request, pk):
    feedback = get_object_or_404(Feedback.objects.select_related("unit", "result_set"), pk=pk,
                                 round=current_round_or_404())
    if request.method == "POST":
        try:
            services.feedback_update(feedback=feedback, actor=request.user,
                                     problems=request.POST.get("problems", "")[:20000],
                                     suggestions=request.POST.get("suggestions", "")[:20000])
        except services.OutcomeError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("反馈意见已保存。"))
            return redirect("outcomes:feedback_list")
    return render(request, "outcomes/feedback_edit.html", {
        "feedback": feedback, "grade": _label(feedback.grade),
        "editable": (feedback.result_set.status == ResultSetStatus.APPROVED
                     and feedback.result_set.released_at is None),
    })


def _tracking_round_or_404():
    round_ = tracking_round()
    if round_ is None:
        raise Http404
    return round_


# The unit's own result ------------------------------------------------------------------


@capability_required(VIEW_OWN_RESULT)
def my_result(request):
    unit = request.user.unit
    round_ = unit_results_round(unit)
    if round_ is None:
        raise Http404  # nothing of the result exists for a unit before release
    feedback = released_feedback(round_, unit)
    if feedback is None:
        raise Http404  # nothing of the result exists for a unit before release
    report = services.rectification_for(round=round_, unit=unit)
    step = round_.steps.get(code="rectification")
    log_action("outcomes.feedback.viewed", actor=request.user, target=feedback)
    earlier = [(letter, _label(letter.grade)) for letter in earlier_letters(feedback)]
    return render(request, "outcomes/my_result.html", {
        "round": round_, "unit": unit, "feedback": feedback, "grade": _label(feedback.grade),
        "earlier": earlier, "corrected": feedback.corrected,
        "report": report, "items": report.items.select_related("carried_from__report__round"),
        "statuses": [(s.value, s.label) for s in ItemStatus if s != ItemStatus.NOT_ACCEPTED],
        "deadline": deadlines.deadline_for(step, unit=unit),
        "is_open": (deadlines.is_open(step, unit=unit) and report.submitted_at is None
                    and round_.status != RoundStatus.CLOSED),
    })


@capability_required(VIEW_OWN_RESULT)
@require_POST
def my_rectification_save(request):
    round_ = unit_results_round(request.user.unit)
    if round_ is None or released_result_set(round_) is None:
        raise Http404
    if round_.status == RoundStatus.CLOSED:
        messages.error(request, _("%(year)s年度考核已结束，只能查阅，不能修改。")
                       % {"year": round_.year})
        return redirect("outcomes:my_result")
    report = get_object_or_404(RectificationReport, round=round_, unit=request.user.unit)
    items = {}
    for item in report.items.all():
        items[item.pk] = {
            "measures": request.POST.get(f"measures-{item.pk}", item.measures)[:10000],
            "evidence_note": request.POST.get(f"evidence-{item.pk}", item.evidence_note),
            "status": request.POST.get(f"status-{item.pk}", item.status),
        }
    try:
        services.rectification_save(report=report, actor=request.user,
                                    summary=request.POST.get("summary", "")[:20000], items=items)
        if request.POST.get("submit") == "1":
            services.rectification_submit(report=report, actor=request.user)
            messages.success(request, _("整改报告已报送牵头部门和国务院扶贫办。"))
        else:
            messages.success(request, _("已保存。"))
    except services.OutcomeError as exc:
        messages.error(request, str(exc))
    return redirect("outcomes:my_result")


# Tracking (lead departments and the office) ---------------------------------------------


@capability_required(TRACK_RECTIFICATION)
def rectification_list(request):
    round_ = _tracking_round_or_404()
    units = units_visible_to(request.user, round=round_).filter(category__ranked=True)
    reports = {r.unit_id: r for r in RectificationReport.objects.filter(
        round=round_, unit__in=units).prefetch_related("items")}
    step = round_.steps.get(code="rectification")
    released = released_result_set(round_) is not None
    rows = []
    for unit in units.order_by("category__order", "code"):
        report = reports.get(unit.pk)
        items = list(report.items.all()) if report else []
        rows.append({
            "unit": unit, "report": report,
            "counts": {s.value: sum(1 for i in items if i.status == s) for s in ItemStatus},
            "total": len(items),
            "overdue": released and (report is None or report.submitted_at is None)
            and not deadlines.is_open(step, unit=unit),
        })
    return render(request, "outcomes/rectification_list.html",
                  {"round": round_, "rows": rows, "released": released, "step": step,
                   "statuses": ItemStatus.choices})


@capability_required(TRACK_RECTIFICATION)
def rectification_detail(request, unit_pk):
    round_ = _tracking_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk)
    report = get_object_or_404(RectificationReport, round=round_, unit=unit)
    return render(request, "outcomes/rectification_detail.html", {
        "round": round_, "unit": unit, "report": report,
        "items": report.items.select_related("reviewed_by"),
    })


@capability_required(TRACK_RECTIFICATION)
@require_POST
def item_review(request, unit_pk, item_pk):
    round_ = _tracking_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk)
    item = get_object_or_404(RectificationItem, pk=item_pk, report__unit=unit,
                             report__round=round_)
    try:
        services.item_review(item=item, actor=request.user,
                             accepted=request.POST.get("accepted") == "1",
                             note=request.POST.get("note", "")[:2000])
    except services.OutcomeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已记录审核意见。"))
    return redirect("outcomes:rectification_detail", unit_pk=unit.pk)


# Summons and dispatches -----------------------------------------------------------------


@capability_required(MANAGE_SUMMONS)
def summons_list(request):
    round_ = _tracking_round_or_404()
    units = units_visible_to(request.user, round=round_)
    summons = Summons.objects.filter(round=round_, unit__in=units).select_related(
        "unit", "unit__category", "updated_by")
    return render(request, "outcomes/summons.html", {
        "round": round_, "summons": summons, "summoners": Summoner.choices,
        "summoned": Summoned.choices,
    })


@capability_required(MANAGE_SUMMONS)
@require_POST
def summons_update(request, pk):
    round_ = _tracking_round_or_404()
    summons = get_object_or_404(Summons, pk=pk, round=round_,
                                unit__in=units_visible_to(request.user, round=round_))
    held = request.POST.get("held_on") or None
    try:
        held_on = datetime.date.fromisoformat(held) if held else None
    except ValueError:
        messages.error(request, _("约谈时间格式不正确。"))
        return redirect("outcomes:summons")
    services.summons_update(
        summons=summons, actor=request.user,
        summoner=request.POST.get("summoner", summons.summoner)
        if request.POST.get("summoner") in Summoner.values else summons.summoner,
        summoned=request.POST.get("summoned", summons.summoned)
        if request.POST.get("summoned") in Summoned.values else summons.summoned,
        held_on=held_on, minutes=request.POST.get("minutes", "")[:20000],
        follow_up=request.POST.get("follow_up", "")[:20000],
        closed=request.POST.get("closed") == "on",
    )
    messages.success(request, _("约谈记录已保存。"))
    return redirect("outcomes:summons")


@capability_required(RECORD_DISPATCH)
def dispatches(request):
    round_ = current_round_or_404()
    if request.method == "POST":
        try:
            sent_on = datetime.date.fromisoformat(request.POST.get("sent_on", ""))
        except ValueError:
            messages.error(request, _("请填写报送日期。"))
            return redirect("outcomes:dispatches")
        kind = request.POST.get("kind")
        recipients = request.POST.get("recipients", "").strip()
        if kind not in DispatchKind.values or not recipients:
            messages.error(request, _("请选择类别并填写报送对象。"))
            return redirect("outcomes:dispatches")
        services.dispatch_record(round=round_, actor=request.user, kind=kind,
                                 recipients=recipients[:300], sent_on=sent_on,
                                 reference=request.POST.get("reference", "")[:100],
                                 note=request.POST.get("note", "")[:5000])
        messages.success(request, _("已记录。"))
        return redirect("outcomes:dispatches")
    return render(request, "outcomes/dispatches.html", {
        "round": round_, "kinds": DispatchKind.choices,
        "dispatches": Dispatch.objects.filter(round=round_).select_related("recorded_by"),
        "released": released_result_set(round_) is not None,
    })
