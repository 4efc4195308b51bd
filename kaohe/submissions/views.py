"""Pages of steps 3a and 3b: self-reports, provincial reports, cadres and deadlines."""

import uuid
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    EDIT_CADRES,
    EDIT_PROVINCIAL_REPORT,
    EDIT_SELF_REPORT,
    MANAGE_DEADLINES,
    RETURN_SELF_REPORT,
    VIEW_CADRES,
    VIEW_DEADLINES,
    VIEW_PROVINCIAL_REPORTS,
    VIEW_SELF_REPORTS,
    capability_required,
    has_capability,
)
from kaohe.accounts.scope import UNITS, Scope
from kaohe.audit.services import log_action
from kaohe.directory.models import Category, County, LeadDepartment, Pairing, Province, Unit
from kaohe.directory.selectors import units_visible_to
from kaohe.evidence.selectors import evidence_visible_to
from kaohe.lib.http import current_round_or_404, int_param, run_service, show_refusal
from kaohe.rounds.models import EvidenceRequirement, Indicator
from kaohe.submissions import deadlines, lateness, offline, services
from kaohe.submissions.forms import (
    CountyOutcomeForm,
    ExtensionForm,
    FindingForm,
    FirstSecretaryForm,
    ProvincialAttachForm,
    ProvincialReportForm,
    ReturnForm,
    SecondedCadreForm,
    WithdrawForm,
)
from kaohe.submissions.models import (
    DEEP_POVERTY_FIELDS,
    EvidenceAttachment,
    Extension,
    FirstSecretary,
    ProvincialAttachment,
    ProvincialAttachmentKind,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)
from kaohe.submissions.selectors import (
    cadres_visible_to,
    get_provincial_report_for_user,
    get_self_report_for_user,
    late_self_reports,
    provincial_reports_visible_to,
    self_report_sections,
    self_reports_visible_to,
)

MAX_OFFLINE_BYTES = 10 * 1024 * 1024
PAGE_SIZE = 50  # rows a list shows at once (issue 19: lists grow with the units)


# Self-reports --------------------------------------------------------------------------


@capability_required(VIEW_SELF_REPORTS)
def self_report_index(request):
    round_ = current_round_or_404()
    if has_capability(request.user, EDIT_SELF_REPORT):  # a unit: straight to its own report
        report = services.self_report_for(round=round_, unit=request.user.unit)
        return redirect("submissions:self_report", pk=report.pk)
    reports = self_reports_visible_to(request.user, round=round_).select_related(
        "late_extension__granted_by").order_by("unit__category__order", "unit__code")
    status = request.GET.get("status", "")
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "submissions/self_report_list.html",
                  {"round": round_, "reports": page, "page": page, "status": status,
                   "statuses": ReportStatus.choices})


@capability_required(VIEW_SELF_REPORTS)
def self_report_detail(request, pk):
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
        "can_return": (has_capability(request.user, RETURN_SELF_REPORT)
                       and report.status == ReportStatus.SUBMITTED),
        "deadline": deadlines.deadline_for(step, unit=report.unit),
        "is_open": is_open,
        "versions": report.versions.select_related("submitted_by"),
        "return_form": ReturnForm(),
        "confirm": request.GET.get("confirm") == "1",
    })


def _own_report(request, pk):
    round_ = current_round_or_404()
    report = get_self_report_for_user(request.user, pk, round=round_)
    return report


