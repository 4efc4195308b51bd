"""What is due from the signed-in user, by when, and which of it is late (issue 21).

A read only: for a user and the chosen round at the domain's "today" (kaohe.lib.clock), the
to-do items of the user's duties (``DUTIES``, one list per role, chosen by capability) — each
with its text, the deadline of its step (with the extension the office granted, where one
applies), a link and a late flag — and the step of the plan's seven the round is at. The
queries are a fixed number per role: counts are aggregates, never a query per unit.

Its length (over 400 lines) is one function per role over a shared deadline helper: a list
read straight down, role by role.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from kaohe.accounts.capabilities import (
    APPROVE_RESULTS,
    CHECK_CADRES,
    EDIT_PROVINCIAL_REPORT,
    EDIT_SELF_REPORT,
    INSPECT_MILITARY,
    MANAGE_ACCOUNTS,
    MANAGE_ROLES,
    MANAGE_ROUNDS,
    REVIEW_UNITS,
    RUN_REVIEW,
    VIEW_ROUND,
    has_capability,
)
from kaohe.accounts.models import User
from kaohe.lib import clock
from kaohe.rounds.models import Round, RoundStatus, Step
from kaohe.rounds.selectors import steps_of

if TYPE_CHECKING:
    from kaohe.directory.models import LeadDepartment, Unit
    from kaohe.grading.models import ResultSet

# The statuses of a version still in play (a superseded or abandoned one is history).
_LIVE = ("draft", "returned", "submitted", "approved", "released")


@dataclass(frozen=True)
class Todo:
    code: str                       # stable, for tests and anchors
    text: str                       # what is due, in the reader's language
    url: str
    due: datetime.date | None = None
    late: bool = False
    detail: str = ""

    @property
    def days_left(self) -> int | None:
        return None if self.due is None else (self.due - clock.today()).days

    @property
    def days_late(self) -> int:
        return (clock.today() - self.due).days if self.late and self.due is not None else 0


@dataclass
class TimelineNode:
    number: str
    name: str
    steps: list[Step]
    state: str                      # "done", "current" or "upcoming"

    @property
    def is_current(self) -> bool:
        return self.state == "current"

    # The dates as the page writes them, not by a date filter per step (issue 19).
    @property
    def due_display(self) -> str:
        """The deadline of a node of one step (Y年n月j日)."""
        return _day(self.steps[0].due)

    @property
    def step_dates(self) -> list[tuple[str, str]]:
        """Each step's name and deadline (n月j日), for a node of several."""
        return [(s.name, f"{s.due.month}月{s.due.day}日") for s in self.steps]


@dataclass
class Panel:
    items: list[Todo] = field(default_factory=list)
    current: Step | None = None     # the step the round is at
    timeline: list[TimelineNode] = field(default_factory=list)
    today: datetime.date | None = None
    # What the panel read of the round, for the rest of the home page (issue 19): its steps
    # and the statuses of its live result sets; None when not read.
    steps: list[Step] | None = None
    result_statuses: set[str] | None = None

    @property
    def current_node(self) -> TimelineNode | None:
        return next((node for node in self.timeline if node.is_current), None)

    @property
    def late_count(self) -> int:
        return sum(1 for item in self.items if item.late)


@dataclass
class _Stage:
    """What the round's state says, read once for every role."""

    round: Round
    steps: dict[str, Step]
    today: datetime.date
    latest: ResultSet | None        # the newest live result set (snapshots deferred)
    released: ResultSet | None      # the released version in force
    versions: list[ResultSet] = field(default_factory=list)  # the live ones, newest first

    @property
    def results_out(self) -> bool:
        return self.released is not None

    def due(self, code: str) -> datetime.date | None:
        step = self.steps.get(code)
        return step.due if step is not None else None

    def item(self, code: str, text: str, url: str, *, due: datetime.date | None = None,
             detail: str = "", done_late: bool | None = None) -> Todo:
        late = due is not None and self.today > due if done_late is None else done_late
        return Todo(code=code, text=text, url=url, due=due, late=late, detail=detail)


