"""The office's feedback pages (step 6): the letters of the version about to be released,
drafting them and editing one."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import RELEASE_RESULTS, capability_required
from kaohe.grading.models import SNAPSHOTS, ResultSetStatus
from kaohe.grading.selectors import approved_result_set
from kaohe.grading.vocabulary import grade_label
from kaohe.lib import paging
from kaohe.lib.http import AuthenticatedRequest, current_round_or_404, run_service, show_form_errors
from kaohe.outcomes import services
from kaohe.outcomes.forms import FeedbackForm
from kaohe.outcomes.models import Feedback
from kaohe.outcomes.selectors import FEEDBACK_SNAPSHOTS


@capability_required(RELEASE_RESULTS)
def feedback_list(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    result_set = approved_result_set(round_)
    # The letters of the version released (or about to be): earlier versions' stay on record.
    feedback = Feedback.objects.filter(round=round_, result_set=result_set).select_related(
        "unit", "unit__category", "replaces__result_set").defer(*FEEDBACK_SNAPSHOTS)
    page = Paginator(feedback.order_by("unit__code"), paging.ROWS).get_page(request.GET.get("page"))
    return render(request, "outcomes/feedback_list.html", {
        "round": round_, "result_set": result_set, "page": page,
        "feedback": [(f, grade_label(f.grade)) for f in page],
        "can_prepare": result_set is not None and result_set.status == ResultSetStatus.APPROVED,
    })


@capability_required(RELEASE_RESULTS)
@require_POST
def feedback_prepare(request: AuthenticatedRequest) -> HttpResponse:
    result_set = approved_result_set(current_round_or_404())
    if result_set is None:
        messages.error(request, _("尚无经领导小组审定的等次建议。"))
    else:
        run_service(request, services.feedback_prepare, result_set=result_set,
                    actor=request.user, success=lambda n: _("已起草%(n)s份反馈意见。") % {"n": n})
    return redirect("outcomes:feedback_list")


@capability_required(RELEASE_RESULTS)
def feedback_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
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
        "feedback": feedback, "grade": grade_label(feedback.grade), "form": form,
        "editable": (feedback.result_set.status == ResultSetStatus.APPROVED
                     and feedback.result_set.released_at is None),
    })
