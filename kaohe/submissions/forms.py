from django import forms
from django.utils.translation import gettext_lazy as _

from kaohe.lib.forms import StyledFormMixin
from kaohe.rounds.models import GRADE_CHOICES as DECIDED_GRADES
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
                                widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    recommended_grade = forms.ChoiceField(label=_("评价等次意见"), choices=GRADE_CHOICES,
                                          required=False)
    recommendation_reason = forms.CharField(label=_("等次意见理由"), required=False,
                                            widget=forms.Textarea(attrs={"rows": 3}),
                                            max_length=5000)
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
    note = forms.CharField(label=_("说明"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    # Indicator 2, kept only for a deep-poverty county (labels: the model's fields).
    deep_funds = forms.DecimalField(min_value=0, max_value=DEEP_FUNDS_MAX, max_digits=12,
                                    decimal_places=2, required=False)
    deep_projects = forms.IntegerField(min_value=0, max_value=DEEP_PROJECTS_MAX, required=False)
    deep_cadres = forms.IntegerField(min_value=0, max_value=DEEP_CADRES_MAX, required=False)
    deep_support = forms.CharField(required=False, max_length=5000,
                                   widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, deep_poverty: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in DEEP_POVERTY_FIELDS:
            if deep_poverty:
                self.fields[name].label = CountyOutcome._meta.get_field(name).verbose_name
            else:
                del self.fields[name]

    def deep_poverty_fields(self):
        return [self[name] for name in DEEP_POVERTY_FIELDS if name in self.fields]

    def outcome_fields(self):
        return [self[name] for name in self.fields if name not in DEEP_POVERTY_FIELDS]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["plan_met"] = {"yes": True, "no": False}.get(data["plan_met"])
        return data


class ProvincialAttachForm(StyledFormMixin, forms.Form):
    """Which kind a just-uploaded file is attached as, and for which county (optional)."""

    kind = forms.ChoiceField(label=_("材料类别"), choices=ProvincialAttachmentKind.choices)
    county = forms.ModelChoiceField(label=_("县"), queryset=None, required=False,
                                    empty_label=_("整份报告"))

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        self.fields["county"].label_from_instance = lambda county: county.name


class FindingForm(StyledFormMixin, forms.Form):
    county = forms.ModelChoiceField(label=_("县"), queryset=None)
    kind = forms.ChoiceField(label=_("类型"), choices=FindingKind.choices)
    problem_kind = forms.ModelChoiceField(label=_("突出问题类别"), queryset=None,
                                          required=False)
    description = forms.CharField(label=_("情况说明"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, counties, problem_kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        self.fields["problem_kind"].queryset = problem_kinds
        self.fields["problem_kind"].label_from_instance = lambda k: k.name


class SecondedCadreForm(StyledFormMixin, forms.Form):
    county = forms.ModelChoiceField(label=_("定点扶贫县"), queryset=None)
    name = forms.CharField(label=_("姓名"), max_length=50)
    post = forms.CharField(label=_("挂职职务"), max_length=100)
    duties = forms.CharField(label=_("分工"), max_length=300, required=False)
    in_charge_of_poverty = forms.BooleanField(label=_("分管或协助分管扶贫工作"), required=False,
                                              initial=True)
    start = forms.DateField(label=_("挂职开始"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("挂职结束"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.CharField(label=_("任职文件"), max_length=200, required=False)

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return data


class FirstSecretaryForm(StyledFormMixin, forms.Form):
    county = forms.ModelChoiceField(label=_("定点扶贫县"), queryset=None)
    village = forms.CharField(label=_("所驻贫困村"), max_length=100)
    name = forms.CharField(label=_("姓名"), max_length=50)
    start = forms.DateField(label=_("任职开始"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("任职结束"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.CharField(label=_("任职文件"), max_length=200, required=False)

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return data
