"""What every outcomes service shares: the refusal they raise and the way they write a
day in a message (also used by the pages of kaohe.outcomes.views)."""

import datetime

from kaohe.lib.errors import ServiceError


class OutcomeError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


def day_label(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
