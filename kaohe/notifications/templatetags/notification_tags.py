"""The navbar's unread count and the home page's notification panel: one query for both,
whatever the number of notifications."""

from django import template

from kaohe.notifications.selectors import unread_summary

register = template.Library()

PANEL_SIZE = 5


def _user(context):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user if user is not None and user.is_authenticated else None


@register.simple_tag(takes_context=True)
def unread_notification_count(context) -> int:
    user = _user(context)
    return unread_summary(user, PANEL_SIZE)[0] if user is not None else 0


@register.inclusion_tag("notifications/_panel_items.html", takes_context=True)
def notification_panel(context):
    user = _user(context)
    notices = unread_summary(user, PANEL_SIZE)[1] if user is not None else []
    return {"notices": notices, "request": context.get("request")}
