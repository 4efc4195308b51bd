"""The organization department's checklist of seconded cadres and first secretaries (and
its withdrawal of a problem it raised), and the military inspection of army and armed police
units."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, QueryDict
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
from kaohe.reviews.models import CadreCheck, FindingSource, MilitaryInspection, SeriousProblem
from kaohe.reviews.selectors import cadre_coverage_gaps, units_with_cadre_gaps
from kaohe.reviews.views.units import _withdraw
from kaohe.submissions.models import FirstSecretary, SecondedCadre

PAGE_SIZE = paging.ROWS  # rows of each list on the checklist (issue 19)


# The checklist's tabs: the seconded cadres, the first secretaries, the coverage gaps. One
# list a page (issue 19: the three together cost a page of 40 forms and the gap queries).
TABS = ("cadres", "secretaries", "coverage")
# What the checklist's address may carry back after a check or a withdrawal.
KEPT = ("show", "unit", "unit_code", "category", "state", "page")


@capability_required(CHECK_CADRES)
def org_cadres(request: AuthenticatedRequest) -> HttpResponse:
    """The organization department's checklist, one tab at a time: every cadre, or every
    first secretary, with its checked or unchecked state, filtered by unit, category and
    state; or the coverage gaps the plan implies. Queries stay constant in the number of
    units."""
    round_ = current_round_or_404()
    all_units = units_visible_to(request.user, round=round_)
    unit_filter = request.GET.get("unit", "")
    # A unit is named by its code (the page lists no units, issue 19); ?unit=<id> still works.
    unit_code = request.GET.get("unit_code", "").strip()
    if unit_code and not unit_filter:
        unit_filter = str(all_units.filter(code=unit_code).values_list("pk", flat=True).first()
                          or -1)
    category_filter = request.GET.get("category", "")
    state = "unchecked" if request.GET.get("unchecked") == "1" else request.GET.get("state", "")
    if state not in CHECK_STATES:
        state = ""
    show = request.GET.get("show", "")
    if show not in TABS:
        show = "cadres"
    context = {
        "round": round_, "show": show, "unit_filter": unit_filter,
        "category_filter": category_filter, "state": state,
        "unit_code": unit_code or (all_units.filter(pk=int_param(unit_filter)).values_list(
            "code", flat=True).first() if unit_filter else ""),
        "category_choices": Category.objects.order_by("order").values_list("code", "name"),
        "state_choices": [("unchecked", _("未核查")), ("checked", _("已核查")),
                          ("problem", _("发现问题")), ("withdrawn", _("已撤回"))],
        "tabs": _tabs(request, show, state),
        # Where a row's form sends the user back to: this tab, filters and page.
        "back": _kept_query(request.GET, show=show, state=state),
    }
    if show == "coverage":
        units = all_units.filter(active=True)
        if unit_filter:
            units = units.filter(pk=int_param(unit_filter))
        if category_filter:
            units = units.filter(category__code=category_filter)
        # The gaps of one page of the units that have any: their ids in one query, counted
        # and paged here (the gap query is costly to run twice).
        gap_units = Paginator(list(units_with_cadre_gaps(round_, units).values_list(
            "pk", flat=True)), PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(gap_units=gap_units, gaps=cadre_coverage_gaps(
            round_, Unit.objects.filter(pk__in=gap_units.object_list)))
    else:
        kind = "cadre" if show == "cadres" else "secretary"
        records = _checklist(kind, round_, all_units)
        if unit_filter:
            records = records.filter(unit_id=int_param(unit_filter))
        if category_filter:
            records = records.filter(unit__category__code=category_filter)
        if state:
            records = records.filter(CHECK_STATES[state][kind])
        page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
        _link_rows(page, kind)
        context["page"] = page
    return render(request, "reviews/org_cadres.html", context)


_PROBLEM = (Q(org_check__in_post=False) | Q(org_check__nominal_only=True)
            | Q(org_check__discipline_issue=True))
# Per state, the records in it: a cadre not in charge of poverty alleviation is a problem
# too (a first secretary has no such duty).
CHECK_STATES = {
    "unchecked": {"cadre": Q(org_check__isnull=True), "secretary": Q(org_check__isnull=True)},
    "checked": {"cadre": Q(org_check__isnull=False), "secretary": Q(org_check__isnull=False)},
    "problem": {"cadre": _PROBLEM | Q(org_check__in_charge=False), "secretary": _PROBLEM},
    "withdrawn": {"cadre": Q(withdrawn_at__isnull=False),
                  "secretary": Q(withdrawn_at__isnull=False)},
}


def _checklist(kind: str, round_, units):
    """The round's cadres (``kind`` "cadre") or first secretaries of the units, with their
    checks, reading only the columns the rows show (issue 19: three users a row, each of
    some 25 columns)."""
    model = SecondedCadre if kind == "cadre" else FirstSecretary
    shown = ("unit__name", "county__name", "name", "withdrawn_at", "withdrawn_reason",
             "withdrawn_by__username", "withdrawn_by__full_name",
             "org_check__cadre_id", "org_check__secretary_id", "org_check__in_post",
             "org_check__in_charge", "org_check__nominal_only", "org_check__discipline_issue",
             "org_check__note", "org_check__checked_at", "org_check__checked_by__username",
             "org_check__checked_by__full_name", "org_check__problem__withdrawn_at",
             "org_check__problem__withdrawn_reason",
             "org_check__problem__withdrawn_by__username",
             "org_check__problem__withdrawn_by__full_name")
    own = ("post", "duties", "start", "end") if kind == "cadre" else ("village",)
    return model.objects.filter(round=round_, unit__in=units).select_related(
        "unit", "county", "withdrawn_by", "org_check__checked_by",
        "org_check__problem__withdrawn_by").only(*shown, *own).order_by(
        "unit__code", "county__code", "pk")


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


def _kept_query(query, **override: str) -> str:
    """The checklist's own parameters of a query (a QueryDict or dict; ``override`` wins,
    an empty value drops the parameter), encoded again: what a tab links to, what a form
    posts back, and what the redirect after it may carry (nothing else)."""
    kept = QueryDict(mutable=True)
    for key in KEPT:
        value = override.get(key, query.get(key, ""))
        if value and len(value) <= 50:
            kept[key] = value
    return kept.urlencode()


def _tabs(request: AuthenticatedRequest, show: str, state: str) -> list[dict]:
    """The three tabs, each keeping the filters (not the page)."""
    labels = {"cadres": _("挂职扶贫干部"), "secretaries": _("驻村第一书记"),
              "coverage": _("覆盖情况")}
    base = reverse("reviews:org_cadres")
    return [{"key": key, "label": label, "active": key == show,
             "url": f"{base}?{_kept_query(request.GET, show=key, state=state, page='')}"}
            for key, label in labels.items()]


def _back_to_checklist(request: AuthenticatedRequest, kind: str, anchor: str) -> str:
    """The checklist as the form was posted from (its tab, filters and page, as posted in
    ``back``), at the row's anchor."""
    posted = QueryDict(request.POST.get("back", ""))
    show = posted.get("show", "")
    if show not in TABS:
        show = "cadres" if kind == "cadre" else "secretaries"
    address = f"{reverse('reviews:org_cadres')}?{_kept_query(posted, show=show)}"
    return f"{address}#{anchor}" if anchor else address


@capability_required(CHECK_CADRES)
@require_POST
def org_finding_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The organization department withdraws a serious problem it raised from its check."""
    round_ = current_round_or_404()
    problem = get_object_or_404(SeriousProblem, pk=pk, round=round_,
                                source=FindingSource.ORG_DEPARTMENT)
    _withdraw(request, problem)
    # Back to the row of the check that raised it.
    check = CadreCheck.objects.filter(problem=problem).values("cadre_id", "secretary_id").first()
    if check and check["cadre_id"]:
        kind, anchor = "cadre", f"cadre-{check['cadre_id']}"
    else:
        kind, anchor = "secretary", f"secretary-{check['secretary_id']}" if check else ""
    return redirect(_back_to_checklist(request, kind, anchor))


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
    return redirect(_back_to_checklist(request, kind, f"{kind}-{pk}"))


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

