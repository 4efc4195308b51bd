"""Issue 19: a lead department's category page lists every unit of its categories twice (the
review states and the grade matrix) and grew with them (600-756 ms at 3,100 units). It shows
one page of units, with the same page of the grade matrix, in a constant number of queries."""

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.reviews import services
from kaohe.reviews.views.categories import PAGE_SIZE
from tests.reviews.conftest import complete_review, second_unit_a, write_category_report


def _get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response


def _reviewed_units(world, reviewer, start, n):
    for i in range(start, start + n):
        unit = second_unit_a(world, code=f"A{100 + i:03d}", name=f"测试单位{100 + i}")
        complete_review(world["round"], unit, reviewer)


def _rows(page):
    units = page.split('id="grade-matrix"')[0].count('href="/reviews/units/')
    matrix = page.split('id="grade-matrix"')[1].count('<th scope="row"')
    return units, matrix


def test_the_category_page_shows_one_page_of_units_in_constant_queries(world, personas):
    reviewer = personas["lead_reviewer"]
    client = Client()
    client.force_login(reviewer)
    url = reverse("reviews:category", args=[world["lead_a"].pk])
    _reviewed_units(world, reviewer, 0, 5)
    client.get(url)
    before, _ = _get(client, url)
    # Two pages: PAGE_SIZE + 16 units with unit_a, which is not reviewed.
    _reviewed_units(world, reviewer, 5, PAGE_SIZE + 10)
    after, response = _get(client, url)
    assert after == before, (before, after)
    page = response.content.decode()
    assert _rows(page) == (PAGE_SIZE, PAGE_SIZE)
    assert "第 1/2 页" in page and "page=2" in page
    # What stops the submission is still named: unit_a has no grade and no sub-report.
    assert f"{world['unit_a'].name}（6项考核内容未评定等次，考核子报告未完成）" in page
    second = client.get(url + "?page=2").content.decode()
    assert _rows(second) == (16, 16)
    last = f"测试单位{100 + PAGE_SIZE + 14}"
    assert last in second and last not in page
    # The matrix numbers its rows across pages.
    assert re.search(rf"<td>{PAGE_SIZE + 1}</td><th scope=\"row\"", second)


def test_the_submitted_matrix_pages_too(world, personas):
    reviewer = personas["lead_reviewer"]
    _reviewed_units(world, reviewer, 0, PAGE_SIZE + 9)  # PAGE_SIZE + 10 with unit_a
    complete_review(world["round"], world["unit_a"], reviewer)
    submission = services.category_submission_for(round=world["round"],
                                                   lead_department=world["lead_a"])
    write_category_report(submission, reviewer)
    services.category_submit(submission=submission, actor=reviewer)
    client = Client()
    client.force_login(personas["working_group"])
    url = reverse("reviews:category", args=[world["lead_a"].pk])
    response = client.get(url)
    page = response.content.decode()
    assert response.context["matrix_from_snapshot"] is True
    assert _rows(page) == (PAGE_SIZE, PAGE_SIZE)
    second = client.get(url + "?page=2").content.decode()
    assert _rows(second) == (10, 10)
    assert f"测试单位{100 + PAGE_SIZE + 8}" in second.split('id="grade-matrix"')[1]


def test_the_submitted_matrix_keeps_the_categorys_order_and_a_unit_that_left(world, personas):
    """The snapshot keeps no order: its rows follow the category's order (category, code),
    read without binding every unit's code; a unit moved to another lead department's
    category after the submission stays in the matrix, placed by its category now."""
    from kaohe.directory.models import Category, Unit
    from kaohe.reviews.selectors import category_grade_matrix

    reviewer, round_ = personas["lead_reviewer"], world["round"]
    for code in ("A300", "A100", "A200"):
        unit = second_unit_a(world, code=code, name=f"测试单位{code}")
        complete_review(round_, unit, reviewer)
    complete_review(round_, world["unit_a"], reviewer)
    submission = services.category_submission_for(round=round_, lead_department=world["lead_a"])
    write_category_report(submission, reviewer)
    services.category_submit(submission=submission, actor=reviewer)
    submission.refresh_from_db()
    areas = list(round_.areas.all())
    rows, from_snapshot = category_grade_matrix(round_, world["lead_a"], submission, areas)
    codes = [row[0] for row in rows]
    assert from_snapshot and codes == sorted(codes) and {"A100", "A200", "A300"} <= set(codes)
    enterprises = Category.objects.get(code="enterprises")
    assert enterprises.order > Category.objects.get(code="party_organs").order
    Unit.objects.filter(code="A100").update(category=enterprises)
    with CaptureQueriesContext(connection) as queries:
        rows, _ = category_grade_matrix(round_, world["lead_a"], submission, areas)
    assert [row[0] for row in rows] == [c for c in codes if c != "A100"] + ["A100"]
    # Only the unit that left is looked up by its code.
    bound = [q["sql"].split('"directory_unit"."code" IN (', 1)[1].split(")", 1)[0]
             for q in queries if '"directory_unit"."code" IN (' in q["sql"]]
    assert bound == ["'A100'"]
