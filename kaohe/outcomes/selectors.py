"""Reads about results: a unit's over the years, what was sent to the organization
department, and the rectification reports as each reader may read them.

Its length (over 400 lines) is the rectification tracker's reads beside the rule of what
others read of a report (drafts and sent-back revisions stay the unit's): split, the
tracker's counts and the pages' content could drift apart.
"""

import datetime
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import Count, FilteredRelation, Max, Q, QuerySet, TextChoices
from django.utils.translation import gettext_lazy as _

from kaohe.accounts.scope import Reach, Scope
from kaohe.directory.models import Unit
from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.grading.models import SNAPSHOTS, ResultSet, ResultSetStatus
from kaohe.grading.selectors import released_grade_for, released_version
from kaohe.lib.memo import per_request
from kaohe.outcomes.models import (
    Dispatch,
    DispatchKind,
    Feedback,
    ItemStatus,
    RectificationAttachment,
    RectificationItem,
    RectificationReport,
    Summons,
)
from kaohe.rounds.models import Round


def results_sent_to_org_department(round_) -> ResultSet | None:
    """The released results, once the office has recorded sending them to the organization
    department (考核结果送中央组织部); None before release or before they are sent."""
    if round_ is None:
        return None
    result_set = released_version(round_)
    if result_set is None or not Dispatch.objects.filter(
            round=round_, kind=DispatchKind.ORG_DEPARTMENT).exists():
        return None
    return result_set


def org_department_results(result_set) -> dict:
    """The list the organization department receives: every ranked unit with its final
    grade, in the order of categories and codes (as the exported 考核结果名单), and the
    count per grade. No score, rank or reason: those stay internal to the leading group.
    Read from the version's rows (issue 19), not its snapshots."""
    from kaohe.directory.models import Unit
    from kaohe.grading.selectors import result_rows
    from kaohe.grading.vocabulary import GRADE_ORDER

    grades = dict(result_rows(result_set).values_list("unit_code", "final_grade"))
    units = sorted(Unit.objects.filter(code__in=grades).select_related("category"),
                   key=lambda u: (u.category.order, u.code))
    counts: dict[str, int] = {str(code): 0 for code in GRADE_ORDER}
    rows = []
    for unit in units:
        code = grades[unit.code]
        counts[code] = counts.get(code, 0) + 1
        rows.append({"unit": unit, "grade": GRADE_LABELS[Grade(code)]})
    return {"rows": rows,
            "counts": [(GRADE_LABELS[Grade(code)], n) for code, n in counts.items() if n]}


def unit_history(unit, current_round) -> dict:
    """Released grades of every round, unfinished rectification items and open summons.
    One row a year, read from the released versions' rows (issue 19: not their snapshots,
    nor their seals re-hashed on every view; release checked each seal)."""
    from kaohe.grading.selectors import result_row

    grades = []
    for result_set in (ResultSet.objects.filter(status=ResultSetStatus.RELEASED)
                       .select_related("round").defer(*SNAPSHOTS).order_by("round__year")):
        row = result_row(result_set, unit.code)
        if row is not None:
            grades.append({"year": result_set.round.year,
                           "grade": GRADE_LABELS[Grade(row.final_grade)]})
    # Of submitted reports only: a draft's items and statuses are the unit's own until it
    # submits (rectification_reports_visible_to); the unit reads its draft on its own page.
    open_items = RectificationItem.objects.filter(
        report__unit=unit, report__submitted_at__isnull=False).exclude(
        status=ItemStatus.DONE).select_related("report__round").order_by("report__round__year")
    if current_round is not None:
        open_items = open_items.exclude(report__round=current_round, carried_from__isnull=False)
    return {
        "history": grades,
        "open_items": open_items,
        "open_summons": Summons.objects.filter(unit=unit, closed=False).select_related("round"),
    }


# A letter's result sets (its own and the one it replaces) are read for their version and
# dates only: their JSON snapshots stay unread (issue 19: one decode per letter listed).
FEEDBACK_SNAPSHOTS = tuple(f"{path}__{field}" for path in ("result_set", "replaces__result_set")
                           for field in SNAPSHOTS)


@per_request
def released_feedback(round_, unit):
    """The unit's letter of the released version in force, or None before release. Its grade
    is the released one: release checked the version's seal before any letter was shown,
    and letters of a released version are never changed; the page does not load and
    re-hash the version's snapshots on every view (issue 19)."""
    feedback = (Feedback.objects.filter(round=round_, result_set__round=round_,
                                        result_set__status=ResultSetStatus.RELEASED, unit=unit)
                .select_related("result_set", "replaces__result_set")
                .defer(*FEEDBACK_SNAPSHOTS).first())
    if feedback is not None:  # the round and unit asked about: not read again
        if isinstance(round_, Round):
            feedback.round = round_
        if isinstance(unit, Unit):
            feedback.unit = unit
    return feedback


