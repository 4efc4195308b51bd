"""Deadline extensions: the office grants a step's extension to the party the step is for
(a unit, a province or a lead department), with a reason kept in the audit log.
"""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import User
from kaohe.audit.services import log_action
from kaohe.directory.models import LeadDepartment, Province, Unit
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Step
from kaohe.submissions.models import Extension
from kaohe.submissions.services.errors import SubmissionError


@transaction.atomic
def extension_grant(*, step: Step, actor: User, until: datetime.date, reason: str,
                    unit: Unit | None = None, province: Province | None = None,
                    lead_department: LeadDepartment | None = None) -> Extension:
    ensure_round_writable(step.round_id, error=SubmissionError)
    parties = {"unit": unit, "province": province, "lead_department": lead_department}
    given = [name for name, value in parties.items() if value is not None]
    if len(given) != 1:
        raise SubmissionError(_("请指定一个单位、一个省份或一个牵头部门。"))
    if given[0] != extension_party(step):
        raise SubmissionError(_("“%(step)s”不能为该对象延期。") % {"step": step.name})
    if until <= step.due:
        raise SubmissionError(_("延期日期应晚于原定完成时限。"))
    if not reason.strip():
        raise SubmissionError(_("请填写延期原因。"))
    if _feeds_results(step):
        from kaohe.grading.services import results_final

        if results_final(step.round_id):
            # A report submitted now would stand beside results that no longer change.
            raise SubmissionError(_("本年度考核结果已反馈，“%(step)s”不能再延期；如需更正，"
                                    "须由领导小组提出更正。") % {"step": step.name})
    extension = Extension.objects.create(step=step, until=until, reason=reason,
                                         granted_by=actor, **parties)
    log_action("deadline.extended", actor=actor, target=extension,
               data={"step": step.code, "party": str(extension.party),
                     "until": until.isoformat(), "reason": reason})
    return extension


def _feeds_results(step: Step) -> bool:
    """Whether the results are computed from the step's work: the steps before feedback
    (reports, review, deliberation), not the rectification that follows it."""
    feedback = Step.objects.filter(round_id=step.round_id, code="feedback").first()
    return feedback is not None and step.order < feedback.order


def extension_party(step: Step) -> str | None:
    """Who a step's extension is for: "unit", "province" or "lead_department"; None when
    the step closes nothing for anyone (the office's own steps, the leading group's).
    Step 五 (the working group's) is extended for a lead department whose results were
    returned: it is the deadline of their resubmission."""
    if step.code == "deliberation":
        return "lead_department"
    return {"unit": "unit", "province": "province",
            "lead_reviewer": "lead_department"}.get(step.actor)
