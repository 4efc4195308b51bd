"""What the launch services share: the refusal they raise, the check that a lead
department leads a ranked category, and whether a filing came after its step's due date."""

import datetime

from django.utils.translation import gettext as _

from kaohe.directory.models import LeadDepartment
from kaohe.lib.errors import ServiceError
from kaohe.rounds.models import Round


class LaunchError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


def ensure_ranked(lead_department: LeadDepartment) -> None:
    if not lead_department.categories.filter(ranked=True).exists():
        raise LaunchError(_("该部门不牵头分类考核。"))


def is_late(round: Round, step_code: str, day: datetime.date) -> bool:
    step = round.steps.filter(code=step_code).first()
    return step is not None and day > step.due
