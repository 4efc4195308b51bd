"""The team filing's rows of fields, written here rather than by a template a widget (issue 19:
a row has five fields, the form a dozen rows, and each widget's template costs more than the
rest of the page). The markup is Django's own for these widgets; any other widget is rendered
by Django."""

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html writes them (escaped; joined as plain text: a
    format_html a value cost more than the rest of the row)."""
    return "".join(
        f" {conditional_escape(name)}" if value is True
        else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
        for name, value in attrs.items() if value is not False)


@register.filter
def plain_widget(field: BoundField) -> SafeString:
    """``{{ field }}`` for a text, e-mail or select field, with the same markup."""
    widget = field.field.widget
    if field.field.localize or type(widget) not in (forms.TextInput, forms.EmailInput,
                                                    forms.Select):
        return field.as_widget()
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    name = conditional_escape(context["name"])
    if isinstance(widget, forms.Select):
        options = []
        for group_name, group_choices, _index in context["optgroups"]:
            if group_name:  # not offered by the rows; Django's markup otherwise
                return field.as_widget()
            options += [f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                        f'{_attrs(option["attrs"])}>{conditional_escape(option["label"])}'
                        f'</option>\n' for option in group_choices]
        return mark_safe(  # noqa: S308 - every part escaped above
            f'<select name="{name}"{_attrs(context["attrs"])}>{"".join(options)}\n</select>')
    value = context["value"]
    shown = f' value="{conditional_escape(str(value))}"' if value is not None else ""
    return mark_safe(  # noqa: S308 - every part escaped above
        f'<input type="{conditional_escape(context["type"])}" name="{name}"{shown}'
        f'{_attrs(context["attrs"])}>')
