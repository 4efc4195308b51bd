"""A lead department's category: its page (the units, the grade matrix, what still stops
the submission), the category report, the submission to the working group and its return."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    RETURN_CATEGORY,
    REVIEW_UNITS,
    VIEW_REVIEWS,
    capability_required,
    has_capability,
)
from kaohe.accounts.scope import Scope
from kaohe.audit.services import log_action
from kaohe.directory.models import LeadDepartment
from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.lib import paging
from kaohe.lib.http import (
    AuthenticatedRequest,
    current_round_or_404,
    int_param,
    run_service,
    show_form_errors,
)
from kaohe.reviews import services
from kaohe.reviews.forms import CategoryReportForm, ReasonForm
from kaohe.reviews.models import CategorySubmission
from kaohe.reviews.selectors import (
    category_grade_matrix,
    review_lead_departments_visible_to,
    review_queue,
)

PAGE_SIZE = paging.ROWS  # rows a list shows at once (issue 19: lists grow with the units)


@capability_required(VIEW_REVIEWS)
def category(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    lead = get_object_or_404(review_lead_departments_visible_to(request.user), pk=lead_pk)
    # Its grade matrix is read from grade_rows: the snapshot (every unit's reasons) is not.
    submission = CategorySubmission.objects.defer("snapshot").filter(
        round=round_, lead_department=lead).first()
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
        **_return_choice(request.user, submission),
        "return_form": ReasonForm(),
    })


def _grade_word(code: str) -> str:
    return GRADE_LABELS[Grade(code)] if code else "—"


def _own_lead(request: AuthenticatedRequest, lead_pk: int) -> LeadDepartment:
    lead = request.user.lead_department
    if lead is None or not Scope.of(request.user).is_own_lead_department(lead_pk):
        raise Http404
    return lead


def _own_category(request: AuthenticatedRequest, lead_pk: int) -> CategorySubmission:
    round_ = current_round_or_404()
    return services.category_submission_for(round=round_,
                                            lead_department=_own_lead(request, lead_pk))


@capability_required(REVIEW_UNITS)
@require_POST
def category_save(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    lead = _own_lead(request, lead_pk)
    form = CategoryReportForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)  # and nothing is created or changed
    else:
        submission = services.category_submission_for(round=round_, lead_department=lead)
        run_service(request, services.category_report_save, submission=submission,
                    actor=request.user, revision=int_param(request.POST.get("revision")),
                    **form.cleaned_data, success=_("综合考核报告已保存。"))
    return redirect("reviews:category", lead_pk=lead_pk)


@capability_required(REVIEW_UNITS)
@require_POST
def category_submit(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    run_service(request, services.category_submit, submission=_own_category(request, lead_pk),
                actor=request.user, success=_("初步考核结果已报送考核工作组。"))
    return redirect("reviews:category", lead_pk=lead_pk)


def _return_choice(user, submission) -> dict:
    """The working group's return form, or why the results cannot be returned now."""
    if (not has_capability(user, RETURN_CATEGORY) or submission is None
            or not submission.is_locked):
        return {"can_return": False, "return_refusal": None}
    refusal = services.category_return_refusal(submission)
    return {"can_return": refusal is None, "return_refusal": refusal}


@capability_required(RETURN_CATEGORY)
@require_POST
def category_return(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
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

