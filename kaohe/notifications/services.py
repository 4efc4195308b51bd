"""Telling the people of a unit, province or lead department that something needs them.

``notify`` writes one in-app notification per active user of the organization, once per
``key``, in the caller's transaction; the e-mails to those who have an address go out
through the task queue after the transaction commits (a rolled-back act tells nobody).
Callers word the text: it names the organization and never carries a grade, rank or count.
"""

import datetime
import functools

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kaohe.accounts.models import User
from kaohe.lib import clock
from kaohe.notifications.models import Notification
from kaohe.rounds.models import RoundStatus


def in_site_language(function):
    """Word notices in the installation's language, not in that of whoever acted (an
    office user reading the English pages releases results to Chinese-reading units)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return function(*args, **kwargs)
    return wrapper


def recipients(*, unit=None, province=None, lead_department=None):
    """The active users of exactly one organization."""
    scope = {"unit": unit, "province": province, "lead_department": lead_department}
    named = {field: value for field, value in scope.items() if value is not None}
    if len(named) != 1:
        raise ValueError("notify exactly one organization")
    return User.objects.filter(is_active=True, **named)


def notify(*, round_, kind: str, text: str, link: str, key: str, unit=None, province=None,
           lead_department=None) -> int:
    """Notify the organization's users who have not had this key yet; returns how many.

    Nothing is sent about a closed round (it is read-only and its work is over)."""
    if round_.status == RoundStatus.CLOSED:
        return 0
    users = list(recipients(unit=unit, province=province, lead_department=lead_department)
                 .values_list("pk", flat=True))
    told = set(Notification.objects.filter(recipient__in=users, key=key)
               .values_list("recipient_id", flat=True))
    now = clock.now()
    created = Notification.objects.bulk_create(
        [Notification(recipient_id=pk, kind=kind, text=text, link=link, key=key, created=now)
         for pk in users if pk not in told])
    ids = [n.pk for n in created]
    if ids:
        from kaohe.notifications.tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.enqueue(ids))
    return len(ids)


def day_label(day: datetime.date) -> str:
    return _("%(year)s年%(month)s月%(day)s日") % {"year": day.year, "month": day.month,
                                                "day": day.day}


@transaction.atomic
def mark_read(*, notification: Notification, user) -> Notification:
    """Mark the user's own notification read (the caller fetched it within the user's)."""
    if notification.recipient_id != user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = clock.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at=None).update(
        read_at=clock.now())
