"""Summons withdrawn by a released correction that lifts the unit out of 较差."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0007_result_row_grade'),
        ('outcomes', '0004_deadlines_late'),
    ]

    operations = [
        migrations.AddField(
            model_name='summons',
            name='withdrawn_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='撤销时间'),
        ),
        migrations.AddField(
            model_name='summons',
            name='withdrawn_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='grading.correction', verbose_name='撤销依据（考核结果更正）'),
        ),
    ]
