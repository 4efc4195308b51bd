"""The rectification report's reminder: due within two weeks, overdue, or sent back."""

from typing import Any

from django.utils.translation import gettext as _

from kaohe.lib import clock
from kaohe.outcomes.selectors import needs_revision, rectification_report_of, unit_results_round
from kaohe.rounds.models import RoundStatus
from kaohe.rounds.selectors import step_of
from kaohe.submissions import deadlines

_LOOK_UP = object()


def rectification_reminder(unit, *, remind_days: int, results_round: Any = _LOOK_UP):
    """(round, message, days left, urgent) for the unit's rectification report, or None.

    Due: the results of the round are released and the report is not submitted, with at
    most `remind_days` left (or past the deadline). Sent back: some item was found 整改不到位
    and the unit has not submitted again (no deadline; urgent). ``results_round``: the
    unit's unit_results_round, if the caller has it (None: none)."""
    round_ = unit_results_round(unit) if results_round is _LOOK_UP else results_round
    if round_ is None or round_.status == RoundStatus.CLOSED:
        return None
    report = rectification_report_of(round_, unit)
    if report is not None and report.submitted_at is not None:
        if needs_revision(report):
            return (round_, _("整改报告有事项被认定整改不到位，请修改后重新报送。"), 0, True)
        return None
    step = step_of(round_, "rectification")
    if step is None:
        return None
    due = deadlines.deadline_for(step, unit=unit)
    days = (due - clock.today()).days
    if days > remind_days:
        return None
    values = {"due": f"{due.year}年{due.month}月{due.day}日", "days": days}
    if days < 0:
        return (round_, _("本单位整改报告已于%(due)s截止，尚未报送；如需延期请联系国务院扶贫办。")
                % values, days, True)
    return (round_, _("本单位整改报告尚未报送，距截止（%(due)s）还有%(days)s天。") % values,
            days, days <= 3)
