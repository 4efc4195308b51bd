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
already: nothing is done there). Later rebuilds follow the state's order, so the
snapshots stay last.
"""

from django.db import migrations, models


def rebuild_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor._remake_table(apps.get_model("grading", "ResultSet"))


class Migration(migrations.Migration):

    dependencies = [
        ("grading", "0005_result_rows"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            operation
            for name in ("inputs", "method", "outputs")
            for operation in (
                migrations.RemoveField(model_name="resultset", name=name),
                migrations.AddField(model_name="resultset", name=name,
                                    field=models.JSONField(), preserve_default=False),
            )
        ]),
        migrations.RunPython(rebuild_on_sqlite, migrations.RunPython.noop, elidable=False),
    ]
