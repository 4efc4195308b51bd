"""Pages of the provincial summary report (step 3b): a province's units and reports, the
report with its county outcomes, findings and attachments, and what is posted from it.
"""


import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    EDIT_PROVINCIAL_REPORT,
    VIEW_PROVINCIAL_REPORTS,
    capability_required,
    has_capability,
)
from kaohe.accounts.scope import Scope
from kaohe.audit.services import log_action
from kaohe.directory.models import County, Province
from kaohe.directory.selectors import units_visible_to
from kaohe.evidence.selectors import evidence_visible_to
from kaohe.lib import paging
from kaohe.lib.http import (
    AuthenticatedRequest,
    current_round_or_404,
    int_param,
    run_service,
    show_refusal,
)
from kaohe.submissions import deadlines, services
from kaohe.submissions.forms import (
    CountyOutcomeForm,
    FindingForm,
    ProvincialAttachForm,
    ProvincialReportForm,
)
from kaohe.submissions.models import (
    DEEP_POVERTY_FIELDS,
    CountyOutcome,
    ProvincialAttachment,
    ProvincialAttachmentKind,
    ProvincialReport,
)
from kaohe.submissions.selectors import (
    get_provincial_report_for_user,
    provincial_reports_visible_to,
)

PAGE_SIZE = paging.ROWS  # rows a list shows at once (issue 19: lists grow with the units)
# The form's choice for an outcome's yes/no/unknown answer to 是否完成年度脱贫攻坚任务.
_PLAN_MET_CHOICE: dict[bool | None, str] = {True: "yes", False: "no", None: ""}


def _own_province(request: AuthenticatedRequest) -> Province:
    """The user's province, on a page only a province's user reaches (its capability is a
    province's alone, and the database gives every province's user one): 404 otherwise."""
    if request.user.province is None:
        raise Http404
    return request.user.province


