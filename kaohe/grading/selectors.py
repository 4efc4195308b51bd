"""Reads of result sets. Before release nothing here is visible outside the office, the
working group and the leading group; after release a unit sees its own grade only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaohe.grading.models import SNAPSHOTS, ResultSet, ResultSetStatus

if TYPE_CHECKING:
    from kaohe.directory.models import Unit
    from kaohe.rounds.models import Round


def released_result_set(round_: Round | int) -> ResultSet | None:
    result_set = ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED).first()
    if result_set is not None:
        result_set.verify_seal()
    return result_set


def released_version(round_: Round | int) -> ResultSet | None:
    """The released version without its snapshots, its seal not checked: for pages that only
    ask whether results are out or which version's letters are in force (issue 19). What is
    read from the snapshots goes through released_result_set, which checks the seal; release
    checks it before the letters (and their grades) become visible, and `kaohe verify`
    checks every sealed version."""
    return (ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED)
            .defer(*SNAPSHOTS).first())


def released_grade_for(round_: Round | int, unit: Unit) -> str | None:
    """The unit's own released grade code, or None before release."""
    result_set = released_result_set(round_)
    if result_set is None:
        return None
    return result_set.final_grades().get(unit.code)
