"""Issue 19, the /grading/ index: a category's submission keeps every unit's grades (its
snapshot, 1.2 MB at 3,100 units). The index shows how many units a category submitted from
a count stored with the snapshot, without the database parsing the snapshot on each visit;
the migration that adds the count fills it from the snapshots already submitted."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.reviews.models import CategorySubmission


@pytest.fixture(autouse=True)
def _during_the_review(settings):
    """Before the lead departments' deadline, so that the fixtures can submit results."""
    settings.KAOHE_TODAY = "2018-01-10"


def test_the_count_is_stored_with_the_snapshot(mixed):
    submission = CategorySubmission.objects.get(round=mixed["round"],
                                                lead_department=mixed["lead_a"])
    assert len(submission.snapshot["units"]) == 10
    assert submission.unit_count == 10


def test_the_index_shows_the_stored_count_and_leaves_the_snapshot_alone(mixed, personas,
                                                                        client):
    # The count shown is the one stored, whatever the snapshot holds.
    CategorySubmission.objects.filter(lead_department=mixed["lead_a"]).update(unit_count=12)
    client.force_login(personas["working_group"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("grading:index")).content.decode()
    assert "<td>12</td>" in page
    reads = [q["sql"] for q in queries if 'FROM "reviews_categorysubmission"' in q["sql"]]
    assert reads and not [sql for sql in reads if "snapshot" in sql]


def test_the_migration_counts_the_units_of_the_snapshots_already_submitted(mixed, world):
    submitted = CategorySubmission.objects.get(lead_department=mixed["lead_a"])
    draft = CategorySubmission.objects.create(round=world["round"],
                                              lead_department=world["lead_b"])
    CategorySubmission.objects.update(unit_count=None)
    migration = importlib.import_module("kaohe.reviews.migrations.0005_category_unit_count")
    migration.count_units(apps, None)
    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert submitted.unit_count == 10
    assert draft.unit_count is None  # nothing submitted: nothing counted
