"""Deadlines (issue 17): extensions for lead departments, late flags kept at submission."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("submissions", "0005_cadre_locks"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="extension",
            name="extension_has_one_party",
        ),
        migrations.AddField(
            model_name="extension",
            name="lead_department",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.CASCADE,
                                    related_name="extensions", to="directory.leaddepartment"),
        ),
        migrations.AddField(
            model_name="provincialreport",
            name="late_extension",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="submissions.extension"),
        ),
        migrations.AddField(
            model_name="provincialreport",
            name="submitted_late",
            field=models.BooleanField(default=False, verbose_name="逾期提交"),
        ),
        migrations.AddField(
            model_name="selfreport",
            name="late_extension",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="submissions.extension"),
        ),
        migrations.AddField(
            model_name="selfreport",
            name="submitted_late",
            field=models.BooleanField(default=False, verbose_name="逾期提交"),
        ),
        migrations.AddConstraint(
            model_name="extension",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("lead_department__isnull", True), ("province__isnull", True),
                             ("unit__isnull", False)),
                    models.Q(("lead_department__isnull", True), ("province__isnull", False),
                             ("unit__isnull", True)),
                    models.Q(("lead_department__isnull", False), ("province__isnull", True),
                             ("unit__isnull", True)),
                    _connector="OR"),
                name="extension_has_one_party"),
        ),
    ]
