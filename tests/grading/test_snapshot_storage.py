"""A result set's snapshots are stored after its other columns on SQLite (migration 0006),
so that reading a version's state does not walk the snapshots' overflow pages."""

import pytest
from django.db import connection

from kaohe.grading.models import SNAPSHOTS, ResultSet

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL stores large values apart")
def test_the_snapshots_are_the_last_columns_of_the_table():
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({ResultSet._meta.db_table})")
        columns = [row[1] for row in cursor.fetchall()]
    assert tuple(columns[-len(SNAPSHOTS):]) == SNAPSHOTS
    # Every other field is still there, before them.
    assert {f.column for f in ResultSet._meta.concrete_fields} == set(columns)
