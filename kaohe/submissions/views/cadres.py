"""Pages of the seconded cadres and first secretaries a unit records with its self-report:
the lists, adding, removing and withdrawing a record.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    EDIT_CADRES,
    VIEW_CADRES,
    capability_required,
    has_capability,
)
from kaohe.directory.models import County
from kaohe.lib import paging
from kaohe.lib.http import AuthenticatedRequest, current_round_or_404, run_service
from kaohe.submissions import deadlines, services
from kaohe.submissions.forms import FirstSecretaryForm, SecondedCadreForm, WithdrawForm
from kaohe.submissions.models import FirstSecretary, ReportStatus, SecondedCadre, SelfReport
from kaohe.submissions.selectors import cadres_visible_to
from kaohe.submissions.views.self_reports import _own_unit

PAGE_SIZE = paging.ROWS  # rows a list shows at once (issue 19: lists grow with the units)


@capability_required(VIEW_CADRES)
def cadre_list(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    cadres, secretaries = cadres_visible_to(request.user, round=round_)
    # One page of each list (issue 19: the office's lists grow with the units); the page's
    # records are read once, so what is set on them below reaches the template.
    # Only the columns the rows show (and whether a record is checked).
    related = ("unit", "county", "org_check", "withdrawn_by")
    shown = ("round", "unit__name", "county__name", "name", "start", "end", "document",
             "withdrawn_at", "withdrawn_reason", "withdrawn_by__username",
             "withdrawn_by__full_name", "org_check__id")
    cadres = Paginator(cadres.select_related(*related).only(
        *shown, "post", "duties", "in_charge_of_poverty"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    secretaries = Paginator(secretaries.select_related(*related).only(*shown, "village"),
                            PAGE_SIZE).get_page(request.GET.get("spage"))
    cadres.object_list = list(cadres.object_list)
    secretaries.object_list = list(secretaries.object_list)
    context = {"round": round_, "cadres": cadres, "secretaries": secretaries,
               "can_edit": has_capability(request.user, EDIT_CADRES)}
    if context["can_edit"]:
        unit = _own_unit(request)
        # Each record says whether the unit may still delete it or only withdraw it.
        submitted = SelfReport.objects.filter(round=round_, unit=unit,
                                              status=ReportStatus.SUBMITTED).exists()
        for record in cadres.object_list + secretaries.object_list:
            record.lock_reason = services.cadre_lock_reason(
                record, report_submitted=submitted, checked=hasattr(record, "org_check"))
        step = round_.steps.get(code="self_report")
        context["is_open"] = services.cadres_open(round=round_, unit=unit)
        context["deadline"] = deadlines.deadline_for(step, unit=unit)
        counties = County.objects.filter(pairings__round=round_, pairings__unit=unit)
        context["cadre_form"] = SecondedCadreForm(counties=counties, prefix="cadre")
        context["secretary_form"] = FirstSecretaryForm(counties=counties, prefix="sec")
    return render(request, "submissions/cadres.html", context)


def _cadre_form_submit(request: AuthenticatedRequest,
                       form_class: type[SecondedCadreForm] | type[FirstSecretaryForm],
                       prefix: str, service: Callable[..., object]) -> HttpResponse:
    round_ = current_round_or_404()
    counties = County.objects.filter(pairings__round=round_, pairings__unit=request.user.unit)
    form = form_class(request.POST, counties=counties, prefix=prefix)
    if form.is_valid():
        run_service(request, service, round=round_, unit=request.user.unit, actor=request.user,
                    **form.cleaned_data, success=_("已添加。"))
    else:
        messages.error(request, _("填写有误：") + "；".join(
            f"{form.fields[name].label}：{' '.join(map(str, errors))}"
            for name, errors in form.errors.items() if name in form.fields
        ) + "".join(map(str, form.non_field_errors())))
    return redirect("submissions:cadres")


@capability_required(EDIT_CADRES)
@require_POST
def cadre_add(request: AuthenticatedRequest) -> HttpResponse:
    return _cadre_form_submit(request, SecondedCadreForm, "cadre", services.cadre_add)


@capability_required(EDIT_CADRES)
@require_POST
def first_secretary_add(request: AuthenticatedRequest) -> HttpResponse:
    return _cadre_form_submit(request, FirstSecretaryForm, "sec", services.first_secretary_add)


def _own_record(request: AuthenticatedRequest, kind: str,
                pk: int) -> SecondedCadre | FirstSecretary:
    """A cadre (``kind`` "cadre") or first secretary ("secretary") of the user's unit; 404
    for any other kind, or a record of another unit."""
    if kind == "cadre":
        return get_object_or_404(SecondedCadre, pk=pk, unit=request.user.unit)
    if kind == "secretary":
        return get_object_or_404(FirstSecretary, pk=pk, unit=request.user.unit)
    raise Http404


@capability_required(EDIT_CADRES)
@require_POST
def cadre_remove(request: AuthenticatedRequest, kind: str, pk: int) -> HttpResponse:
    record = _own_record(request, kind, pk)
    run_service(request, services.cadre_remove, record=record, actor=request.user,
                success=_("已删除。"))
    return redirect("submissions:cadres")


@capability_required(EDIT_CADRES)
@require_POST
def cadre_withdraw(request: AuthenticatedRequest, kind: str, pk: int) -> HttpResponse:
    record = _own_record(request, kind, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤回原因（不超过500字）。"))
        return redirect("submissions:cadres")
    run_service(request, services.cadre_withdraw, record=record, actor=request.user,
                reason=form.cleaned_data["reason"],
                success=_("已撤回%(name)s，撤回原因中央组织部可见。") % {"name": record.name})
    return redirect("submissions:cadres")