def _back(report, anchor=""):
    url = reverse("submissions:self_report", kwargs={"pk": report.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _save_texts(request, report) -> bool:
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
def self_report_save(request, pk):
    report = _own_report(request, pk)
    if _save_texts(request, report):
        messages.success(request, _("已保存。"))
    return _back(report)



@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_submit(request, pk):
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


def _posted_slot(request, report) -> dict:
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
def self_report_attach(request, pk):
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
def self_report_add_link(request, pk):
    report = _own_report(request, pk)
    slot = _posted_slot(request, report)
    if _save_texts(request, report):
        run_service(request, services.self_report_add_link, report=report, actor=request.user,
                    url=request.POST.get("link_url", ""),
                    title=request.POST.get("link_title", ""), **slot, success=_("已添加链接。"))
    return _back(report, f"indicator-{slot['indicator'].number}")


@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_detach(request, pk, attachment_pk):
    report = _own_report(request, pk)
    attachment = get_object_or_404(EvidenceAttachment, pk=attachment_pk, report=report)
    if _save_texts(request, report):
        run_service(request, services.self_report_detach, report=report, actor=request.user,
                    attachment=attachment, success=_("已移除。"))
    return _back(report, f"indicator-{attachment.indicator.number}")


@capability_required(RETURN_SELF_REPORT)
@require_POST
def self_report_return(request, pk):
    report = _own_report(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写退回原因。"))
        return _back(report)
    run_service(request, services.self_report_return, report=report, actor=request.user,
                reason=form.cleaned_data["reason"], success=_("已退回修改。"))
    return _back(report)


@capability_required(VIEW_SELF_REPORTS)
def self_report_version(request, pk, number):
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


# Provincial reports --------------------------------------------------------------------


@capability_required(VIEW_PROVINCIAL_REPORTS)
def provincial_index(request):
    round_ = current_round_or_404()
    if has_capability(request.user, EDIT_PROVINCIAL_REPORT):  # a province: the units in it
        units = units_visible_to(request.user, round=round_).order_by("category__order", "code")
        reports = {r.unit_id: r for r in provincial_reports_visible_to(request.user,
                                                                       round=round_)}
        rows = [{"unit": u, "report": reports.get(u.pk)} for u in units]
        step = round_.steps.get(code="provincial_report")
        is_open = deadlines.is_open(step, province=request.user.province)
        return render(request, "submissions/provincial_index.html", {
            "round": round_, "rows": rows,
            "deadline": deadlines.deadline_for(step, province=request.user.province),
            "is_open": is_open,
            "closed_message": ("" if is_open else services.provincial_closed_message(
                step, request.user.province)),
        })
    reports = provincial_reports_visible_to(request.user, round=round_).select_related(
        "late_extension__granted_by").order_by("province__code", "unit__code")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "submissions/provincial_list.html",
                  {"round": round_, "reports": page, "page": page})


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_start(request, unit_pk):
    round_ = current_round_or_404()
    unit = get_object_or_404(units_visible_to(request.user, round=round_), pk=unit_pk)
    try:
        report = services.provincial_report_start(round=round_, province=request.user.province,
                                                  unit=unit, actor=request.user)
    except services.SubmissionError as exc:
        show_refusal(request, exc)
        return redirect("submissions:provincial_reports")
    return redirect("submissions:provincial_report", pk=report.pk)


def _national_figures(outcome_forms, year: int) -> None:
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
def provincial_detail(request, pk):
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
            "plan_met": {True: "yes", False: "no"}.get(o.plan_met, ""),
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


def _own_provincial(request, pk):
    return get_provincial_report_for_user(request.user, pk, round=current_round_or_404())


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_save(request, pk):
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
            f"{where.get(id(f), '')}{f.fields[name].label}：{' '.join(errors)}"
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
def provincial_submit(request, pk):
    report = _own_provincial(request, pk)
    run_service(request, services.provincial_report_submit, report=report, actor=request.user,
                revision=int_param(request.POST.get("revision")),
                success=_("省级总结报告已报送国务院扶贫办。"))
    return redirect("submissions:provincial_report", pk=report.pk)


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_finding_add(request, pk):
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


def _provincial_back(report):
    url = reverse("submissions:provincial_report", kwargs={"pk": report.pk})
    return redirect(f"{url}#attachments")


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_attach(request, pk):
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
def provincial_detach(request, pk, attachment_pk):
    report = _own_provincial(request, pk)
    attachment = get_object_or_404(ProvincialAttachment, pk=attachment_pk, report=report)
    run_service(request, services.provincial_detach, report=report, actor=request.user,
                attachment=attachment, success=_("已移除。"))
    return _provincial_back(report)


# Cadres --------------------------------------------------------------------------------


@capability_required(VIEW_CADRES)
def cadre_list(request):
    round_ = current_round_or_404()
    cadres, secretaries = cadres_visible_to(request.user, round=round_)
    # One page of each list (issue 19: the office's lists grow with the units); the page's
    # records are read once, so what is set on them below reaches the template.
    cadres = Paginator(cadres.select_related("unit", "county", "org_check", "withdrawn_by"),
                       PAGE_SIZE).get_page(request.GET.get("page"))
    secretaries = Paginator(secretaries.select_related("unit", "county", "org_check",
                                                       "withdrawn_by"),
                            PAGE_SIZE).get_page(request.GET.get("spage"))
    cadres.object_list = list(cadres.object_list)
    secretaries.object_list = list(secretaries.object_list)
    context = {"round": round_, "cadres": cadres, "secretaries": secretaries,
               "can_edit": has_capability(request.user, EDIT_CADRES)}
    if context["can_edit"]:
        unit = request.user.unit
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


def _cadre_form_submit(request, form_class, prefix, service):
    round_ = current_round_or_404()
    counties = County.objects.filter(pairings__round=round_, pairings__unit=request.user.unit)
    form = form_class(request.POST, counties=counties, prefix=prefix)
    if form.is_valid():
        run_service(request, service, round=round_, unit=request.user.unit, actor=request.user,
                    **form.cleaned_data, success=_("已添加。"))
    else:
        messages.error(request, _("填写有误：") + "；".join(
            f"{form.fields[name].label}：{' '.join(errors)}"
            for name, errors in form.errors.items() if name in form.fields
        ) + "".join(form.non_field_errors()))
    return redirect("submissions:cadres")


@capability_required(EDIT_CADRES)
@require_POST
def cadre_add(request):
    return _cadre_form_submit(request, SecondedCadreForm, "cadre", services.cadre_add)


@capability_required(EDIT_CADRES)
@require_POST
def first_secretary_add(request):
    return _cadre_form_submit(request, FirstSecretaryForm, "sec", services.first_secretary_add)


@capability_required(EDIT_CADRES)
@require_POST
def cadre_remove(request, kind, pk):
    model = {"cadre": SecondedCadre, "secretary": FirstSecretary}.get(kind)
    if model is None:
        raise Http404
    record = get_object_or_404(model, pk=pk, unit=request.user.unit)
    run_service(request, services.cadre_remove, record=record, actor=request.user,
                success=_("已删除。"))
    return redirect("submissions:cadres")


@capability_required(EDIT_CADRES)
@require_POST
def cadre_withdraw(request, kind, pk):
    model = {"cadre": SecondedCadre, "secretary": FirstSecretary}.get(kind)
    if model is None:
        raise Http404
    record = get_object_or_404(model, pk=pk, unit=request.user.unit)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤回原因（不超过500字）。"))
        return redirect("submissions:cadres")
    run_service(request, services.cadre_withdraw, record=record, actor=request.user,
                reason=form.cleaned_data["reason"],
                success=_("已撤回%(name)s，撤回原因中央组织部可见。") % {"name": record.name})
    return redirect("submissions:cadres")


# Deadlines -----------------------------------------------------------------------------


@capability_required(VIEW_DEADLINES)
def deadline_overview(request):
    round_ = current_round_or_404()
    units = units_visible_to(request.user, round=round_)
    self_step = round_.steps.get(code="self_report")
    prov_step = round_.steps.get(code="provincial_report")
    late_units = late_self_reports(round_, units).select_related("category").annotate(
        extension_until=_latest_extension(self_step, "unit")
    ).order_by("category__order", "code")
    context = {"round": round_, "self_step": self_step, "prov_step": prov_step,
               "late_units": late_units,
               "can_extend": has_capability(request.user, MANAGE_DEADLINES),
               "extension_form": ExtensionForm()}
    if Scope.of(request.user).sees_all(UNITS):  # the office: every province, every extension
        expected = (
            Pairing.objects.filter(round=round_, unit__active=True)
            .values("county__province").annotate(units=Count("unit", distinct=True))
        )
        submitted = dict(
            ProvincialReport.objects.filter(round=round_, status=ReportStatus.SUBMITTED)
            .values("province").annotate(n=Count("pk")).values_list("province", "n")
        )
        provinces = {p.pk: p for p in Province.objects.all()}
        context["provinces"] = [
            {"province": provinces[row["county__province"]], "expected": row["units"],
             "submitted": submitted.get(row["county__province"], 0)}
            for row in expected.order_by("county__province__code")
        ]
        context["extensions"] = Extension.objects.filter(step__round=round_).select_related(
            "step", "unit", "province", "granted_by")
    return render(request, "submissions/deadlines.html", context)


def _latest_extension(step, field):
    return Subquery(
        Extension.objects.filter(step=step, **{field: OuterRef("pk")})
        .order_by("-until").values("until")[:1]
    )


@capability_required(MANAGE_DEADLINES)
@require_POST
def extension_grant(request):
    round_ = current_round_or_404()
    step = get_object_or_404(round_.steps, code=request.POST.get("step"))
    back = ("submissions:extensions" if request.POST.get("back") == "extensions"
            else "submissions:deadlines")
    unit = province = lead_department = None
    if request.POST.get("unit"):
        unit = get_object_or_404(Unit, pk=int_param(request.POST.get("unit")))
    elif request.POST.get("province"):
        province = get_object_or_404(Province, pk=int_param(request.POST.get("province")))
    elif request.POST.get("lead_department"):
        lead_department = get_object_or_404(LeadDepartment,
                                            pk=int_param(request.POST.get("lead_department")))
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写延期日期和原因。"))
    else:
        run_service(request, services.extension_grant, step=step, actor=request.user,
                    unit=unit, province=province, lead_department=lead_department,
                    **form.cleaned_data, success=_("已准予%(who)s延期至%(day)s。") % {
                        "who": unit or province or lead_department,
                        "day": form.cleaned_data["until"]})
    return redirect(back)


@capability_required(MANAGE_DEADLINES)
def extension_list(request):
    """The office grants an extension of any step that closes something, to the party
    the step is for (a unit, a province or a lead department), and sees all it granted."""
    round_ = current_round_or_404()
    steps = [s for s in round_.steps.all() if services.extension_party(s)]
    for step in steps:
        step.party = services.extension_party(step)
    return render(request, "submissions/extensions.html", {
        "round": round_, "steps": steps,
        "units": Unit.objects.filter(active=True).order_by("code"),
        "provinces": Province.objects.order_by("code"),
        "lead_departments": LeadDepartment.objects.order_by("order", "code"),
        "extensions": Extension.objects.filter(step__round=round_).select_related(
            "step", "unit", "province", "lead_department", "granted_by"),
        "form": ExtensionForm(),
    })


@capability_required(MANAGE_DEADLINES)
def late_list(request):
    """Late and missing submissions per step, filterable and exportable to Excel."""
    round_ = current_round_or_404()
    steps = list(round_.steps.filter(code__in=lateness.STEPS))
    step_code = request.GET.get("step", "")
    step_code = step_code if step_code in {s.code for s in steps} else ""
    category = Category.objects.filter(pk=int_param(request.GET.get("category"))).first()
    province = Province.objects.filter(pk=int_param(request.GET.get("province"))).first()
    rows = lateness.late_and_missing(round_, step_code=step_code or None, category=category,
                                     province=province)
    if request.GET.get("export") == "xlsx":
        log_action("deadlines.late_list_exported", actor=request.user, target=round_,
                   data={"step": step_code, "rows": len(rows)})
        return _xlsx(lateness.late_and_missing_workbook(rows),
                     f"{round_.year}-逾期和未报送.xlsx")
    return render(request, "submissions/late_list.html", {
        "round": round_, "rows": rows, "steps": steps, "step_code": step_code,
        "categories": Category.objects.order_by("order"), "category": category,
        "provinces": Province.objects.order_by("code"), "province": province,
        "query": request.GET.urlencode(),
    })



# Offline Excel round-trip --------------------------------------------------------------


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "private, no-store"
    return response


@capability_required(EDIT_SELF_REPORT)
def self_report_excel(request, pk):
    report = _own_report(request, pk)
    log_action("self_report.offline_downloaded", actor=request.user, target=report)
    return _xlsx(offline.self_report_workbook(report),
                 f"{report.round.year}-自评报告-{report.unit.code}.xlsx")


def _import_offline(request, importer, report) -> None:
    """Run an offline workbook import and tell the user how it went (all or nothing)."""
    upload = request.FILES.get("file")
    if upload is None or upload.size > MAX_OFFLINE_BYTES:
        messages.error(request, _("请选择不超过 10 MB 的 Excel 填报表（.xlsx）。"))
        return
    try:
        importer(report=report, data=upload.read(), actor=request.user,
                 revision=int_param(request.POST.get("revision")))
    except offline.OfflineImportError as exc:
        messages.error(request, _("未导入任何内容：") + str(exc))
    except services.SubmissionError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("已导入离线填报表。"))


@capability_required(EDIT_SELF_REPORT)
@require_POST
def self_report_import(request, pk):
    report = _own_report(request, pk)
    _import_offline(request, offline.self_report_import, report)
    return _back(report)


@capability_required(EDIT_PROVINCIAL_REPORT)
def provincial_excel(request, pk):
    report = _own_provincial(request, pk)
    log_action("provincial_report.offline_downloaded", actor=request.user, target=report)
    return _xlsx(offline.provincial_report_workbook(report),
                 f"{report.round.year}-省级总结-{report.province.code}-{report.unit.code}.xlsx")


@capability_required(EDIT_PROVINCIAL_REPORT)
@require_POST
def provincial_import(request, pk):
    report = _own_provincial(request, pk)
    _import_offline(request, offline.provincial_report_import, report)
    return redirect("submissions:provincial_report", pk=report.pk)
