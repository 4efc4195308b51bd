"""The read model of result sets (issue 19 item 4, issue 22 item 5): one row per unit per
version and a summary, written with the version and never changed. Versions made before
have none; they are written on their first read (kaohe.grading.readmodel.ensure_rows)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("grading", "0004_correction_abandon")]

    operations = [
        migrations.CreateModel(
            name="ResultSummary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("units", models.PositiveIntegerField()),
                ("bands", models.JSONField()),
                ("counts", models.JSONField()),
                ("grade_counts", models.JSONField()),
                ("warned_units", models.PositiveIntegerField()),
                ("engine_outside", models.JSONField()),
                ("warnings", models.JSONField()),
                ("warning_kinds", models.JSONField()),
                ("sensitivity", models.JSONField()),
                ("calibration", models.JSONField()),
                ("result_set", models.OneToOneField(
                    on_delete=django.db.models.deletion.CASCADE, related_name="summary",
                    to="grading.resultset")),
            ],
        ),
        migrations.CreateModel(
            name="ResultRow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("seq", models.PositiveIntegerField()),
                ("unit_code", models.CharField(max_length=20)),
                ("unit_name", models.CharField(max_length=200)),
                ("category", models.CharField(max_length=100)),
                ("rank", models.PositiveIntegerField()),
                ("position", models.PositiveIntegerField()),
                ("position_first", models.PositiveIntegerField()),
                ("position_last", models.PositiveIntegerField()),
                ("score", models.JSONField()),
                ("grade", models.CharField(max_length=20)),
                ("band", models.CharField(max_length=20)),
                ("candidates", models.JSONField()),
                ("allowed", models.CharField(max_length=60)),
                ("area_grades", models.JSONField()),
                ("reasons", models.JSONField()),
                ("reason_codes", models.JSONField()),
                ("warnings", models.JSONField()),
                ("major_incident", models.BooleanField()),
                ("serious_problem", models.BooleanField()),
                ("recommended_grade", models.CharField(blank=True, max_length=20)),
                ("result_set", models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="rows",
                    to="grading.resultset")),
            ],
            options={
                "ordering": ["result_set", "seq"],
                "indexes": [models.Index(fields=["result_set", "category", "seq"],
                                         name="result_row_category")],
                "constraints": [
                    models.UniqueConstraint(fields=("result_set", "unit_code"),
                                            name="result_row_unit"),
                    models.UniqueConstraint(fields=("result_set", "seq"), name="result_row_seq"),
                ],
            },
        ),
    ]
