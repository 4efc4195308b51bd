"""The organization department's checklist of seconded cadres and first secretaries (and
its withdrawal of a problem it raised), and the military inspection of army and armed police
units."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import CHECK_CADRES, INSPECT_MILITARY, capability_required
from kaohe.directory.models import Category, Unit
from kaohe.directory.selectors import units_visible_to
from kaohe.lib import paging
from kaohe.lib.addresses import url_for_pk
from kaohe.lib.http import AuthenticatedRequest, current_round_or_404, int_param, run_service
from kaohe.reviews import services
from kaohe.reviews.forms import CadreCheckForm, InspectionForm
from kaohe.reviews.models import FindingSource, MilitaryInspection, SeriousProblem
from kaohe.reviews.selectors import cadre_coverage_gaps, units_with_cadre_gaps
from kaohe.reviews.views.units import _withdraw
from kaohe.submissions.models import FirstSecretary, SecondedCadre

PAGE_SIZE = paging.ROWS  # rows of each list on the checklist (issue 19)


@capability_required(CHECK_CADRES)
def org_cadres(request: AuthenticatedRequest) -> HttpResponse:
    """The organization department's checklist: every cadre and first secretary with its
    checked or unchecked state, filtered by unit, category and state, and the coverage gaps
    the plan implies. Queries stay constant in the number of units."""
    round_ = current_round_or_404()
    all_units = units_visible_to(request.user, round=round_)
    units = all_units.filter(active=True)
    unit_filter = request.GET.get("unit", "")
    # A unit is named by its code (the page lists no units, issue 19); ?unit=<id> still works.
    unit_code = request.GET.get("unit_code", "").strip()
    if unit_code and not unit_filter:
        unit_filter = str(all_units.filter(code=unit_code).values_list("pk", flat=True).first()
                          or -1)
    category_filter = request.GET.get("category", "")
    state = "unchecked" if request.GET.get("unchecked") == "1" else request.GET.get("state", "")
    related = ("unit", "county", "withdrawn_by", "org_check__checked_by",
               "org_check__problem__withdrawn_by")
    # Only the columns the rows show (issue 19: three users a row, each of some 25 columns).
    shown = ("unit__name", "county__name", "name", "withdrawn_at", "withdrawn_reason",
             "withdrawn_by__username", "withdrawn_by__full_name",
             "org_check__cadre_id", "org_check__secretary_id", "org_check__in_post",
             "org_check__in_charge", "org_check__nominal_only", "org_check__discipline_issue",
             "org_check__note", "org_check__checked_at", "org_check__checked_by__username",
             "org_check__checked_by__full_name", "org_check__problem__withdrawn_at",
             "org_check__problem__withdrawn_reason",
             "org_check__problem__withdrawn_by__username",
             "org_check__problem__withdrawn_by__full_name")
    cadres = SecondedCadre.objects.filter(round=round_, unit__in=all_units).select_related(
        *related).only(*shown, "post", "duties", "start", "end").order_by(
        "unit__code", "county__code", "pk")
    secretaries = FirstSecretary.objects.filter(round=round_, unit__in=all_units).select_related(
        *related).only(*shown, "village").order_by("unit__code", "county__code", "pk")
    if unit_filter:
        units = units.filter(pk=int_param(unit_filter))
        cadres = cadres.filter(unit_id=int_param(unit_filter))
        secretaries = secretaries.filter(unit_id=int_param(unit_filter))
    if category_filter:
        units = units.filter(category__code=category_filter)
        cadres = cadres.filter(unit__category__code=category_filter)
        secretaries = secretaries.filter(unit__category__code=category_filter)
    problem = (Q(org_check__in_post=False) | Q(org_check__nominal_only=True)
               | Q(org_check__discipline_issue=True))
    states = {
        "unchecked": (Q(org_check__isnull=True), Q(org_check__isnull=True)),
        "checked": (Q(org_check__isnull=False), Q(org_check__isnull=False)),
        "problem": (problem | Q(org_check__in_charge=False), problem),
        "withdrawn": (Q(withdrawn_at__isnull=False), Q(withdrawn_at__isnull=False)),
    }
    if state in states:
        cadres = cadres.filter(states[state][0])
        secretaries = secretaries.filter(states[state][1])
    else:
        state = ""
    # The coverage gaps of one page of the units that have any (issue 19).
    # Their ids in one query, counted and paged here (the gap query is costly to run twice).
    gap_units = Paginator(list(units_with_cadre_gaps(round_, units).values_list("pk", flat=True)),
                          PAGE_SIZE).get_page(request.GET.get("gpage"))
    cadre_page = Paginator(cadres, PAGE_SIZE).get_page(request.GET.get("page"))
    secretary_page = Paginator(secretaries, PAGE_SIZE).get_page(request.GET.get("spage"))
    _link_rows(cadre_page, "cadre")
    _link_rows(secretary_page, "secretary")
    return render(request, "reviews/org_cadres.html", {
        "round": round_, "state": state, "unit_filter": unit_filter,
        "category_filter": category_filter,
        "unit_code": unit_code or (all_units.filter(pk=int_param(unit_filter)).values_list(
            "code", flat=True).first() if unit_filter else ""),
        "category_choices": Category.objects.order_by("order").values_list("code", "name"),
        "state_choices": [("unchecked", _("未核查")), ("checked", _("已核查")),
                          ("problem", _("发现问题")), ("withdrawn", _("已撤回"))],
        "gaps": cadre_coverage_gaps(round_, Unit.objects.filter(pk__in=gap_units.object_list)),
        "gap_units": gap_units,
        "cadres": cadre_page, "secretaries": secretary_page,
    })


def _link_rows(page, kind: str) -> None:
    """Each row's check (or None) and the addresses its forms post to: its check, and the
    withdrawal of the problem the check raised."""
    check = url_for_pk("reviews:org_cadre_check", kind)
    withdraw = url_for_pk("reviews:org_finding_withdraw")
    for record in page:
        record.check_url = check(record.pk)
        # None when unchecked (the template's lookup of a missing reverse one-to-one costs
        # a dir() of the record).
        record.row_check = getattr(record, "org_check", None)
        if record.row_check is not None and record.row_check.problem is not None:
            problem = record.row_check.problem
            problem.withdraw_url = withdraw(problem.pk)


@capability_required(CHECK_CADRES)
@require_POST
def org_finding_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The organization department withdraws a serious problem it raised from its check."""
    round_ = current_round_or_404()
    problem = get_object_or_404(SeriousProblem, pk=pk, round=round_,
                                source=FindingSource.ORG_DEPARTMENT)
    _withdraw(request, problem)
    return redirect("reviews:org_cadres")


