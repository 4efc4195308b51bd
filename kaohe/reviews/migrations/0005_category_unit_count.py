"""The number of units in a category's snapshot, stored with it (issue 19): the /grading/
index counts a category's units without the database parsing the snapshot. Filled here from
the snapshots already submitted."""

from django.db import migrations, models


def count_units(apps, schema_editor):
    CategorySubmission = apps.get_model("reviews", "CategorySubmission")
    for submission in CategorySubmission.objects.only("pk", "snapshot").iterator(chunk_size=50):
        units = (submission.snapshot or {}).get("units")
        if isinstance(units, list):
            CategorySubmission.objects.filter(pk=submission.pk).update(unit_count=len(units))


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0004_deadlines_late"),
    ]

    operations = [
        migrations.AddField(
            model_name="categorysubmission",
            name="unit_count",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(count_units, migrations.RunPython.noop, elidable=True),
    ]
