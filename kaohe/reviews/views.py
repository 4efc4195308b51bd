"""The lead departments' desk (step 4), the organization department and military inspection."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    CHECK_CADRES,
    INSPECT_MILITARY,
    RETURN_CATEGORY,
    REVIEW_UNITS,
    VIEW_REVIEWS,
    capability_required,
    has_capability,
)
from kaohe.accounts.scope import Scope
from kaohe.audit.services import log_action
from kaohe.directory.models import Category, County
from kaohe.directory.selectors import units_visible_to
from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.lib.http import current_round_or_404, int_param, run_service
from kaohe.reviews import services
from kaohe.reviews.desk import desk_for
from kaohe.reviews.forms import (
    ActivityForm,
    CadreCheckForm,
    CategoryReportForm,
    IncidentForm,
    InspectionForm,
    ProblemForm,
    ReasonForm,
    SubReportForm,
    VerificationForm,
    WithdrawForm,
)
from kaohe.reviews.models import (
    GRADE_CHOICES,
    CategorySubmission,
    FindingSource,
    MajorIncident,
    MilitaryInspection,
    SeriousProblem,
)
from kaohe.reviews.selectors import (
    cadre_coverage_gaps,
    category_grade_matrix,
    category_submissions_visible_to,
    get_review_unit,
    review_lead_departments_visible_to,
    review_queue,
    review_units_visible_to,
)
from kaohe.rounds.models import Indicator
from kaohe.submissions.models import (
    FirstSecretary,
    SecondedCadre,
)

PAGE_SIZE = 50  # rows a list shows at once (issue 19: lists grow with the units)


@capability_required(VIEW_REVIEWS)
def queue(request):
    round_ = current_round_or_404()
    units = review_units_visible_to(request.user, round=round_)
    page = Paginator(review_queue(round_, units), 50).get_page(request.GET.get("page"))
    submissions = category_submissions_visible_to(request.user, round=round_).select_related(
        "late_extension__granted_by")
    return render(request, "reviews/queue.html", {
        "round": round_, "page": page, "area_count": round_.areas.count(),
        "submissions": submissions,
        "lead_departments": review_lead_departments_visible_to(request.user),
    })


@capability_required(VIEW_REVIEWS)
def desk(request, unit_pk):
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


def _editable_unit(request, unit_pk):
    round_ = current_round_or_404()
    return round_, get_review_unit(request.user, unit_pk, round=round_)


def _back(unit, anchor=""):
    url = reverse("reviews:desk", kwargs={"unit_pk": unit.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


@capability_required(REVIEW_UNITS)
@require_POST
def grades_save(request, unit_pk):
    round_, unit = _editable_unit(request, unit_pk)
    review = services.review_for(round=round_, unit=unit)
    grades = {}
    for area in round_.areas.all():
        grade = request.POST.get(f"grade-{area.code}", "")
        if grade:
            grades[area.code] = (grade, request.POST.get(f"reason-{area.code}", ""))
    run_service(request, services.area_grades_save, review=review, actor=request.user,
                revision=int_param(request.POST.get("revision")), grades=grades,
                success=_("等次已保存。"))
    return _back(unit, "grades")


@capability_required(REVIEW_UNITS)
@require_POST
def sub_report_save(request, unit_pk):
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
def verify(request, unit_pk):
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
def activity_add(request, unit_pk):
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
def problem_add(request, unit_pk):
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
def incident_add(request, unit_pk):
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
def finding_withdraw(request, unit_pk, kind, pk):
    """The lead department withdraws a finding it recorded (never one of the organization
    department's: the service refuses it)."""
    round_, unit = _editable_unit(request, unit_pk)
    model = {"problem": SeriousProblem, "incident": MajorIncident}.get(kind)
    if model is None:
        raise Http404
    finding = get_object_or_404(model, pk=pk, unit=unit, round=round_)
    _withdraw(request, finding)
    return _back(unit, "findings")


def _withdraw(request, finding):
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤回原因（不超过500字）。"))
        return
    run_service(request, services.finding_withdraw, finding=finding, actor=request.user,
                reason=form.cleaned_data["reason"], success=_("已撤回，撤回记录保留在考核台账中。"))


# The category --------------------------------------------------------------------------


@capability_required(VIEW_REVIEWS)
def category(request, lead_pk):
    round_ = current_round_or_404()
    lead = get_object_or_404(review_lead_departments_visible_to(request.user), pk=lead_pk)
    submission = CategorySubmission.objects.filter(round=round_, lead_department=lead).first()
    # One page of the category's units, and the same page of its grade matrix (issue 19:
    # a category has hundreds of units at scale; the exported report has them all).
    page = Paginator(review_queue(round_, services.category_units(round_, lead)),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    review_open = services.review_is_open(round_, lead)
    locked = bool(submission and submission.is_locked)
    can_edit = has_capability(request.user, REVIEW_UNITS) and not locked and review_open
    if not Scope.of(request.user).is_own_lead_department(lead.pk):
        log_action("review.category.viewed", actor=request.user, target=lead)
    # The grade matrix, as the exported category report has it (issue 21).
    areas = list(round_.areas.all())
    matrix, from_snapshot = category_grade_matrix(
        round_, lead, submission, areas,
        rows=slice((page.number - 1) * PAGE_SIZE, page.number * PAGE_SIZE))
    missing, missing_count = (services.category_missing_first(round_, lead, limit=PAGE_SIZE)
                              if can_edit else ([], 0))
    return render(request, "reviews/category.html", {
        "round": round_, "lead": lead, "submission": submission, "units": page,
        "page": page, "areas": areas, "matrix_from_snapshot": from_snapshot,
        "matrix": [(row[1], [_grade_word(g) for g in row[2:]]) for row in matrix],
        "area_count": len(areas),
        "missing": missing, "missing_more": missing_count > len(missing),
        "form": CategoryReportForm(initial={
            "overview": submission.overview if submission else "",
            "problems": submission.problems if submission else "",
            "suggestions": submission.suggestions if submission else "",
        }),
        "can_edit": can_edit,
        "closed_message": ("" if locked or review_open
                           else services.review_closed_message(round_, lead)),
        "can_return": (has_capability(request.user, RETURN_CATEGORY)
                       and submission is not None and submission.is_locked),
        "return_form": ReasonForm(),
    })


def _grade_word(code: str) -> str:
    return GRADE_LABELS[Grade(code)] if code else "—"


def _own_category(request, lead_pk):
    round_ = current_round_or_404()
    if not Scope.of(request.user).is_own_lead_department(lead_pk):
        raise Http404
    return services.category_submission_for(round=round_,
                                            lead_department=request.user.lead_department)


@capability_required(REVIEW_UNITS)
@require_POST
def category_save(request, lead_pk):
    submission = _own_category(request, lead_pk)
    form = CategoryReportForm(request.POST)
    if form.is_valid():
        run_service(request, services.category_report_save, submission=submission,
                    actor=request.user, revision=int_param(request.POST.get("revision")),
                    **form.cleaned_data, success=_("综合考核报告已保存。"))
    return redirect("reviews:category", lead_pk=lead_pk)


@capability_required(REVIEW_UNITS)
@require_POST
def category_submit(request, lead_pk):
    run_service(request, services.category_submit, submission=_own_category(request, lead_pk),
                actor=request.user, success=_("初步考核结果已报送考核工作组。"))
    return redirect("reviews:category", lead_pk=lead_pk)


@capability_required(RETURN_CATEGORY)
@require_POST
def category_return(request, lead_pk):
    round_ = current_round_or_404()
    submission = get_object_or_404(CategorySubmission, round=round_, lead_department_id=lead_pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写退回原因。"))
    else:
        run_service(request, services.category_return, submission=submission,
                    actor=request.user, reason=form.cleaned_data["reason"],
                    success=_("已退回牵头部门。"))
    return redirect("reviews:category", lead_pk=lead_pk)


# Organization department ----------------------------------------------------------------


@capability_required(CHECK_CADRES)
def org_cadres(request):
    """The organization department's checklist: every cadre and first secretary with its
    checked or unchecked state, filtered by unit, category and state, and the coverage gaps
    the plan implies. Queries stay constant in the number of units."""
    round_ = current_round_or_404()
    all_units = units_visible_to(request.user, round=round_)
    units = all_units.filter(active=True)
    unit_filter = request.GET.get("unit", "")
    category_filter = request.GET.get("category", "")
    state = "unchecked" if request.GET.get("unchecked") == "1" else request.GET.get("state", "")
    related = ("unit", "county", "withdrawn_by", "org_check__checked_by",
               "org_check__problem__withdrawn_by")
    cadres = SecondedCadre.objects.filter(round=round_, unit__in=all_units).select_related(
        *related).order_by("unit__code", "county__code", "pk")
    secretaries = FirstSecretary.objects.filter(round=round_, unit__in=all_units).select_related(
        *related).order_by("unit__code", "county__code", "pk")
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
    return render(request, "reviews/org_cadres.html", {
        "round": round_, "state": state, "unit_filter": unit_filter,
        "category_filter": category_filter,
        "unit_choices": all_units.filter(active=True).order_by("code").values_list(
            "pk", "name"),
        "category_choices": Category.objects.order_by("order").values_list("code", "name"),
        "state_choices": [("unchecked", _("未核查")), ("checked", _("已核查")),
                          ("problem", _("发现问题")), ("withdrawn", _("已撤回"))],
        "gaps": cadre_coverage_gaps(round_, units),
        "cadres": Paginator(cadres, 50).get_page(request.GET.get("page")),
        "secretaries": Paginator(secretaries, 50).get_page(request.GET.get("spage")),
        "form": CadreCheckForm(),
    })


@capability_required(CHECK_CADRES)
@require_POST
def org_finding_withdraw(request, pk):
    """The organization department withdraws a serious problem it raised from its check."""
    round_ = current_round_or_404()
    problem = get_object_or_404(SeriousProblem, pk=pk, round=round_,
                                source=FindingSource.ORG_DEPARTMENT)
    _withdraw(request, problem)
    return redirect("reviews:org_cadres")


@capability_required(CHECK_CADRES)
@require_POST
def org_cadre_check(request, kind, pk):
    round_ = current_round_or_404()
    model = {"cadre": SecondedCadre, "secretary": FirstSecretary}.get(kind)
    if model is None:
        raise Http404
    record = get_object_or_404(model, pk=pk, round=round_)
    form = CadreCheckForm(request.POST)
    if form.is_valid():
        run_service(request, services.cadre_check_save, record=record, actor=request.user,
                    **form.cleaned_data,
                    success=_("已记录%(name)s的核查情况。") % {"name": record.name})
    else:
        messages.error(request, f"{record.name}：" + "；".join(
            " ".join(errors) for errors in form.errors.values()))
    return redirect(f"{reverse('reviews:org_cadres')}#{kind}-{pk}")


# Military inspection --------------------------------------------------------------------


@capability_required(INSPECT_MILITARY)
def military(request):
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
def military_add(request, unit_pk):
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

