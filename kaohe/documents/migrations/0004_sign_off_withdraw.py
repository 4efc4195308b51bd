import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0003_sign_off"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="signoff",
            name="documents_signoff_once",
        ),
        migrations.AddField(
            model_name="signoff",
            name="withdrawn_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="作废时间"),
        ),
        migrations.AddField(
            model_name="signoff",
            name="withdrawn_by",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name="signoff",
            name="withdraw_reason",
            field=models.TextField(blank=True, verbose_name="作废原因"),
        ),
        migrations.AddConstraint(
            model_name="signoff",
            constraint=models.UniqueConstraint(condition=models.Q(withdrawn_at__isnull=True),
                                               fields=("identifier", "object_key"),
                                               name="documents_signoff_in_force"),
        ),
    ]
