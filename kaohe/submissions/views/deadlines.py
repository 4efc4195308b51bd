"""Pages of the deadlines: the overview of late units and provinces, granting an
extension, the office's list of extensions, and the list of late and missing submissions
(with its Excel export).
"""



from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import (
    MANAGE_DEADLINES,
    VIEW_DEADLINES,
    capability_required,
    has_capability,
)
from kaohe.accounts.scope import UNITS, Scope
from kaohe.audit.services import log_action
from kaohe.directory.models import Category, LeadDepartment, Pairing, Province, Unit
from kaohe.directory.selectors import units_visible_to
from kaohe.lib import paging
from kaohe.lib.http import AuthenticatedRequest, current_round_or_404, int_param, run_service
from kaohe.rounds.models import Step
from kaohe.submissions import lateness, services
from kaohe.submissions.forms import ExtensionForm
from kaohe.submissions.models import Extension, ProvincialReport, ReportStatus
from kaohe.submissions.selectors import late_self_reports
from kaohe.submissions.views.workbooks import xlsx_response

PAGE_SIZE = paging.ROWS  # rows of a step the late list shows at once (issue 19)


@capability_required(VIEW_DEADLINES)
def deadline_overview(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    units = units_visible_to(request.user, round=round_)
    self_step = round_.steps.get(code="self_report")
    prov_step = round_.steps.get(code="provincial_report")
    late_units = late_self_reports(round_, units).select_related("category").annotate(
        extension_until=_latest_extension(self_step, "unit")
    ).order_by("category__order", "code")
    # A page of the units late, and the latest extensions (all on the extension page).
    page = Paginator(late_units, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"round": round_, "self_step": self_step, "prov_step": prov_step,
               "late_units": page, "page": page,
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
        extensions = Extension.objects.filter(step__round=round_)
        context["extensions"] = extensions.select_related(
            "step", "unit", "province", "lead_department", "granted_by").order_by(
            "-created_at", "-pk")[:PAGE_SIZE]
        context["extension_count"] = extensions.count()
    return render(request, "submissions/deadlines.html", context)


def _latest_extension(step: Step, field: str) -> Subquery:
    return Subquery(
        Extension.objects.filter(step=step, **{field: OuterRef("pk")})
        .order_by("-until").values("until")[:1]
    )


@capability_required(MANAGE_DEADLINES)
@require_POST
def extension_grant(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    step = get_object_or_404(round_.steps, code=request.POST.get("step"))
    back = ("submissions:extensions" if request.POST.get("back") == "extensions"
            else "submissions:deadlines")
    unit = province = lead_department = None
    unit_code = request.POST.get("unit_code", "").strip()
    if request.POST.get("unit"):
        unit = get_object_or_404(Unit, pk=int_param(request.POST.get("unit")))
    elif unit_code:  # typed on the extension page, which lists no units (issue 19)
        unit = (Unit.objects.filter(code=unit_code).first()
                or Unit.objects.filter(name=unit_code).first())
        if unit is None:
            unknown = _("不存在或不在本账户范围内。")
            messages.error(request, f"{_('单位编码')} {unit_code}：{unknown}")
            return redirect(back)
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
def extension_list(request: AuthenticatedRequest) -> HttpResponse:
    """The office grants an extension of any step that closes something, to the party
    the step is for (a unit, a province or a lead department), and sees all it granted."""
    round_ = current_round_or_404()
    steps = [s for s in round_.steps.all() if services.extension_party(s)]
    # One page of the extensions granted, the latest first (issue 19).
    extensions = Extension.objects.filter(step__round=round_).select_related(
        "step", "unit", "province", "lead_department", "granted_by").order_by(
        "-created_at", "-pk")
    page = Paginator(extensions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "submissions/extensions.html", {
        "round": round_, "steps": steps,
        "provinces": Province.objects.order_by("code"),
        "lead_departments": LeadDepartment.objects.order_by("order", "code"),
        "extensions": page, "page": page,
        "form": ExtensionForm(),
    })


@capability_required(MANAGE_DEADLINES)
def late_list(request: AuthenticatedRequest) -> HttpResponse:
    """Late and missing submissions per step, filterable and exportable to Excel."""
    round_ = current_round_or_404()
    steps = list(round_.steps.filter(code__in=lateness.STEPS))
    step_code = request.GET.get("step", "")
    step_code = step_code if step_code in {s.code for s in steps} else ""
    category = Category.objects.filter(pk=int_param(request.GET.get("category"))).first()
    province = Province.objects.filter(pk=int_param(request.GET.get("province"))).first()
    if request.GET.get("export") == "xlsx":  # every row
        rows = lateness.late_and_missing(round_, step_code=step_code or None,
                                         category=category, province=province)
        log_action("deadlines.late_list_exported", actor=request.user, target=round_,
                   data={"step": step_code, "rows": len(rows)})
        return xlsx_response(lateness.late_and_missing_workbook(rows),
                             f"{round_.year}-逾期和未报送.xlsx")
    # One page of each step, its page named by ?page_<step code>= (issue 19).
    sections = lateness.late_and_missing_pages(
        round_, step_code=step_code or None, category=category, province=province,
        per_page=PAGE_SIZE, pages={key.removeprefix("page_"): value
                                   for key, value in request.GET.items()
                                   if key.startswith("page_")})
    return render(request, "submissions/late_list.html", {
        "round": round_, "sections": sections, "steps": steps, "step_code": step_code,
        "rows": [row for section in sections for row in section["rows"]],
        "categories": Category.objects.order_by("order"), "category": category,
        "provinces": Province.objects.order_by("code"), "province": province,
        "query": request.GET.urlencode(),
    })
