"""The team filing's rows of fields, written here rather than by a template a widget (issue 19:
a row has five fields, the form a dozen rows, and each widget's template costs more than the
rest of the page). The markup is Django's own for these widgets; any other widget is rendered
by Django."""

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


def _attrs(attrs: dict) -> SafeString:
    """As django/forms/widgets/attrs.html writes them."""
    return format_html_join("", "{}", (
        (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value)),)
        for name, value in attrs.items() if value is not False))


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
    if isinstance(widget, forms.Select):
        options = []
        for group_name, group_choices, _index in context["optgroups"]:
            if group_name:  # not offered by the rows; Django's markup otherwise
                return field.as_widget()
            options += [(str(option["value"]), _attrs(option["attrs"]), option["label"])
                        for option in group_choices]
        return format_html('<select name="{}"{}>{}\n</select>', context["name"],
                           _attrs(context["attrs"]),
                           format_html_join("", '\n  <option value="{}"{}>{}</option>\n',
                                            options))
    value = context["value"]
    shown = format_html(' value="{}"', str(value)) if value is not None else ""
    return format_html('<input type="{}" name="{}"{}{}>', context["type"], context["name"],
                       shown, _attrs(context["attrs"]))
