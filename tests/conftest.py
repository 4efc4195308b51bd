"""Shared fixtures: the 2017 round, a small directory and one persona per role.

Personas follow healthchecks' alice/bob: for each scoped role there is also an outsider
of the same role in another unit, province or category, who must see nothing of the first.
"""

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.http import HttpRequest
from django.test import TransactionTestCase
from django.test.client import ClientMixin
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaohe.accounts.models import Role, User
from kaohe.accounts.twofactor import TWO_FACTOR_ROLES
from kaohe.audit.guard import append_only_guard_lifted
from kaohe.directory.models import Category, County, LeadDepartment, Pairing, Unit
from kaohe.directory.services import reference_data_load
from kaohe.rounds.services import load_plan_data, round_create_from_plan
from tests.reliability.fixtures import (  # noqa: F401 - real installations (one template)
    installation_databases,
    installation_template,
    new_installation,
)

PASSWORD = "correct-horse-battery"


def _recording_json_decodes(monkeypatch, record) -> list:
    """A list that ``record(field)`` fills (when it returns something) as JSON columns are
    decoded from the database while the test runs."""
    from django.db.models import JSONField

    original = JSONField.from_db_value
    seen: list = []

    def counting(self, value, expression, connection):
        entry = record(self)
        if entry is not None:
            seen.append(entry)
        return original(self, value, expression, connection)

    monkeypatch.setattr(JSONField, "from_db_value", counting)
    return seen


@pytest.fixture
def json_decodes(monkeypatch):
    """(model name, field name) of every JSON column decoded while the test runs."""
    return _recording_json_decodes(monkeypatch, lambda field: (field.model.__name__, field.name))


