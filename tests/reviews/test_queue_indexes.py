"""Issue 19, the review queue: for each unit it counts the unit's provincial reports,
serious problems and major incidents of the round. Each of those tables has an index on
(unit, round), so the database reads the unit's few rows of the round, not every row of
the round for every unit (2.3 s for a category of 1,050 units when SQLite chose the round's
index; 8.3 s for 3,000 units)."""

import pytest
from django.db import connection

from kaohe.directory.models import Unit
from kaohe.reviews.selectors import review_queue

INDEXES = {
    "submissions_provincialreport": "provincialreport_unit_round",
    "reviews_seriousproblem": "seriousproblem_unit_round",
    "reviews_majorincident": "majorincident_unit_round",
}


def test_each_table_has_its_unit_and_round_index(world):
    with connection.cursor() as cursor:
        for table, name in INDEXES.items():
            constraints = connection.introspection.get_constraints(cursor, table)
            assert constraints[name]["columns"] == ["unit_id", "round_id"], table


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan, without statistics")
def test_the_queue_reads_each_units_rows_through_its_unit_and_round_index(world):
    queue = review_queue(world["round"], Unit.objects.all())
    sql, params = queue.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [row[-1] for row in cursor.fetchall()]
    for table, name in INDEXES.items():
        searches = [line for line in plan if table in line or name in line]
        assert searches, (table, plan)
        assert all(f"USING INDEX {name} (unit_id=? AND round_id=?)" in line
                   for line in searches), searches
