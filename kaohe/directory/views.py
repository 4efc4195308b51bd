from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kaohe.accounts.capabilities import (
    MANAGE_DIRECTORY,
    VIEW_COUNTIES,
    VIEW_UNITS,
    capability_required,
    has_capability,
)
from kaohe.accounts.scope import UNIT_HISTORY, Scope
from kaohe.audit.services import log_action
from kaohe.directory import figures, importing, services
from kaohe.directory.forms import (
    DesignationForm,
    FiguresImportForm,
    ImportForm,
    LiaisonForm,
)
from kaohe.directory.models import Category, CountyFigure, Pairing
from kaohe.directory.selectors import (
    LiaisonRow,
    counties_visible_to,
    get_county_for_user,
    get_unit_for_user,
    liaison_provinces,
    liaison_target_or_404,
    liaison_units,
    pairings_visible_to,
    provinces_visible_to,
    units_visible_to,
)
from kaohe.lib import paging
from kaohe.outcomes.selectors import unit_history
from kaohe.rounds.selection import chosen_round
from kaohe.rounds.selectors import preparation_round

PAGE_SIZE = paging.ROWS


@capability_required(VIEW_UNITS)
def unit_list(request):
    round_ = chosen_round()
    visible = units_visible_to(request.user, round=round_)
    categories = Category.objects.filter(pk__in=visible.values("category_id"))
    units = visible.order_by("category__order", "code")
    category = request.GET.get("category", "")
    if category:
        units = units.filter(category__code=category)
    query = request.GET.get("q", "").strip()
    if query:
        units = units.filter(Q(name__contains=query) | Q(code__icontains=query))
    # Counties counted for the page's units only (not every unit grouped for each page).
    page = paging.page_read_late(units, request.GET.get("page"), lambda ids: visible.filter(
        pk__in=ids).annotate(county_count=Count("pairings", filter=Q(pairings__round=round_))))
    return render(request, "directory/unit_list.html", {
        "page": page, "categories": categories, "category": category, "q": query,
        "round": round_,
    })


@capability_required(VIEW_UNITS)
def unit_detail(request, pk):
    round_ = chosen_round()
    unit = get_unit_for_user(request.user, pk, round=round_)
    pairings = pairings_visible_to(request.user, round=round_).filter(unit=unit)
    log_action("directory.unit.viewed", actor=request.user, target=unit)
    context = {"unit": unit, "pairings": pairings, "round": round_}
    # Released grades across the rounds, open rectification items and summons follow-ups:
    # for the unit itself, its lead department and the office's side only.
    if Scope.of(request.user).sees(UNIT_HISTORY):
        context.update(unit_history(unit, round_))
    return render(request, "directory/unit_detail.html", context)


@capability_required(VIEW_COUNTIES)
def county_list(request):
    counties = counties_visible_to(request.user)
    provinces = provinces_visible_to(request.user)
    province = request.GET.get("province", "")
    if province:
        counties = counties.filter(province__code=province)
    deep = request.GET.get("deep", "")
    if deep == "1":
        counties = counties.filter(Q(three_areas=True) | Q(province_designated=True))
    query = request.GET.get("q", "").strip()
    if query:
        counties = counties.filter(Q(name__contains=query) | Q(code__startswith=query))
    page = Paginator(counties, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "directory/county_list.html", {
        "page": page, "provinces": provinces, "province": province, "deep": deep, "q": query,
    })


@capability_required(VIEW_COUNTIES)
def county_detail(request, pk):
    county = get_county_for_user(request.user, pk)
    round_ = chosen_round()
    units = units_visible_to(request.user, round=round_)
    pairings = Pairing.objects.filter(round=round_, county=county, unit__in=units).select_related(
        "unit", "unit__category"
    )
    can_manage = has_capability(request.user, MANAGE_DIRECTORY)
    form = DesignationForm(initial={"designated": county.province_designated,
                                    "note": county.designation_note})
    return render(request, "directory/county_detail.html", {
        "county": county, "pairings": pairings, "form": form, "can_manage": can_manage,
    })


@capability_required(MANAGE_DIRECTORY)
@require_POST
def county_designation(request, pk):
    county = get_county_for_user(request.user, pk)
    form = DesignationForm(request.POST)
    if form.is_valid():
        services.county_set_designated(
            county=county, designated=form.cleaned_data["designated"],
            note=form.cleaned_data["note"], actor=request.user,
        )
        messages.success(request, _("已更新%(county)s的深度贫困县认定。") % {"county": county.name})
    else:
        for errors in form.errors.values():
            for message in map(str, errors):
                messages.error(request, message)
    return redirect("directory:county_detail", pk=county.pk)


@capability_required(MANAGE_DIRECTORY)
@require_http_methods(["GET", "POST"])
def import_view(request):
    # Units and pairings go into the round being prepared (issue 16), if there is one.
    round_ = preparation_round()
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = importing.import_units_and_pairings(
            data=upload.read(), round=round_, actor=request.user, file_name=upload.name[:200]
        )
        if result.ok:
            messages.success(request, _(
                "导入完成：新增单位%(uc)s个，更新%(uu)s个；新增结对%(pc)s条，移除%(pr)s条。"
            ) % {"uc": result.units_created, "uu": result.units_updated,
                 "pc": result.pairings_created, "pr": result.pairings_removed})
            return redirect("directory:import")
    status = 400 if result is not None and not result.ok else 200
    return render(request, "directory/import.html",
                  {"form": form, "result": result, "round": round_}, status=status)


@capability_required(MANAGE_DIRECTORY)
def import_template_view(request):
    response = HttpResponse(
        importing.import_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = "attachment; filename*=UTF-8''units-pairings-template.xlsx"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@capability_required(MANAGE_DIRECTORY)
def liaisons(request):
    """The contact list of every unit's and province's liaison, kept by the office."""
    # One page of units (issue 19); the provinces, a few dozen, on every page.
    page = Paginator(liaison_units(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "directory/liaisons.html", {
        "rows": [LiaisonRow("unit", unit) for unit in page], "page": page,
        "provinces": liaison_provinces()})


@capability_required(MANAGE_DIRECTORY)
@require_http_methods(["GET", "POST"])
def liaison_edit(request, kind, pk):
    target = liaison_target_or_404(kind, pk)
    form = LiaisonForm(request.POST or None, initial={
        name: getattr(target, name) for name in services.LIAISON_FIELDS})
    if request.method == "POST" and form.is_valid():
        if services.liaison_update(target=target, actor=request.user, **form.cleaned_data):
            messages.success(request, _("已保存%(name)s的联络员信息。") % {"name": target.name})
        else:
            messages.info(request, _("没有需要保存的修改。"))
        return redirect("directory:liaisons")
    return render(request, "directory/liaison_edit.html", {"form": form, "target": target})


@capability_required(MANAGE_DIRECTORY)
@require_http_methods(["GET", "POST"])
def figures_import(request):
    """The national information system's county figures (CSV or Excel), all or nothing."""
    form = FiguresImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = figures.import_county_figures(data=upload.read(), file_name=upload.name[:200],
                                               actor=request.user)
        if result.ok:
            messages.success(request, _("导入完成：新增%(c)s条，更新%(u)s条县级数据。")
                             % {"c": result.created, "u": result.updated})
            return redirect("directory:figures_import")
    status = 400 if result is not None and not result.ok else 200
    return render(request, "directory/figures_import.html", {
        "form": form, "result": result,
        "latest": CountyFigure.objects.order_by("-imported_at").first(),
        "count": CountyFigure.objects.count(),
    }, status=status)
