"""A unit's serious problems and major incidents of a round through one index on (unit, round)
(issue 19): the review queue reads them per unit."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0005_category_unit_count"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="majorincident",
            index=models.Index(fields=["unit", "round"], name="majorincident_unit_round"),
        ),
        migrations.AddIndex(
            model_name="seriousproblem",
            index=models.Index(fields=["unit", "round"], name="seriousproblem_unit_round"),
        ),
    ]