@capability_required(VIEW_PROVINCIAL_REPORTS)
def provincial_index(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    if has_capability(request.user, EDIT_PROVINCIAL_REPORT):  # a province: the units in it
        # One page of the units working in the province (issue 19: a province's list grows
        # with the units), each with its report.
        units = units_visible_to(request.user, round=round_).select_related(
            "category").order_by("category__order", "code", "pk")
        page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
        shown = list(page.object_list)
        reports = {r.unit_id: r for r in provincial_reports_visible_to(
            request.user, round=round_).filter(unit__in=shown)}
        rows = [{"unit": u, "report": reports.get(u.pk)} for u in shown]
        step = round_.steps.get(code="provincial_report")
        province = _own_province(request)
        is_open = deadlines.is_open(step, province=province)
        return render(request, "submissions/provincial_index.html", {
            "round": round_, "rows": rows, "page": page,
            "deadline": deadlines.deadline_for(step, province=province),
            "is_open": is_open,
            "closed_message": ("" if is_open else services.provincial_closed_message(
                step, province)),
        })
    reports = provincial_reports_visible_to(request.user, round=round_).order_by(
        "province__code", "unit__code")
    # Sorted and cut on bare ids, the page's rows read after (issue 19).
    page = paging.page_read_late(reports, request.GET.get("page"), lambda ids: (
        ProvincialReport.objects.filter(pk__in=ids).select_related(
            "unit__category", "province", "late_extension__granted_by")), per_page=PAGE_SIZE)
    return render(request, "submissions/provincial_list.html",
                  {"round": round_, "reports": page, "page": page})


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_start(request: AuthenticatedRequest, unit_pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk)
    try:
        report = services.provincial_report_start(round=round_, province=_own_province(request),
                                                  unit=unit, actor=request.user)
    except services.SubmissionError as exc:
        show_refusal(request, exc)
        return redirect("submissions:provincial_reports")
    return redirect("submissions:provincial_report", pk=report.pk)


def _national_figures(outcome_forms: list[tuple[CountyOutcome, CountyOutcomeForm]],
                      year: int) -> None:
    """The national information system's figures of each county (kaohe.directory.figures):
    shown with their source, and pre-filling exits the province has not entered yet."""
    from kaohe.directory import figures

    found = figures.figures_for([o.county_id for o, _f in outcome_forms], year)
    for outcome, form in outcome_forms:
        figure = found.get(outcome.county_id)
        form.national_source = figures.describe(figure) if figure else ""
        if figure is None or outcome.planned_exit is not None or outcome.actual_exit is not None:
            continue
        form.initial.update({"planned_exit": figure.planned_exit,
                             "actual_exit": figure.actual_exit})
        if figure.exited and not outcome.county_exited:
            form.initial["county_exited"] = True


@capability_required(VIEW_PROVINCIAL_REPORTS)
def provincial_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    report = get_provincial_report_for_user(request.user, pk, round=round_)
    outcomes = list(report.outcomes.select_related("county"))
    step = round_.steps.get(code="provincial_report")
    is_open = deadlines.is_open(step, province=report.province)
    # After the deadline (and any extension) the page offers no editing the server refuses.
    can_edit = (has_capability(request.user, EDIT_PROVINCIAL_REPORT) and report.is_editable
                and is_open)
    form = ProvincialReportForm(initial={
        "work_text": report.work_text, "recommended_grade": report.recommended_grade,
        "recommendation_reason": report.recommendation_reason,
        "approved_on": report.approved_on, "approval_reference": report.approval_reference,
    })
    outcome_forms = [
        (o, CountyOutcomeForm(prefix=f"c{o.county_id}", initial={
            "planned_exit": o.planned_exit, "actual_exit": o.actual_exit,
            "county_exited": o.county_exited,
            "plan_met": _PLAN_MET_CHOICE[o.plan_met],
            "satisfaction_unit": o.satisfaction_unit,
            "satisfaction_cadres": o.satisfaction_cadres, "note": o.note,
            **{name: getattr(o, name) for name in DEEP_POVERTY_FIELDS},
        }, deep_poverty=o.county.deep_poverty))
        for o in outcomes
    ]
    _national_figures(outcome_forms, round_.year)
    finding_form = FindingForm(counties=County.objects.filter(pk__in=[o.county_id
                                                                      for o in outcomes]),
                               problem_kinds=round_.problem_kinds.all())
    if not Scope.of(request.user).is_own_province(report.province_id):
        log_action("provincial_report.viewed", actor=request.user, target=report)
    return render(request, "submissions/provincial_report.html", {
        "is_open": is_open,
        "closed_message": ("" if is_open or not report.is_editable
                           else services.provincial_closed_message(step, report.province)),
        "round": round_, "report": report, "form": form, "outcome_forms": outcome_forms,
        "finding_form": finding_form, "can_edit": can_edit,
        "findings": report.findings.select_related("county", "problem_kind"),
        "missing": services.provincial_report_missing(report) if can_edit else [],
        "deadline": deadlines.deadline_for(step, province=report.province),
        "versions": report.versions.all(),
        # Indicator 2 (its number and name from the round's data) and the attachments.
        "deep_indicator": services.deep_poverty_indicator(round_),
        "attachments": report.attachments.select_related("evidence", "county"),
        "attach_form": ProvincialAttachForm(
            counties=County.objects.filter(pk__in=[o.county_id for o in outcomes]),
            auto_id="attach-%s",
            # The approval document first, until there is one.
            initial={"kind": ProvincialAttachmentKind.EVIDENCE if report.attachments.filter(
                kind=ProvincialAttachmentKind.APPROVAL).exists()
                else ProvincialAttachmentKind.APPROVAL}),
    })


def _own_provincial(request: AuthenticatedRequest, pk: int) -> ProvincialReport:
    return get_provincial_report_for_user(request.user, pk, round=current_round_or_404())


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_save(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_provincial(request, pk)
    form = ProvincialReportForm(request.POST)
    outcomes = list(report.outcomes.select_related("county"))
    outcome_forms = {o.county_id: CountyOutcomeForm(request.POST, prefix=f"c{o.county_id}",
                                                    deep_poverty=o.county.deep_poverty)
                     for o in outcomes}
    if not form.is_valid() or not all(f.is_valid() for f in outcome_forms.values()):
        # Each county's errors are named with the county (the same field recurs per county).
        where = {id(outcome_forms[o.county_id]): f"{o.county.name}：" for o in outcomes}
        messages.error(request, _("填写有误，请检查后重新保存：") + "；".join(
            f"{where.get(id(f), '')}{f.fields[name].label}：{' '.join(map(str, errors))}"
            for f in [form, *outcome_forms.values()] for name, errors in f.errors.items()
        ))
        return redirect("submissions:provincial_report", pk=report.pk)
    run_service(request, services.provincial_report_save, report=report, actor=request.user,
                revision=int_param(request.POST.get("revision")), fields=form.cleaned_data,
                outcomes={cid: f.values() for cid, f in outcome_forms.items()},
                success=_("已保存。"))
    return redirect("submissions:provincial_report", pk=report.pk)


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_provincial(request, pk)
    run_service(request, services.provincial_report_submit, report=report, actor=request.user,
                revision=int_param(request.POST.get("revision")),
                success=_("省级总结报告已报送国务院扶贫办。"))
    return redirect("submissions:provincial_report", pk=report.pk)


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_finding_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = _own_provincial(request, pk)
    form = FindingForm(request.POST,
                       counties=County.objects.filter(pk__in=report.outcomes.values("county")),
                       problem_kinds=report.round.problem_kinds.all())
    if not form.is_valid():
        messages.error(request, _("请完整填写问题或事件的县、类型和情况说明。"))
    else:
        run_service(request, services.provincial_finding_add, report=report,
                    actor=request.user, **form.cleaned_data, success=_("已记录。"))
    return redirect("submissions:provincial_report", pk=report.pk)


def _provincial_back(report: ProvincialReport) -> HttpResponseRedirect:
    url = reverse("submissions:provincial_report", kwargs={"pk": report.pk})
    return redirect(f"{url}#attachments")


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_attach(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Attach a file the province just uploaded (tus, as for self-reports) to its report."""
    report = _own_provincial(request, pk)
    try:
        evidence_pk = uuid.UUID(request.POST.get("evidence", ""))
    except ValueError:
        raise Http404 from None
    evidence = get_object_or_404(evidence_visible_to(request.user), pk=evidence_pk)
    form = ProvincialAttachForm(request.POST, counties=County.objects.filter(
        pk__in=report.outcomes.values("county")))
    if not form.is_valid():
        messages.error(request, _("请选择材料类别和适用的县。"))
        return _provincial_back(report)
    run_service(request, services.provincial_attach, report=report, actor=request.user,
                **form.cleaned_data, evidence=evidence,
                success=_("已附上“%(name)s”。") % {"name": evidence.original_name})
    return _provincial_back(report)


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_detach(request: AuthenticatedRequest, pk: int,
                      attachment_pk: int) -> HttpResponse:
    report = _own_provincial(request, pk)
    attachment = get_object_or_404(ProvincialAttachment, pk=attachment_pk, report=report)
    run_service(request, services.provincial_detach, report=report, actor=request.user,
                attachment=attachment, success=_("已移除。"))
    return _provincial_back(report)
