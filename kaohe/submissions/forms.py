from typing import Any

from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kaohe.directory.models import County
from kaohe.lib.forms import StyledFormMixin, model_choice_field
from kaohe.rounds.models import GRADE_CHOICES as DECIDED_GRADES
from kaohe.rounds.models import SeriousProblemKind
from kaohe.submissions.models import (
    DEEP_CADRES_MAX,
    DEEP_FUNDS_MAX,
    DEEP_POVERTY_FIELDS,
    DEEP_PROJECTS_MAX,
    PEOPLE_COUNT_MAX,
    CountyOutcome,
    FindingKind,
    ProvincialAttachmentKind,
)
from kaohe.submissions.services.provincial import MAX_REMARK_CHARS, MAX_WORK_TEXT_CHARS

GRADE_CHOICES = [("", "——"), *DECIDED_GRADES]
YES_NO = [("", "——"), ("yes", _("是")), ("no", _("否"))]


class ReturnForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("退回原因"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000)


class WithdrawForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=500)


class ExtensionForm(StyledFormMixin, forms.Form):
    until = forms.DateField(label=_("延期至"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("延期原因"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ProvincialReportForm(StyledFormMixin, forms.Form):
    work_text = forms.CharField(label=_("中央单位在本地开展定点扶贫情况"), required=False,
                                widget=forms.Textarea(attrs={"rows": 6}),
                                max_length=MAX_WORK_TEXT_CHARS)
    recommended_grade = forms.ChoiceField(label=_("评价等次意见"), choices=GRADE_CHOICES,
                                          required=False)
    recommendation_reason = forms.CharField(label=_("等次意见理由"), required=False,
                                            widget=forms.Textarea(attrs={"rows": 3}),
                                            max_length=MAX_REMARK_CHARS)
    # An <input type="date"> only shows an ISO date; the locale's "2018/12/18" stays blank.
    approved_on = forms.DateField(label=_("省级领导小组审定日期"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"},
                                                         format="%Y-%m-%d"))
    approval_reference = forms.CharField(label=_("审定文件或会议"), required=False,
                                         max_length=200)


class CountyOutcomeForm(StyledFormMixin, forms.Form):
    # The model's bounds (PEOPLE_COUNT_MAX): out of range is a field error, not a 500.
    planned_exit = forms.IntegerField(label=_("计划脱贫人口"), min_value=0,
                                      max_value=PEOPLE_COUNT_MAX, required=False)
    actual_exit = forms.IntegerField(label=_("实际脱贫人口"), min_value=0,
                                     max_value=PEOPLE_COUNT_MAX, required=False)
    county_exited = forms.BooleanField(label=_("当年摘帽"), required=False)
    plan_met = forms.ChoiceField(label=_("完成年度脱贫攻坚任务"), choices=YES_NO, required=False)
    satisfaction_unit = forms.ChoiceField(label=_("对中央单位帮扶工作的满意情况"),
                                          choices=GRADE_CHOICES, required=False)
    satisfaction_cadres = forms.ChoiceField(label=_("对挂职扶贫干部（含第一书记）工作的满意情况"),
                                            choices=GRADE_CHOICES, required=False)
    note = forms.CharField(label=_("说明"), required=False, max_length=MAX_REMARK_CHARS,
                           widget=forms.Textarea(attrs={"rows": 2}))
    # Indicator 2, kept only for a deep-poverty county (labels: the model's fields).
    deep_funds = forms.DecimalField(min_value=0, max_value=DEEP_FUNDS_MAX, max_digits=12,
                                    decimal_places=2, required=False)
    deep_projects = forms.IntegerField(min_value=0, max_value=DEEP_PROJECTS_MAX, required=False)
    deep_cadres = forms.IntegerField(min_value=0, max_value=DEEP_CADRES_MAX, required=False)
    deep_support = forms.CharField(required=False, max_length=MAX_REMARK_CHARS,
                                   widget=forms.Textarea(attrs={"rows": 2}))

    # Where the national figures shown beside the county come from (set by the page).
    national_source = ""

    def __init__(self, *args: Any, deep_poverty: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in DEEP_POVERTY_FIELDS:
            if deep_poverty:
                field = CountyOutcome._meta.get_field(name)
                assert isinstance(field, models.Field)  # the outcome's own columns
                self.fields[name].label = field.verbose_name
            else:
                del self.fields[name]

    def deep_poverty_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DEEP_POVERTY_FIELDS if name in self.fields]

    def outcome_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in DEEP_POVERTY_FIELDS]

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["plan_met"] = {"yes": True, "no": False}.get(data["plan_met"])
        return data


class _ByNameChoiceField(forms.ModelChoiceField):
    """A choice of counties or problem kinds, each offered by its name."""

    def label_from_instance(self, obj: County | SeriousProblemKind) -> str:
        return obj.name


class ProvincialAttachForm(StyledFormMixin, forms.Form):
    """Which kind a just-uploaded file is attached as, and for which county (optional)."""

    kind = forms.ChoiceField(label=_("材料类别"), choices=ProvincialAttachmentKind.choices)
    county = _ByNameChoiceField(label=_("县"), queryset=None, required=False,
                                empty_label=_("整份报告"))

    def __init__(self, *args: Any, counties: QuerySet[County], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "county").queryset = counties


class FindingForm(StyledFormMixin, forms.Form):
    county: forms.ModelChoiceField[County] = forms.ModelChoiceField(label=_("县"),
                                                                   queryset=None)
    kind = forms.ChoiceField(label=_("类型"), choices=FindingKind.choices)
    problem_kind = _ByNameChoiceField(label=_("突出问题类别"), queryset=None, required=False)
    description = forms.CharField(label=_("情况说明"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, counties: QuerySet[County],
                 problem_kinds: QuerySet[SeriousProblemKind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "county").queryset = counties
        model_choice_field(self, "problem_kind").queryset = problem_kinds


class SecondedCadreForm(StyledFormMixin, forms.Form):
    county: forms.ModelChoiceField[County] = forms.ModelChoiceField(label=_("定点扶贫县"),
                                                                   queryset=None)
    name = forms.CharField(label=_("姓名"), max_length=50)
    post = forms.CharField(label=_("挂职职务"), max_length=100)
    duties = forms.CharField(label=_("分工"), max_length=300, required=False)
    in_charge_of_poverty = forms.BooleanField(label=_("分管或协助分管扶贫工作"), required=False,
                                              initial=True)
    start = forms.DateField(label=_("挂职开始"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("挂职结束"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.CharField(label=_("任职文件"), max_length=200, required=False)

    def __init__(self, *args: Any, counties: QuerySet[County], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "county").queryset = counties

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # Form.clean returns cleaned_data, never None
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return data


class FirstSecretaryForm(StyledFormMixin, forms.Form):
    county: forms.ModelChoiceField[County] = forms.ModelChoiceField(label=_("定点扶贫县"),
                                                                   queryset=None)
    village = forms.CharField(label=_("所驻贫困村"), max_length=100)
    name = forms.CharField(label=_("姓名"), max_length=50)
    start = forms.DateField(label=_("任职开始"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("任职结束"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.CharField(label=_("任职文件"), max_length=200, required=False)

    def __init__(self, *args: Any, counties: QuerySet[County], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "county").queryset = counties

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # Form.clean returns cleaned_data, never None
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return data
