from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_enrolment_codes_one_time_passwords")]

    operations: list = []
