"""When a step closes for one unit, province or lead department: its deadline, or the
extension the office granted; and whether a submission came after the step's due date."""

import datetime

from kaohe.lib import clock
from kaohe.lib.memo import per_request
from kaohe.submissions.models import Extension


def _party(*, unit=None, province=None, lead_department=None) -> dict | None:
    if unit is not None:
        return {"unit": unit}
    if province is not None:
        return {"province": province}
    if lead_department is not None:
        return {"lead_department": lead_department}
    return None


@per_request
def extension_for(step, *, unit=None, province=None, lead_department=None) -> Extension | None:
    """The extension that sets the party's deadline (the latest one), if any."""
    party = _party(unit=unit, province=province, lead_department=lead_department)
    if party is None:
        return None
    return (Extension.objects.filter(step=step, **party).select_related("granted_by")
            .order_by("-until", "-created_at").first())


def deadline_for(step, *, unit=None, province=None, lead_department=None) -> datetime.date:
    extension = extension_for(step, unit=unit, province=province,
                              lead_department=lead_department)
    return max(step.due, extension.until) if extension else step.due


def is_open(step, *, unit=None, province=None, lead_department=None) -> bool:
    """Submissions are accepted until the end of the deadline day (the domain's clock)."""
    return clock.today() <= deadline_for(step, unit=unit, province=province,
                                         lead_department=lead_department)


def late_mark(step, *, unit=None, province=None, lead_department=None
              ) -> tuple[bool, Extension | None]:
    """(submitted late, the extension it used) for a submission made today: late when after
    the step's own due date; the extension is the one in force for the party, if any."""
    if clock.today() <= step.due:
        return False, None
    return True, extension_for(step, unit=unit, province=province,
                               lead_department=lead_department)
