"""Reads of notifications: always the user's own."""

from kaohe.notifications.models import Notification


def notifications_of(user):
    return Notification.objects.filter(recipient=user)


def unread_of(user):
    return notifications_of(user).filter(read_at=None)


def notification_of(user, pk: int) -> Notification:
    """The user's own notification, else Notification.DoesNotExist (the view answers 404)."""
    return notifications_of(user).get(pk=pk)
