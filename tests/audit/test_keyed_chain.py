"""The audit chain is keyed (security.md 28): each hash is an HMAC-SHA256 under AUDIT_KEY,
which is not in the database, so that whoever owns the database can neither rewrite an
entry and recompute the chain with plain SHA-256, nor with a key of their own."""

import hashlib
import hmac

import pytest
from django.core.management import CommandError, call_command

from kaohe.audit import chain
from kaohe.audit.models import AuditEntry
from kaohe.audit.services import log_action, verify_chain
from tests.audit import forgery

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    return [log_action(f"test.keyed.{i}", data={"n": i}) for i in range(6)]


def test_each_hash_is_an_hmac_under_the_audit_key_not_a_plain_sha256(entries, settings):
    entry = AuditEntry.objects.get(pk=entries[2].pk)
    assert entry.hash != forgery.plain_sha256(entry)
    expected = hmac.new(settings.AUDIT_KEY.encode(), forgery.canonical(entry),
                        hashlib.sha256).hexdigest()
    assert entry.hash == expected
    assert verify_chain().ok


def test_a_row_changed_and_the_chain_recomputed_with_plain_sha256_fails_verify(entries):
    # The attack of issue 15: triggers lifted, one row changed, SHA-256 recomputed from it on.
    victim = entries[2]
    forgery.rewrite(victim.id, change=lambda e: e.data.update(n=99))
    report = verify_chain()
    assert not report.ok
    assert report.first_broken_id == victim.id
    with pytest.raises(CommandError, match=rf"audit log broken at entry {victim.id}\b"):
        call_command("verify")


def test_a_chain_recomputed_with_a_wrong_key_fails_verify(entries):
    victim = entries[3]
    forgery.rewrite(victim.id, change=lambda e: setattr(e, "action", "test.rewritten"),
                    digest=forgery.hmac_with(b"a-guessed-key-of-the-database-owner-000000"))
    report = verify_chain()
    assert report.first_broken_id == victim.id
    assert "hash" in report.reason


def test_the_whole_log_recomputed_with_plain_sha256_fails_verify(entries):
    # Downgrading every entry to the old, unkeyed format is no way around the key either.
    forgery.rewrite(entries[0].id)
    report = verify_chain()
    assert report.first_broken_id == entries[0].id


def test_verify_checks_against_the_configured_key(entries, settings):
    settings.AUDIT_KEY = "another-installation-key-0123456789-abcdef"
    assert verify_chain().first_broken_id == entries[0].id


# -- Installations whose log began before the key ---------------------------------------------

def _legacy_entries(n: int) -> list[AuditEntry]:
    """Entries as Kaohe wrote them before the chain was keyed: plain SHA-256."""
    from django.utils import timezone

    made, previous = [], chain.GENESIS
    for i in range(n):
        entry = AuditEntry(created_at=timezone.now(), action=f"test.legacy.{i}",
                           data={"n": i}, prev_hash=previous)
        entry.hash = forgery.plain_sha256(entry)
        entry.save()
        made.append(entry)
        previous = entry.hash
    return made


def test_an_old_plain_chain_is_carried_into_the_keyed_one_by_a_recorded_entry():
    old = _legacy_entries(4)
    marker = chain.start_keyed_chain(AuditEntry)
    assert marker.action == "audit.chain.keyed"
    assert marker.prev_hash == old[-1].hash
    assert marker.data == {"plain_entries": 4, "plain_head": old[-1].hash}
    # Run again (a second migrate), nothing more is written.
    assert chain.start_keyed_chain(AuditEntry) is None
    log_action("test.after")
    report = verify_chain()
    assert report.ok, report.reason
    assert report.checked == 6


def test_an_empty_log_needs_no_record_of_an_old_chain():
    assert chain.start_keyed_chain(AuditEntry) is None
    assert not AuditEntry.objects.exists()


def test_a_rewritten_plain_entry_before_the_keyed_chain_breaks_its_link():
    old = _legacy_entries(4)
    marker = chain.start_keyed_chain(AuditEntry)
    log_action("test.after")
    # Rewritten and rehashed up to the keyed record of the plain chain, which then no
    # longer links to it (and cannot be recomputed without the key).
    forgery.rewrite(old[1].id, change=lambda e: setattr(e, "action", "test.rewritten"),
                    until_id=marker.id)
    report = verify_chain()
    assert report.first_broken_id == marker.id
    assert "link" in report.reason


def test_plain_entries_without_the_record_of_the_keyed_start_fail():
    old = _legacy_entries(3)
    report = verify_chain()
    assert report.first_broken_id == old[0].id
    assert "keyed" in report.reason


def test_plain_entries_after_the_keyed_start_fail():
    _legacy_entries(2)
    chain.start_keyed_chain(AuditEntry)
    keyed = log_action("test.keyed")
    forgery.rewrite(keyed.id)
    assert verify_chain().first_broken_id == keyed.id


def test_no_page_of_the_administrators_shows_the_audit_key(personas, login, settings):
    from django.urls import reverse

    for persona, name in [("system_admin", "accounts:admin_settings"),
                          ("security_admin", "accounts:admin_security_policy"),
                          ("auditor", "audit:list")]:
        content = login(personas[persona]).get(reverse(name), {"verify": "1"}).content.decode()
        assert settings.AUDIT_KEY not in content, name