def _stage(round_: Round) -> _Stage:
    from kaohe.grading.models import SNAPSHOTS, ResultSet, ResultSetStatus

    versions = list(ResultSet.objects.filter(round=round_, status__in=_LIVE)
                    .defer(*SNAPSHOTS).order_by("-version"))
    released = next((v for v in versions if v.status == ResultSetStatus.RELEASED), None)
    # A version computed after release belongs to a correction: it is the one in play.
    latest = versions[0] if versions else None
    return _Stage(round=round_, steps={s.code: s for s in steps_of(round_)},
                  today=clock.today(), latest=latest, released=released, versions=versions)


# The current step -------------------------------------------------------------------------

def current_step(round_: Round, stage: _Stage | None = None) -> Step | None:
    """The step of the plan the round is at: the dated step (the first whose deadline has
    not passed), held back while the work of an earlier step is unfinished and moved on once
    a later step's work has begun — results released: 七; a version before or after the
    leading group's approval: 六; a version computed, or every category in: 五."""
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus

    stage = stage or _stage(round_)
    steps = list(stage.steps.values())
    if not steps:
        return None
    order = {s.code: i for i, s in enumerate(steps)}
    dated = next((i for i, s in enumerate(steps) if s.due >= stage.today), len(steps) - 1)
    status = stage.latest.status if stage.latest is not None else None
    if stage.results_out:
        # A correction's versions do not move the round back: rectification goes on.
        floor = cap = order.get("rectification")
    elif status in ("submitted", "approved"):
        floor = cap = order.get("feedback")
    elif status is not None:
        floor = cap = order.get("deliberation")
    else:
        leads = _expected_leads(round_)
        submitted = CategorySubmission.objects.filter(
            round=round_, lead_department__in=leads,
            status=CategorySubmissionStatus.SUBMITTED).count()
        # Every category in: step 四 is over whatever the date; else it goes on.
        all_in = submitted > 0 and submitted >= leads.count()
        floor = order.get("deliberation") if all_in else None
        cap = order.get("deliberation" if all_in else "review")
    index = dated
    if cap is not None:
        index = min(index, cap)
    if floor is not None:
        index = max(index, floor)
    return steps[index]


def _expected_leads(round_: Round) -> QuerySet[LeadDepartment]:
    """The lead departments with ranked units to assess in the round."""
    from kaohe.directory.models import LeadDepartment

    return LeadDepartment.objects.filter(
        categories__ranked=True, categories__units__active=True,
        categories__units__pairings__round=round_).distinct()


def timeline(round_: Round, current: Step | None,
             steps: Iterable[Step] | None = None) -> list[TimelineNode]:
    """The plan's seven steps: steps numbered as parts of one (三)1 and (三)2 make one node."""
    nodes: list[TimelineNode] = []
    keys: list[str] = []
    for step in (steps if steps is not None else round_.steps.all()):
        key = re.sub(r"\d+$", "", step.number) if step.number else step.code
        if keys and keys[-1] == key:
            node = nodes[-1]
            node.steps.append(step)
            node.name = step.heading or node.name
        else:
            keys.append(key)
            nodes.append(TimelineNode(number=key, name=step.name, steps=[step],
                                      state="upcoming"))
    seen_current = False
    for node in nodes:
        if current is not None and any(s.pk == current.pk for s in node.steps):
            node.state, seen_current = "current", True
        elif not seen_current and current is not None:
            node.state = "done"
    return nodes


# Items per duty ---------------------------------------------------------------------------

def panel_for(user: User, round_: Round | None) -> Panel:
    """The to-do items of `user` in `round_` and where the round is."""
    panel = Panel(today=clock.today())
    if not has_capability(user, VIEW_ROUND):
        # The administrators (三员) take no part in the round: their duties are accounts.
        panel.items = _administration(user)
        return panel
    if round_ is None:
        return panel
    stage = _stage(round_)
    panel.current = current_step(round_, stage)
    panel.steps = list(stage.steps.values())
    panel.result_statuses = {v.status for v in stage.versions}
    panel.timeline = timeline(round_, panel.current, panel.steps)
    if round_.status != RoundStatus.ACTIVE:
        return panel  # a closed round is read-only; one being prepared asks nothing yet
    items = [item for capability, duties in DUTIES if has_capability(user, capability)
             for item in duties(user, stage)]
    # Late first, then the nearest deadline, then those without one.
    panel.items = sorted(items, key=lambda i: (not i.late, i.due or datetime.date.max))
    return panel