def released_grade_and_letter(round_, unit) -> tuple[str | None, Feedback | None]:
    """The unit's released grade and letter (None, None before release). The grade is the
    letter's; only a version released without letters (by the grading service alone) has
    its grade read from its snapshots, the seal checked."""
    feedback = released_feedback(round_, unit)
    if feedback is not None:
        return feedback.grade, feedback
    if Feedback.objects.filter(round=round_, result_set__round=round_,
                               result_set__status=ResultSetStatus.RELEASED).exists():
        return None, None  # the letters are out, none of them for this unit
    return released_grade_for(round_, unit), None


@per_request
def unit_results_round(unit):
    """The round whose released result the unit sees on its own page: the newest started
    round (active or closed) with a released letter for it. Starting the next round does not
    hide the previous year's result, feedback and rectification."""
    from kaohe.rounds.models import Round, RoundStatus

    for round_ in Round.objects.exclude(status=RoundStatus.PREPARING).filter(
            result_sets__status=ResultSetStatus.RELEASED).distinct().order_by("-year"):
        if released_feedback(round_, unit) is not None:
            return round_
    return None


def released_results_of(unit) -> list[dict]:
    """The unit's own released results, newest round first: the round, the grade's label and
    the letter of the version in force. Earlier years stay listed after the next round starts
    (the unit's home page shows them beside the current report)."""
    from kaohe.rounds.models import Round, RoundStatus

    results = []
    for round_ in Round.objects.exclude(status=RoundStatus.PREPARING).filter(
            result_sets__status=ResultSetStatus.RELEASED).distinct().order_by("-year"):
        feedback = released_feedback(round_, unit)
        if feedback is not None:
            results.append({"round": round_, "grade": GRADE_LABELS[Grade(feedback.grade)],
                            "feedback": feedback})
    return results


def tracking_round():
    """The round whose rectification and summons are followed up by default: the newest
    active round with released results (starting the next round does not end them), else
    the current round."""
    from kaohe.rounds.models import Round, RoundStatus
    from kaohe.rounds.selectors import current_round

    return (Round.objects.filter(status=RoundStatus.ACTIVE,
                                 result_sets__status=ResultSetStatus.RELEASED)
            .distinct().order_by("-year").first() or current_round())


def earlier_letters(feedback) -> list:
    """The unit's earlier letters that a correction changed, newest first (kept on record,
    never changed). A letter a correction only re-issued unchanged is not listed."""
    letters, seen = [], {feedback.pk}
    current = feedback
    while current.replaces_id is not None and current.replaces_id not in seen:
        seen.add(current.replaces_id)
        if current.corrected:
            letters.append(current.replaces)
        current = current.replaces
    return letters


# The rectification tracker ----------------------------------------------------------------


class TrackerState(TextChoices):
    NOT_SUBMITTED = "not_submitted", _("未报送")
    SUBMITTED = "submitted", _("已报送")
    ACCEPTED = "accepted", _("整改到位")
    NOT_ACCEPTED = "not_accepted", _("整改不到位")
    OVERDUE = "overdue", _("逾期未报")


def _readable(user, prefix: str = "") -> Q:
    """Which rectification reports the user may read of the units it sees (``prefix``: the
    path from the model filtered to the report): those submitted, and a unit's own, draft
    or not. A draft is the unit's own until it submits: its summary, items, statuses and
    files reach nobody else, who read that nothing has been submitted (as the 整改报告
    document's policy, RECTIFICATION_REPORTS)."""
    scope = Scope.of(user)
    submitted = Q(**{f"{prefix}submitted_at__isnull": False})
    if scope.reach is Reach.UNIT:
        return submitted | Q(**{f"{prefix}unit_id": scope.unit_id})
    return submitted


def rectification_reports_visible_to(user, round_) -> QuerySet[RectificationReport]:
    """The round's rectification reports the user may read: of the units it sees
    (units_visible_to's rule), those submitted and its own unit's draft. Every page and table
    that shows a report's content to anyone but its unit reads it through here."""
    reports = Scope.of(user).units(RectificationReport.objects.filter(round=round_),
                                   via="unit", round=round_)
    return reports.filter(_readable(user))


def readable_rectification_report(user, round_, unit) -> RectificationReport | None:
    """The unit's report of the round if the user may read it (rectification_reports_visible_to),
    else None: a draft looks to others as no report at all."""
    return rectification_reports_visible_to(user, round_).filter(unit=unit).first()


