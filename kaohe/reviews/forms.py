"""The forms of the lead departments' desk and category page, the organization
department's checks and military inspection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kaohe.directory.models import County
from kaohe.lib.forms import NamedLimitsMixin, StyledFormMixin
from kaohe.lib.http import int_param
from kaohe.reviews.models import ReviewMethod, VerificationStatus
from kaohe.rounds.models import GRADE_CHOICES, Area, SeriousProblemKind


class AreaGradesForm(NamedLimitsMixin, forms.Form):
    """The desk's grades of a unit: ``grade-<area>`` and ``reason-<area>`` for each area of
    the round, and the revision the page was read at. An area without a grade is left as it
    is (a reason alone is ignored); that a grade needs its reason is the service's rule
    (area_grades_save)."""

    revision = forms.CharField(required=False)

    def __init__(self, *args: Any, areas: Iterable[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = list(areas)
        for area in self.areas:
            self.fields[f"grade-{area.code}"] = forms.ChoiceField(
                label=area.name, required=False, choices=GRADE_CHOICES,
                error_messages={"invalid_choice": gettext("“%(area)s”的等次无效。")
                                % {"area": area.name}})
            # Kept as typed, as the desk always saved it.
            self.fields[f"reason-{area.code}"] = forms.CharField(
                label=gettext("%(area)s评定理由") % {"area": area.name}, required=False,
                max_length=5000, strip=False)

    def clean_revision(self) -> int:
        # A page without a readable revision cannot show that it started from the latest
        # save: -1 matches no revision, so the service refuses it as stale.
        return int_param(self.cleaned_data["revision"])

    def grades(self) -> dict[str, tuple[str, str]]:
        """{area code: (grade, reason)} of the areas given a grade, for area_grades_save."""
        return {area.code: (grade, self.cleaned_data[f"reason-{area.code}"])
                for area in self.areas if (grade := self.cleaned_data[f"grade-{area.code}"])}


class ActivityForm(StyledFormMixin, forms.Form):
    method = forms.ChoiceField(label=_("方式"), choices=ReviewMethod.choices)
    held_on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    people = forms.CharField(label=_("参加人员"), max_length=300)
    note = forms.CharField(label=_("情况记录"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class VerificationForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("核实结果"), choices=VerificationStatus.choices)
    note = forms.CharField(label=_("说明"), required=False, max_length=2000)


class SubReportForm(StyledFormMixin, forms.Form):
    basic_situation = forms.CharField(label=_("考核基本情况"), required=False, max_length=20000,
                                      widget=forms.Textarea(attrs={"rows": 5}))
    problems = forms.CharField(label=_("突出问题与不足"), required=False, max_length=20000,
                               widget=forms.Textarea(attrs={"rows": 4}))
    suggestions = forms.CharField(label=_("意见与建议"), required=False, max_length=20000,
                                  widget=forms.Textarea(attrs={"rows": 4}))


class CategoryReportForm(NamedLimitsMixin, SubReportForm):
    overview = forms.CharField(label=_("考核基本情况"), required=False, max_length=50000,
                               widget=forms.Textarea(attrs={"rows": 6}))

    field_order = ["overview", "problems", "suggestions"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["basic_situation"]


class _KindField(forms.ModelChoiceField):
    """A kind is offered by its name."""

    def label_from_instance(self, obj: SeriousProblemKind) -> str:
        return obj.name


class ProblemForm(StyledFormMixin, forms.Form):
    kind = _KindField(label=_("突出问题类别"), queryset=None)
    county: forms.ModelChoiceField[County] = forms.ModelChoiceField(
        label=_("县"), queryset=None, required=False)
    description = forms.CharField(label=_("情况说明"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    evidence_note = forms.CharField(label=_("依据材料"), max_length=300, required=False)

    def __init__(self, *args: Any, kinds: QuerySet[SeriousProblemKind],
                 counties: QuerySet[County], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ModelChoiceField)
        kind.queryset = kinds
        county = self.fields["county"]
        assert isinstance(county, forms.ModelChoiceField)
        county.queryset = counties


class IncidentForm(StyledFormMixin, forms.Form):
    county: forms.ModelChoiceField[County] = forms.ModelChoiceField(
        label=_("县"), queryset=None)
    description = forms.CharField(label=_("情况说明"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    evidence_note = forms.CharField(label=_("依据材料"), max_length=300, required=False)

    def __init__(self, *args: Any, counties: QuerySet[County], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        county = self.fields["county"]
        assert isinstance(county, forms.ModelChoiceField)
        county.queryset = counties


# Yes or no, chosen by the checker: nothing is pre-ticked, so an unchecked record is never
# saved as "in post" (or "not in post") by a careless click.
_YES_NO = [("on", _("是")), ("off", _("否"))]


class CadreCheckForm(StyledFormMixin, forms.Form):
    in_post = forms.TypedChoiceField(label=_("在岗"), choices=_YES_NO, widget=forms.RadioSelect,
                                     coerce=lambda value: value == "on",
                                     error_messages={"required": _("请选择是否在岗。")})
    in_charge = forms.TypedChoiceField(label=_("分管或协助分管扶贫工作"), choices=_YES_NO,
                                       widget=forms.RadioSelect,
                                       coerce=lambda value: value == "on",
                                       error_messages={"required": _(
                                           "请选择是否分管或协助分管扶贫工作。")})
    nominal_only = forms.BooleanField(label=_("挂名无实、走形式"), required=False)
    discipline_issue = forms.BooleanField(label=_("出现违纪违规问题"), required=False)
    note = forms.CharField(label=_("核查情况"), required=False, max_length=2000)
    raise_problem = forms.BooleanField(label=_("作为该单位的突出问题报送"), required=False)


class InspectionForm(StyledFormMixin, forms.Form):
    inspected_on = forms.DateField(label=_("检查日期"),
                                   widget=forms.DateInput(attrs={"type": "date"}))
    inspectors = forms.CharField(label=_("检查人员"), max_length=300)
    findings = forms.CharField(label=_("检查情况"), max_length=20000,
                               widget=forms.Textarea(attrs={"rows": 4}))
    report = forms.CharField(label=_("检查督导报告"), required=False, max_length=50000,
                             widget=forms.Textarea(attrs={"rows": 4}))


class WithdrawForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=500)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("退回原因"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
