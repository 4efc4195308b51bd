"""Pages of steps 6 and 7: feedback, rectification, summons and the use of results."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    MANAGE_DEADLINES,
    MANAGE_SUMMONS,
    RECEIVE_RESULTS,
    RECORD_DISPATCH,
    RELEASE_RESULTS,
    TRACK_RECTIFICATION,
    VIEW_OWN_RESULT,
    VIEW_RECTIFICATION,
    VIEW_SUMMONS,
    capability_required,
    has_capability,
)
from kaohe.audit.services import log_action
from kaohe.directory.selectors import units_visible_to
from kaohe.evidence.models import Evidence
from kaohe.evidence.selectors import evidence_visible_to
from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.grading.models import SNAPSHOTS, ResultSetStatus, SealBroken
from kaohe.grading.selectors import approved_result_set, released_version, result_row
from kaohe.lib.http import current_round_or_404, int_param, run_service, show_form_errors
from kaohe.outcomes import services
from kaohe.outcomes.forms import (
    DispatchForm,
    FeedbackForm,
    ItemReviewForm,
    RectificationForm,
    SummonsForm,
)
from kaohe.outcomes.models import (
    Dispatch,
    DispatchKind,
    Feedback,
    ItemStatus,
    RectificationAttachment,
    RectificationItem,
    RectificationReport,
    Summoned,
    Summoner,
    Summons,
)
from kaohe.outcomes.selectors import (
    FEEDBACK_SNAPSHOTS,
    TrackerState,
    earlier_letters,
    org_department_results,
    released_feedback,
    results_released,
    results_sent_to_org_department,
    tracked_units,
    tracker_categories,
    tracker_rows,
    tracker_state_counts,
    tracking_round,
    unit_results_round,
)
from kaohe.rounds.models import RoundStatus
from kaohe.rounds.selection import chosen_round, explicit_round
from kaohe.submissions import deadlines
from kaohe.submissions.forms import ExtensionForm


def _label(code):
    return GRADE_LABELS[Grade(code)]


# Feedback (the office) ------------------------------------------------------------------


@capability_required(RELEASE_RESULTS)
def feedback_list(request):
    round_ = current_round_or_404()
    result_set = approved_result_set(round_)
    # The letters of the version released (or about to be): earlier versions' stay on record.
    feedback = Feedback.objects.filter(round=round_, result_set=result_set).select_related(
        "unit", "unit__category", "replaces__result_set").defer(*FEEDBACK_SNAPSHOTS)
    page = Paginator(feedback.order_by("unit__code"), 50).get_page(request.GET.get("page"))
    return render(request, "outcomes/feedback_list.html", {
        "round": round_, "result_set": result_set, "page": page,
        "feedback": [(f, _label(f.grade)) for f in page],
        "can_prepare": result_set is not None and result_set.status == ResultSetStatus.APPROVED,
    })


@capability_required(RELEASE_RESULTS)
@require_POST
def feedback_prepare(request):
    result_set = approved_result_set(current_round_or_404())
    if result_set is None:
        messages.error(request, _("尚无经领导小组审定的等次建议。"))
    else:
        run_service(request, services.feedback_prepare, result_set=result_set,
                    actor=request.user, success=lambda n: _("已起草%(n)s份反馈意见。") % {"n": n})
    return redirect("outcomes:feedback_list")


@capability_required(RELEASE_RESULTS)
def feedback_edit(request, pk):
    feedback = get_object_or_404(Feedback.objects.select_related("unit", "result_set").defer(
        *(f"result_set__{field}" for field in SNAPSHOTS)), pk=pk, round=current_round_or_404())
    form = FeedbackForm(request.POST or None, initial={
        "problems": feedback.problems, "suggestions": feedback.suggestions})
    if request.method == "POST":
        if not form.is_valid():
            show_form_errors(request, form)
        elif run_service(request, services.feedback_update, feedback=feedback,
                         actor=request.user, **form.cleaned_data,
                         success=_("反馈意见已保存。")):
            return redirect("outcomes:feedback_list")
    return render(request, "outcomes/feedback_edit.html", {
        "feedback": feedback, "grade": _label(feedback.grade), "form": form,
        "editable": (feedback.result_set.status == ResultSetStatus.APPROVED
                     and feedback.result_set.released_at is None),
    })


def _tracking_round_or_404():
    round_ = explicit_round() or tracking_round()
    if round_ is None:
        raise Http404
    return round_


# The unit's own result ------------------------------------------------------------------


def _closed_reason(round_, report, step, unit, extension) -> str:
    """Why the unit's form is closed, and until when it was open (empty when open)."""
    if round_.status == RoundStatus.CLOSED:
        return _("%(year)s年度考核已结束，只能查阅，不能修改。") % {"year": round_.year}
    if report.submitted_at is not None:
        if services.reopened(report):
            return ""
        if report.items.exists() and not report.items.exclude(
                status=ItemStatus.DONE, reviewed_by__isnull=False).exists():
            return _("整改报告已报送，全部事项已认定整改到位。")
        return _("整改报告已于%(at)s报送，等待审核；如有事项被认定整改不到位，可修改后重新"
                 "报送。") % {
            "at": services.day_label(timezone.localdate(report.last_submitted_at
                                                   or report.submitted_at))}
    if deadlines.is_open(step, unit=unit):
        return ""
    if extension is not None and extension.until > step.due:
        return _("国务院扶贫办准予的延期已于%(until)s到期（延期原因：%(reason)s），表单已关闭，"
                 "不能再填写或报送；如需再次延期，请联系国务院扶贫办。") % {
            "until": services.day_label(extension.until), "reason": extension.reason}
    return _("整改报告报送已于%(due)s截止，表单已关闭，不能再填写或报送；如需延期，请联系国务院"
             "扶贫办。") % {"due": services.day_label(step.due)}


