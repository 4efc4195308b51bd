from django.contrib import messages
from django.core.exceptions import ValidationError
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
from kaohe.rounds import services
from kaohe.rounds.forms import IndicatorForm, MethodForm, RoundCopyForm, ScheduleForm
from kaohe.rounds.models import Indicator, Round
from kaohe.rounds.selectors import get_round, round_with_plan


@capability_required(VIEW_ROUND)
def round_list(request):
    return render(request, "rounds/round_list.html", {"rounds": Round.objects.all()})


@capability_required(VIEW_ROUND)
def round_detail(request, year):
    round_ = round_with_plan(year)
    return render(request, "rounds/round_detail.html", {
        "round": round_,
        "can_manage": has_capability(request.user, MANAGE_ROUNDS),
        "copy_form": RoundCopyForm(initial={"year": Round.objects.order_by("-year")
                                            .values_list("year", flat=True).first() + 1}),
    })


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["GET", "POST"])
def indicator_edit(request, year, number):
    round_ = get_round(year)
    indicator = get_object_or_404(Indicator, round=round_, number=number)
    form = IndicatorForm(request.POST or None, instance=Indicator.objects.get(pk=indicator.pk))
    if request.method == "POST" and form.is_valid():
        services.indicator_update(
            indicator=indicator, actor=request.user,
            **{f: form.cleaned_data[f] for f in IndicatorForm.Meta.fields},
        )
        messages.success(request, _("指标已保存。"))
        return redirect("rounds:detail", year=year)
    return render(request, "rounds/indicator_edit.html",
                  {"round": round_, "indicator": indicator, "form": form})


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["GET", "POST"])
def schedule_edit(request, year):
    round_ = get_round(year)
    form = ScheduleForm(request.POST or None, steps=round_.steps.all())
    if request.method == "POST" and form.is_valid():
        services.round_update_schedule(round=round_, dues=form.dues(), actor=request.user)
        messages.success(request, _("工作进度安排已保存。"))
        return redirect("rounds:detail", year=year)
    return render(request, "rounds/schedule_edit.html", {"round": round_, "form": form})


@capability_required(VIEW_METHOD)
@require_http_methods(["GET", "POST"])
def method_detail(request, year):
    round_ = get_round(year)
    can_edit = has_capability(request.user, MANAGE_ROUNDS)
    if request.method == "POST" and not can_edit:
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
                  {"round": round_, "form": form, "can_edit": can_edit})


@capability_required(MANAGE_ROUNDS)
@require_http_methods(["POST"])
def round_copy_view(request, year):
    source = get_round(year)
    form = RoundCopyForm(request.POST)
    if form.is_valid():
        try:
            new = services.round_copy(source=source, year=form.cleaned_data["year"],
                                      actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, _("已复制为%(year)s年度考核，请核对并修改。") % {"year": new.year}
            )
            return redirect("rounds:detail", year=new.year)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("rounds:detail", year=year)
