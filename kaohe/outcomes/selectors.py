"""Reads about results: a unit's over the years, and what was sent to the organization
department."""

from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.grading.models import ResultSet, ResultSetStatus
from kaohe.grading.selectors import released_result_set
from kaohe.outcomes.models import (
    Dispatch,
    DispatchKind,
    Feedback,
    ItemStatus,
    RectificationItem,
    Summons,
)


def results_sent_to_org_department(round_) -> ResultSet | None:
    """The released results, once the office has recorded sending them to the organization
    department (考核结果送中央组织部); None before release or before they are sent."""
    if round_ is None:
        return None
    result_set = released_result_set(round_)
    if result_set is None or not Dispatch.objects.filter(
            round=round_, kind=DispatchKind.ORG_DEPARTMENT).exists():
        return None
    return result_set


def unit_history(unit, current_round) -> dict:
    """Released grades of every round, unfinished rectification items and open summons."""
    grades = []
    for result_set in ResultSet.objects.filter(status=ResultSetStatus.RELEASED).select_related(
            "round").order_by("round__year"):
        result_set.verify_seal()
        grade = result_set.final_grades().get(unit.code)
        if grade:
            grades.append({"year": result_set.round.year, "grade": GRADE_LABELS[Grade(grade)]})
    open_items = RectificationItem.objects.filter(report__unit=unit).exclude(
        status=ItemStatus.DONE).select_related("report__round").order_by("report__round__year")
    if current_round is not None:
        open_items = open_items.exclude(report__round=current_round, carried_from__isnull=False)
    return {
        "history": grades,
        "open_items": open_items,
        "open_summons": Summons.objects.filter(unit=unit, closed=False).select_related("round"),
    }


def released_feedback(round_, unit):
    """The unit's letter of the released version in force, or None before release."""
    result_set = released_result_set(round_)
    if result_set is None:
        return None
    return Feedback.objects.filter(result_set=result_set, unit=unit).select_related(
        "result_set", "replaces__result_set").first()


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
