"""Placeholder: deadlines (issue 17: late flags)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0003_rectification_cycle")]

    operations = []