@capability_required(VIEW_OWN_RESULT)
def my_result(request):
    unit = request.user.unit
    round_ = explicit_round() or unit_results_round(unit)
    if round_ is None:
        raise Http404  # nothing of the result exists for a unit before release
    feedback = released_feedback(round_, unit)
    if feedback is None:
        raise Http404  # nothing of the result exists for a unit before release
    report = services.rectification_for(round=round_, unit=unit)
    step = round_.steps.get(code="rectification")
    log_action("outcomes.feedback.viewed", actor=request.user, target=feedback)
    # The grade from the unit's own row of the released version (one row, not the version's
    # snapshots); its letter carries the same grade, copied when the letters were prepared.
    try:
        row = result_row(feedback.result_set_id, unit.code)
    except SealBroken:  # a version from before rows, changed since: its letter stands
        log_action("grading.result_set.seal_broken", actor=request.user,
                   target=feedback.result_set, success=False)
        row = None
    earlier = [(letter, _label(letter.grade)) for letter in earlier_letters(feedback)]
    extension = deadlines.extension_for(step, unit=unit)
    closed_reason = _closed_reason(round_, report, step, unit, extension)
    editable = set() if closed_reason else services.editable_items(report)
    return render(request, "outcomes/my_result.html", {
        "round": round_, "unit": unit, "feedback": feedback,
        "grade": _label(row.final_grade if row is not None else feedback.grade),
        "earlier": earlier, "corrected": feedback.corrected,
        "report": report, "items": _items_with_files(report, editable),
        "statuses": [(s.value, s.label) for s in ItemStatus if s != ItemStatus.NOT_ACCEPTED],
        "deadline": deadlines.deadline_for(step, unit=unit), "extension": extension,
        "is_open": not closed_reason, "closed_reason": closed_reason,
        "reopened": services.reopened(report), "history": _history(report),
    })


def _items_with_files(report, editable=frozenset()):
    files = {}
    for attachment in RectificationAttachment.objects.filter(report=report).select_related(
            "evidence"):
        files.setdefault(attachment.item_id, []).append(attachment)
    items = list(report.items.select_related("carried_from__report__round", "reviewed_by"))
    for item in items:
        item.files = files.get(item.pk, [])
        item.editable = item.pk in editable
    return items


def _history(report):
    return report.events.select_related("actor", "item")


def _my_report(request):
    """The unit's report of the round it works on, or 404; None when the round is closed."""
    round_ = explicit_round() or unit_results_round(request.user.unit)
    if round_ is None or released_version(round_) is None:
        raise Http404
    report = get_object_or_404(RectificationReport, round=round_, unit=request.user.unit)
    if round_.status == RoundStatus.CLOSED:
        messages.error(request, _("%(year)s年度考核已结束，只能查阅，不能修改。")
                       % {"year": round_.year})
        return None
    return report


