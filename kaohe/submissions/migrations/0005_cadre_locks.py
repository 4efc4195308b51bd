"""Cadre locks (issue 17): a seconded cadre or first secretary is withdrawn, never deleted,
once the unit's self-report is submitted or the organization department has checked it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _withdrawal_fields(model_name):
    return [
        migrations.AddField(
            model_name=model_name, name="withdrawn_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="撤回时间"),
        ),
        migrations.AddField(
            model_name=model_name, name="withdrawn_by",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name=model_name, name="withdrawn_reason",
            field=models.TextField(blank=True, verbose_name="撤回原因"),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0004_people_count_bounds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *_withdrawal_fields("secondedcadre"),
        *_withdrawal_fields("firstsecretary"),
    ]
