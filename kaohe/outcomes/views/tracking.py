"""Tracking of rectification by lead departments and the office (step 7): counts and
filters over the units, one unit's report, the office's extension and the review of an
item."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    MANAGE_DEADLINES,
    TRACK_RECTIFICATION,
    VIEW_RECTIFICATION,
    capability_required,
    has_capability,
)
from kaohe.directory.selectors import units_visible_to
from kaohe.lib import paging
from kaohe.lib.addresses import url_for_pk
from kaohe.lib.http import AuthenticatedRequest, int_param, run_service, show_form_errors
from kaohe.outcomes import services
from kaohe.outcomes.forms import ItemReviewForm
from kaohe.outcomes.models import ItemStatus, RectificationItem
from kaohe.outcomes.selectors import (
    TrackerState,
    readable_rectification_report,
    results_released,
    tracked_page_units,
    tracker_categories,
    tracker_rows,
    tracker_summary,
)
from kaohe.outcomes.views.common import (
    items_with_files,
    report_as_handed_over,
    report_history,
    tracking_round_or_404,
)
from kaohe.submissions import deadlines
from kaohe.submissions.forms import ExtensionForm


@capability_required(VIEW_RECTIFICATION)
def rectification_list(request: AuthenticatedRequest) -> HttpResponse:
    """Counts by state, filters (state, category, lead department), the overdue list, and
    the office's extension form per unit."""
    round_ = tracking_round_or_404()
    units = units_visible_to(request.user, round=round_)
    step = round_.steps.get(code="rectification")
    released = results_released(round_)
    # Every tracked unit's state from the database in one query, counted, filtered and
    # paged here; the page's units in one more (issue 19: the list grows with the units).
    summary = tracker_summary(round_, units, step=step, released=released, user=request.user)
    counts = {s.value: 0 for s in TrackerState}
    for tracked in summary:
        counts[tracked.state] += 1
    categories = tracker_categories(summary)
    leads = {c.lead_department_id: c.lead_department for c in categories
             if c.lead_department_id}
    state = request.GET.get("state", "")
    state = state if state in TrackerState.values else ""
    category = int_param(request.GET.get("category")) if request.GET.get("category") else None
    lead = int_param(request.GET.get("lead")) if request.GET.get("lead") else None
    shown = [t for t in summary
             if (not state or t.state == state)
             and (category is None or t.category_id == category)
             and (lead is None or t.lead_department_id == lead)]
    page = Paginator(shown, paging.ROWS).get_page(request.GET.get("page"))
    can_extend = has_capability(request.user, MANAGE_DEADLINES) and released
    # The leading group reads the tracker only (issue 21): no export of the lead
    # departments' working table, no extension.
    can_track = has_capability(request.user, TRACK_RECTIFICATION)
    rows = tracker_rows(round_, tracked_page_units(units, list(page.object_list)), step=step,
                        user=request.user)
    detail_url = url_for_pk("outcomes:rectification_detail")
    extend_url = url_for_pk("outcomes:rectification_extend")
    for row in rows:
        row["detail_url"], row["extend_url"] = detail_url(row["unit"].pk), extend_url(
            row["unit"].pk)
    return render(request, "outcomes/rectification_list.html", {
        "round": round_, "rows": rows, "page": page,
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
def rectification_detail(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    """One tracked unit's report as submitted; a unit that has submitted nothing (no report,
    or a draft, which stays the unit's own) shows its deadline and that nothing came in."""
    round_ = tracking_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk,
                             category__ranked=True)
    report = readable_rectification_report(request.user, round_, unit)
    step = round_.steps.get(code="rectification")
    summary, items = "", []
    if report is not None and request.user.unit_id == unit.pk:
        summary, items = report.summary, items_with_files(report)
    elif report is not None:  # a sent-back item as last submitted, not as being revised
        summary, items = report_as_handed_over(report)
    return render(request, "outcomes/rectification_detail.html", {
        "round": round_, "unit": unit, "report": report, "summary": summary, "items": items,
        "history": report_history(report) if report else [],
        "deadline": deadlines.deadline_for(step, unit=unit),
        "extension": deadlines.extension_for(step, unit=unit),
        "can_track": has_capability(request.user, TRACK_RECTIFICATION),
    })


@capability_required(MANAGE_DEADLINES)
@require_POST
def rectification_extend(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    """The office grants one unit more time for its rectification report (with a reason)."""
    round_ = tracking_round_or_404()
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
def item_review(request: AuthenticatedRequest, unit_pk: int, item_pk: int) -> HttpResponse:
    round_ = tracking_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk)
    # Through the reports the user may read: a draft's item does not exist for a reviewer.
    report = readable_rectification_report(request.user, round_, unit)
    item = get_object_or_404(RectificationItem, pk=item_pk, report=report)
    form = ItemReviewForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)
    else:
        run_service(request, services.item_review, item=item, actor=request.user,
                    **form.cleaned_data, success=_("已记录审核意见。"))
    return redirect("outcomes:rectification_detail", unit_pk=unit.pk)
