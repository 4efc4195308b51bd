"""The review desk's reads are one selector returning a small dataclass (issue 22, item 4):
the page only adds its forms and what the user may do."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kaohe.reviews import services
from kaohe.reviews.desk import Desk, desk_for
from kaohe.reviews.models import FindingSource
from tests.reviews.conftest import complete_review, fresh


def _problem(world, reviewer, description="不重视"):
    round_ = world["round"]
    return services.serious_problem_add(
        round=round_, unit=world["unit_a"], actor=reviewer,
        kind=round_.problem_kinds.get(code="neglect"), county=None,
        description=description, source=FindingSource.REVIEWER)


def test_the_desk_holds_the_units_review_and_findings(world, reviewer):
    review = complete_review(world["round"], world["unit_a"], reviewer)
    _problem(world, reviewer)
    desk = desk_for(reviewer, round=world["round"], unit=world["unit_a"])
    assert isinstance(desk, Desk)
    assert (desk.review, desk.revision) == (review, fresh(review).revision)
    assert desk.sub_report.basic_situation.startswith("基本情况")
    assert [area["current"].grade for area in desk.areas] == [
        g.grade for g in review.area_grades.order_by("area__number")]
    assert [(p.description, p.withdraw_refusal) for p in desk.problems] == [("不重视", "")]
    assert desk.report is None and desk.sections == [] and not desk.locked
    assert desk.review_open and desk.closed_message == ""


def test_a_unit_without_a_review_gets_an_empty_desk(world, reviewer):
    desk = desk_for(reviewer, round=world["round"], unit=world["unit_a"])
    assert (desk.review, desk.revision, desk.sub_report, desk.activities) == (None, 0, None, [])
    assert all(area["current"] is None for area in desk.areas)


def _queries(reviewer, world) -> int:
    with CaptureQueriesContext(connection) as queries:
        desk_for(reviewer, round=world["round"], unit=world["unit_a"])
    return len(queries)


def test_the_desks_queries_do_not_grow_with_its_findings(world, reviewer):
    complete_review(world["round"], world["unit_a"], reviewer)
    _problem(world, reviewer)
    one = _queries(reviewer, world)
    for n in range(3):
        _problem(world, reviewer, description=f"问题{n}")
    assert _queries(reviewer, world) == one