class HandedOver(NamedTuple):
    """A rectification report's summary, items and files (as they stand, or as its unit
    last submitted them)."""

    summary: str
    items: list[RectificationItem]
    files: dict[int, list[RectificationAttachment]]  # by item id


def as_it_stands(report: RectificationReport) -> HandedOver:
    """The report's summary, items and files as they stand now: its unit's view."""
    items = list(report.items.select_related("carried_from__report__round", "reviewed_by"))
    files: dict[int, list[RectificationAttachment]] = {}
    for attachment in RectificationAttachment.objects.filter(report=report).select_related(
            "evidence"):
        files.setdefault(attachment.item_id, []).append(attachment)
    return HandedOver(report.summary, items, files)


def handed_over(report: RectificationReport) -> HandedOver:
    """The report's items and files as others read them. An item sent back (整改不到位)
    is open to the unit again, but what the unit changes there (and in the summary) is its
    own until it submits again: others read the summary and the item's measures as last
    submitted (the submissions' snapshots), its status as the reviewer's verdict, and none
    of the files attached to it since (kaohe.evidence.selectors keeps those from being
    downloaded too)."""
    summary, items, files = as_it_stands(report)
    sent_back = [item for item in items if item.needs_revision]
    if not sent_back:
        return HandedOver(summary, items, files)
    summary = report.summary
    submitted: dict[int, dict] = {}  # order -> the item in its latest submission
    for event in report.events.filter(kind__in=("submitted", "resubmitted")).order_by(
            "at", "pk"):
        summary = event.data.get("summary", summary)
        for entry in event.data.get("items", []):
            submitted[entry.get("order")] = entry
    for item in sent_back:
        entry = submitted.get(item.order, {})
        item.measures = entry.get("measures", "")
        item.evidence_note = entry.get("evidence_note", "")
        item.status = ItemStatus.NOT_ACCEPTED
        files[item.pk] = [a for a in files.get(item.pk, [])
                          if report.last_submitted_at is None
                          or a.created_at <= report.last_submitted_at]
    return HandedOver(summary, items, files)


@per_request
def rectification_report_of(round_, unit) -> RectificationReport | None:
    """The unit's rectification report of the round, if it has begun one (the to-do panel
    and the reminder of one home page both ask: read once per page view)."""
    return RectificationReport.objects.filter(round=round_, unit=unit).first()


@per_request
def needs_revision(report) -> bool:
    """Whether some item of the report was found 整改不到位 and waits for the unit."""
    return RectificationItem.objects.filter(report=report, needs_revision=True).exists()


@per_request
def results_released(round_) -> bool:
    """Whether the round's results are released, answered from the index: in SQLite a
    version's row holds its snapshots (megabytes) before its other columns, and reading
    any of those walks through them."""
    return ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED).exists()


class TrackedUnit(NamedTuple):
    """One tracked unit's state and what filters and rows need of it (tracker_summary)."""

    pk: int
    state: str
    category_id: int
    lead_department_id: int | None
    items_total: int
    extended_until: datetime.date | None


def tracker_state(*, submitted_at, items_total: int, items_accepted: int,
                  items_rejected: int, extended_until: datetime.date | None, step,
                  released: bool, today: datetime.date) -> TrackerState:
    """A tracked unit's state: overdue once results are out and the step's deadline (or
    the unit's latest extension, when later) has passed with no report; not submitted;
    not accepted while any item is rejected or sent back; accepted once every item is;
    otherwise submitted."""
    if submitted_at is None:
        overdue = (released and step is not None and today > step.due
                   and (extended_until is None or extended_until < today))
        return TrackerState.OVERDUE if overdue else TrackerState.NOT_SUBMITTED
    if items_rejected > 0:
        return TrackerState.NOT_ACCEPTED
    if items_total > 0 and items_accepted == items_total:
        return TrackerState.ACCEPTED
    return TrackerState.SUBMITTED


