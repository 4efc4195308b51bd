"""The use of the results: summons talks with 较差 units, the dispatches the office
records, and the organization department's list of results once they are sent to it."""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    MANAGE_SUMMONS,
    RECEIVE_RESULTS,
    RECORD_DISPATCH,
    VIEW_SUMMONS,
    capability_required,
    has_capability,
)
from kaohe.audit.services import log_action
from kaohe.directory.selectors import units_visible_to
from kaohe.grading.selectors import released_version
from kaohe.lib.http import (
    AuthenticatedRequest,
    current_round_or_404,
    int_param,
    run_service,
    show_form_errors,
)
from kaohe.outcomes import services
from kaohe.outcomes.forms import DispatchForm, SummonsForm
from kaohe.outcomes.models import Dispatch, DispatchKind, Summoned, Summoner, Summons
from kaohe.outcomes.selectors import org_department_results, results_sent_to_org_department
from kaohe.outcomes.views.common import tracking_round_or_404
from kaohe.rounds.selection import chosen_round

PAGE_SIZE = 20  # summons a page shows, each a form (issue 19)


@capability_required(VIEW_SUMMONS)
def summons_list(request: AuthenticatedRequest) -> HttpResponse:
    round_ = tracking_round_or_404()
    units = units_visible_to(request.user, round=round_)
    # A summons a correction withdrew is kept on record only: no longer followed up here.
    summons = Summons.objects.filter(round=round_, unit__in=units,
                                     withdrawn_at__isnull=True).select_related(
        "unit", "unit__category", "updated_by").order_by("unit__category__order",
                                                         "unit__code", "pk")
    # One page of summons, each a form (issue 19).
    page = Paginator(summons, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "outcomes/summons.html", {
        "round": round_, "summons": page, "page": page, "summoners": Summoner.choices,
        "summoned": Summoned.choices,
        "can_manage": has_capability(request.user, MANAGE_SUMMONS),
    })


@capability_required(MANAGE_SUMMONS)
@require_POST
def summons_update(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    round_ = tracking_round_or_404()
    summons = get_object_or_404(Summons, pk=pk, round=round_, withdrawn_at__isnull=True,
                                unit__in=units_visible_to(request.user, round=round_))
    form = SummonsForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)
    else:
        run_service(request, services.summons_update, summons=summons, actor=request.user,
                    **form.changes(summons), success=_("约谈记录已保存。"))
    page = int_param(request.POST.get("page"))  # back to the page the form was on
    return redirect(reverse("outcomes:summons") + (f"?page={page}" if page > 1 else ""))


@capability_required(RECEIVE_RESULTS)
def org_results(request: AuthenticatedRequest) -> HttpResponse:
    """The organization department's list of results (考核结果送中央组织部): only once the
    results are released and the office has recorded sending them; 404 before."""
    round_ = chosen_round()
    result_set = results_sent_to_org_department(round_)
    if result_set is None:
        raise Http404
    # Rows of the released version: release checked its seal, `kaohe verify` checks it again.
    sent = Dispatch.objects.filter(round=round_, kind=DispatchKind.ORG_DEPARTMENT).order_by(
        "sent_on", "pk").first()
    log_action("outcomes.org_results.viewed", actor=request.user, target=result_set)
    return render(request, "outcomes/org_results.html", {
        "round": round_, "result_set": result_set, "sent": sent,
        **org_department_results(result_set),
    })


@capability_required(RECORD_DISPATCH)
def dispatches(request: AuthenticatedRequest) -> HttpResponse:
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
