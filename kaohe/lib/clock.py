"""The domain's calendar: what "today" is for deadlines."""

import datetime

from django.conf import settings
from django.utils import timezone


def today() -> datetime.date:
    if settings.KAOHE_TODAY:
        return datetime.date.fromisoformat(settings.KAOHE_TODAY)
    return timezone.localdate()


def is_simulated() -> bool:
    return bool(settings.KAOHE_TODAY)
