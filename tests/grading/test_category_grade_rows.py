"""Issue 19, a lead department's category page: the submitted snapshot holds every unit's
grades and reasons (1.3 MB for a category of 1,050 units at 3,100). The page shows 20 units
of its grade matrix at a time from the matrix stored with the snapshot (grade_rows), without
reading or decoding the snapshot; the migration that adds the rows fills them from the
snapshots already submitted."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.reviews.models import CategorySubmission
from kaohe.rounds.models import Grade


@pytest.fixture(autouse=True)
def _during_the_review(settings):
    """Before the lead departments' deadline, so that the fixtures can submit results."""
    settings.KAOHE_TODAY = "2018-01-10"


def _submission(mixed):
    return CategorySubmission.objects.get(round=mixed["round"], lead_department=mixed["lead_a"])


def test_the_rows_are_stored_with_the_snapshot(mixed):
    submission = _submission(mixed)
    assert submission.grade_rows == [[u["unit"], u["name"], u["grades"]]
                                     for u in submission.snapshot["units"]]
    assert len(submission.grade_rows) == 10 and all(row[2] for row in submission.grade_rows)


def _matrix(client, personas, mixed):
    client.force_login(personas["office"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reviews:category", args=[mixed["lead_a"].pk]))
    assert response.status_code == 200 and response.context["matrix_from_snapshot"]
    return dict(response.context["matrix"]), queries


def test_the_page_shows_the_stored_rows_and_leaves_the_snapshot_alone(mixed, personas,
                                                                      client):
    # What the page shows is the stored matrix, whatever the snapshot holds.
    submission = _submission(mixed)
    first = mixed["units"]["A001"]
    rows = [[code, name, {area: Grade.POOR for area in grades} if code == first.code
             else grades] for code, name, grades in submission.grade_rows]
    CategorySubmission.objects.filter(pk=submission.pk).update(grade_rows=rows)
    matrix, queries = _matrix(client, personas, mixed)
    assert set(matrix[first.name]) == {"较差"}
    reads = [q["sql"] for q in queries if 'FROM "reviews_categorysubmission"' in q["sql"]]
    assert reads and not [sql for sql in reads if "snapshot" in sql]


def test_a_snapshot_stored_without_its_rows_is_shown_from_the_snapshot(mixed, personas,
                                                                        client):
    submission = _submission(mixed)
    CategorySubmission.objects.filter(pk=submission.pk).update(grade_rows=None)
    matrix, _queries = _matrix(client, personas, mixed)
    assert len(matrix) == 10
    unit = submission.snapshot["units"][0]
    assert "—" not in matrix[unit["name"]] and len(matrix[unit["name"]]) == len(unit["grades"])


def test_the_migration_fills_the_rows_of_the_snapshots_already_submitted(mixed, world):
    submitted = _submission(mixed)
    draft = CategorySubmission.objects.create(round=world["round"],
                                              lead_department=world["lead_b"])
    CategorySubmission.objects.update(grade_rows=None)
    migration = importlib.import_module("kaohe.reviews.migrations.0007_category_grade_rows")
    migration.fill_grade_rows(apps, None)
    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert submitted.grade_rows == [[u["unit"], u["name"], u["grades"]]
                                    for u in submitted.snapshot["units"]]
    assert draft.grade_rows is None  # nothing submitted: no rows


@pytest.mark.parametrize(("persona", "route"), [
    ("lead_reviewer", "home"), ("working_group", "grading:index"), ("office", "reviews:queue"),
    ("office", "submissions:late_list"),
])
def test_pages_that_show_a_categorys_state_read_none_of_its_grades(mixed, personas, client,
                                                                   persona, route):
    """Whether and when a category was submitted, not what it submitted: neither the
    snapshot nor its grade rows are read."""
    client.force_login(personas[persona])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(route)).status_code == 200
    reads = [q["sql"] for q in queries if 'FROM "reviews_categorysubmission"' in q["sql"]]
    assert reads, route
    assert not [sql for sql in reads if "snapshot" in sql or "grade_rows" in sql], route
