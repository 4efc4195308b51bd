"""E-mail of notifications, through the task queue (the worker, or at once in tests)."""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from kaohe.lib import clock
from kaohe.notifications.models import Notification
from kaohe.notifications.services import in_site_language


def absolute(link: str) -> str:
    return settings.KAOHE_BASE_URL.rstrip("/") + link


def message_for(notification: Notification) -> EmailMessage:
    user = notification.recipient
    subject = _("【定点扶贫考核】%(scope)s：%(kind)s") % {
        "scope": user.scope_label, "kind": notification.get_kind_display()}
    body = "\n\n".join([
        notification.text,
        _("请登录定点扶贫考核系统查看：%(url)s") % {"url": absolute(notification.link)},
        _("此邮件由系统自动发送，请勿回复。"),
    ])
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                        to=[user.email])


@task()
@in_site_language
def send_notification_emails(notification_ids: list[int]) -> int:
    """E-mail each notification not yet e-mailed to its recipient, if active and with an
    address; returns how many went out."""
    notifications = list(
        Notification.objects.filter(pk__in=notification_ids, emailed_at=None,
                                    recipient__is_active=True)
        .exclude(recipient__email="")
        .select_related("recipient__unit", "recipient__province",
                        "recipient__lead_department"))
    if not notifications:
        return 0
    with get_connection() as connection:
        for notification in notifications:
            connection.send_messages([message_for(notification)])
            Notification.objects.filter(pk=notification.pk).update(emailed_at=clock.now())
    return len(notifications)


# The daily reminder run, as the audit log's daily anchor (kaohe.audit.tasks): `kaohe worker`
# reminds at its start and queues the next run a day later; each run queues the next.
DAILY = datetime.timedelta(days=1)


@task()
def daily_reminders() -> int:
    from kaohe.notifications.reminders import send_deadline_reminders

    sent = send_deadline_reminders()
    schedule_next_reminders()
    return sent


def start_daily_reminders() -> int:
    from kaohe.notifications.reminders import send_deadline_reminders

    sent = send_deadline_reminders()
    schedule_next_reminders()
    return sent


def schedule_next_reminders() -> None:
    """Queue the next run a day from now, unless one is already queued (several workers
    keep one between them). Backends that cannot run a task later only remind at start."""
    backend = daily_reminders.get_backend()
    if not backend.supports_defer or _already_queued(backend):
        return
    # Real time: the worker's schedule, not the simulated day of the demo.
    daily_reminders.using(run_after=timezone.now() + DAILY).enqueue()


def _already_queued(backend) -> bool:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(backend, DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(task_path=daily_reminders.module_path,
                                       status=TaskResultStatus.READY).exists()
