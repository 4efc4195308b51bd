"""Deadlines (issue 17): the category submission's late flag, kept at submission."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0003_finding_withdrawal"),
        ("submissions", "0006_deadlines_late"),
    ]

    operations = [
        migrations.AddField(
            model_name="categorysubmission",
            name="late_extension",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="submissions.extension"),
        ),
        migrations.AddField(
            model_name="categorysubmission",
            name="submitted_late",
            field=models.BooleanField(default=False, verbose_name="逾期提交"),
        ),
    ]
