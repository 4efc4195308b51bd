"""A category's submitted grade matrix, stored with its snapshot without the reasons (issue
19): the category's page shows 20 units at a time and no longer decodes every unit's
reasons to do so. Filled here from the snapshots already submitted."""

from django.db import migrations, models


def fill_grade_rows(apps, schema_editor):
    CategorySubmission = apps.get_model("reviews", "CategorySubmission")
    for submission in CategorySubmission.objects.only("pk", "snapshot").iterator(chunk_size=20):
        units = (submission.snapshot or {}).get("units")
        if isinstance(units, list):
            rows = [[u.get("unit"), u.get("name"), u.get("grades") or {}] for u in units]
            CategorySubmission.objects.filter(pk=submission.pk).update(grade_rows=rows)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0006_finding_unit_round_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="categorysubmission",
            name="grade_rows",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(fill_grade_rows, migrations.RunPython.noop, elidable=True),
    ]