def _day(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _unit(user: User, stage: _Stage) -> list[Todo]:
    from kaohe.outcomes.selectors import released_feedback
    from kaohe.submissions import deadlines
    from kaohe.submissions.models import ReportStatus, SelfReport

    unit, round_ = user.unit, stage.round
    if unit is None or not unit.active:
        return []
    items: list[Todo] = []
    if not stage.results_out and "self_report" in stage.steps:
        report = SelfReport.objects.filter(round=round_, unit=unit).only("status").first()
        if report is None or report.status != ReportStatus.SUBMITTED:
            due = deadlines.deadline_for(stage.steps["self_report"], unit=unit)
            if report is not None and report.status == ReportStatus.RETURNED:
                text = _("自评报告已被牵头部门退回修改，请修改后重新报送")
            else:
                text = _("填报本单位自评报告（附证明材料），报送牵头部门并抄送国务院扶贫办")
            items.append(stage.item("self_report", text, reverse("submissions:self_reports"),
                                    due=due))
    if stage.released is not None:
        # Its letter of the version in force (read once per page: the home page shows it).
        feedback = released_feedback(round_, unit)
        if feedback is not None and feedback.result_set_id == stage.released.pk:
            items += _rectification(unit, stage)
    else:
        # The previous year's rectification goes on while the next round starts.
        from kaohe.outcomes.selectors import unit_results_round

        earlier = unit_results_round(unit)
        if earlier is not None and earlier.pk != round_.pk and \
                earlier.status == RoundStatus.ACTIVE:
            items += _rectification(unit, _stage(earlier), year=earlier.year)
    return items


def _rectification(unit: Unit, stage: _Stage, *, year: int | None = None) -> list[Todo]:
    from kaohe.outcomes.selectors import needs_revision, rectification_report_of
    from kaohe.submissions import deadlines

    round_ = stage.round
    if "rectification" not in stage.steps:
        return []
    url = reverse("outcomes:my_result") + f"?year={round_.year}"
    prefix = _("%(year)s年度：") % {"year": year} if year else ""
    report = rectification_report_of(round_, unit)
    if report is None or report.submitted_at is None:
        due = deadlines.deadline_for(stage.steps["rectification"], unit=unit)
        return [stage.item("rectification", prefix + _(
            "对照反馈意见形成整改报告，同时报送牵头部门和国务院扶贫办"), url, due=due)]
    if needs_revision(report):
        return [stage.item("rectification", prefix + _(
            "整改报告有事项被认定整改不到位，请修改后重新报送"), url, done_late=False)]
    return []


def _province(user: User, stage: _Stage) -> list[Todo]:
    from kaohe.directory.models import Pairing
    from kaohe.submissions import deadlines
    from kaohe.submissions.models import ProvincialReport, ReportStatus

    round_, province = stage.round, user.province
    if stage.results_out or "provincial_report" not in stage.steps or province is None:
        return []
    expected = (Pairing.objects.filter(round=round_, county__province=province, unit__active=True)
                .values("unit").distinct().count())
    submitted = ProvincialReport.objects.filter(round=round_, province=province,
                                                unit__active=True,
                                                status=ReportStatus.SUBMITTED).count()
    left = expected - submitted
    if left <= 0:
        return []
    due = deadlines.deadline_for(stage.steps["provincial_report"], province=province)
    text = _("报送省级总结报告（经省级领导小组审定）：还有%(left)s份未报送，共%(total)s份") % {
        "left": left, "total": expected}
    return [stage.item("provincial_report", text, reverse("submissions:provincial_reports"),
                       due=due)]


def _lead_department(user: User, stage: _Stage) -> list[Todo]:
    from kaohe.directory.models import Unit
    from kaohe.launch.models import CategoryPlan, TeamFiling
    from kaohe.outcomes.models import RectificationItem, Summoner, Summons
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus, SubReport
    from kaohe.reviews.services import review_deadline
    from kaohe.submissions.models import ReportStatus, SelfReport

    round_, lead = stage.round, user.lead_department
    if lead is None:
        return []
    units = Unit.objects.filter(category__lead_department=lead, category__ranked=True,
                                active=True)
    total = units.count()
    if total == 0:
        return []
    items: list[Todo] = []
    if not stage.results_out:
        # Its state, not the grades it submitted (issue 19: the snapshot of a category of
        # 1,050 units is 1.3 MB).
        submission = CategorySubmission.objects.filter(
            round=round_, lead_department=lead).only("status", "returned_reason").first()
        if submission is not None and submission.status == CategorySubmissionStatus.SUBMITTED:
            return items
        # Steps 一 to 四 are the lead department's until its results are submitted.
        launch_url = reverse("launch:lead", args=[lead.pk])
        due = stage.due("launch")
        if not TeamFiling.objects.filter(round=round_, lead_department=lead).exists():
            items.append(stage.item("launch_team", _("报备考核工作小组成员名单和联络员"),
                                    launch_url, due=due))
        if not CategoryPlan.objects.filter(round=round_, lead_department=lead).exists():
            items.append(stage.item("launch_plan", _("制定分类考核具体方案，报考核工作组备案"),
                                    launch_url, due=due))
        if "review" in stage.steps:
            blank = Q(basic_situation__regex=r"^\s*$") | Q(problems__regex=r"^\s*$") | Q(
                suggestions__regex=r"^\s*$")
            written = (SubReport.objects.filter(review__round=round_, review__unit__in=units)
                       .exclude(blank).count())
            received = SelfReport.objects.filter(round=round_, unit__in=units,
                                                 status=ReportStatus.SUBMITTED).count()
            due = review_deadline(round_, lead)
            url = reverse("reviews:category", args=[lead.pk])
            detail = _("已收到自评报告%(received)s/%(total)s份；牵头部门不向被考核单位反馈考核"
                       "情况和结果。") % {"received": received, "total": total}
            if submission is not None and submission.status == CategorySubmissionStatus.RETURNED:
                text = _("初步考核结果被考核工作组退回，请修改后重新报送（考核子报告%(done)s/"
                         "%(total)s）") % {"done": written, "total": total}
                detail = _("退回理由：%(reason)s") % {"reason": submission.returned_reason}
            else:
                text = _("分类考核：形成考核子报告（已完成%(done)s/%(total)s）和综合考核报告，"
                         "提出初步考核结果报考核工作组") % {"done": written, "total": total}
            items.append(stage.item("review", text, url, due=due, detail=detail))
        return items
    summons = Summons.objects.filter(round=round_, unit__in=units, held_on__isnull=True,
                                     summoner=Summoner.LEAD_DEPARTMENT,
                                     withdrawn_at__isnull=True).count()
    if summons:
        items.append(stage.item(
            "summons",
            _("约谈考核结果为较差等次单位的分管负责同志：%(n)s家待约谈") % {"n": summons},
            reverse("outcomes:summons"), done_late=False))
    to_review = (RectificationItem.objects.filter(
        report__round=round_, report__unit__in=units, report__submitted_at__isnull=False,
        reviewed_by__isnull=True).values("report").distinct().count())
    if to_review:
        items.append(stage.item(
            "rectification_review", _("审核整改报告：%(n)s份有待审核的整改事项") % {"n": to_review},
            reverse("outcomes:rectification_list"), done_late=False))
    return items


def _org_department(user: User, stage: _Stage) -> list[Todo]:
    from kaohe.outcomes.selectors import results_sent_to_org_department
    from kaohe.reviews.models import CadreCheck
    from kaohe.submissions.models import FirstSecretary, SecondedCadre

    round_ = stage.round
    if stage.results_out:
        if results_sent_to_org_department(round_) is None:
            return []
        return [stage.item("results_received",
                           _("查阅国务院扶贫办送达的考核结果，督促落实挂职干部管理"),
                           reverse("outcomes:org_results"), done_late=False)]
    total = (SecondedCadre.objects.filter(round=round_, withdrawn_at__isnull=True).count()
             + FirstSecretary.objects.filter(round=round_, withdrawn_at__isnull=True).count())
    checked = CadreCheck.objects.filter(round=round_).filter(
        Q(cadre__withdrawn_at__isnull=True, cadre__isnull=False)
        | Q(secretary__withdrawn_at__isnull=True, secretary__isnull=False)).count()
    if total == 0 or checked >= total:
        return []
    text = _("核查各单位选派的挂职扶贫干部和驻村第一书记：已核查%(done)s/%(total)s人") % {
        "done": checked, "total": total}
    return [stage.item("cadre_checks", text, reverse("reviews:org_cadres"),
                       due=stage.due("review"))]


def _military(user: User, stage: _Stage) -> list[Todo]:
    from kaohe.directory.models import Unit
    from kaohe.reviews.models import MilitaryInspection

    if stage.results_out:
        return []
    units = Unit.objects.filter(category__ranked=False, active=True,
                                pairings__round=stage.round).distinct()
    total = units.count()
    inspected = (MilitaryInspection.objects.filter(round=stage.round, unit__in=units)
                 .values("unit").distinct().count())
    if total == 0 or inspected >= total:
        return []
    text = _("检查督导军队和武警部队定点扶贫工作：已检查%(done)s/%(total)s个单位") % {
        "done": inspected, "total": total}
    return [stage.item("military_inspections", text, reverse("reviews:military"),
                       due=stage.due("review"))]


def _working_group(user: User, stage: _Stage) -> list[Todo]:
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus

    latest = stage.latest
    due = stage.due("deliberation")
    if latest is not None and latest.status in ("draft", "returned"):
        url = reverse("grading:detail", args=[latest.pk])
        if latest.status == "returned":
            text = _("第%(v)s版等次建议被领导小组退回，请按领导小组意见修改后重新报送") % {
                "v": latest.version}
        else:
            text = _("第%(v)s版等次建议待报领导小组审定") % {"v": latest.version}
        # A correction's version is due when the leading group decides, not by step 五.
        return [stage.item("deliberation", text, url,
                           due=None if latest.correction_id else due,
                           done_late=False if latest.correction_id else None)]
    if latest is not None or stage.results_out:
        return []
    leads = _expected_leads(stage.round)
    submitted = CategorySubmission.objects.filter(
        round=stage.round, lead_department__in=leads,
        status=CategorySubmissionStatus.SUBMITTED).count()
    text = _("综合评议：对各牵头部门考核结果进行综合评议，提出考核等次建议报领导小组审定")
    detail = _("已有%(done)s/%(total)s个牵头部门报送初步考核结果") % {
        "done": submitted, "total": leads.count()}
    return [stage.item("deliberation", text, reverse("grading:index"), due=due,
                       detail=detail)]


def _leading_group(user: User, stage: _Stage) -> list[Todo]:
    latest = stage.latest
    if latest is None or latest.status != "submitted":
        return []
    text = _("第%(v)s版等次建议待审定") % {"v": latest.version}
    due = None if latest.correction_id else stage.due("feedback")
    return [stage.item("approval", text, reverse("grading:detail", args=[latest.pk]),
                       due=due, detail=_("审定后由国务院扶贫办向各单位反馈考核结果"))]


def _office(user: User, stage: _Stage) -> list[Todo]:
    from kaohe.directory.models import Pairing, Unit
    from kaohe.launch.models import TrainingSession, WorkingGroupMember
    from kaohe.launch.selectors import launch_progress
    from kaohe.outcomes.models import Dispatch, DispatchKind, Feedback, RectificationReport
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
    from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport

    round_ = stage.round
    items: list[Todo] = []
    late_list = reverse("submissions:late_list")
    latest = stage.latest
    if latest is not None and latest.status == "approved":
        items.append(stage.item(
            "release", _("第%(v)s版等次建议已审定，待反馈：准备反馈意见并向各单位反馈考核结果")
            % {"v": latest.version}, reverse("outcomes:feedback_list"),
            due=None if latest.correction_id else stage.due("feedback"),
            done_late=False if latest.correction_id else None))
    if stage.results_out:
        sent = set(Dispatch.objects.filter(round=round_).values_list("kind", flat=True))
        for kind in DispatchKind:
            if kind not in sent:
                items.append(stage.item(
                    f"dispatch_{kind.value}", str(kind.label), reverse("outcomes:dispatches"),
                    done_late=False, detail=_("报送后在“报送记录”中登记报送日期和文号")))
        # The ranked units given feedback, found by their ids (not a DISTINCT over every
        # unit joined to its letters).
        ranked = Unit.objects.filter(active=True, category__ranked=True, pk__in=Feedback.objects
                                     .filter(result_set=stage.released).values("unit_id"))
        missing = ranked.aggregate(n=Count("pk", filter=~Exists(
            RectificationReport.objects.filter(round=round_, unit=OuterRef("pk"),
                                               submitted_at__isnull=False))))["n"]
        if missing > 0 and "rectification" in stage.steps:
            items.append(stage.item(
                "rectification_followup",
                _("跟踪整改落实：%(n)s家单位尚未报送整改报告") % {"n": missing},
                reverse("outcomes:rectification_list"), due=stage.due("rectification")))
        return items
    if latest is not None:
        return items
    if "launch" in stage.steps:
        if not WorkingGroupMember.objects.filter(round=round_).exists():
            items.append(stage.item("working_group", _("组建考核工作组，明确职责任务分工"),
                                    reverse("launch:working_group"), due=stage.due("launch")))
        filed, lead_count = launch_progress(round_)
        if filed < lead_count:
            items.append(stage.item(
                "launch_filings", _("督促牵头部门报备工作小组名单和分类考核方案：%(n)s个尚未报齐")
                % {"n": lead_count - filed}, reverse("launch:index"), due=stage.due("launch")))
    if "training" in stage.steps and not TrainingSession.objects.filter(round=round_).exists():
        items.append(stage.item("training", _("组织牵头部门考核人员培训"),
                                reverse("launch:training"), due=stage.due("training")))
    units = Unit.objects.filter(active=True, pairings__round=round_).distinct()
    if "self_report" in stage.steps:
        missing = units.count() - SelfReport.objects.filter(
            round=round_, unit__in=units, status=ReportStatus.SUBMITTED).count()
        if missing > 0:
            items.append(stage.item(
                "chase_self_reports", _("催报自评报告：%(n)s家单位尚未报送") % {"n": missing},
                f"{late_list}?step=self_report", due=stage.due("self_report")))
    if "provincial_report" in stage.steps:
        pairs = (Pairing.objects.filter(round=round_, unit__active=True)
                 .values("county__province", "unit").distinct().count())
        missing = pairs - ProvincialReport.objects.filter(
            round=round_, unit__active=True, status=ReportStatus.SUBMITTED).count()
        if missing > 0:
            items.append(stage.item(
                "chase_provincial_reports",
                _("催报省级总结报告：%(n)s份尚未报送") % {"n": missing},
                f"{late_list}?step=provincial_report", due=stage.due("provincial_report")))
    if "review" in stage.steps:
        leads = _expected_leads(round_)
        missing = leads.count() - CategorySubmission.objects.filter(
            round=round_, lead_department__in=leads,
            status=CategorySubmissionStatus.SUBMITTED).count()
        # Followed up once the reports are in (step 四 runs from January).
        if missing > 0 and stage.today > (stage.due("self_report") or stage.today):
            items.append(stage.item(
                "chase_reviews",
                _("督促牵头部门报送初步考核结果：%(n)s个尚未报送") % {"n": missing},
                f"{late_list}?step=review", due=stage.due("review")))
    return items


def _administration(user: User) -> list[Todo]:
    items = []
    if has_capability(user, MANAGE_ACCOUNTS):
        from kaohe.accounts import bulk

        units = bulk.units_without_account().count()
        provinces = bulk.provinces_without_account().count()
        if units or provinces:
            items.append(Todo(
                code="open_accounts", url=reverse("accounts:bulk_open"),
                text=_("开设账户：%(units)s家中央单位、%(provinces)s个省份尚无账户") % {
                    "units": units, "provinces": provinces}))
    if has_capability(user, MANAGE_ROLES):
        waiting = User.objects.filter(role="", is_active=True, is_superuser=False).count()
        if waiting:
            items.append(Todo(code="grant_roles", url=reverse("accounts:user_list"),
                              text=_("%(n)s个账户尚未授予角色，请核实后授予") % {"n": waiting}))
    return items


# Each list of duties goes to the users with its capability: one list per role of the round
# (the office runs the round; each other capability here is its role's own).
DUTIES: tuple[tuple[str, Callable[[User, _Stage], list[Todo]]], ...] = (
    (EDIT_SELF_REPORT, _unit),
    (EDIT_PROVINCIAL_REPORT, _province),
    (REVIEW_UNITS, _lead_department),
    (CHECK_CADRES, _org_department),
    (INSPECT_MILITARY, _military),
    (RUN_REVIEW, _working_group),
    (APPROVE_RESULTS, _leading_group),
    (MANAGE_ROUNDS, _office),
)
