"""Closed rounds / abandoned corrections (issue 16): the leading group may withdraw an open
correction with a written reason; its versions become "abandoned"."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_STATUSES = [("draft", "综合评议中"), ("submitted", "已报领导小组审定"), ("returned", "领导小组退回"),
             ("approved", "已审定"), ("released", "已反馈"), ("superseded", "已被新版本取代"),
             ("abandoned", "更正已撤销")]


class Migration(migrations.Migration):
    dependencies = [
        ("grading", "0003_result_set_scheme_hash"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="correction",
            name="abandon_reason",
            field=models.TextField(blank=True, verbose_name="撤销理由"),
        ),
        migrations.AddField(
            model_name="correction",
            name="abandoned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="correction",
            name="abandoned_by",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="resultset",
            name="status",
            field=models.CharField(choices=_STATUSES, default="draft", max_length=20),
        ),
        migrations.AlterField(
            model_name="resultsetevent",
            name="action",
            field=models.CharField(choices=[
                ("submitted", "报领导小组审定"), ("returned", "领导小组退回"),
                ("approved", "领导小组审定同意"), ("released", "向各单位反馈"),
                ("superseded", "被新版本取代"), ("correction_opened", "领导小组提出更正"),
                ("correction_abandon", "领导小组撤销更正")], max_length=20),
        ),
        migrations.AlterField(
            model_name="resultsetevent",
            name="status",
            field=models.CharField(choices=_STATUSES, max_length=20),
        ),
    ]
