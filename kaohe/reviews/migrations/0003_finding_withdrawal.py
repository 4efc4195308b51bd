"""Finding withdrawal (issue 17): a serious problem or major incident is withdrawn with a
reason by the role that recorded it, never deleted; it stays in the history."""

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
        ("reviews", "0002_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *_withdrawal_fields("seriousproblem"),
        *_withdrawal_fields("majorincident"),
    ]
