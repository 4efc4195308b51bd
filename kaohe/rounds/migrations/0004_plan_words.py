"""The plan's words as round data (issue 18).

Documents used to type these words into the exporters, the same for every round; each
existing round now gets the 2017 plan's words from the shipped data file (blank fields
only), which is what its documents quoted (or meant to quote) so far.
"""

import json
from pathlib import Path

from django.db import migrations, models

WORDS = ("measures_title", "issuer_name", "leading_group_name", "working_group_name",
         "grading_rule_text", "summons_text")
DATA = Path(__file__).resolve().parent.parent / "data" / "round_2017.json"


def fill_words(apps, schema_editor):
    Round = apps.get_model("rounds", "Round")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for round_ in Round.objects.all():
        changed = [name for name in WORDS if not getattr(round_, name) and data.get(name)]
        for name in changed:
            setattr(round_, name, data[name])
        if changed:
            round_.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("rounds", "0003_deadlines")]

    operations = [
        migrations.AddField(
            model_name="round",
            name="measures_title",
            field=models.CharField(blank=True, max_length=200, verbose_name="考核办法名称"),
        ),
        migrations.AddField(
            model_name="round",
            name="issuer_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="发文机关名称"),
        ),
        migrations.AddField(
            model_name="round",
            name="leading_group_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="领导小组名称"),
        ),
        migrations.AddField(
            model_name="round",
            name="working_group_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="考核工作组名称"),
        ),
        migrations.AddField(
            model_name="round",
            name="grading_rule_text",
            field=models.TextField(blank=True, verbose_name="等次划分规定"),
        ),
        migrations.AddField(
            model_name="round",
            name="summons_text",
            field=models.TextField(blank=True, verbose_name="约谈规定"),
        ),
        migrations.RunPython(fill_words, migrations.RunPython.noop),
    ]
