"""Provincial report evidence (issue 17): attachments with their kind (evidence or the
provincial leading group's approval document), indicator 2 per county; the unused
evidence many-to-many gives way to the attachments."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("evidence", "0001_initial"),
        ("submissions", "0006_deadlines_late"),
    ]

    operations = [
        migrations.RemoveField(model_name="provincialreport", name="evidence"),
        migrations.AddField(
            model_name="countyoutcome",
            name="deep_funds",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=12, null=True,
                validators=[django.core.validators.MinValueValidator(Decimal("0")),
                            django.core.validators.MaxValueValidator(Decimal("1000000"))],
                verbose_name="拨付帮扶资金（万元）"),
        ),
        migrations.AddField(
            model_name="countyoutcome",
            name="deep_projects",
            field=models.PositiveIntegerField(
                blank=True, null=True,
                validators=[django.core.validators.MaxValueValidator(10000)],
                verbose_name="帮扶项目（个）"),
        ),
        migrations.AddField(
            model_name="countyoutcome",
            name="deep_cadres",
            field=models.PositiveIntegerField(
                blank=True, null=True,
                validators=[django.core.validators.MaxValueValidator(1000)],
                verbose_name="选派挂职干部（人）"),
        ),
        migrations.AddField(
            model_name="countyoutcome",
            name="deep_support",
            field=models.TextField(blank=True, verbose_name="对深度贫困地区的帮扶情况"),
        ),
        migrations.CreateModel(
            name="ProvincialAttachment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("kind", models.CharField(choices=[("evidence", "证明材料"), ("approval", "审定文件")],
                                          max_length=20, verbose_name="材料类别")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("county", models.ForeignKey(blank=True, null=True,
                                             on_delete=django.db.models.deletion.PROTECT,
                                             related_name="+", to="directory.county")),
                ("evidence", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                               related_name="provincial_attachments",
                                               to="evidence.evidence")),
                ("report", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                             related_name="attachments",
                                             to="submissions.provincialreport")),
            ],
            options={
                "verbose_name": "省级总结报告附件",
                "ordering": ["created_at"],
                "constraints": [models.UniqueConstraint(fields=("report", "evidence"),
                                                        name="provincial_attachment_unique")],
            },
        ),
    ]
