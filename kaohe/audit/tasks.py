"""The daily anchor of the audit log (kaohe.audit.anchors), through the task queue.

`kaohe worker` anchors at start when the newest anchor is a day old or there is none, and
queues anchor_audit_log to run a day later; each run anchors and queues the next. Several
workers keep one queued run between them. Backends that cannot run a task later (the
tests' immediate backend) only anchor at the worker's start.
"""

import datetime

from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from kaohe.audit import anchors

ACTOR = "kaohe worker"


@task()
def anchor_audit_log() -> None:
    anchors.write_anchor(actor_repr=ACTOR)
    schedule_next_anchor()


def start_daily_anchors() -> None:
    anchors.anchor_if_due(actor_repr=ACTOR)
    schedule_next_anchor()


def schedule_next_anchor(now: datetime.datetime | None = None) -> None:
    """Queue the next anchor a day after the newest one, unless a run is already queued."""
    backend = anchor_audit_log.get_backend()
    if not backend.supports_defer or _already_queued(backend):
        return
    latest = anchors.latest_anchor()
    base = (latest.written_at if latest is not None else None) or now or timezone.now()
    anchor_audit_log.using(run_after=base + anchors.DAILY).enqueue()


def _already_queued(backend: object) -> bool:
    if not isinstance(backend, DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(task_path=anchor_audit_log.module_path,
                                       status=TaskResultStatus.READY).exists()
