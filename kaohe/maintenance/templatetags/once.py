"""``{% once_token %}``: the one-time token of a form that creates something (see
kaohe.maintenance.once). A builtin tag: templates use it without ``{% load %}``."""

from django import template
from django.utils.html import format_html

from kaohe.maintenance.once import FIELD, new_token

register = template.Library()


@register.simple_tag
def once_token():
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())
