from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kaohe.launch.models import Body, Level, Position
from kaohe.lib.forms import StyledFormMixin, model_choice_field
from kaohe.rounds.models import IndicatorItem

TEAM_ROWS = 12  # rows offered on the filing form: about ten people, and some room
MAX_ROWS = 30


class WorkingGroupMemberForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    organization = forms.CharField(label=_("工作单位"), max_length=100)
    post = forms.CharField(label=_("职务"), max_length=100)
    position = forms.ChoiceField(label=_("组内职务"), choices=Position.choices,
                                 initial=Position.MEMBER)
    body = forms.ChoiceField(label=_("所属部门"), choices=Body.choices)


class TeamMemberRowForm(StyledFormMixin, forms.Form):
    """One row of the team filing; a row left blank is skipped."""

    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    post = forms.CharField(label=_("职务"), max_length=100, required=False)
    level = forms.ChoiceField(label=_("职级"), required=False,
                              choices=[("", "——"), *Level.choices],
                              widget=forms.Select(attrs={"class": "kh-select-level"}))
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data is None or self.is_blank():
            return data
        for name in ("name", "level", "email"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("请填写此项。"))
        return data

    def is_blank(self) -> bool:
        return not any((self.cleaned_data.get(name) or "").strip()
                       for name in self.fields)


def team_row_forms(data: Any = None, *,
                   initial: list[dict[str, Any]] | None = None) -> list[TeamMemberRowForm]:
    initial = initial or []
    if data is not None:
        try:
            rows = int(data.get("rows", TEAM_ROWS))
        except ValueError:
            rows = TEAM_ROWS
        rows = max(1, min(rows, MAX_ROWS))
        return [TeamMemberRowForm(data, prefix=f"m{i}") for i in range(rows)]
    rows = min(max(TEAM_ROWS, len(initial) + 2), MAX_ROWS)
    return [TeamMemberRowForm(prefix=f"m{i}", initial=initial[i] if i < len(initial) else None)
            for i in range(rows)]


class PlanForm(StyledFormMixin, forms.Form):
    document = forms.FileField(label=_("方案文件（PDF、DOC、DOCX）"))
    key_points = forms.CharField(label=_("方案要点"), max_length=20000,
                                 widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document"].widget.attrs["accept"] = ".pdf,.doc,.docx"


class _SubItemField(forms.ModelChoiceField):
    """A sub-item of the innovation indicator is offered by its name."""

    def label_from_instance(self, obj: IndicatorItem) -> str:
        return obj.name


class RefinedItemForm(StyledFormMixin, forms.Form):
    item = _SubItemField(label=_("工作创新子项"), queryset=None)
    name = forms.CharField(label=_("细化内容"), max_length=200)
    description = forms.CharField(label=_("说明"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, items: QuerySet[IndicatorItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "item").queryset = items


class RefinedItemEditForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("细化内容"), max_length=200)
    description = forms.CharField(label=_("说明"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class SessionForm(StyledFormMixin, forms.Form):
    held_on = forms.DateField(label=_("培训日期"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("地点"), max_length=200)
    topic = forms.CharField(label=_("培训内容"), max_length=300)


class MaterialForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=_("培训材料"))
