"""The unit's own pages (step 7): its released result and letter, and its rectification
report, which it fills in, attaches files to and submits (again, when sent back)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import VIEW_OWN_RESULT, capability_required
from kaohe.audit.services import log_action
from kaohe.directory.models import Unit
from kaohe.evidence.models import Evidence
from kaohe.evidence.selectors import evidence_visible_to
from kaohe.grading.models import SealBroken
from kaohe.grading.selectors import released_version, result_row
from kaohe.grading.vocabulary import grade_label
from kaohe.lib.http import AuthenticatedRequest, int_param, run_service, show_form_errors
from kaohe.outcomes import services
from kaohe.outcomes.forms import RectificationForm
from kaohe.outcomes.models import (
    ItemStatus,
    RectificationAttachment,
    RectificationItem,
    RectificationReport,
)
from kaohe.outcomes.selectors import (
    earlier_letters,
    rectification_report_of,
    released_feedback,
    unit_results_round,
)
from kaohe.outcomes.views.common import ItemShown, items_with_files, report_history
from kaohe.rounds.models import Round, RoundStatus, Step
from kaohe.rounds.selection import explicit_round
from kaohe.submissions import deadlines
from kaohe.submissions.models import Extension


def _closed_reason(round_: Round, report: RectificationReport, step: Step, unit: Unit,
                   extension: Extension | None) -> str:
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
def my_result(request: AuthenticatedRequest) -> HttpResponse:
    unit = request.user.unit
    if unit is None:
        raise Http404  # the capability is a unit's alone, and every unit's user has a unit
    round_ = explicit_round() or unit_results_round(unit)
    if round_ is None:
        raise Http404  # nothing of the result exists for a unit before release
    feedback = released_feedback(round_, unit)
    if feedback is None:
        raise Http404  # nothing of the result exists for a unit before release
    # Read only: a unit that has not saved its report yet sees the items it will hold,
    # unsaved; its first save creates them (a GET writes nothing, a closed round never).
    saved = rectification_report_of(round_, unit)
    draft = saved is None
    report = RectificationReport(round=round_, unit=unit) if saved is None else saved
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
    earlier = [(letter, grade_label(letter.grade)) for letter in earlier_letters(feedback)]
    extension = deadlines.extension_for(step, unit=unit)
    closed_reason = _closed_reason(round_, report, step, unit, extension)
    if draft:
        items = [ItemShown(item, files=[], editable=not closed_reason)
                 for item in services.rectification_items(round=round_, unit=unit)]
    else:
        items = items_with_files(report, set() if closed_reason
                                 else services.editable_items(report))
    return render(request, "outcomes/my_result.html", {
        "round": round_, "unit": unit, "feedback": feedback,
        "grade": grade_label(row.final_grade if row is not None else feedback.grade),
        "earlier": earlier, "corrected": feedback.corrected,
        "report": report, "draft": draft, "items": items,
        "statuses": [(s.value, s.label) for s in ItemStatus if s != ItemStatus.NOT_ACCEPTED],
        "deadline": deadlines.deadline_for(step, unit=unit), "extension": extension,
        "is_open": not closed_reason, "closed_reason": closed_reason,
        "reopened": services.reopened(report),
        "history": report_history(report) if not draft else [],
    })


def _my_report(request: AuthenticatedRequest, *,
               create: bool = True) -> RectificationReport | None:
    """The unit's report of the round it works on, or 404; None when the round is closed.
    The unit's first save creates it with its items (its page only reads); ``create=False``
    gives 404 instead."""
    unit = request.user.unit
    if unit is None:
        raise Http404
    round_ = explicit_round() or unit_results_round(unit)
    if (round_ is None or released_version(round_) is None
            or released_feedback(round_, unit) is None):
        raise Http404
    report = RectificationReport.objects.filter(round=round_, unit=unit).first()
    if report is None and not create:
        raise Http404
    if round_.status == RoundStatus.CLOSED:
        messages.error(request, _("%(year)s年度考核已结束，只能查阅，不能修改。")
                       % {"year": round_.year})
        return None
    if report is None:
        report = services.rectification_for(round=round_, unit=unit)
    return report


def _posted(request: AuthenticatedRequest, report: RectificationReport) -> QueryDict | None:
    """The form as posted, its fields named by item id. A page shown before the report
    existed names its items by their order (``measures-new1``) and the letter they came
    from: those fields go to the items of that order if the letter is still in force,
    else None (with the message) and nothing is saved."""
    data = request.POST.copy()
    letter = data.pop("letter", None)
    if letter is None:
        return data
    feedback = released_feedback(report.round_id, report.unit_id)
    if feedback is None or letter[-1] != str(feedback.pk):
        messages.error(request, _("考核结果和反馈意见已更正，整改事项随之调整，请核对后重新填写。"))
        return None
    for item in report.items.all():
        for name in ("measures", "status"):
            if f"{name}-new{item.order}" in data:
                data[f"{name}-{item.pk}"] = data.pop(f"{name}-new{item.order}")[-1]
    return data


def _posted_item(report: RectificationReport, key: str | None) -> RectificationItem:
    """The item the upload names: by id, or by order on a page shown before the report
    existed (``new3``)."""
    key = key or ""
    if key.startswith("new"):
        return get_object_or_404(RectificationItem, order=int_param(key[3:]), report=report)
    return get_object_or_404(RectificationItem, pk=int_param(key), report=report)


def _save_texts(request: AuthenticatedRequest, report: RectificationReport) -> bool:
    """Save what the form holds for the items the unit may change now; False (with the
    messages) when refused, and then nothing is saved."""
    data = _posted(request, report)
    if data is None:
        return False
    form = RectificationForm(data, report=report, items=report.items.filter(
        pk__in=services.editable_items(report)))
    if not form.is_valid():
        show_form_errors(request, form)
        return False
    return run_service(request, services.rectification_save, report=report,
                       actor=request.user, **form.changes())


@capability_required(VIEW_OWN_RESULT)
@require_POST
def my_rectification_save(request: AuthenticatedRequest) -> HttpResponse:
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
def my_rectification_attach(request: AuthenticatedRequest) -> HttpResponse:
    """After a resumable upload (attach.js): save the texts typed so far, then attach."""
    report = _my_report(request)
    if report is None:
        return redirect("outcomes:my_result")
    item = _posted_item(report, request.POST.get("item"))
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
def my_rectification_detach(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _my_report(request, create=False)
    if report is None:
        return redirect("outcomes:my_result")
    attachment = get_object_or_404(RectificationAttachment, pk=pk, report=report)
    if _save_texts(request, report):
        run_service(request, services.rectification_detach, report=report,
                    attachment=attachment, actor=request.user, success=_("已移除。"))
    return redirect(reverse("outcomes:my_result") + f"#item-{attachment.item_id}")
