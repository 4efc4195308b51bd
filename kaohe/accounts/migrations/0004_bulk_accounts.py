import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_enrolment_codes_one_time_passwords")]

    operations = [
        migrations.CreateModel(
            name="AccountOpening",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("created_account", models.BooleanField(default=True)),
                ("opened_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("letter_batch", models.CharField(blank=True, db_index=True, max_length=32)),
                ("letter_issued_at", models.DateTimeField(blank=True, null=True)),
                ("lead_department", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                    related_name="+", to="directory.leaddepartment")),
                ("opened_by", models.ForeignKey(
                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                    to=settings.AUTH_USER_MODEL)),
                ("province", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                    related_name="+", to="directory.province")),
                ("unit", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                    related_name="+", to="directory.unit")),
                ("user", models.OneToOneField(
                    on_delete=django.db.models.deletion.CASCADE, related_name="opening",
                    to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "批量开设的账户",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("lead_department__isnull", True), ("province__isnull", True),
                                     ("unit__isnull", False)),
                            models.Q(("lead_department__isnull", True), ("province__isnull", False),
                                     ("unit__isnull", True)),
                            models.Q(("lead_department__isnull", False), ("province__isnull", True),
                                     ("unit__isnull", True)),
                            _connector="OR"),
                        name="opening_one_target"),
                    models.UniqueConstraint(condition=models.Q(("unit__isnull", False)),
                                            fields=("unit",), name="opening_one_per_unit"),
                    models.UniqueConstraint(condition=models.Q(("province__isnull", False)),
                                            fields=("province",),
                                            name="opening_one_per_province"),
                ],
            },
        ),
    ]
