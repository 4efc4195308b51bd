"""A result set's snapshots stored after its other columns (SQLite).

SQLite stores a row's columns in the table's order, and a value too large for its page
goes to a chain of overflow pages. The snapshots (inputs, method, outputs: some 7 MB at
3,100 units) stood before the version's dates, signers and seal, so reading those, even
with the snapshots deferred, walked the whole chain: 2.5 ms a read at 3,100 units, on
every page that shows where the round is (issue 19). Stored last, they are read only when
asked for.

The fields are moved to the end of the migration state (removed and added again: the
state only), then the table is rebuilt in that order by Django's own schema editor, which
copies every row by column name (on PostgreSQL large values are stored apart from the row
already: nothing is done there). Django's rebuilds put a key to the table itself
(superseded_by) after every other column; this one puts the snapshots after it. A later
rebuild of this table would put that key last again (test_snapshot_storage says so).
"""

from django.db import migrations, models

SNAPSHOTS = ("inputs", "method", "outputs")


def rebuild_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    result_set = apps.get_model("grading", "ResultSet")
    moved = []
    for name in SNAPSHOTS:
        field = result_set._meta.get_field(name)
        copy = field.clone()
        copy.set_attributes_from_name(name)
        # A rebuild orders the columns by the fields' creation counters and clones a key
        # to the table itself (superseded_by) first: the snapshots' copies come after it.
        copy.creation_counter = models.Field.creation_counter + 1000 + len(moved)
        moved.append((field, copy))
    schema_editor._remake_table(result_set, alter_fields=moved)


class Migration(migrations.Migration):

    dependencies = [
        ("grading", "0005_result_rows"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            operation
            for name in SNAPSHOTS
            for operation in (
                migrations.RemoveField(model_name="resultset", name=name),
                migrations.AddField(model_name="resultset", name=name,
                                    field=models.JSONField(), preserve_default=False),
            )
        ]),
        migrations.RunPython(rebuild_on_sqlite, migrations.RunPython.noop, elidable=False),
    ]
