"""The database's own refusal to change or delete audit entries, and its one way around.

Migration 0003 puts triggers on the audit table (PostgreSQL: BEFORE UPDATE OR DELETE per
row and BEFORE TRUNCATE; SQLite: BEFORE UPDATE and BEFORE DELETE), so not even a raw SQL
statement from the application can rewrite the log. The model and its queryset refuse the
same in Python (kaohe.audit.models), with a clearer error.

append_only_guard_lifted() is the single, clearly named maintenance path: it takes the
triggers away for the duration of a block and puts exactly the same ones back. The
application never calls it. The test suite does, in three places only: resetting the
database between transactional tests (Django's flush empties every table), emptying the
log after loading the session's reference data, and tampering with entries to prove that
`kaohe verify` names the first broken one. On PostgreSQL it needs the table's owner, which
a hardened installation does not give the application's database role.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

TABLE = "audit_auditentry"
PG_FUNCTION = "audit_auditentry_append_only"
PG_TRIGGERS = ("audit_auditentry_append_only_rows", "audit_auditentry_append_only_truncate")
SQLITE_TRIGGERS = ("audit_auditentry_no_update", "audit_auditentry_no_delete")


def installed_triggers(using: str = "default") -> list[str]:
    """The names of the append-only triggers present and enabled on the audit table."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY tgname", [TABLE])
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                           "AND tbl_name = %s ORDER BY name", [TABLE])
        else:
            return []
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def append_only_guard_lifted(using: str = "default") -> Iterator[None]:
    """Let UPDATE, DELETE and TRUNCATE through on the audit table inside the block.

    For test fixtures and documented maintenance only; see the module's docstring.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER USER')
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER USER')
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                           "AND tbl_name = %s ORDER BY name", [TABLE])
            saved = cursor.fetchall()
            for name, _sql in saved:
                cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            yield
        finally:
            # Exactly the definitions that were there, so nothing drifts from the migration.
            with connection.cursor() as cursor:
                for _name, sql in saved:
                    cursor.execute(sql)
    else:
        yield
