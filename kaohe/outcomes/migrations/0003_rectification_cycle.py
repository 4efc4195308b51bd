"""Rectification cycle (issue 17): resubmission after 整改不到位 with its history, and
evidence files per item."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def count_earlier_submissions(apps, schema_editor):
    """A report submitted before this migration was submitted once, at submitted_at."""
    report = apps.get_model("outcomes", "RectificationReport")
    report.objects.filter(submitted_at__isnull=False).update(
        submission_count=1, last_submitted_at=models.F("submitted_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0002_feedback_per_version"),
        ("evidence", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="rectificationitem",
            name="needs_revision",
            field=models.BooleanField(default=False, verbose_name="待重新整改"),
        ),
        migrations.AddField(
            model_name="rectificationreport",
            name="last_submitted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最近报送时间"),
        ),
        migrations.AddField(
            model_name="rectificationreport",
            name="submission_count",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="报送次数"),
        ),
        migrations.CreateModel(
            name="RectificationEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[
                    ("submitted", "报送"), ("resubmitted", "重新报送"),
                    ("accepted", "认定已完成"), ("not_accepted", "认定整改不到位"),
                    ("extended", "准予延期")], max_length=20, verbose_name="事项")),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="时间")),
                ("comment", models.TextField(blank=True, verbose_name="说明")),
                ("data", models.JSONField(blank=True, default=dict)),
                ("actor", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                            related_name="+", to=settings.AUTH_USER_MODEL)),
                ("item", models.ForeignKey(blank=True, null=True,
                                           on_delete=django.db.models.deletion.CASCADE,
                                           related_name="events",
                                           to="outcomes.rectificationitem")),
                ("report", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                             related_name="events",
                                             to="outcomes.rectificationreport")),
            ],
            options={"verbose_name": "整改记录", "ordering": ["at", "pk"]},
        ),
        migrations.CreateModel(
            name="RectificationAttachment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("attached_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                  related_name="+",
                                                  to=settings.AUTH_USER_MODEL)),
                ("evidence", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                               related_name="rectification_attachments",
                                               to="evidence.evidence")),
                ("item", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                           related_name="attachments",
                                           to="outcomes.rectificationitem")),
                ("report", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                             related_name="attachments",
                                             to="outcomes.rectificationreport")),
            ],
            options={
                "verbose_name": "整改佐证材料",
                "ordering": ["created_at", "pk"],
                "constraints": [models.UniqueConstraint(fields=("item", "evidence"),
                                                        name="rectification_attachment_unique")],
            },
        ),
        migrations.RunPython(count_earlier_submissions, migrations.RunPython.noop),
    ]
