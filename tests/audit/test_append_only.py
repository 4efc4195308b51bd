"""The database itself refuses to change or delete audit entries (security.md 16, 17).

The model and queryset refuse in Python (test_audit_log.py); these tests go around them
with raw SQL and Django's internal paths, as a bug or an intruder with the application's
database connection would, and find the triggers of migration 0003 in the way.
"""

import datetime

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from kaohe.audit import guard
from kaohe.audit.models import AuditEntry
from kaohe.audit.services import log_action, verify_chain

pytestmark = pytest.mark.django_db


def _raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def entries():
    return [log_action(f"test.append_only.{i}", data={"n": i}) for i in range(3)]


def _expected_triggers():
    if connection.vendor == "postgresql":
        return sorted(guard.PG_TRIGGERS)
    return sorted(guard.SQLITE_TRIGGERS)


def test_the_triggers_are_installed():
    assert guard.installed_triggers() == _expected_triggers()


@pytest.mark.parametrize("sql", [
    "UPDATE audit_auditentry SET action = 'rewritten' WHERE id = %s",
    "UPDATE audit_auditentry SET success = NOT success WHERE id = %s",
    "UPDATE audit_auditentry SET hash = hash WHERE id = %s",  # even a no-op
    "DELETE FROM audit_auditentry WHERE id = %s",
])
def test_raw_sql_cannot_change_or_delete_an_entry(entries, sql):
    with pytest.raises(IntegrityError, match="append-only"):
        _raw(sql, [entries[1].id])
    assert AuditEntry.objects.count() == 3
    assert AuditEntry.objects.get(pk=entries[1].pk).action == "test.append_only.1"
    assert verify_chain().ok


def test_deleting_the_whole_table_is_refused(entries):
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused_on_postgresql(entries):
    with pytest.raises(IntegrityError):
        _raw("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.count() == 3


def test_djangos_internal_paths_around_the_queryset_are_refused(entries):
    # _raw_delete and the base QuerySet's methods skip AuditEntryQuerySet's overrides.
    one = AuditEntry.objects.filter(pk=entries[0].pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        one._raw_delete(using="default")
    with pytest.raises(IntegrityError), transaction.atomic():
        models.QuerySet.update(one, action="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        models.QuerySet.delete(one)
    assert AuditEntry.objects.get(pk=entries[0].pk).action == "test.append_only.0"


def test_entries_older_than_the_retention_period_are_kept_too(settings):
    # Nothing in Kaohe deletes old entries; the database would refuse it anyway.
    entry = log_action("test.old")
    old = timezone.now() - datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS + 30)
    with guard.append_only_guard_lifted():  # only to make the entry old for the test
        _raw("UPDATE audit_auditentry SET created_at = %s WHERE id = %s", [old, entry.id])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM audit_auditentry WHERE created_at < %s",
             [timezone.now() - datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS)])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_new_entries_are_still_appended(entries):
    entry = log_action("test.after")
    assert entry.prev_hash == entries[-1].hash
    assert verify_chain().ok


# -- The maintenance path ---------------------------------------------------------------------

def test_the_guard_lifts_the_triggers_inside_the_block_only(entries):
    with guard.append_only_guard_lifted():
        assert guard.installed_triggers() == []
        _raw("UPDATE audit_auditentry SET action = 'x' WHERE id = %s", [entries[0].id])
    assert guard.installed_triggers() == _expected_triggers()
    with pytest.raises(IntegrityError):
        _raw("UPDATE audit_auditentry SET action = 'y' WHERE id = %s", [entries[0].id])
    # The change made with the guard lifted is exactly what `kaohe verify` finds.
    assert verify_chain().first_broken_id == entries[0].id


def test_the_guard_restores_the_triggers_after_an_error(entries):
    with pytest.raises(RuntimeError), guard.append_only_guard_lifted():
        raise RuntimeError("maintenance went wrong")
    assert guard.installed_triggers() == _expected_triggers()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps trigger SQL")
def test_the_guard_puts_back_the_same_definitions_on_sqlite():
    def definitions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                           "AND tbl_name = 'audit_auditentry' ORDER BY name")
            return cursor.fetchall()

    before = definitions()
    with guard.append_only_guard_lifted():
        pass
    assert definitions() == before
    assert "RAISE(ABORT" in before[0][1]


def test_nothing_in_the_application_lifts_the_guard():
    """Only tests/ may call the maintenance path; the product never does."""
    from pathlib import Path

    package = Path(guard.__file__).resolve().parents[1]
    callers = [path.relative_to(package).as_posix() for path in package.rglob("*.py")
               if "append_only_guard_lifted" in path.read_text(encoding="utf-8")
               and path.resolve() != Path(guard.__file__).resolve()]
    assert callers == []
