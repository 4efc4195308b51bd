"""Placeholder: deadlines (issue 17)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rounds", "0002_round_status")]

    operations = []
