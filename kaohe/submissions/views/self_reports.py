"""Pages of a unit's self-report (step 3a): the list, the report with its texts and
evidence, saving, submitting, attaching and detaching evidence or links, returning a report
to its unit, and the versions kept at each submission.
"""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    EDIT_SELF_REPORT,
    RETURN_SELF_REPORT,
    VIEW_SELF_REPORTS,
    capability_required,
    has_capability,
)
from kaohe.accounts.scope import Scope
from kaohe.audit.services import log_action
from kaohe.directory.models import County, Unit
from kaohe.evidence.selectors import evidence_visible_to
from kaohe.lib import paging
from kaohe.lib.http import (
    AuthenticatedRequest,
    current_round_or_404,
    int_param,
    run_service,
    show_refusal,
)
from kaohe.rounds.models import EvidenceRequirement, Indicator
from kaohe.submissions import deadlines, services
from kaohe.submissions.forms import ReturnForm
from kaohe.submissions.models import EvidenceAttachment, ReportStatus, SelfReport
from kaohe.submissions.selectors import (
    get_self_report_for_user,
    self_report_sections,
    self_reports_visible_to,
)

PAGE_SIZE = paging.ROWS  # rows a list shows at once (issue 19: lists grow with the units)


@capability_required(VIEW_SELF_REPORTS)
def self_report_index(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    if has_capability(request.user, EDIT_SELF_REPORT):  # a unit: straight to its own report
        try:
            report = services.self_report_for(round=round_, unit=_own_unit(request))
        except services.SubmissionError as refusal:  # a unit the round does not assess
            show_refusal(request, refusal)
            return redirect("home")
        return redirect("submissions:self_report", pk=report.pk)
    reports = self_reports_visible_to(request.user, round=round_).order_by(
        "unit__category__order", "unit__code")
    status = request.GET.get("status", "")
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    # Sorted and cut on bare ids; the page's rows read after (issue 19: sorting every
    # report with its unit's and extension's columns grew with the units).
    page = paging.page_read_late(reports, request.GET.get("page"), lambda ids: (
        SelfReport.objects.filter(pk__in=ids).select_related(
            "unit__category", "late_extension__granted_by")), per_page=PAGE_SIZE)
    return render(request, "submissions/self_report_list.html",
                  {"round": round_, "reports": page, "page": page, "status": status,
                   "statuses": ReportStatus.choices})


@capability_required(VIEW_SELF_REPORTS)
def self_report_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    report = get_self_report_for_user(request.user, pk, round=round_)
    sections, gaps = self_report_sections(report)
    step = round_.steps.get(code="self_report")
    is_open = deadlines.is_open(step, unit=report.unit)
    # After the deadline (and any extension) the page offers no editing the server refuses.
    can_edit = (has_capability(request.user, EDIT_SELF_REPORT) and report.is_editable
                and is_open)
    if not Scope.of(request.user).is_own_unit(report.unit_id):
        log_action("self_report.viewed", actor=request.user, target=report)
    return render(request, "submissions/self_report.html", {
        "round": round_, "report": report, "sections": sections, "gaps": gaps,
        "can_edit": can_edit,
        # The lead department reads why it cannot return a submitted report (the category
        # sent on, the review over, the results released) instead of a form refused on send.
        **_return_choice(request.user, report),
        "deadline": deadlines.deadline_for(step, unit=report.unit),
        "is_open": is_open,
        "versions": report.versions.select_related("submitted_by"),
        "return_form": ReturnForm(),
        "confirm": request.GET.get("confirm") == "1",
    })


def _own_unit(request: AuthenticatedRequest) -> Unit:
    """The user's unit, on a page only a unit's user reaches (its capability is a unit's
    alone, and the database gives every unit's user a unit): 404 for anyone else."""
    if request.user.unit is None:
        raise Http404
    return request.user.unit


def _own_report(request: AuthenticatedRequest, pk: int) -> SelfReport:
    round_ = current_round_or_404()
    report = get_self_report_for_user(request.user, pk, round=round_)
    return report


def _back(report: SelfReport, anchor: str = "") -> HttpResponseRedirect:
    url = reverse("submissions:self_report", kwargs={"pk": report.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _save_texts(request: AuthenticatedRequest, report: SelfReport) -> bool:
    """Save the texts posted with the report form; False (with a message) when refused."""
    answers = {key.removeprefix("answer-"): value for key, value in request.POST.items()
               if key.startswith("answer-")}
    # The lead department's refined innovation items (kaohe.launch), keyed by their id.
    refined = {int_param(key.removeprefix("refined-")): value for key, value in request.POST.items()
               if key.startswith("refined-")}
    if not answers and not refined and "summary" not in request.POST:
        return True
    return run_service(request, services.self_report_save, report=report, actor=request.user,
                       revision=int_param(request.POST.get("revision")),
                       summary=request.POST.get("summary"), answers=answers, refined=refined)


@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_save(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    if _save_texts(request, report):
        messages.success(request, _("已保存。"))
    return _back(report)



@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    if report.status == ReportStatus.SUBMITTED:
        # A double click or a replayed request: the first one already submitted.
        messages.info(request, _("自评报告已提交。"))
        return _back(report)
    if not _save_texts(request, report):
        return _back(report)
    report.refresh_from_db()
    try:
        # The texts were just saved on top of the posted revision; submit that result.
        services.self_report_submit(report=report, actor=request.user,
                                    revision=report.revision,
                                    confirm_gaps=request.POST.get("confirm_gaps") == "1")
    except services.GapsNotConfirmed as exc:
        messages.warning(request, str(exc))
        url = reverse("submissions:self_report", kwargs={"pk": report.pk})
        return redirect(f"{url}?confirm=1#submit")
    except services.SubmissionError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("自评报告已提交，报送牵头部门并抄送国务院扶贫办。"))
    return _back(report)


def _posted_slot(request: AuthenticatedRequest, report: SelfReport) -> dict[str, Any]:
    """The indicator, evidence requirement and county a form attaches evidence to (404 for
    an indicator of another round or a requirement of another indicator)."""
    indicator = get_object_or_404(Indicator, pk=int_param(request.POST.get("indicator")),
                                  round=report.round)
    requirement = county = None
    if request.POST.get("requirement"):
        requirement = get_object_or_404(EvidenceRequirement,
                                        pk=int_param(request.POST.get("requirement")),
                                        indicator=indicator)
    if request.POST.get("county"):
        county = get_object_or_404(County, pk=int_param(request.POST.get("county")))
    return {"indicator": indicator, "requirement": requirement, "county": county}


@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_attach(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    slot = _posted_slot(request, report)
    evidence = get_object_or_404(evidence_visible_to(request.user),
                                 pk=request.POST.get("evidence"))
    if _save_texts(request, report):
        run_service(request, services.self_report_attach, report=report, actor=request.user,
                    evidence=evidence, **slot,
                    success=_("已附上“%(name)s”。") % {"name": evidence.original_name})
    return _back(report, f"indicator-{slot['indicator'].number}")


@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_add_link(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    slot = _posted_slot(request, report)
    if _save_texts(request, report):
        run_service(request, services.self_report_add_link, report=report, actor=request.user,
                    url=request.POST.get("link_url", ""),
                    title=request.POST.get("link_title", ""), **slot, success=_("已添加链接。"))
    return _back(report, f"indicator-{slot['indicator'].number}")


@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_detach(request: AuthenticatedRequest, pk: int,
                       attachment_pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    attachment = get_object_or_404(EvidenceAttachment, pk=attachment_pk, report=report)
    if _save_texts(request, report):
        run_service(request, services.self_report_detach, report=report, actor=request.user,
                    attachment=attachment, success=_("已移除。"))
    return _back(report, f"indicator-{attachment.indicator.number}")


def _return_choice(user, report) -> dict:
    """The lead department's return form, or why the report cannot be returned now."""
    if not has_capability(user, RETURN_SELF_REPORT) or report.status != ReportStatus.SUBMITTED:
        return {"can_return": False, "return_refusal": None}
    refusal = services.self_report_return_refusal(report)
    return {"can_return": refusal is None, "return_refusal": refusal}


@capability_required(RETURN_SELF_REPORT)
@require_POST
def self_report_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_report(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写退回原因。"))
        return _back(report)
    run_service(request, services.self_report_return, report=report, actor=request.user,
                reason=form.cleaned_data["reason"], success=_("已退回修改。"))
    return _back(report)


@capability_required(VIEW_SELF_REPORTS)
def self_report_version(request: AuthenticatedRequest, pk: int,
                        number: int) -> HttpResponse:
    round_ = current_round_or_404()
    report = get_self_report_for_user(request.user, pk, round=round_)
    version = get_object_or_404(report.versions, number=number)
    if not Scope.of(request.user).is_own_unit(report.unit_id):
        log_action("self_report.version_viewed", actor=request.user, target=report,
                   data={"version": number})
    return render(request, "submissions/self_report_version.html",
                  {"report": report, "version": version,
                   "indicators": {i.number: i for i in round_.indicators.all()},
                   "counties": dict(County.objects.filter(
                       pairings__unit=report.unit).values_list("code", "name"))})