def _save_texts(request, report) -> bool:
    """Save what the form holds for the items the unit may change now; False (with the
    messages) when refused, and then nothing is saved."""
    form = RectificationForm(request.POST, report=report, items=report.items.filter(
        pk__in=services.editable_items(report)))
    if not form.is_valid():
        show_form_errors(request, form)
        return False
    return run_service(request, services.rectification_save, report=report,
                       actor=request.user, **form.changes())


@capability_required(VIEW_OWN_RESULT)
@require_POST
def my_rectification_save(request):
    report = _my_report(request)
    if report is None:
        return redirect("outcomes:my_result")
    again = report.submitted_at is not None
    if not _save_texts(request, report):
        return redirect("outcomes:my_result")
    if request.POST.get("submit") == "1":
        run_service(request, services.rectification_submit, report=report, actor=request.user,
                    success=_("整改报告已重新报送牵头部门和国务院扶贫办。") if again
                    else _("整改报告已报送牵头部门和国务院扶贫办。"))
    else:
        messages.success(request, _("已保存。"))
    return redirect("outcomes:my_result")


@capability_required(VIEW_OWN_RESULT)
@require_POST
def my_rectification_attach(request):
    """After a resumable upload (attach.js): save the texts typed so far, then attach."""
    report = _my_report(request)
    if report is None:
        return redirect("outcomes:my_result")
    item = get_object_or_404(RectificationItem, pk=int_param(request.POST.get("item")),
                             report=report)
    try:
        evidence = evidence_visible_to(request.user).get(
            pk=request.POST.get("evidence"), unit=report.unit)
    except (Evidence.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    if _save_texts(request, report):
        run_service(request, services.rectification_attach, report=report, item=item,
                    evidence=evidence, actor=request.user,
                    success=_("已附上“%(name)s”。") % {"name": evidence.original_name})
    return redirect(reverse("outcomes:my_result") + f"#item-{item.pk}")


@capability_required(VIEW_OWN_RESULT)
@require_POST
def my_rectification_detach(request, pk):
    report = _my_report(request)
    if report is None:
        return redirect("outcomes:my_result")
    attachment = get_object_or_404(RectificationAttachment, pk=pk, report=report)
    if _save_texts(request, report):
        run_service(request, services.rectification_detach, report=report,
                    attachment=attachment, actor=request.user, success=_("已移除。"))
    return redirect(reverse("outcomes:my_result") + f"#item-{attachment.item_id}")


# Tracking (lead departments and the office) ---------------------------------------------


@capability_required(VIEW_RECTIFICATION)
def rectification_list(request):
    """Counts by state, filters (state, category, lead department), the overdue list, and
    the office's extension form per unit."""
    round_ = _tracking_round_or_404()
    units = units_visible_to(request.user, round=round_)
    step = round_.steps.get(code="rectification")
    released = results_released(round_)
    # Counted, filtered and paged by the database (issue 19: the list grows with the units).
    tracked = tracked_units(round_, units, step=step, released=released)
    counts = tracker_state_counts(tracked)
    categories = tracker_categories(units)
    leads = {c.lead_department_id: c.lead_department for c in categories
             if c.lead_department_id}
    state = request.GET.get("state", "")
    state = state if state in TrackerState.values else ""
    category = int_param(request.GET.get("category")) if request.GET.get("category") else None
    lead = int_param(request.GET.get("lead")) if request.GET.get("lead") else None
    shown = tracked
    if state:
        shown = shown.filter(state=state)
    if category is not None:
        shown = shown.filter(category_id=category)
    if lead is not None:
        shown = shown.filter(category__lead_department_id=lead)
    page = Paginator(shown, 50).get_page(request.GET.get("page"))
    can_extend = has_capability(request.user, MANAGE_DEADLINES) and released
    # The leading group reads the tracker only (issue 21): no export of the lead
    # departments' working table, no extension.
    can_track = has_capability(request.user, TRACK_RECTIFICATION)
    return render(request, "outcomes/rectification_list.html", {
        "round": round_, "rows": tracker_rows(round_, page.object_list, step=step), "page": page,
        "total": sum(counts.values()), "released": released,
        "step": step, "statuses": ItemStatus.choices, "counts": counts,
        "states": [(s.value, s.label, counts[s.value]) for s in TrackerState],
        "categories": categories,
        "leads": sorted(leads.values(), key=lambda d: d.pk),
        "filters": {"state": state, "category": category, "lead": lead},
        "can_extend": can_extend, "extension_form": ExtensionForm() if can_extend else None,
        "can_track": can_track,
    })


@capability_required(VIEW_RECTIFICATION)
def rectification_detail(request, unit_pk):
    round_ = _tracking_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk)
    report = get_object_or_404(RectificationReport, round=round_, unit=unit)
    step = round_.steps.get(code="rectification")
    return render(request, "outcomes/rectification_detail.html", {
        "round": round_, "unit": unit, "report": report,
        "items": _items_with_files(report), "history": _history(report),
        "deadline": deadlines.deadline_for(step, unit=unit),
        "extension": deadlines.extension_for(step, unit=unit),
        "can_track": has_capability(request.user, TRACK_RECTIFICATION),
    })


