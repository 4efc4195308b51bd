from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Field
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kaohe.accounts.capabilities import (
    MANAGE_ROUNDS,
    VIEW_METHOD,
    VIEW_ROUND,
    capability_required,
    has_capability,
)
from kaohe.audit.services import log_action
from kaohe.lib.http import run_service, show_refusal
from kaohe.rounds import services
from kaohe.rounds.forms import (
    IndicatorForm,
    MethodForm,
    PlanWordsForm,
    RoundCopyForm,
    ScheduleForm,
)
from kaohe.rounds.models import Indicator, Round, RoundStatus
from kaohe.rounds.selectors import round_with_plan, rounds_visible_to, visible_round


@capability_required(VIEW_ROUND)
def round_list(request):
    return render(request, "rounds/round_list.html",
                  {"rounds": rounds_visible_to(request.user)})


@capability_required(VIEW_ROUND)
def round_detail(request, year):
    visible_round(request.user, year)  # a round in preparation: the office only
    round_ = round_with_plan(year)
    can_manage = has_capability(request.user, MANAGE_ROUNDS)
    return render(request, "rounds/round_detail.html", {
        "round": round_,
        "can_manage": can_manage,
        "scheme_frozen": services.scheme_frozen(round_),
        "plan_words": [(_verbose_name(name), getattr(round_, name))
                       for name in services.EDITABLE_WORDS],
        "can_activate": can_manage and round_.status == RoundStatus.PREPARING,
        "can_close": can_manage and round_.status == RoundStatus.ACTIVE,
        "is_closed": round_.status == RoundStatus.CLOSED,
        "copy_form": RoundCopyForm(initial={"year": _newest_year(round_) + 1}),
    })


def _verbose_name(name: str) -> str:
    """The name of one of the round's own columns."""
    field = Round._meta.get_field(name)
    assert isinstance(field, Field)  # a column of the round, not a relation
    return str(field.verbose_name)


def _newest_year(round_: Round) -> int:
    """The year of the newest round (``round_`` exists, so there is one)."""
    newest = Round.objects.order_by("-year").values_list("year", flat=True).first()
    return round_.year if newest is None else newest


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["GET", "POST"])
def indicator_edit(request, year, number):
    round_ = visible_round(request.user, year)
    indicator = get_object_or_404(Indicator, round=round_, number=number)
    return _scheme_part_edit(
        request, round_, IndicatorForm(request.POST or None,
                                       instance=Indicator.objects.get(pk=indicator.pk)),
        save=lambda fields: services.indicator_update(
            indicator=indicator, actor=request.user, **fields),
        saved=_("指标已保存。"), template="rounds/indicator_edit.html",
        context={"indicator": indicator})


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["GET", "POST"])
def words_edit(request, year):
    """The plan's words the round's documents quote: editable with the scheme."""
    round_ = visible_round(request.user, year)
    return _scheme_part_edit(
        request, round_, PlanWordsForm(request.POST or None,
                                       instance=Round.objects.get(pk=round_.pk)),
        save=lambda fields: services.round_update_words(
            round=round_, actor=request.user, **fields),
        saved=_("文书引用的方案原文已保存。"), template="rounds/words_edit.html")


