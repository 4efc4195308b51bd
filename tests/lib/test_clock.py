"""One clock (issue 21): every timestamp the application writes comes from kaohe.lib.clock,
which KAOHE_TODAY moves in the demo; without it, the real clock."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from kaohe.audit.models import AuditEntry
from kaohe.audit.services import log_action
from kaohe.lib import clock
from kaohe.lib.fields import StampedDateTimeField

SIMULATED = datetime.date(2018, 1, 10)


def _close(a: datetime.datetime, b: datetime.datetime) -> bool:
    return abs(a - b) < datetime.timedelta(seconds=5)


def test_now_is_the_real_clock_when_nothing_is_simulated(settings):
    settings.KAOHE_TODAY = ""
    assert not clock.is_simulated()
    assert _close(clock.now(), timezone.now()) and timezone.is_aware(clock.now())


def test_now_is_the_simulated_day_at_the_real_local_time(settings):
    settings.KAOHE_TODAY = "2018-01-10"
    now, real = timezone.localtime(clock.now()), timezone.localtime()
    assert timezone.is_aware(now)
    assert now.date() == SIMULATED
    # The time of day is the real one, so the order of today's events is kept.
    assert _close(now, datetime.datetime.combine(SIMULATED, real.time(), real.tzinfo))


def test_now_honours_the_demo_builders_override_even_without_kaohe_today(settings):
    settings.KAOHE_TODAY = ""
    with clock.on(datetime.date(2017, 10, 1)):
        assert clock.is_simulated()
        assert timezone.localtime(clock.now()).date() == datetime.date(2017, 10, 1)
    assert not clock.is_simulated()
    assert timezone.localdate(clock.now()) == timezone.localdate()


@pytest.mark.django_db
def test_the_stamped_field_deconstructs_as_djangos_so_no_migration_is_made():
    field = StampedDateTimeField(auto_now_add=True)
    field.set_attributes_from_name("created_at")
    name, path, _args, kwargs = field.deconstruct()
    assert (name, path, kwargs) == ("created_at", "django.db.models.DateTimeField",
                                    {"auto_now_add": True})
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue(), out.getvalue()


@pytest.mark.django_db
def test_every_auto_stamped_field_of_the_application_uses_the_clock():
    from django.apps import apps

    plain = [f"{model._meta.label}.{field.name}"
             for model in apps.get_models() if model.__module__.startswith("kaohe.")
             for field in model._meta.concrete_fields
             if (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
             and not isinstance(field, StampedDateTimeField)]
    # Replay protection of forms: security timing, kept on the real clock.
    assert plain == ["maintenance.SpentFormToken.created_at"]


@pytest.mark.django_db
def test_audit_entries_are_dated_by_the_clock_and_the_chain_still_verifies(settings, world):
    entry = log_action("test.simulated", data={"n": 1})
    assert timezone.localdate(entry.created_at) == SIMULATED
    settings.KAOHE_TODAY = ""
    real = log_action("test.real", data={"n": 2})
    assert timezone.localdate(real.created_at) == timezone.localdate()
    out = io.StringIO()
    call_command("verify", stdout=out)
    assert f"audit log OK: {AuditEntry.objects.count()} entries verified" in out.getvalue()


@pytest.mark.django_db
def test_auto_now_fields_follow_the_clock(settings, world, personas):
    from kaohe.evidence.models import Upload

    upload = Upload.objects.create(round=world["round"], created_by=personas["unit"],
                                     unit=world["unit_a"], original_name="a.pdf", length=1)
    upload.refresh_from_db()
    assert timezone.localdate(upload.created_at) == SIMULATED
    assert timezone.localdate(upload.updated_at) == SIMULATED
    settings.KAOHE_TODAY = ""
    upload.save()
    upload.refresh_from_db()
    # auto_now_add keeps the day the row was made; auto_now moves to the real day.
    assert timezone.localdate(upload.created_at) == SIMULATED
    assert timezone.localdate(upload.updated_at) == timezone.localdate()
