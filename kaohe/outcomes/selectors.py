"""Reads about a unit's results over the years."""

from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.grading.models import ResultSet, ResultSetStatus
from kaohe.outcomes.models import ItemStatus, RectificationItem, Summons


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
