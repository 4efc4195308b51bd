"""Shared form behaviour: Bootstrap classes on the widgets, length limits that name the field."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext as _

if TYPE_CHECKING:  # the mixin goes on Django forms; mypy sees it as one
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class StyledFormMixin(_FormBase):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def style_fields(self) -> None:
        """Idempotent, so forms that add fields in __init__ call it again at the end."""
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            classes = widget.attrs.get("class", "").split()
            if css not in classes:
                widget.attrs["class"] = " ".join([*classes, css])


class NamedLimitsMixin(_FormBase):
    """Text over a field's max_length is refused, never cut, with a message that names the
    field, so that it reads the same as a message on the next page (kaohe.lib.http.
    show_form_errors). Covers fields added in __init__ too."""

    def full_clean(self) -> None:
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and field.max_length is not None:
                # Django fills in the numbers when it raises the error.
                label = str(field.label or "").replace("%", "%%")
                field.error_messages["max_length"] = _(
                    "“%(field)s”不能超过%%(limit_value)d字（现为%%(show_value)d字），"
                    "未保存；请删减后重新提交。") % {"field": label}
        super().full_clean()


def model_choice_field(form: forms.BaseForm, name: str) -> "forms.ModelChoiceField[Any]":
    """The form's field ``name``, a choice of model instances (such as a ModelForm's foreign
    key), typed as one: ``form.fields`` holds plain fields for a type checker."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a model choice field")
    return field
