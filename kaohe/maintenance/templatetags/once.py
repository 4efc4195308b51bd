"""``{% once_token %}``: the one-time token of a form that creates something (see
kaohe.maintenance.once). A builtin tag: templates use it without ``{% load %}``."""

from django import template
from django.utils.html import format_html

from kaohe.maintenance.once import FIELD, new_token

register = template.Library()


@register.simple_tag
def once_token():
    # The year the form is rendered for goes with it ("" for the default round), so a year
    # chosen meanwhile in another tab does not change where it writes (kaohe.rounds.selection).
    from kaohe.rounds.selection import FORM_FIELD, explicit_round

    chosen = explicit_round()
    return format_html('<input type="hidden" name="{}" value="{}">'
                       '<input type="hidden" name="{}" value="{}">', FIELD, new_token(),
                       FORM_FIELD, chosen.year if chosen is not None else "")