@capability_required(MANAGE_DEADLINES)
@require_POST
def rectification_extend(request, unit_pk):
    """The office grants one unit more time for its rectification report (with a reason)."""
    round_ = _tracking_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk,
                             category__ranked=True)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写延期日期和延期原因。"))
    else:
        run_service(request, services.rectification_extend, round=round_, unit=unit,
                    actor=request.user, **form.cleaned_data,
                    success=_("已准予%(unit)s的整改报告延期至%(day)s报送。") % {
                        "unit": unit.name, "day": services.day_label(form.cleaned_data["until"])})
    return redirect(reverse("outcomes:rectification_list") + f"#unit-{unit.pk}")


@capability_required(TRACK_RECTIFICATION)
@require_POST
def item_review(request, unit_pk, item_pk):
    round_ = _tracking_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk)
    item = get_object_or_404(RectificationItem, pk=item_pk, report__unit=unit,
                             report__round=round_)
    form = ItemReviewForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)
    else:
        run_service(request, services.item_review, item=item, actor=request.user,
                    **form.cleaned_data, success=_("已记录审核意见。"))
    return redirect("outcomes:rectification_detail", unit_pk=unit.pk)


# Summons and dispatches -----------------------------------------------------------------


@capability_required(VIEW_SUMMONS)
def summons_list(request):
    round_ = _tracking_round_or_404()
    units = units_visible_to(request.user, round=round_)
    summons = Summons.objects.filter(round=round_, unit__in=units).select_related(
        "unit", "unit__category", "updated_by")
    return render(request, "outcomes/summons.html", {
        "round": round_, "summons": summons, "summoners": Summoner.choices,
        "summoned": Summoned.choices,
        "can_manage": has_capability(request.user, MANAGE_SUMMONS),
    })


@capability_required(MANAGE_SUMMONS)
@require_POST
def summons_update(request, pk):
    round_ = _tracking_round_or_404()
    summons = get_object_or_404(Summons, pk=pk, round=round_,
                                unit__in=units_visible_to(request.user, round=round_))
    form = SummonsForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)
    else:
        run_service(request, services.summons_update, summons=summons, actor=request.user,
                    **form.changes(summons), success=_("约谈记录已保存。"))
    return redirect("outcomes:summons")


@capability_required(RECEIVE_RESULTS)
def org_results(request):
    """The organization department's list of results (考核结果送中央组织部): only once the
    results are released and the office has recorded sending them; 404 before."""
    round_ = chosen_round()
    result_set = results_sent_to_org_department(round_)
    if result_set is None:
        raise Http404
    result_set.verify_seal()
    sent = Dispatch.objects.filter(round=round_, kind=DispatchKind.ORG_DEPARTMENT).order_by(
        "sent_on", "pk").first()
    log_action("outcomes.org_results.viewed", actor=request.user, target=result_set)
    return render(request, "outcomes/org_results.html", {
        "round": round_, "result_set": result_set, "sent": sent,
        **org_department_results(result_set),
    })


@capability_required(RECORD_DISPATCH)
def dispatches(request):
    round_ = current_round_or_404()
    if request.method == "POST":
        form = DispatchForm(request.POST)
        if not form.is_valid():
            show_form_errors(request, form)
        else:
            run_service(request, services.dispatch_record, round=round_, actor=request.user,
                        **form.cleaned_data, success=_("已记录。"))
        return redirect("outcomes:dispatches")
    return render(request, "outcomes/dispatches.html", {
        "round": round_, "kinds": DispatchKind.choices,
        "dispatches": Dispatch.objects.filter(round=round_).select_related("recorded_by"),
        "released": released_version(round_) is not None,
    })
