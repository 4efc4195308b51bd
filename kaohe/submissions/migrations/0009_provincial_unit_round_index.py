"""A unit's provincial reports of a round through one index on (unit, round) (issue 19): the
review queue reads them per unit."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0008_cadre_natural_keys"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="provincialreport",
            index=models.Index(fields=["unit", "round"], name="provincialreport_unit_round"),
        ),
    ]
