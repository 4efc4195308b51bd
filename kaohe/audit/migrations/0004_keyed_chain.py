"""The audit chain becomes keyed (security.md 28): from here on every hash is an HMAC under
AUDIT_KEY. Entries already written keep their plain SHA-256 hashes (nothing is rewritten);
one keyed entry, "audit.chain.keyed", is appended after them recording how many there are
and the last one's hash, which is where `kaohe verify` expects the keyed chain to begin.
An empty log (a new installation) needs no such entry.
"""

from django.db import migrations


def start_keyed_chain(apps, schema_editor):
    from kaohe.audit.chain import start_keyed_chain

    start_keyed_chain(apps.get_model("audit", "AuditEntry"),
                      using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_append_only_triggers"),
    ]

    operations = [
        # Irreversible in effect: the entry stays (the log is append-only).
        migrations.RunPython(start_keyed_chain, migrations.RunPython.noop),
    ]
