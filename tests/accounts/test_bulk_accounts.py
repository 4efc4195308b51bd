"""Accounts for every unit and province in one act, with the three administrators apart
(issue 20, item 1): the system administrator opens them without roles, the security
administrator grants the matching roles, the system administrator's credential letters
(one PDF, a page per account) carry the one-time passwords, which must be changed first."""

import io
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from kaohe.accounts import bulk
from kaohe.accounts.models import AccountOpening, Role, User
from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Province, Unit
from kaohe.documents.models import Export, ExportStatus
from tests.accounts.conftest import sign_in

NEW = "Xinmima-2018-kaohe"
LETTERS = reverse("accounts:credential_letters")


def _unit_and_province_accounts():
    """Units and provinces in the world without any account: the army unit and every
    province but the two the personas hold."""
    missing_units = list(Unit.objects.filter(users__isnull=True).order_by("code"))
    missing_provinces = list(Province.objects.filter(users__isnull=True).order_by("code"))
    return missing_units, missing_provinces


def _pages(export):
    from django.core.files.storage import default_storage

    with default_storage.open(export.storage_name, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return [page.extract_text() for page in reader.pages]


@pytest.fixture
def letters(personas, django_capture_on_commit_callbacks):
    """Request the letters as the system administrator; the task runs on commit."""
    def _make(actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            export = bulk.letters_request(actor=actor or personas["system_admin"])
        if export is not None:
            export.refresh_from_db()
        return export

    return _make


@pytest.fixture
def code_letters(personas, django_capture_on_commit_callbacks):
    """Request the code letters as the security administrator; the task runs on commit."""
    def _make(actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            export = bulk.code_letters_request(actor=actor or personas["security_admin"])
        if export is not None:
            export.refresh_from_db()
        return export

    return _make


def _code_on(page_text):
    return re.search(r"([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", page_text).group(1)


def _password_on(page_text):
    return re.search(r"一次性密码\s*[：:]?\s*([A-Za-z0-9]{16})", page_text).group(1)


def test_the_sysadmin_opens_an_account_for_every_unit_and_province_without_one(personas, world):
    units, provinces = _unit_and_province_accounts()
    assert [u.code for u in units] == ["M001"]
    result = bulk.accounts_open(actor=personas["system_admin"])
    assert len(result.created) == 1 + len(provinces)
    army = User.objects.get(opening__unit=world["army"])
    assert army.role == "" and army.unit_id is None
    assert not army.has_usable_password()
    assert army.must_change_password
    assert army.opening.opened_by == personas["system_admin"]
    for province in provinces:
        assert User.objects.get(opening__province=province).role == ""
    # Units and provinces that had an account get none.
    assert not AccountOpening.objects.filter(unit=world["unit_a"]).exists()
    assert not AccountOpening.objects.filter(province=world["province_a"]).exists()
    entry = AuditEntry.objects.get(action="account.bulk_opened")
    assert entry.data["created"] == len(result.created)


def test_opening_twice_creates_nothing_new(personas, world):
    first = bulk.accounts_open(actor=personas["system_admin"])
    count = User.objects.count()
    second = bulk.accounts_open(actor=personas["system_admin"])
    assert first.created and not second.created and not second.adopted
    assert User.objects.count() == count
    assert AuditEntry.objects.filter(action="account.bulk_opened").count() == 1


def test_the_liaison_on_file_becomes_the_accounts_contact(personas, world):
    army = world["army"]
    army.liaison_name, army.liaison_phone = "钱七", "010-66668888"
    army.liaison_email = "qian@example.org"
    army.save()
    bulk.accounts_open(actor=personas["system_admin"])
    account = User.objects.get(opening__unit=army)
    assert (account.full_name, account.phone, account.email) == (
        "钱七", "010-66668888", "qian@example.org")


def test_filed_team_members_without_a_password_are_queued_for_letters(personas, world):
    from kaohe.launch.models import TeamMember
    from tests.launch.conftest import matrix_filing

    member_user = User(username="lead-x-9", role=Role.LEAD_REVIEWER,
                       lead_department=world["lead_a"], full_name="孙八")
    member_user.set_unusable_password()
    member_user.save()
    TeamMember.objects.create(filing=matrix_filing(world, world["lead_a"]), order=1,
                              name="孙八", level="division", email="sun@example.org",
                              user=member_user)
    result = bulk.accounts_open(actor=personas["system_admin"])
    assert member_user in result.adopted
    opening = AccountOpening.objects.get(user=member_user)
    assert opening.lead_department == world["lead_a"] and not opening.created_account
    assert not bulk.accounts_open(actor=personas["system_admin"]).adopted


@pytest.mark.parametrize("persona", ["security_admin", "auditor", "office", "unit"])
def test_only_the_sysadmin_opens_accounts(personas, world, persona):
    with pytest.raises(PermissionDenied):
        bulk.accounts_open(actor=personas[persona])
    assert not AccountOpening.objects.exists()


def test_the_secadmin_grants_the_matching_roles_in_one_act(personas, world):
    bulk.accounts_open(actor=personas["system_admin"])
    granted = bulk.roles_grant(actor=personas["security_admin"])
    army = User.objects.get(opening__unit=world["army"])
    assert (army.role, army.unit) == (Role.UNIT, world["army"])
    for opening in AccountOpening.objects.filter(province__isnull=False).select_related("user"):
        assert (opening.user.role, opening.user.province_id) == (Role.PROVINCE,
                                                               opening.province_id)
    assert len(granted) == AccountOpening.objects.count()
    assert AuditEntry.objects.filter(action="account.roles_granted").count() == 1
    # Idempotent: nothing left to grant.
    assert bulk.roles_grant(actor=personas["security_admin"]) == []
    assert AuditEntry.objects.filter(action="account.roles_granted").count() == 1


@pytest.mark.parametrize("persona", ["system_admin", "auditor", "office"])
def test_only_the_secadmin_grants_the_roles(personas, world, persona):
    bulk.accounts_open(actor=personas["system_admin"])
    with pytest.raises(PermissionDenied):
        bulk.roles_grant(actor=personas[persona])
    assert not User.objects.filter(opening__isnull=False).exclude(role="").exists()


def test_the_credential_letters_are_one_pdf_with_a_page_per_account(personas, world, letters,
                                                                    code_letters):
    bulk.accounts_open(actor=personas["system_admin"])
    bulk.roles_grant(actor=personas["security_admin"])
    export = letters()
    codes = code_letters()
    assert export.status == ExportStatus.DONE, export.error
    openings = list(AccountOpening.objects.select_related("user", "unit", "province"))
    pages = _pages(export)
    assert len(pages) == len(openings)
    army_page = next(p for p in pages if world["army"].name in p)
    account = User.objects.get(opening__unit=world["army"])
    assert account.username in army_page
    assert "/accounts/login/" in army_page
    assert "绑定码" in army_page  # how to enrol the second factor
    assert export.code in army_page  # the maker's mark
    for opening in openings:
        assert any(str(opening.target) in p and opening.user.username in p for p in pages)
    # The password printed is the account's, and it must be changed at the first sign-in.
    password = _password_on(army_page)
    them = Client()
    assert sign_in(them, account.username, password).status_code == 302
    response = them.get(reverse("home"))
    assert response["Location"].startswith(reverse("accounts:password_change"))
    # With the code of the security administrator's letter, the owner sets the password.
    code = _code_on(next(p for p in _pages(codes) if world["army"].name in p))
    them.post(reverse("accounts:password_change"), {"enrolment_code": code})
    them.post(reverse("accounts:password_change"),
              {"old_password": password, "new_password1": NEW, "new_password2": NEW})
    assert them.get(reverse("home")).status_code == 200
    # Logged, with no password in the log.
    issued = AuditEntry.objects.get(action="account.credentials_issued")
    assert issued.data["count"] == len(openings) and password not in str(issued.data)
    assert AuditEntry.objects.filter(action="document.export", success=True).exists()


def test_letters_are_made_once_per_account_and_only_by_the_sysadmin(personas, world, letters):
    bulk.accounts_open(actor=personas["system_admin"])
    for persona in ("security_admin", "auditor", "office"):
        with pytest.raises(PermissionDenied):
            bulk.letters_request(actor=personas[persona])
    assert letters().status == ExportStatus.DONE
    # Every account has its letter: a second request has nothing to make.
    assert letters() is None
    assert Export.objects.filter(identifier="credential_letters").count() == 1


def test_the_letters_download_once_and_only_by_their_maker(personas, world, login, letters):
    bulk.accounts_open(actor=personas["system_admin"])
    export = letters()
    url = reverse("accounts:credential_letters_download", kwargs={"pk": export.pk})
    other = User.objects.create(username="sys2", role=Role.SYSTEM_ADMIN)
    assert login(other).get(url).status_code == 404
    client = login(personas["system_admin"])
    response = client.get(url)
    assert response.status_code == 200, (export.status, export.storage_name, export.expires_at)
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response)[:5] == b"%PDF-"
    assert client.get(url).status_code == 404
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED and not export.storage_name
    assert AuditEntry.objects.filter(action="document.downloaded").count() == 1


def test_taking_the_letters_is_one_service_with_its_audit_entry(
        personas, world, letters, django_capture_on_commit_callbacks):
    """The download's workflow (issue 22, item 4): once, to the maker, logged, the file gone."""
    from django.core.files.storage import default_storage

    bulk.accounts_open(actor=personas["system_admin"])
    export = letters()
    name = export.storage_name
    other = User.objects.create(username="sys2", role=Role.SYSTEM_ADMIN)
    assert bulk.letters_take(export_id=export.pk, actor=other) is None
    with pytest.raises(PermissionDenied):
        bulk.letters_take(export_id=export.pk, actor=personas["security_admin"])
    assert not AuditEntry.objects.filter(action="document.downloaded").exists()
    with django_capture_on_commit_callbacks(execute=True):  # the file goes after the commit
        taken, stream = bulk.letters_take(export_id=export.pk, actor=personas["system_admin"])
    with stream:
        assert taken.pk == export.pk and stream.read()[:5] == b"%PDF-"
    assert not default_storage.exists(name)
    assert bulk.letters_take(export_id=export.pk, actor=personas["system_admin"]) is None
    entry = AuditEntry.objects.get(action="document.downloaded")
    assert (entry.actor, entry.data["once"]) == (personas["system_admin"], True)


def test_expired_letters_are_purged_and_not_handed_out(personas, world, letters):
    import datetime

    from kaohe.lib import clock

    bulk.accounts_open(actor=personas["system_admin"])
    export = letters()
    Export.objects.filter(pk=export.pk).update(
        expires_at=clock.now() - datetime.timedelta(minutes=1))
    assert bulk.letters_take(export_id=export.pk, actor=personas["system_admin"]) is None
    export.refresh_from_db()
    assert (export.status, export.storage_name) == (ExportStatus.EXPIRED, "")
    assert not AuditEntry.objects.filter(action="document.downloaded").exists()


def test_the_pages_open_accounts_grant_roles_and_queue_letters(
        personas, world, login, django_capture_on_commit_callbacks):
    sysadmin = login(personas["system_admin"])
    page = sysadmin.get(reverse("accounts:bulk_open"))
    assert page.status_code == 200 and world["army"].name in page.content.decode()
    response = sysadmin.post(reverse("accounts:bulk_open"))
    assert response.status_code == 302
    assert User.objects.filter(opening__unit=world["army"]).exists()
    security = login(personas["security_admin"])
    assert world["army"].name in security.get(reverse("accounts:bulk_roles")).content.decode()
    assert security.post(reverse("accounts:bulk_roles")).status_code == 302
    assert User.objects.get(opening__unit=world["army"]).role == Role.UNIT
    sysadmin = login(personas["system_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = sysadmin.post(reverse("accounts:credential_letters_make"))
    assert response.status_code == 302
    export = Export.objects.get(identifier="credential_letters")
    page = sysadmin.get(LETTERS).content.decode()
    assert export.code in page
    assert reverse("accounts:credential_letters_download", kwargs={"pk": export.pk}) in page


def test_the_sysadmins_home_lists_what_has_no_account_and_who_never_signed_in(personas, world,
                                                                              login):
    home = login(personas["system_admin"]).get(reverse("home")).content.decode()
    assert "尚无账户的中央单位" in home and world["army"].name in home
    assert "从未登录的账户" in home and "unit_a" in home
    bulk.accounts_open(actor=personas["system_admin"])
    home = login(personas["system_admin"]).get(reverse("home")).content.decode()
    assert world["army"].name not in home.split("尚无账户的中央单位")[1].split("尚无账户的省份")[0]
    # The security administrator's home does not show the list.
    assert "尚无账户的中央单位" not in login(personas["security_admin"]).get(
        reverse("home")).content.decode()


def _enterprises(start, n):
    """n new units of the enterprises' category, named 测试企业<start>…"""
    from kaohe.directory.models import Category

    category = Category.objects.get(code="enterprises")
    for i in range(start, start + n):
        Unit.objects.create(code=f"E{i:03d}", name=f"测试企业{i}", category=category)


def _get(client, url, **params):
    """(queries, page) of a GET that must answer 200."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_opening_page_lists_one_page_of_units_and_opens_them_all(personas, world, login):
    """Issue 19 (19 ms at 310 units, 75 ms at 3,100): the units without an account are
    counted and shown a page at a time; the one POST still opens an account for each."""
    from kaohe.accounts.bulk_views import PAGE_SIZE

    sysadmin = login(personas["system_admin"])
    url = reverse("accounts:bulk_open")
    _enterprises(0, 5)
    before, _page = _get(sysadmin, url)
    _enterprises(5, PAGE_SIZE + 10)  # two pages
    after, page = _get(sysadmin, url)
    assert after == before, (before, after)
    waiting = bulk.units_without_account().count()
    assert waiting > PAGE_SIZE + 14
    assert f"尚无账户的中央单位（{waiting}个）" in page
    assert page.count("测试企业") <= PAGE_SIZE
    assert "第 1/2 页" in page and "page=2" in page
    _count, second = _get(sysadmin, url, page=2)
    assert "第 2/2 页" in second and f"测试企业{PAGE_SIZE + 14}" in second
    assert sysadmin.post(url).status_code == 302
    assert not bulk.units_without_account().exists()


def test_the_sysadmins_home_counts_the_units_without_account_and_reads_twenty(
        personas, world, login):
    """Issue 19: the home page names twenty units (and twenty accounts never used) and
    counts the rest, in the same queries however many there are."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kaohe.directory.models import Category

    category = Category.objects.get(code="enterprises")
    client = login(personas["system_admin"])

    def units(start, n):
        for i in range(start, start + n):
            Unit.objects.create(code=f"E{i:03d}", name=f"测试企业{i}", category=category)
            User.objects.create_user(username=f"never{i}", role="", is_active=True)

    def home():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("home"))
        assert response.status_code == 200
        return len(queries), response

    units(0, 5)
    before, _response = home()
    units(5, 60)
    after, response = home()
    assert after == before, (before, after)
    todo = response.context["accounts_todo"]
    assert len(todo["units"]) == len(todo["never"]) == 20
    waiting = bulk.units_without_account().count()
    page = response.content.decode()
    assert f"尚无账户的中央单位（{waiting}）" in page
    assert f"另有 {waiting - 20} 个" in page
    assert f"从未登录的账户（{bulk.never_signed_in().count()}）" in page


def test_the_role_and_letter_pages_list_one_page_of_accounts_and_act_on_them_all(
        personas, world, login):
    """Issue 19: the accounts waiting for a role, and for a letter, are counted and shown a
    page at a time in the same queries however many; one act still covers them all."""
    from kaohe.accounts.bulk_views import PAGE_SIZE

    def units(start, n):
        _enterprises(start, n)
        bulk.accounts_open(actor=personas["system_admin"])

    security = login(personas["security_admin"])
    roles = reverse("accounts:bulk_roles")
    units(0, 5)
    before, _page = _get(security, roles)
    units(5, PAGE_SIZE + 10)
    after, page = _get(security, roles)
    assert after == before, (before, after)
    waiting = bulk.openings_without_role().count()
    assert waiting > PAGE_SIZE + 14
    assert page.count("accounts/users/") <= PAGE_SIZE + 5  # a page of rows (and the menu)
    assert f"为这{waiting}个账户授予角色" in page and "page=2" in page
    _count, last = _get(security, roles, page=-(-waiting // PAGE_SIZE))
    assert f"测试企业{PAGE_SIZE + 14}" in last

    sysadmin = login(personas["system_admin"])
    before, _page = _get(sysadmin, LETTERS)
    units(PAGE_SIZE + 15, 30)
    after, page = _get(sysadmin, LETTERS)
    assert after == before, (before, after)
    pending = bulk.openings_without_letter().count()
    assert f"待生成通知书的账户（{pending}个）" in page and "page=2" in page
    assert page.count("测试企业") <= PAGE_SIZE
    security = login(personas["security_admin"])  # one client: signed in again
    assert security.post(roles).status_code == 302
    assert not bulk.openings_without_role().exists()


# -- The security administrator's code letters (security.md 26) --------------------------------

def test_the_credential_letter_alone_sets_no_password(personas, world, letters):
    """The attack: the system administrator, who downloads every one-time password, signs
    in as a unit before its owner and sets a password only they know."""
    bulk.accounts_open(actor=personas["system_admin"])
    bulk.roles_grant(actor=personas["security_admin"])
    page = next(p for p in _pages(letters()) if world["army"].name in p)
    account = User.objects.get(opening__unit=world["army"])
    password = _password_on(page)
    them = Client()
    sign_in(them, account.username, password)
    them.post(reverse("accounts:password_change"),
              {"old_password": password, "new_password1": NEW, "new_password2": NEW})
    account.refresh_from_db()
    assert account.must_change_password and not account.check_password(NEW)
    assert them.get(reverse("home"))["Location"].startswith(
        reverse("accounts:password_change"))


def test_the_code_letters_hold_a_code_per_account_with_a_role(personas, world, code_letters):
    bulk.accounts_open(actor=personas["system_admin"])
    # Before the roles are granted there is nothing to send.
    assert code_letters() is None
    bulk.roles_grant(actor=personas["security_admin"])
    export = code_letters()
    assert export.status == ExportStatus.DONE, export.error
    openings = list(AccountOpening.objects.select_related("user"))
    pages = _pages(export)
    assert len(pages) == len(openings)
    for opening in openings:
        assert any(opening.user.username in p for p in pages)
    assert export.code in pages[0]  # the maker's mark
    codes = [_code_on(p) for p in pages]
    assert len(set(codes)) == len(codes)
    # Issued (hashed only), one valid code per account; none in the log.
    from kaohe.accounts.models import EnrolmentCode
    assert EnrolmentCode.objects.filter(used_at__isnull=True, revoked_at__isnull=True).count() \
        == len(openings)
    logged = " ".join(str(d) for d in AuditEntry.objects.values_list("data", flat=True))
    assert not any(code in logged for code in codes)
    assert AuditEntry.objects.get(action="account.enrolment_codes_issued").data["count"] \
        == len(openings)
    # Made once per account.
    assert code_letters() is None


@pytest.mark.parametrize("persona", ["system_admin", "auditor", "office"])
def test_only_the_secadmin_makes_the_code_letters(personas, world, persona):
    bulk.accounts_open(actor=personas["system_admin"])
    bulk.roles_grant(actor=personas["security_admin"])
    with pytest.raises(PermissionDenied):
        bulk.code_letters_request(actor=personas[persona])
    client = Client()
    client.force_login(personas[persona])
    assert client.post(reverse("accounts:code_letters_make")).status_code == 404
    assert not Export.objects.exists()


def test_the_code_letters_go_once_to_their_maker(personas, world, code_letters, login):
    bulk.accounts_open(actor=personas["system_admin"])
    bulk.roles_grant(actor=personas["security_admin"])
    export = code_letters()
    url = reverse("accounts:code_letters_download", kwargs={"pk": export.pk})
    # Not the system administrator's (nor through the credential letters' door).
    assert login(personas["system_admin"]).get(url).status_code == 404
    assert login(personas["system_admin"]).get(reverse(
        "accounts:credential_letters_download", kwargs={"pk": export.pk})).status_code == 404
    secadmin = login(personas["security_admin"])
    page = secadmin.get(reverse("accounts:bulk_roles")).content.decode()
    assert "账户绑定码通知书" in page and url in page
    response = secadmin.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert secadmin.get(url).status_code == 404
    status = secadmin.get(reverse("accounts:code_letters_status", kwargs={"pk": export.pk}))
    assert "已下载或已过期" in status.content.decode()
