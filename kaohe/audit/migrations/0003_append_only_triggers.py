"""The database refuses to change or delete audit entries (security.md 16).

PostgreSQL: a row trigger before UPDATE or DELETE and a statement trigger before TRUNCATE
raise restrict_violation. SQLite: triggers before UPDATE and before DELETE abort the
statement. Either way Django reports an IntegrityError. The SQL is written out here, not
imported, so that this migration keeps doing what it did when it was first applied;
kaohe.audit.guard lifts and restores these triggers by reading them back from the
database.
"""

from django.db import migrations

PG_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION audit_auditentry_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'audit entries are append-only: ' || TG_OP || ' refused',
            ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_auditentry_append_only_rows
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_auditentry_append_only()
    """,
    """
    CREATE TRIGGER audit_auditentry_append_only_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditentry_append_only()
    """,
]
PG_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_auditentry_append_only_truncate ON audit_auditentry",
    "DROP TRIGGER IF EXISTS audit_auditentry_append_only_rows ON audit_auditentry",
    "DROP FUNCTION IF EXISTS audit_auditentry_append_only()",
]
SQLITE_INSTALL = [
    """
    CREATE TRIGGER audit_auditentry_no_update BEFORE UPDATE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_auditentry_no_delete BEFORE DELETE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_auditentry_no_update",
    "DROP TRIGGER IF EXISTS audit_auditentry_no_delete",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_INSTALL)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_INSTALL)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_REMOVE)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_REMOVE)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_alter_auditentry_actor"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
