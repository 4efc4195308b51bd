"""Export lease (issue 17): a running export's heartbeat, so a killed worker is detected."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="export",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
