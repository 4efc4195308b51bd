"""Reads of the launch and the training, scoped to the user; outside the scope is 404."""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch
from django.http import Http404

from kaohe.accounts.models import Role, User
from kaohe.accounts.scope import LAUNCH, Scope
from kaohe.directory.models import LeadDepartment
from kaohe.launch.models import (
    Attendance,
    CategoryPlan,
    RefinedItem,
    RefinedItemAnswer,
    TeamFiling,
    TeamMember,
    TrainingMaterial,
    TrainingSession,
)
from kaohe.lib import clock
from kaohe.rounds.selectors import step_of


def ranked_lead_departments():
    """The six lead departments that run a categorized assessment (the army is inspected)."""
    return LeadDepartment.objects.filter(categories__ranked=True).distinct().order_by("order")


def lead_departments_visible_to(user):
    return Scope.of(user).filter(ranked_lead_departments(), LAUNCH, unit=None,
                                 lead_department="")


def get_lead_department_for_user(user, pk) -> LeadDepartment:
    try:
        return lead_departments_visible_to(user).get(pk=pk)
    except LeadDepartment.DoesNotExist:
        raise Http404 from None


def step_due(round, code: str):
    step = step_of(round, code)  # the round's steps, read once per page view
    return step.due if step is not None else None


# Filing status ---------------------------------------------------------------------------


class FilingState:
    ON_TIME = "on_time"
    LATE = "late"            # filed after the deadline
    OVERDUE = "overdue"      # not filed, the deadline has passed
    PENDING = "pending"      # not filed, still time


def filing_state(filed_on, due, today) -> str:
    if filed_on is not None:
        return FilingState.LATE if due is not None and filed_on > due else FilingState.ON_TIME
    return FilingState.OVERDUE if due is not None and today > due else FilingState.PENDING


@dataclass
class LeadLaunch:
    lead_department: LeadDepartment
    filing: TeamFiling | None
    plan: CategoryPlan | None
    team_state: str
    plan_state: str
    refined_count: int

    @property
    def liaison(self):
        if self.filing is None:
            return None
        return next((m for m in self.filing.members.all() if m.is_liaison), None)

    @property
    def complete(self) -> bool:
        return self.filing is not None and self.plan is not None


def launch_status(round, leads=None) -> list[LeadLaunch]:
    """Per lead department: its team filing and its plan, each on time, late or missing."""
    leads = list(leads if leads is not None else ranked_lead_departments())
    due, today = step_due(round, "launch"), clock.today()
    filings = {f.lead_department_id: f for f in TeamFiling.objects.filter(
        round=round, lead_department__in=leads).prefetch_related(
        Prefetch("members", queryset=TeamMember.objects.annotate(
            username=F("user__username"))))}  # the account's name only (no User rows)
    plans = {p.lead_department_id: p for p in CategoryPlan.objects.filter(
        round=round, lead_department__in=leads)}
    refined = dict(RefinedItem.objects.filter(round=round, lead_department__in=leads)
                   .values("lead_department").annotate(n=Count("pk"))
                   .values_list("lead_department", "n"))
    rows = []
    for lead in leads:
        filing, plan = filings.get(lead.pk), plans.get(lead.pk)
        rows.append(LeadLaunch(
            lead, filing, plan,
            filing_state(filing.filed_on if filing else None, due, today),
            filing_state(plan.filed_on if plan else None, due, today),
            refined.get(lead.pk, 0),
        ))
    return rows


def launch_progress(round) -> tuple[int, int]:
    """Lead departments with both their team and their plan filed, of the six."""
    # One query: each lead department with whether both are filed (issue 19).
    filed = list(ranked_lead_departments().annotate(
        team=Exists(TeamFiling.objects.filter(round=round, lead_department=OuterRef("pk"))),
        plan=Exists(CategoryPlan.objects.filter(round=round, lead_department=OuterRef("pk"))),
    ).values_list("pk", "team", "plan"))
    return sum(1 for _pk, team, plan in filed if team and plan), len(filed)


# Refined innovation items ------------------------------------------------------------------


def refined_items_of(round, lead_department):
    return (RefinedItem.objects.filter(round=round, lead_department=lead_department)
            .select_related("item", "item__indicator"))


def refined_items_for_report(report):
    """The refined items the report's unit answers: those of its category's lead department."""
    return refined_items_of(report.round, report.unit.category.lead_department_id)


def refined_items_by_indicator(report) -> dict[int, list[RefinedItem]]:
    """The report's refined items grouped by the indicator they refine (13)."""
    by_indicator: dict[int, list[RefinedItem]] = {}
    for item in refined_items_for_report(report):
        by_indicator.setdefault(item.item.indicator_id, []).append(item)
    return by_indicator


def refined_answers_for_report(report) -> dict[int, str]:
    return dict(RefinedItemAnswer.objects.filter(report=report)
                .values_list("refined_item_id", "text"))


def get_refined_item_for_user(user, pk, *, round) -> RefinedItem:
    leads = lead_departments_visible_to(user)
    try:
        return (RefinedItem.objects.select_related("item", "lead_department")
                .get(pk=pk, round=round, lead_department__in=leads))
    except RefinedItem.DoesNotExist:
        raise Http404 from None


# Training ----------------------------------------------------------------------------------


def lead_staff():
    """The lead departments' staff who must be trained: active lead_reviewer accounts."""
    return (User.objects.filter(role=Role.LEAD_REVIEWER, is_active=True)
            .select_related("lead_department").order_by("lead_department__order", "username"))


def _attended(round):
    return Attendance.objects.filter(session__round=round, user=OuterRef("pk"))


def training_progress(round) -> tuple[int, int]:
    counts = lead_staff().aggregate(staff=Count("pk"),
                                    trained=Count("pk", filter=Exists(_attended(round))))
    return counts["trained"], counts["staff"]


def untrained_staff(round):
    return lead_staff().exclude(Exists(_attended(round)))


def sessions_of(round, *, materials: bool = True):
    """The round's training sessions with their attendance (and materials, if asked)."""
    sessions = (TrainingSession.objects.filter(round=round)
                .annotate(attended=Count("attendances", distinct=True)))
    return sessions.prefetch_related("materials") if materials else sessions


def training_visible(user) -> bool:
    """The overseers and every lead department's team read the training."""
    return Scope.of(user).sees(LAUNCH)


def get_session_for_user(user, pk, *, round) -> TrainingSession:
    if not Scope.of(user).sees_all(LAUNCH):
        raise Http404
    try:
        return TrainingSession.objects.get(pk=pk, round=round)
    except TrainingSession.DoesNotExist:
        raise Http404 from None


def get_material_for_user(user, pk, *, round) -> TrainingMaterial:
    """Every team member may download the current round's materials, whatever its department."""
    if not training_visible(user):
        raise Http404
    try:
        return TrainingMaterial.objects.select_related("session").get(pk=pk,
                                                                      session__round=round)
    except TrainingMaterial.DoesNotExist:
        raise Http404 from None


def attended_sessions(round, user):
    return TrainingSession.objects.filter(round=round, attendances__user=user)
