"""The audit log: append-only, hash-chained, masked, and readable only by the auditor."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse

from kaohe.accounts.models import Role
from kaohe.audit.guard import append_only_guard_lifted
from kaohe.audit.models import AppendOnlyError, AuditEntry
from kaohe.audit.services import GENESIS, log_action, verify_chain
from tests.conftest import PASSWORD, make_user


def _raw(sql, params):
    """Tamper with the log the way only the database owner could: with the guard lifted."""
    with append_only_guard_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def three_entries(db):
    return [log_action(f"test.action.{i}", data={"n": i}) for i in range(3)]


# -- The chain ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_starts_the_chain_at_genesis_and_links_each_entry_to_the_previous():
    # The session's set-up (loading the 2017 round) may already have written entries.
    before = AuditEntry.objects.order_by("-id").first()
    first = log_action("test.first")
    second = log_action("test.second")
    assert AuditEntry.objects.order_by("id").first().prev_hash == GENESIS
    assert first.prev_hash == (before.hash if before else GENESIS)
    assert second.prev_hash == first.hash
    assert first.hash != second.hash
    assert len(first.hash) == 64


@pytest.mark.django_db
def test_it_stores_who_what_target_and_whether_it_succeeded():
    user = make_user("someone", Role.OFFICE)
    entry = log_action("test.action", actor=user, target=user, data={"k": "v"},
                       success=False, ip="10.0.0.7")
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == user
    assert entry.actor_repr == "someone"
    assert entry.action == "test.action"
    assert entry.target_type == "accounts.User"
    assert entry.target_id == str(user.pk)
    assert entry.data == {"k": "v"}
    assert entry.ip == "10.0.0.7"
    assert entry.success is False
    assert entry.hash == entry.compute_hash()


def test_verify_chain_is_ok_on_an_untouched_log(three_entries):
    report = verify_chain()
    assert report.ok
    assert report.first_broken_id is None
    assert report.checked == 3


@pytest.mark.django_db
def test_verify_chain_is_ok_on_an_empty_log():
    report = verify_chain()
    assert report.ok
    assert report.checked == 0


@pytest.mark.parametrize(("column", "value"), [
    ("action", "x"),
    ("actor_repr", "someone-else"),
    ("data", '{"n": 99}'),
    ("success", False),
    ("ip", "192.0.2.1"),
])
def test_verify_chain_names_an_entry_rewritten_through_raw_sql(three_entries, column, value):
    middle = three_entries[1]
    _raw(f"UPDATE audit_auditentry SET {column}=%s WHERE id=%s", [value, middle.id])  # noqa: S608
    report = verify_chain()
    assert not report.ok
    assert report.first_broken_id == middle.id
    assert report.checked == 1


def test_verify_chain_names_an_entry_whose_hash_was_recomputed_after_tampering(three_entries):
    # A forger who rewrites an entry and its hash still breaks the link of the next one.
    middle = AuditEntry.objects.get(pk=three_entries[1].pk)
    middle.action = "x"
    _raw("UPDATE audit_auditentry SET action=%s, hash=%s WHERE id=%s",
         ["x", middle.compute_hash(), middle.id])
    report = verify_chain()
    assert report.first_broken_id == three_entries[2].id


def test_verify_chain_detects_a_deleted_middle_entry_at_the_next_one(three_entries):
    _raw("DELETE FROM audit_auditentry WHERE id=%s", [three_entries[1].id])
    report = verify_chain()
    assert not report.ok
    assert report.first_broken_id == three_entries[2].id
    assert "link" in report.reason


def test_verify_chain_detects_a_deleted_first_entry(three_entries):
    _raw("DELETE FROM audit_auditentry WHERE id=%s", [three_entries[0].id])
    assert verify_chain().first_broken_id == three_entries[1].id


# -- Append-only -------------------------------------------------------------------------


def test_saving_an_existing_entry_is_refused(three_entries):
    entry = AuditEntry.objects.get(pk=three_entries[0].pk)
    entry.action = "x"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.action.0"


def test_deleting_an_entry_is_refused(three_entries):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.get(pk=three_entries[0].pk).delete()
    assert AuditEntry.objects.count() == 3


def test_updating_entries_through_a_queryset_is_refused(three_entries):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=three_entries[0].pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(success=False)
    assert verify_chain().ok


def test_deleting_entries_through_a_queryset_is_refused(three_entries):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=three_entries[0].pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 3


def test_bulk_update_of_entries_is_refused(three_entries):
    entries = list(AuditEntry.objects.all())
    for entry in entries:
        entry.action = "x"
    # bulk_update joins the caller's transaction without a savepoint: give it one.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update(entries, ["action"])
    assert verify_chain().ok


# -- Masking -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["password", "Password", "password1", "password2", "token",
                                 "otp", "secret"])
def test_it_masks_secrets_in_the_data(key):
    entry = log_action("test.secret", data={key: "hunter2-secret", "username": "alice"})
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.data == {key: "***", "username": "alice"}
    assert "hunter2-secret" not in str(stored.data)
    assert verify_chain().ok


@pytest.mark.django_db
def test_it_masks_secrets_nested_in_the_data():
    entry = log_action("test.secret", data={"new": {"password": "hunter2-secret"}})
    assert "hunter2-secret" not in str(AuditEntry.objects.get(pk=entry.pk).data)


# -- Sign-ins ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_login_through_the_login_page_is_logged_with_the_address(client):
    user = make_user("office", Role.OFFICE)
    response = client.post(reverse("login"), {"username": "office", "password": PASSWORD},
                           REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor == user
    assert entry.actor_repr == "office"
    assert entry.ip == "203.0.113.9"
    assert entry.success is True
    assert verify_chain().ok


@pytest.mark.django_db
def test_a_failed_login_is_logged_as_unsuccessful_with_the_attempted_username(client):
    make_user("office", Role.OFFICE)
    response = client.post(reverse("login"),
                           {"username": "office", "password": "wrong-password"},
                           REMOTE_ADDR="203.0.113.10")
    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="auth.login").exists()
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.success is False
    assert entry.actor_repr == "office"
    assert entry.actor is None
    assert entry.ip == "203.0.113.10"
    assert "wrong-password" not in str(entry.data)


@pytest.mark.django_db
def test_a_failed_login_for_an_unknown_username_is_logged(client):
    client.post(reverse("login"), {"username": "nobody", "password": "whatever-123"})
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.actor_repr == "nobody"
    assert entry.success is False


@pytest.mark.django_db
def test_a_logout_is_logged(client):
    user = make_user("office", Role.OFFICE)
    client.force_login(user)
    client.post(reverse("logout"))
    assert AuditEntry.objects.filter(action="auth.logout", actor=user).exists()


# -- The verify command ------------------------------------------------------------------


def test_the_verify_command_reports_ok_on_a_good_log(three_entries, capsys):
    call_command("verify")
    out = capsys.readouterr().out
    assert "OK" in out
    assert "3 entries" in out


def test_the_verify_command_fails_naming_the_broken_entry(three_entries):
    broken = three_entries[1]
    _raw("UPDATE audit_auditentry SET action='x' WHERE id=%s", [broken.id])
    with pytest.raises(CommandError, match=rf"entry {broken.id}\b"):
        call_command("verify")


# -- The audit page ----------------------------------------------------------------------


def test_the_auditor_sees_the_audit_page(personas, login):
    log_action("test.visible.action")
    response = login(personas["auditor"]).get(reverse("audit:list"))
    assert response.status_code == 200
    assert "test.visible.action" in response.content.decode()


@pytest.mark.parametrize("persona", [
    "office", "working_group", "leading_group", "org_department", "military_inspector",
    "lead_reviewer", "lead_reviewer_b", "unit", "unit_b", "province", "province_b",
    "system_admin", "security_admin",
])
def test_every_other_persona_gets_404_on_the_audit_page(personas, login, persona):
    before = AuditEntry.objects.filter(action="audit.log.viewed").count()
    response = login(personas[persona]).get(reverse("audit:list"), {"verify": "1"})
    assert response.status_code == 404
    assert AuditEntry.objects.filter(action="audit.log.viewed").count() == before


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, db):
    response = client.get(reverse("audit:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_viewing_the_audit_page_is_itself_logged(personas, login):
    auditor = personas["auditor"]
    login(auditor).get(reverse("audit:list"), {"q": "round"})
    entry = AuditEntry.objects.filter(action="audit.log.viewed").get()
    assert entry.actor == auditor
    assert entry.data == {"q": "round", "verify": False}


def test_the_audit_page_shows_an_intact_chain_on_request(personas, login):
    response = login(personas["auditor"]).get(reverse("audit:list"), {"verify": "1"})
    content = response.content.decode()
    assert "日志链完整" in content
    assert "断裂" not in content
    assert AuditEntry.objects.get(action="audit.log.viewed").data["verify"] is True


def test_the_audit_page_shows_where_the_chain_is_broken(personas, login):
    victim = log_action("test.victim")
    log_action("test.after")
    _raw("UPDATE audit_auditentry SET action='x' WHERE id=%s", [victim.id])
    response = login(personas["auditor"]).get(reverse("audit:list"), {"verify": "1"})
    content = response.content.decode()
    assert f"日志链在第 {victim.id} 条记录处断裂" in content
    assert "日志链完整" not in content


def test_the_audit_page_does_not_verify_unless_asked(personas, login):
    response = login(personas["auditor"]).get(reverse("audit:list"))
    content = response.content.decode()
    assert "日志链完整" not in content
    assert "断裂" not in content


@pytest.mark.django_db(transaction=True)
def test_deleting_a_user_leaves_their_audit_entries_and_the_chain_intact():
    user = make_user("leaver", Role.OFFICE)
    pk = user.pk
    entry = log_action("test.by.leaver", actor=user)
    log_action("test.after")
    # The entry's key has no database constraint (DO_NOTHING): the deletion is committed and
    # the entry is not rewritten; it keeps the user's id and name.
    with transaction.atomic():
        user.delete()
    assert not type(user).objects.filter(pk=pk).exists()
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert (kept.actor_id, kept.actor_repr) == (pk, "leaver")
    assert verify_chain().ok


@pytest.mark.django_db
def test_behind_a_trusted_proxy_entries_record_the_client_address(client, settings):
    from kaohe.lib.clientip import parse_trusted_proxies

    settings.KAOHE_TRUSTED_PROXIES = parse_trusted_proxies(["192.0.2.1"], name="test")
    make_user("office", Role.OFFICE)
    through_proxy = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}
    client.post(reverse("login"), {"username": "office", "password": "wrong-password"},
                **through_proxy)
    client.post(reverse("login"), {"username": "office", "password": PASSWORD},
                **through_proxy)
    entries = AuditEntry.objects.filter(action__startswith="auth.login")
    assert sorted(entries.values_list("action", "ip")) == [
        ("auth.login", "203.0.113.9"), ("auth.login_failed", "203.0.113.9")]
    client.post(reverse("logout"), **through_proxy)
    assert AuditEntry.objects.get(action="auth.logout").ip == "203.0.113.9"
    # Entries written deep in a view or service take the address from the request's context.
    client.force_login(make_user("sysadmin", Role.SYSTEM_ADMIN))
    page = client.get(reverse("accounts:admin_settings"), **through_proxy)
    assert "KAOHE_TRUSTED_PROXIES" in page.content.decode()
    assert "192.0.2.1/32" in page.content.decode()
    assert AuditEntry.objects.get(action="security.settings.viewed").ip == "203.0.113.9"
