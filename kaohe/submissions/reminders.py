"""Who still owes a report, for the reminders on home pages (the notifications app sends
the e-mails and in-app notices: kaohe.notifications.reminders)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from kaohe.accounts.scope import Reach, Scope
from kaohe.lib import clock
from kaohe.rounds.models import Step
from kaohe.rounds.selectors import step_of
from kaohe.submissions import deadlines
from kaohe.submissions.models import ReportStatus, SelfReport
from kaohe.submissions.selectors import provincial_report_counts

REMIND_DAYS = 14


@dataclass
class Reminder:
    message: str
    days_left: int
    urgent: bool


def reminder_for(user, round_, *, steps=None, released=None,
                 unit_results=None) -> Reminder | None:
    """The reminder a unit or province user sees on the home page, if any. A unit is also
    reminded of its rectification report (kaohe.outcomes.reminders); once a round's results
    are released its self-report is no longer asked for, and of two reminders the one due
    sooner is given. What the caller has read already may be given (issue 19): ``steps``,
    the round's steps; ``released``, whether its results are released; ``unit_results``,
    the unit's released results (kaohe.outcomes.selectors.released_results_of)."""
    if Scope.of(user).reach is not Reach.UNIT:
        return _report_reminder(user, round_, steps)
    from kaohe.grading.selectors import released_version
    from kaohe.outcomes.reminders import rectification_reminder

    if released is None:
        released = round_ is not None and released_version(round_) is not None
    # Once the results are out the self-report is no longer asked for (nor read).
    reminder = None if round_ is not None and released else _report_reminder(user, round_, steps)
    if unit_results is None:
        rectification = rectification_reminder(user.unit, remind_days=REMIND_DAYS)
    else:
        # Its newest released result's round is the one it rectifies (unit_results_round).
        rectification = rectification_reminder(
            user.unit, remind_days=REMIND_DAYS,
            results_round=unit_results[0]["round"] if unit_results else None)
    if rectification is None:
        return reminder
    _round, message, days, urgent = rectification
    if reminder is not None and reminder.days_left <= days:
        return reminder
    return Reminder(message, days, urgent)


def _step(round_, code, steps):
    step = (step_of(round_, code) if steps is None
            else next((s for s in steps if s.code == code), None))
    if step is None:
        raise Step.DoesNotExist(code)
    return step


def _report_reminder(user, round_, steps=None) -> Reminder | None:
    if round_ is None:
        return None
    reach = Scope.of(user).reach
    if reach is Reach.UNIT:
        step = _step(round_, "self_report", steps)
        done = SelfReport.objects.filter(round=round_, unit=user.unit,
                                         status=ReportStatus.SUBMITTED).exists()
        due = deadlines.deadline_for(step, unit=user.unit)
        what = _("本单位自评报告")
        counts = None
    elif reach is Reach.PROVINCE:
        step = _step(round_, "provincial_report", steps)
        submitted, expected = provincial_report_counts(round_, user.province)
        done = submitted >= expected
        due = deadlines.deadline_for(step, province=user.province)
        what = _("省级总结报告")
        # How many are still due, not "submitted 9/27 ... not submitted" (issue 21).
        counts = {"left": expected - submitted, "done": submitted, "total": expected}
    else:
        return None
    days = (due - clock.today()).days
    if done or days > REMIND_DAYS:
        return None
    values = {"what": what, "due": f"{due.year}年{due.month}月{due.day}日", "days": days}
    if counts is not None:
        values.update(counts)
        if days < 0:
            return Reminder(_("%(what)s已于%(due)s截止，还有%(left)s份未报送（已报送%(done)s份，"
                              "共%(total)s份）；如需延期请联系国务院扶贫办。") % values, days, True)
        return Reminder(_("%(what)s还有%(left)s份未报送（已报送%(done)s份，共%(total)s份），"
                          "距截止（%(due)s）还有%(days)s天。") % values, days, days <= 3)
    if days < 0:
        return Reminder(
            _("%(what)s已于%(due)s截止，尚未报送；如需延期请联系国务院扶贫办。") % values,
            days, True)
    return Reminder(_("%(what)s尚未报送，距截止（%(due)s）还有%(days)s天。") % values, days,
                    days <= 3)