def tracker_summary(round_, units, *, step, released: bool, user) -> list[TrackedUnit]:
    """Every ranked unit of `units` in the tracker's order with its state (tracker_state),
    in two queries whatever the number of units: the units with their report's first
    submission and its items counted, grouped by the database, and the latest extension of
    each unit for the step (few). The page counts, filters and pages these (issue 19: the
    states decided in SQL made a query whose compilation cost 4 ms a page view). ``step``
    is the round's rectification step (or None). Only the reports ``user`` may read count
    (a draft of another unit is counted as no report: not submitted, no items)."""
    from kaohe.lib import clock
    from kaohe.submissions.models import Extension

    today = clock.today()
    item = "report__items"
    accepted = Q(**{f"{item}__status": ItemStatus.DONE, f"{item}__reviewed_by__isnull": False,
                    f"{item}__needs_revision": False})
    rejected = Q(**{f"{item}__status": ItemStatus.NOT_ACCEPTED}) | Q(
        **{f"{item}__needs_revision": True})
    rows = (units.filter(category__ranked=True).order_by()
            .annotate(report=FilteredRelation("rectifications", condition=Q(
                rectifications__round=round_) & _readable(user, "rectifications__")))
            .values_list("pk", "category_id", "category__lead_department_id",
                         "report__submitted_at")
            .annotate(total=Count(item), accepted=Count(item, filter=accepted),
                      rejected=Count(item, filter=rejected))
            .order_by("category__order", "code"))
    extended: dict[int, datetime.date] = {}
    if step is not None:
        extended = dict(Extension.objects.filter(step=step, unit__isnull=False)
                        .values_list("unit_id").annotate(until=Max("until")).order_by())
    # Taken as the database gives them, without Django's per-row conversions (a third of
    # the page's time at 3,100 units): of the report's time only whether it is set counts.
    sql, params = rows.query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    summary = []
    for pk, category_id, lead_id, submitted_at, total, n_accepted, n_rejected in raw:
        until = extended.get(pk)
        state = tracker_state(submitted_at=submitted_at, items_total=total,
                              items_accepted=n_accepted, items_rejected=n_rejected,
                              extended_until=until, step=step, released=released,
                              today=today)
        summary.append(TrackedUnit(pk, state.value, category_id, lead_id, total, until))
    return summary


def tracked_page_units(units, summaries: list[TrackedUnit]) -> list:
    """The units of these summaries (e.g. one page of them), in their order, each with the
    ``state``, ``items_total`` and ``extended_until`` tracker_rows reads: one query."""
    by_pk = units.select_related("category", "category__lead_department").in_bulk(
        [s.pk for s in summaries])
    page = []
    for summary in summaries:
        unit = by_pk[summary.pk]
        unit.state, unit.items_total = summary.state, summary.items_total
        unit.extended_until = summary.extended_until
        page.append(unit)
    return page


def tracker_categories(summary: list[TrackedUnit]) -> list:
    """The categories of the tracked units (tracker_summary), for the tracker's category
    filter, with their lead departments, in their order."""
    from kaohe.directory.models import Category

    return list(Category.objects.filter(pk__in={t.category_id for t in summary})
                .select_related("lead_department").order_by("order"))


def tracker_rows(round_, units, *, step, user) -> list[dict]:
    """The tracker's rows of these tracked units (tracked_page_units, e.g. one page):
    report (None unless ``user`` may read it), item counts by status, deadline and state,
    in two more queries."""
    units = list(units)
    reports = {r.unit_id: r for r in rectification_reports_visible_to(user, round_).filter(
        unit_id__in=[u.pk for u in units])}
    statuses = [s.value for s in ItemStatus]
    counts: dict[int, Mapping[str, Any]] = {}
    for row in (RectificationItem.objects.filter(report__in=list(reports.values()))
                .values("report_id").annotate(
                    **{f"n_{s}": Count("pk", filter=Q(status=s)) for s in statuses})):
        counts[row["report_id"]] = row
    rows = []
    for unit in units:
        report = reports.get(unit.pk)
        tally = counts.get(report.pk, {}) if report else {}
        extended = unit.extended_until
        deadline = max(step.due, extended) if step and extended else (step.due if step else None)
        state = TrackerState(unit.state)
        rows.append({
            "unit": unit, "report": report, "state": state, "state_label": state.label,
            "deadline": deadline, "extended_until": extended, "total": unit.items_total,
            "counts": {s: tally.get(f"n_{s}", 0) for s in statuses},
            # The same, in the order of ItemStatus (the page's columns).
            "counts_in_order": [tally.get(f"n_{s}", 0) for s in statuses],
        })
    return rows


def rectification_tracker(round_, units, *, user) -> list[dict]:
    """One row per ranked unit of `units`: its report (if ``user`` may read it), item counts
    by status, deadline (with the latest extension) and state, in a fixed number of queries
    (the exported tracker; the page shows one page of tracked_units through tracker_rows)."""
    step = round_.steps.filter(code="rectification").first()
    summary = tracker_summary(round_, units, step=step, released=results_released(round_),
                              user=user)
    return tracker_rows(round_, tracked_page_units(units, summary), step=step, user=user)


