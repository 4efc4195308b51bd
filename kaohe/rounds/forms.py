from django import forms
from django.utils.translation import gettext_lazy as _

from kaohe.grading.engine import AREA_CODES, AREA_NAMES
from kaohe.lib.forms import StyledFormMixin
from kaohe.rounds.models import Grade, Indicator, Round

GRADE_CODES = [Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE, Grade.POOR]
TIE_BREAK_CHOICES = [("", "——")] + [
    (f"area:{code}", _("“%(area)s”等次") % {"area": AREA_NAMES[code]}) for code in AREA_CODES
] + [
    ("count_good", _("“好”的项数")),
    ("count_poor", _("“较差”的项数（少者在前）")),
    ("recommended_grade", _("省级推荐等次")),
]
ROUNDING_CHOICES = [("floor", _("向下取整")), ("round", _("四舍五入")), ("ceil", _("向上取整"))]


class RoundCopyForm(StyledFormMixin, forms.Form):
    year = forms.IntegerField(label=_("新的考核年度"), min_value=2000, max_value=2100)


class IndicatorForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Indicator
        fields = ["name", "summary", "definition", "evidence_basis"]
        widgets = {f: forms.Textarea(attrs={"rows": 3}) for f in
                   ["summary", "definition", "evidence_basis"]}


class PlanWordsForm(StyledFormMixin, forms.ModelForm):
    """The plan's words the round's documents quote, copied from the plan as written."""

    class Meta:
        model = Round
        # kaohe.rounds.services.EDITABLE_WORDS
        fields = ["plan_title", "document_number", "measures_title", "issuer_name",
                  "leading_group_name", "working_group_name", "grading_rule_text",
                  "major_incident_text", "summons_text"]
        widgets = {f: forms.Textarea(attrs={"rows": 3}) for f in
                   ["grading_rule_text", "major_incident_text", "summons_text"]}
        help_texts = {
            "document_number": _("印发实施方案的通知的文号"),
            "grading_rule_text": _("照录实施方案原文，文书和等次校验引用此句"),
            "summons_text": _("照录实施方案原文，反馈函和通报引用此句"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A document quoting an empty name or rule is no paper; the 文号 may come later.
        for name, field in self.fields.items():
            field.required = name != "document_number"


class ScheduleForm(StyledFormMixin, forms.Form):
    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = list(steps)
        for step in self.steps:
            self.fields[f"step_{step.pk}"] = forms.DateField(
                label=f"{step.number} {step.name}", initial=step.due,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        self.style_fields()

    def dues(self):
        return {step.pk: self.cleaned_data[f"step_{step.pk}"] for step in self.steps}


class MethodForm(StyledFormMixin, forms.Form):
    """The round's evaluation method as form fields; the engine validates the whole."""

    share_good = forms.DecimalField(label=_("“好”等次比例（前）"), min_value=0, max_value=1,
                                    decimal_places=4)
    share_fairly_good = forms.DecimalField(label=_("“好”与“较好”合计比例（前）"), min_value=0,
                                           max_value=1, decimal_places=4)
    share_poor = forms.DecimalField(label=_("“较差”候选比例（后）"), min_value=0, max_value=1,
                                    decimal_places=4)
    rounding = forms.ChoiceField(label=_("名额取整方式"), choices=ROUNDING_CHOICES)
    incident_cap = forms.ChoiceField(
        label=_("出现重大涉贫事件时最高等次"),
        choices=[(Grade.FAIRLY_GOOD, _("较好")), (Grade.AVERAGE, _("一般"))],
    )
    backfill = forms.BooleanField(label=_("空出的“好”名额依次递补"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for grade in GRADE_CODES:
            self.fields[f"points_{grade}"] = forms.DecimalField(
                label=_("“%(grade)s”分值") % {"grade": grade.label}, min_value=0,
                decimal_places=4,
            )
        for code in AREA_CODES:
            self.fields[f"weight_{code}"] = forms.DecimalField(
                label=_("“%(area)s”权重") % {"area": AREA_NAMES[code]}, min_value=0,
                decimal_places=4,
            )
        for i in range(1, 6):
            self.fields[f"tie_{i}"] = forms.ChoiceField(
                label=_("同分比较第%(n)s项") % {"n": i}, choices=TIE_BREAK_CHOICES,
                required=False,
            )
        self.style_fields()

    @classmethod
    def initial_from(cls, method: dict) -> dict:
        initial = {
            "share_good": method["shares"]["good"],
            "share_fairly_good": method["shares"]["fairly_good"],
            "share_poor": method["shares"]["poor"],
            "rounding": method["rounding"],
            "incident_cap": method["incident_cap"],
            "backfill": method["backfill"],
        }
        initial.update({f"points_{g}": method["points"][g] for g in method["points"]})
        initial.update({f"weight_{a}": method["weights"][a] for a in method["weights"]})
        initial.update({f"tie_{i}": key for i, key in enumerate(method["tie_break"], start=1)})
        return initial

    def to_method(self) -> dict:
        data = self.cleaned_data
        return {
            "points": {g.value: str(data[f"points_{g}"]) for g in GRADE_CODES},
            "weights": {a: str(data[f"weight_{a}"]) for a in AREA_CODES},
            "shares": {"good": str(data["share_good"]),
                       "fairly_good": str(data["share_fairly_good"]),
                       "poor": str(data["share_poor"])},
            "rounding": data["rounding"],
            "tie_break": [data[f"tie_{i}"] for i in range(1, 6) if data[f"tie_{i}"]],
            "incident_cap": data["incident_cap"],
            "backfill": data["backfill"],
        }
