"""The domain's calendar: what "today" is for deadlines, and "now" for timestamps."""

import contextlib
import contextvars
import datetime
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone


def today() -> datetime.date:
    if (day := _override.get()) is not None:
        return day
    if settings.KAOHE_TODAY:
        return datetime.date.fromisoformat(settings.KAOHE_TODAY)
    return timezone.localdate()


def is_simulated() -> bool:
    return _override.get() is not None or bool(settings.KAOHE_TODAY)


def now() -> datetime.datetime:
    """The application's "now" for every timestamp it writes or shows: the real time, or
    on a simulated day (KAOHE_TODAY, clock.on) that day at the real local time of day.

    Leases, heartbeats, rate limits, lockouts and session or one-time-code timing keep
    timezone.now(): they measure real elapsed time, not the domain's calendar."""
    real = timezone.now()
    if not is_simulated():
        return real
    local = timezone.localtime(real)
    simulated = datetime.datetime.combine(today(), local.time(), local.tzinfo)
    return simulated.astimezone(datetime.UTC)  # in UTC, as timezone.now() is


_override: contextvars.ContextVar[datetime.date | None] = contextvars.ContextVar(
    "kaohe_today", default=None)


@contextlib.contextmanager
def on(day: datetime.date) -> Iterator[None]:
    """Act as if today were `day` (the demo builder replays a round's schedule)."""
    token = _override.set(day)
    try:
        yield
    finally:
        _override.reset(token)