@pytest.fixture
def decodes(monkeypatch):
    """The names of the result set JSON columns (its snapshots) decoded while the test runs."""
    from kaohe.grading.models import ResultSet

    return _recording_json_decodes(
        monkeypatch, lambda field: field.name if field.model is ResultSet else None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the counties, categories and the 2017 round once for the whole session.

    Tests run in transactions that roll back, so this data stays. Tests that flush the
    database (transactional ones, which pytest-django runs last) get it back from the
    idempotent fixtures below.
    """
    with django_db_blocker.unblock():
        plan = load_plan_data()
        reference_data_load(plan=plan)
        round_create_from_plan(data=plan)
        # Tests about the audit log expect to start from an empty log. The database refuses
        # to delete audit entries; this fixture is one of the few documented exceptions.
        with append_only_guard_lifted(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditentry")


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_audit_guard():
    """Transactional tests end with Django's flush, which empties every table, the audit
    log included; the database's append-only triggers are lifted for that flush only."""
    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        with append_only_guard_lifted():
            original(self)

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original


def _pass_second_factor(client, user):
    """Mark the client's session as verified by a confirmed authenticator of the user, as
    django_otp.login does after a correct code."""
    if user.role not in TWO_FACTOR_ROLES:
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(scope="session", autouse=True)
def _test_logins_are_complete_sign_ins():
    """client.force_login() and client.login() stand for a whole sign-in, second factor
    included, so tests of other things need not type codes; tests of the sign-in itself
    post to the login page. client.login() also hands authenticate() the request that the
    Axes backend requires."""
    original_force_login, original_login = ClientMixin.force_login, ClientMixin.login

    def force_login(self, user, backend=None):
        original_force_login(self, user, backend)
        _pass_second_factor(self, user)

    def login(self, **credentials):
        if "request" not in credentials:
            request = HttpRequest()
            request.META["REMOTE_ADDR"] = "127.0.0.1"
            credentials["request"] = request
        if not original_login(self, **credentials):
            return False
        _pass_second_factor(self, User.objects.get(pk=self.session[SESSION_KEY]))
        return True

    ClientMixin.force_login, ClientMixin.login = force_login, login
    yield
    ClientMixin.force_login, ClientMixin.login = original_force_login, original_login


# The domain's "today" of a test that sets none: the middle of step 四 of the 2017 round
# (self-reports and provincial reports closed on 12-31, the lead departments' review open
# until 01-15). Services refuse work after its step's deadline (issue 17), so fixtures that
# review units need a day on which the review is open; tests of other dates set their own
# settings.KAOHE_TODAY (app conftests do so too).
DEFAULT_DAY = "2018-01-10"


@pytest.fixture(autouse=True)
def _domain_day(settings):
    settings.KAOHE_TODAY = DEFAULT_DAY


@pytest.fixture(autouse=True)
def _own_stored_files(settings, tmp_path):
    """Each test stores its files in a folder of its own: the rows of a test are rolled back,
    its files would stay, and `kaohe verify` reports stored files that no row lists."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "stored-files"), "base_url": None}}}


@pytest.fixture
def plan():
    return load_plan_data()


@pytest.fixture
def round_2017(db, plan):
    reference_data_load(plan=plan)
    return round_create_from_plan(data=plan)


@pytest.fixture
def world(round_2017):
    """Two units in two categories (different lead departments) in two provinces, an army unit."""
    party = Category.objects.get(code="party_organs")
    enterprises = Category.objects.get(code="enterprises")
    military = Category.objects.get(code="military")
    guizhou_county = County.objects.filter(province__name="贵州省").order_by("code").first()
    yunnan_county = County.objects.filter(province__name="云南省").order_by("code").first()
    unit_a = Unit.objects.create(code="A001", name="测试单位甲", category=party)
    unit_b = Unit.objects.create(code="B001", name="测试单位乙", category=enterprises)
    army = Unit.objects.create(code="M001", name="测试部队", category=military)
    Pairing.objects.create(round=round_2017, unit=unit_a, county=guizhou_county)
    Pairing.objects.create(round=round_2017, unit=unit_b, county=yunnan_county)
    Pairing.objects.create(round=round_2017, unit=army, county=yunnan_county)
    return {
        "round": round_2017, "unit_a": unit_a, "unit_b": unit_b, "army": army,
        "county_a": guizhou_county, "county_b": yunnan_county,
        "province_a": guizhou_county.province, "province_b": yunnan_county.province,
        "lead_a": party.lead_department, "lead_b": enterprises.lead_department,
    }


def make_user(username, role, **scope):
    user = User(username=username, role=role, full_name=username, **scope)
    user.set_password(PASSWORD)
    user.full_clean()
    user.save()
    return user


@pytest.fixture
def personas(world):
    """username -> user, one per role, plus same-role outsiders (suffix _b)."""
    return {
        "office": make_user("office", Role.OFFICE),
        "working_group": make_user("wg", Role.WORKING_GROUP),
        "leading_group": make_user("leader", Role.LEADING_GROUP),
        "org_department": make_user("org", Role.ORG_DEPARTMENT),
        "military_inspector": make_user("mil", Role.MILITARY_INSPECTOR),
        "lead_reviewer": make_user("lead_a", Role.LEAD_REVIEWER, lead_department=world["lead_a"],
                                   is_liaison=True),
        "lead_reviewer_b": make_user("lead_b", Role.LEAD_REVIEWER,
                                     lead_department=world["lead_b"]),
        "unit": make_user("unit_a", Role.UNIT, unit=world["unit_a"]),
        "unit_b": make_user("unit_b", Role.UNIT, unit=world["unit_b"]),
        "province": make_user("prov_a", Role.PROVINCE, province=world["province_a"]),
        "province_b": make_user("prov_b", Role.PROVINCE, province=world["province_b"]),
        "system_admin": make_user("sys", Role.SYSTEM_ADMIN),
        "security_admin": make_user("sec", Role.SECURITY_ADMIN),
        "auditor": make_user("aud", Role.AUDITOR),
    }


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


__all__ = ["PASSWORD", "LeadDepartment", "make_user"]
