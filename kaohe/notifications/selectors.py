"""Reads of notifications: always the user's own."""

from django.db.models import Count, Window

from kaohe.lib.memo import per_request
from kaohe.notifications.models import Notification


def notifications_of(user):
    return Notification.objects.filter(recipient=user)


def unread_of(user):
    return notifications_of(user).filter(read_at=None)


def notification_of(user, pk: int) -> Notification:
    """The user's own notification, else Notification.DoesNotExist (the view answers 404)."""
    return notifications_of(user).get(pk=pk)


@per_request
def unread_summary(user, newest: int) -> tuple[int, list[Notification]]:
    """(how many are unread, the newest `newest` of them) in one query: the navbar's count
    and the home page's panel both ask (read once per page view)."""
    rows = list(unread_of(user).annotate(unread_total=Window(Count("pk")))[:newest])
    return (rows[0].unread_total if rows else 0), rows