@capability_required(CHECK_CADRES)
@require_POST
def org_cadre_check(request: AuthenticatedRequest, kind: str, pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    record: SecondedCadre | FirstSecretary
    if kind == "cadre":
        record = get_object_or_404(SecondedCadre, pk=pk, round=round_)
    elif kind == "secretary":
        record = get_object_or_404(FirstSecretary, pk=pk, round=round_)
    else:
        raise Http404
    form = CadreCheckForm(request.POST)
    if form.is_valid():
        run_service(request, services.cadre_check_save, record=record, actor=request.user,
                    **form.cleaned_data,
                    success=_("已记录%(name)s的核查情况。") % {"name": record.name})
    else:
        messages.error(request, f"{record.name}：" + "；".join(
            " ".join(map(str, errors)) for errors in form.errors.values()))
    return redirect(f"{reverse('reviews:org_cadres')}#{kind}-{pk}")


# Military inspection --------------------------------------------------------------------


@capability_required(INSPECT_MILITARY)
def military(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    units = units_visible_to(request.user, round=round_).filter(category__ranked=False)
    inspections = MilitaryInspection.objects.filter(round=round_, unit__in=units).select_related(
        "unit", "recorded_by")
    return render(request, "reviews/military.html", {
        "round": round_, "inspections": inspections,
        "units": [(u, InspectionForm(auto_id=f"id_%s_{u.pk}")) for u in units],
    })


@capability_required(INSPECT_MILITARY)
@require_POST
def military_add(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    unit = get_object_or_404(
        units_visible_to(request.user, round=round_).filter(category__ranked=False), pk=unit_pk)
    form = InspectionForm(request.POST)
    if form.is_valid():
        run_service(request, services.inspection_add, round=round_, unit=unit,
                    actor=request.user, **form.cleaned_data, success=_("检查督导情况已记录。"))
    else:
        messages.error(request, _("请填写检查日期、检查人员和检查情况。"))
    return redirect("reviews:military")

