"""Deadline reminders: 7 days and 1 day before a party's deadline (its extension counted),
and once when it has passed, to whoever has not submitted: the unit (self-report, step 三),
the province (provincial report), the lead department (its category's review, step 四) and,
for the rectification report (step 七), the unit and its lead department.

`kaohe remind` and the worker's daily run call ``send_deadline_reminders``; every notice
has a key, so running it again the same day (or twice a day) sends nothing new. Only active
rounds are looked at: a round being prepared has no deadlines yet, a closed one is over.
"""

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import LeadDepartment, Province, Unit
from kaohe.notifications.models import Kind
from kaohe.notifications.services import day_label, in_site_language, notify
from kaohe.rounds.models import Round, RoundStatus
from kaohe.submissions import deadlines
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport

WEEK_BEFORE, DAY_BEFORE = 7, 1
# An overdue notice goes out once, within a week of the deadline: a report that is weeks
# late is the office's business (the deadline page), not a reminder's.
OVERDUE_DAYS = 7
ACTOR = "kaohe remind"


def kind_for(days_left: int) -> str | None:
    if days_left < -OVERDUE_DAYS:
        return None
    if days_left < 0:
        return Kind.OVERDUE
    if days_left <= DAY_BEFORE:
        return Kind.DEADLINE_DAY
    if days_left <= WEEK_BEFORE:
        return Kind.DEADLINE_WEEK
    return None


@in_site_language
def send_deadline_reminders() -> int:
    """Remind every party of every active round; returns the notifications written."""
    total = 0
    for round_ in Round.objects.filter(status=RoundStatus.ACTIVE).order_by("year"):
        with transaction.atomic():
            sent = _round_reminders(round_)
            if sent:
                log_action("notifications.reminders.sent", actor_repr=ACTOR, target=round_,
                           data={"count": sent})
        total += sent
    return total


def _text(*, org, what: str, due, days: int) -> str:
    values = {"org": org, "what": what, "due": day_label(due), "days": days}
    if days < 0:
        return _("%(org)s：%(what)s已于%(due)s截止，目前尚未报送；如需延期请联系国务院扶贫办。"
                 ) % values
    if days == 0:
        return _("%(org)s：%(what)s今天（%(due)s）截止，目前尚未报送。") % values
    return _("%(org)s：%(what)s将于%(due)s截止，还有%(days)s天，目前尚未报送。") % values


def _remind(round_, step, *, what: str, link: str, org, party: dict, notify_to: dict,
            key_extra: str = "") -> int:
    """Notify `notify_to` about `party`'s deadline of `step`, if one of the days is today."""
    from kaohe.lib import clock

    due = deadlines.deadline_for(step, **party)
    days = (due - clock.today()).days
    kind = kind_for(days)
    if kind is None:
        return 0
    (field, target), = notify_to.items()
    key = (f"{kind}:{round_.year}:{step.code}:{field}{target.pk}{key_extra}:"
           f"{due.isoformat()}")
    return notify(round_=round_, kind=kind, key=key, link=f"{link}?year={round_.year}",
                  text=_text(org=org, what=what, due=due, days=days), **notify_to)


def _round_reminders(round_) -> int:
    steps = {step.code: step for step in round_.steps.all()}
    year = {"year": round_.year}
    units = list(Unit.objects.filter(pairings__round=round_, active=True).distinct()
                 .select_related("category__lead_department"))
    sent = 0
    if (step := steps.get("self_report")) is not None:
        done = set(SelfReport.objects.filter(round=round_, status=ReportStatus.SUBMITTED)
                   .values_list("unit_id", flat=True))
        for unit in units:
            if unit.pk not in done:
                sent += _remind(round_, step, what=_("%(year)s年度本单位自评报告") % year,
                                link=reverse("submissions:self_reports"), org=unit,
                                party={"unit": unit}, notify_to={"unit": unit})
    if (step := steps.get("provincial_report")) is not None:
        for province in Province.objects.filter(counties__pairings__round=round_).distinct():
            expected = (round_.pairings.filter(county__province=province)
                        .values("unit").distinct().count())
            submitted = ProvincialReport.objects.filter(
                round=round_, province=province, status=ReportStatus.SUBMITTED).count()
            if submitted < expected:
                sent += _remind(round_, step, what=_("%(year)s年度省级总结报告") % year,
                                link=reverse("submissions:provincial_reports"), org=province,
                                party={"province": province},
                                notify_to={"province": province})
    if (step := steps.get("review")) is not None:
        sent += _review_reminders(round_, step, units)
    if (step := steps.get("rectification")) is not None:
        sent += _rectification_reminders(round_, step, units)
    return sent


def _review_reminders(round_, step, units) -> int:
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus

    submitted = set(CategorySubmission.objects.filter(
        round=round_, status=CategorySubmissionStatus.SUBMITTED)
        .values_list("lead_department_id", flat=True))
    leads = LeadDepartment.objects.filter(
        pk__in={unit.category.lead_department_id for unit in units}).exclude(pk__in=submitted)
    sent = 0
    for lead in leads:
        sent += _remind(round_, step, what=_("%(year)s年度本类别分类考核初步结果") % {
                            "year": round_.year},
                        link=reverse("reviews:category", kwargs={"lead_pk": lead.pk}),
                        org=lead, party={"lead_department": lead},
                        notify_to={"lead_department": lead})
    return sent


def _rectification_reminders(round_, step, units) -> int:
    """Due once the results are released: every unit with a released letter that has not
    submitted its rectification report, and its lead department."""
    from kaohe.grading.models import ResultSetStatus
    from kaohe.outcomes.models import Feedback, RectificationReport

    owing = set(Feedback.objects.filter(round=round_, result_set__status=ResultSetStatus.RELEASED)
                .values_list("unit_id", flat=True))
    owing -= set(RectificationReport.objects.filter(round=round_, submitted_at__isnull=False)
                 .values_list("unit_id", flat=True))
    sent = 0
    for unit in units:
        if unit.pk not in owing:
            continue
        sent += _remind(round_, step, what=_("%(year)s年度本单位整改报告") % {"year": round_.year},
                        link=reverse("outcomes:my_result"), org=unit, party={"unit": unit},
                        notify_to={"unit": unit})
        lead = unit.category.lead_department
        sent += _remind(round_, step,
                        what=_("%(unit)s的%(year)s年度整改报告") % {"unit": unit,
                                                                 "year": round_.year},
                        link=reverse("outcomes:rectification_detail",
                                     kwargs={"unit_pk": unit.pk}),
                        org=lead, party={"unit": unit}, notify_to={"lead_department": lead},
                        key_extra=f":unit{unit.pk}")
    return sent