def _scheme_part_edit(request, round_, form, *, save, saved, template, context=None):
    """A part of the scheme edited on its own page while the scheme is not frozen: the
    form's fields go to the service `save`; its refusal is shown on the round's page."""
    try:
        services.check_scheme_editable(round_)
    except services.RoundError as exc:
        show_refusal(request, exc)
        return redirect("rounds:detail", year=round_.year)
    if request.method == "POST" and form.is_valid():
        run_service(request, save, success=saved,
                    fields={f: form.cleaned_data[f] for f in form.Meta.fields})
        return redirect("rounds:detail", year=round_.year)
    return render(request, template, {"round": round_, "form": form, **(context or {})})


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["GET", "POST"])
def schedule_edit(request, year):
    round_ = visible_round(request.user, year)
    if round_.status == RoundStatus.CLOSED:
        messages.error(request, _("%(year)s年度考核已结束，只能查阅，不能修改。")
                       % {"year": round_.year})
        return redirect("rounds:detail", year=year)
    form = ScheduleForm(request.POST or None, steps=round_.steps.all())
    if request.method == "POST" and form.is_valid():
        run_service(request, services.round_update_schedule, round=round_, dues=form.dues(),
                    actor=request.user, success=_("工作进度安排已保存。"))
        return redirect("rounds:detail", year=year)
    return render(request, "rounds/schedule_edit.html", {"round": round_, "form": form})


@capability_required(VIEW_METHOD)
@require_http_methods(["GET", "POST"])
def method_detail(request, year):
    round_ = visible_round(request.user, year)
    can_edit = (has_capability(request.user, MANAGE_ROUNDS)
                and not services.scheme_frozen(round_))
    if request.method == "POST" and not can_edit:
        if has_capability(request.user, MANAGE_ROUNDS):
            try:
                services.check_scheme_editable(round_)
            except services.RoundError as exc:
                show_refusal(request, exc)
        return redirect("rounds:method", year=year)
    form = MethodForm(request.POST or None, initial=MethodForm.initial_from(round_.method))
    if request.method == "POST" and form.is_valid():
        try:
            services.round_update_method(round=round_, method=form.to_method(),
                                         actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("综合评价方法已保存。"))
            return redirect("rounds:method", year=year)
    if request.method == "GET":
        # The method is internal to the working group: every reading of it is recorded.
        log_action("round.method.viewed", actor=request.user, target=round_)
    return render(request, "rounds/method.html",
                  {"round": round_, "form": form, "can_edit": can_edit,
                   "frozen": services.scheme_frozen(round_)})


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["POST"])
def round_copy_view(request, year):
    source = visible_round(request.user, year)
    form = RoundCopyForm(request.POST)
    if form.is_valid():
        try:
            new = services.round_copy(source=source, year=form.cleaned_data["year"],
                                      actor=request.user)
        except ValidationError as exc:
            show_refusal(request, exc)
        else:
            messages.success(
                request, _("已复制为%(year)s年度考核，请核对并修改。") % {"year": new.year}
            )
            return redirect("rounds:detail", year=new.year)
    else:
        for errors in form.errors.values():
            for message in map(str, errors):
                messages.error(request, message)
    return redirect("rounds:detail", year=year)


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["GET", "POST"])
def round_activate_view(request, year):
    """Start a prepared round, after a readiness check and an explicit confirmation."""
    round_ = visible_round(request.user, year)
    if round_.status != RoundStatus.PREPARING:
        return redirect("rounds:detail", year=year)
    if request.method == "POST":
        if request.POST.get("confirm") != "1":
            messages.error(request, _("请勾选确认后再启动。"))
        elif run_service(request, services.round_activate, round=round_, actor=request.user,
                         success=_("%(year)s年度考核已启动，各单位从现在起可见。")
                         % {"year": round_.year}):
            return redirect("rounds:detail", year=year)
    others = Round.objects.filter(status=RoundStatus.ACTIVE).exclude(pk=round_.pk)
    return render(request, "rounds/activate.html", {
        "round": round_, "missing": services.round_readiness(round_), "others": others,
    })


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["POST"])
def round_close_view(request, year):
    """End a round whose results are released: read-only from then on."""
    round_ = visible_round(request.user, year)
    if request.POST.get("confirm") != "1":
        messages.error(request, _("请勾选确认后再结束。"))
        return redirect("rounds:detail", year=year)
    run_service(request, services.round_close, round=round_, actor=request.user,
                success=_("%(year)s年度考核已结束，今后只能查阅。") % {"year": round_.year})
    return redirect("rounds:detail", year=year)
