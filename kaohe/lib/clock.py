"""The domain's calendar: what "today" is for deadlines."""

import contextlib
import contextvars
import datetime

from django.conf import settings
from django.utils import timezone


def today() -> datetime.date:
    if (day := _override.get()) is not None:
        return day
    if settings.KAOHE_TODAY:
        return datetime.date.fromisoformat(settings.KAOHE_TODAY)
    return timezone.localdate()


def is_simulated() -> bool:
    return bool(settings.KAOHE_TODAY)


_override: contextvars.ContextVar[datetime.date | None] = contextvars.ContextVar(
    "kaohe_today", default=None)


@contextlib.contextmanager
def on(day: datetime.date):
    """Act as if today were `day` (the demo builder replays a round's schedule)."""
    token = _override.set(day)
    try:
        yield
    finally:
        _override.reset(token)
