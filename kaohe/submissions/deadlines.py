"""When a step closes for one unit or province: its deadline, or the extension granted."""

import datetime

from kaohe.lib import clock
from kaohe.submissions.models import Extension


def deadline_for(step, *, unit=None, province=None) -> datetime.date:
    extensions = Extension.objects.filter(step=step)
    if unit is not None:
        extensions = extensions.filter(unit=unit)
    elif province is not None:
        extensions = extensions.filter(province=province)
    else:
        return step.due
    latest = extensions.order_by("-until").values_list("until", flat=True).first()
    return max(step.due, latest) if latest else step.due


def is_open(step, *, unit=None, province=None) -> bool:
    """Submissions are accepted until the end of the deadline day (the domain's clock)."""
    return clock.today() <= deadline_for(step, unit=unit, province=province)
