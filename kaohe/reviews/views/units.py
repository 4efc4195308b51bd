"""The lead departments' desk (step 四): the queue of units, one unit's desk, and what is
posted from it (grades, sub-report, verification, activities, findings and their
withdrawal)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    REVIEW_UNITS,
    VIEW_REVIEWS,
    capability_required,
    has_capability,
)
from kaohe.audit.services import log_action
from kaohe.directory.models import County, Unit
from kaohe.lib import paging
from kaohe.lib.addresses import url_for_pk
from kaohe.lib.http import (
    AuthenticatedRequest,
    current_round_or_404,
    int_param,
    run_service,
    show_form_errors,
)
from kaohe.reviews import services
from kaohe.reviews.desk import desk_for
from kaohe.reviews.forms import (
    ActivityForm,
    AreaGradesForm,
    IncidentForm,
    ProblemForm,
    SubReportForm,
    VerificationForm,
    WithdrawForm,
)
from kaohe.reviews.models import (
    GRADE_CHOICES,
    FindingSource,
    MajorIncident,
    SeriousProblem,
)
from kaohe.reviews.selectors import (
    category_submissions_visible_to,
    get_review_unit,
    review_lead_departments_visible_to,
    review_queue,
    review_units_visible_to,
)
from kaohe.rounds.models import Indicator, Round
from kaohe.submissions.models import Withdrawable


@capability_required(VIEW_REVIEWS)
def queue(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    units = review_units_visible_to(request.user, round=round_)
    page = Paginator(review_queue(round_, units), paging.ROWS).get_page(request.GET.get("page"))
    desk_url = url_for_pk("reviews:desk")
    for unit in page:
        unit.desk_url = desk_url(unit.pk)
    # Not the snapshot (JSON of the whole category) nor the report's texts: the queue shows
    # each submission's state only (issue 19).
    submissions = category_submissions_visible_to(request.user, round=round_).select_related(
        "late_extension__granted_by").without_grades().defer(
        "overview", "problems", "suggestions", "returned_reason")
    return render(request, "reviews/queue.html", {
        "round": round_, "page": page, "area_count": round_.areas.count(),
        "submissions": submissions,
        "lead_departments": review_lead_departments_visible_to(request.user),
    })


@capability_required(VIEW_REVIEWS)
def desk(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    unit = get_review_unit(request.user, unit_pk, round=round_)
    log_action("review.desk.viewed", actor=request.user, target=unit)
    desk = desk_for(request.user, round=round_, unit=unit)
    sub_report = desk.sub_report
    return render(request, "reviews/desk.html", {
        **vars(desk), "grade_choices": GRADE_CHOICES,
        "sub_report_form": SubReportForm(initial={
            name: getattr(sub_report, name) if sub_report else ""
            for name in ("basic_situation", "problems", "suggestions")}),
        "activity_form": ActivityForm(),
        # Their own ids (the field names stay): the two forms share field names (issue 21).
        "problem_form": ProblemForm(kinds=round_.problem_kinds.all(), counties=desk.counties,
                                    auto_id="problem_%s"),
        "incident_form": IncidentForm(counties=desk.counties, auto_id="incident_%s"),
        "verification_form": VerificationForm(),
        # After the lead department's deadline (and extension) nothing is offered to edit.
        "can_edit": (has_capability(request.user, REVIEW_UNITS) and not desk.locked
                     and desk.review_open),
    })


def _editable_unit(request: AuthenticatedRequest, unit_pk: int) -> tuple[Round, Unit]:
    round_ = current_round_or_404()
    return round_, get_review_unit(request.user, unit_pk, round=round_)


def _back(unit: Unit, anchor: str = "") -> HttpResponse:
    url = reverse("reviews:desk", kwargs={"unit_pk": unit.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


@capability_required(REVIEW_UNITS)
@require_POST
def grades_save(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_, unit = _editable_unit(request, unit_pk)
    form = AreaGradesForm(request.POST, areas=round_.areas.all())
    if not form.is_valid():
        show_form_errors(request, form)
        return _back(unit, "grades")
    review = services.review_for(round=round_, unit=unit)
    run_service(request, services.area_grades_save, review=review, actor=request.user,
                revision=form.cleaned_data["revision"], grades=form.grades(),
                success=_("等次已保存。"))
    return _back(unit, "grades")


@capability_required(REVIEW_UNITS)
@require_POST
def sub_report_save(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_, unit = _editable_unit(request, unit_pk)
    review = services.review_for(round=round_, unit=unit)
    form = SubReportForm(request.POST)
    if form.is_valid():
        run_service(request, services.sub_report_save, review=review, actor=request.user,
                    revision=int_param(request.POST.get("revision")), **form.cleaned_data,
                    success=_("考核子报告已保存。"))
    else:
        messages.error(request, _("考核子报告每部分不超过20000字。"))
    return _back(unit, "sub-report")


@capability_required(REVIEW_UNITS)
@require_POST
def verify(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_, unit = _editable_unit(request, unit_pk)
    indicator = get_object_or_404(Indicator, round=round_,
                                  pk=int_param(request.POST.get("indicator")))
    county = None
    if request.POST.get("county"):
        county = get_object_or_404(County, pk=int_param(request.POST.get("county")),
                                   pairings__round=round_, pairings__unit=unit)
    form = VerificationForm(request.POST)
    if form.is_valid():
        run_service(request, services.verification_set,
                    review=services.review_for(round=round_, unit=unit), actor=request.user,
                    indicator=indicator, county=county, **form.cleaned_data,
                    success=_("核实结果已记录。"))
    else:
        messages.error(request, _("请选择核实结果。"))
    return _back(unit, f"indicator-{indicator.number}")


@capability_required(REVIEW_UNITS)
@require_POST
def activity_add(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_, unit = _editable_unit(request, unit_pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        run_service(request, services.activity_add,
                    review=services.review_for(round=round_, unit=unit), actor=request.user,
                    **form.cleaned_data, success=_("考核方式已记录。"))
    else:
        messages.error(request, _("请填写考核方式、日期和参加人员。"))
    return _back(unit, "activities")


@capability_required(REVIEW_UNITS)
@require_POST
def problem_add(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_, unit = _editable_unit(request, unit_pk)
    counties = County.objects.filter(pairings__round=round_, pairings__unit=unit)
    form = ProblemForm(request.POST, kinds=round_.problem_kinds.all(), counties=counties)
    if form.is_valid():
        run_service(request, services.serious_problem_add, round=round_, unit=unit,
                    actor=request.user, source=FindingSource.REVIEWER, **form.cleaned_data,
                    success=_("突出问题已记录。"))
    else:
        messages.error(request, _("请选择突出问题类别并填写情况说明。"))
    return _back(unit, "findings")


@capability_required(REVIEW_UNITS)
@require_POST
def incident_add(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_, unit = _editable_unit(request, unit_pk)
    counties = County.objects.filter(pairings__round=round_, pairings__unit=unit)
    form = IncidentForm(request.POST, counties=counties)
    if form.is_valid():
        run_service(request, services.major_incident_add, round=round_, unit=unit,
                    actor=request.user, source=FindingSource.REVIEWER, **form.cleaned_data,
                    success=_("重大涉贫事件已记录。"))
    else:
        messages.error(request, _("请选择县并填写情况说明。"))
    return _back(unit, "findings")


@capability_required(REVIEW_UNITS)
@require_POST
def finding_withdraw(request: AuthenticatedRequest, unit_pk: int, kind: str,
                     pk: int) -> HttpResponse:
    """The lead department withdraws a finding it recorded (never one of the organization
    department's: the service refuses it)."""
    round_, unit = _editable_unit(request, unit_pk)
    model = {"problem": SeriousProblem, "incident": MajorIncident}.get(kind)
    if model is None:
        raise Http404
    finding = get_object_or_404(model, pk=pk, unit=unit, round=round_)
    _withdraw(request, finding)
    return _back(unit, "findings")


def _withdraw(request: AuthenticatedRequest, finding: Withdrawable) -> None:
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤回原因（不超过500字）。"))
        return
    run_service(request, services.finding_withdraw, finding=finding, actor=request.user,
                reason=form.cleaned_data["reason"], success=_("已撤回，撤回记录保留在考核台账中。"))
