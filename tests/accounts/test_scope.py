"""The scope module: every role against every policy, what it reads and what it does not.

The expected reads are written out here, role by role, rather than derived from the
module, so that a change to a policy has to change this table too.
"""

import dataclasses

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from kaohe.accounts import scope as scopes
from kaohe.accounts.models import Role, User
from kaohe.accounts.scope import Policy, Reach, Scope
from kaohe.directory.models import County, LeadDepartment, Pairing, Province, Unit

# What each role reads of each kind of record: A all of it, O what lies in its own scope,
# H of its own scope only what was handed over, AH all that was handed over, - nothing.
#           office wg   leader org  mil  lead unit prov
TABLE = {
    "UNITS":                 "A    A    A    A    O    O    O    O",
    "COUNTIES":              "A    A    A    A    A    A    O    O",
    "PROVINCES":             "A    A    A    A    -    -    -    O",
    "SELF_REPORTS":          "A    A    A    -    H    H    O    -",
    "PROVINCIAL_REPORTS":    "A    A    A    -    H    H    -    O",
    "OWN_REPORTS":           "-    -    -    -    -    -    O    O",
    "EVIDENCE":              "A    A    A    -    O    O    O    O",
    "CADRES":                "A    A    A    A    O    O    O    -",
    "REVIEWS":               "A    A    A    -    -    O    -    -",
    "LAUNCH":                "A    A    -    -    -    O    -    -",
    "UNIT_HISTORY":          "A    A    A    -    -    O    O    -",
    "FEEDBACK":              "A    -    -    -    -    -    O    -",
    "RECTIFICATION_REPORTS": "AH   -    -    -    -    H    O    -",
}
TABLE_ROLES = ["office", "working_group", "leading_group", "org_department",
               "military_inspector", "lead_reviewer", "unit", "province"]
ADMINS = ["system_admin", "security_admin", "auditor"]


def expected(policy_name: str, persona: str) -> str:
    role = persona.removesuffix("_b")
    if role in ADMINS:
        return "-"
    return TABLE[policy_name].split()[TABLE_ROLES.index(role)]


# The units of the test world each persona's own scope holds (tests/conftest.py world):
# A001 (party organs, Guizhou), B001 (enterprises, Yunnan), M001 (the army, Yunnan).
ALL_UNITS = {"A001", "B001", "M001"}
OWN_UNITS = {
    "lead_reviewer": {"A001"}, "lead_reviewer_b": {"B001"},
    "military_inspector": {"M001"},
    "unit": {"A001"}, "unit_b": {"B001"},
    "province": {"A001"}, "province_b": {"B001", "M001"},
}
HANDED_OVER = ~Q(code="B001")  # what the tests count as handed over: all but B001
PERSONAS = [*TABLE_ROLES, "lead_reviewer_b", "unit_b", "province_b", *ADMINS]


def test_the_table_covers_every_policy_of_the_module():
    names = {name for name, value in vars(scopes).items() if isinstance(value, Policy)}
    assert names == set(TABLE)
    assert {p.name.upper() for p in scopes.POLICIES} == set(TABLE)


# Computed from the user, without a query ------------------------------------------------


@pytest.mark.parametrize(("role", "reach"), [
    (Role.OFFICE, Reach.ALL), (Role.WORKING_GROUP, Reach.ALL),
    (Role.LEADING_GROUP, Reach.ALL), (Role.ORG_DEPARTMENT, Reach.ALL),
    (Role.MILITARY_INSPECTOR, Reach.ARMY), (Role.LEAD_REVIEWER, Reach.LEAD_DEPARTMENT),
    (Role.UNIT, Reach.UNIT), (Role.PROVINCE, Reach.PROVINCE),
    (Role.SYSTEM_ADMIN, Reach.NONE), (Role.SECURITY_ADMIN, Reach.NONE),
    (Role.AUDITOR, Reach.NONE), ("", Reach.NONE),
])
def test_each_role_has_its_reach(role, reach, django_assert_num_queries, db):
    scope_ids = {Role.UNIT: {"unit_id": 7}, Role.PROVINCE: {"province_id": 8},
                 Role.LEAD_REVIEWER: {"lead_department_id": 9}}.get(role, {})
    user = User(username="u", role=role, **scope_ids)
    with django_assert_num_queries(0):
        scope = Scope.of(user)
    assert scope.reach is reach
    assert (scope.unit_id, scope.province_id, scope.lead_department_id) == (
        scope_ids.get("unit_id"), scope_ids.get("province_id"),
        scope_ids.get("lead_department_id"))


def test_a_signed_out_or_disabled_user_reaches_nothing():
    assert Scope.of(AnonymousUser()).reach is Reach.NONE
    disabled = User(username="u", role=Role.OFFICE, is_active=False)
    assert Scope.of(disabled) == Scope()
    for policy in scopes.POLICIES:
        assert not Scope.of(disabled).sees(policy)


@pytest.mark.parametrize("role", [Role.UNIT, Role.PROVINCE, Role.LEAD_REVIEWER])
def test_a_scoped_role_without_its_scope_reaches_nothing(role):
    assert Scope.of(User(username="u", role=role)).reach is Reach.NONE


def test_only_the_id_the_reach_is_bounded_by_is_kept():
    office = Scope.of(User(username="o", role=Role.OFFICE, unit_id=3, province_id=4))
    assert (office.unit_id, office.province_id, office.lead_department_id) == (None, None, None)
    unit = Scope.of(User(username="u", role=Role.UNIT, unit_id=3, province_id=4))
    assert (unit.unit_id, unit.province_id) == (3, None)


def test_a_scope_is_frozen_and_equal_users_give_equal_scopes():
    first = Scope.of(User(username="a", role=Role.UNIT, unit_id=3))
    assert first == Scope.of(User(username="b", role=Role.UNIT, unit_id=3))
    assert first != Scope.of(User(username="c", role=Role.UNIT, unit_id=4))
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.unit_id = 4


def test_own_unit_province_and_lead_department():
    unit = Scope.of(User(username="u", role=Role.UNIT, unit_id=3))
    assert unit.is_own_unit(3) and not unit.is_own_unit(4) and not unit.is_own_province(3)
    province = Scope.of(User(username="p", role=Role.PROVINCE, province_id=3))
    assert province.is_own_province(3) and not province.is_own_province(4)
    assert not province.is_own_unit(3)
    lead = Scope.of(User(username="l", role=Role.LEAD_REVIEWER, lead_department_id=3))
    assert lead.is_own_lead_department(3) and not lead.is_own_lead_department(4)
    office = Scope.of(User(username="o", role=Role.OFFICE))
    assert not (office.is_own_unit(None) or office.is_own_province(None)
                or office.is_own_lead_department(None))


def test_a_policy_that_contradicts_itself_is_refused():
    with pytest.raises(ValueError, match="everything or its own"):
        Policy("x", everything=frozenset({"office"}), own=frozenset({"office"}))
    with pytest.raises(ValueError, match="reads nothing"):
        Policy("x", everything=frozenset({"office"}), handed_over=frozenset({"unit"}))


# Every role against every policy ----------------------------------------------------------


@pytest.mark.parametrize("policy_name", sorted(TABLE))
@pytest.mark.parametrize("persona", PERSONAS)
def test_sees_and_sees_all_follow_the_table(policy_name, persona):
    role = persona.removesuffix("_b")
    scope_ids = {"unit": {"unit_id": 1}, "province": {"province_id": 1},
                 "lead_reviewer": {"lead_department_id": 1}}.get(role, {})
    scope = Scope.of(User(username="u", role=role, **scope_ids))
    policy = getattr(scopes, policy_name)
    kind = expected(policy_name, persona)
    assert scope.sees(policy) is (kind != "-")
    assert scope.sees_all(policy) is kind.startswith("A")
    assert scope.reads_handed_over_only(policy) is kind.endswith("H")


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_reads_the_units_the_table_gives_it(personas, persona):
    """Each policy applied to units themselves: all, the persona's own, what of those was
    handed over, or none; never a unit outside its scope."""
    scope = Scope.of(personas[persona])
    want = {"A": ALL_UNITS, "O": OWN_UNITS.get(persona, set()), "-": set()}
    want["H"] = want["O"] - {"B001"}
    want["AH"] = ALL_UNITS - {"B001"}
    for policy_name in sorted(TABLE):
        policy = getattr(scopes, policy_name)
        seen = set(scope.filter(Unit.objects.all(), policy, unit="",
                                handed_over=HANDED_OVER).values_list("code", flat=True))
        assert seen == want[expected(policy_name, persona)], policy_name


@pytest.mark.parametrize("policy_name", [n for n in sorted(TABLE) if "H" in TABLE[n]])
def test_a_policy_with_handed_over_records_needs_to_be_told_what_they_are(personas,
                                                                          policy_name):
    policy = getattr(scopes, policy_name)
    persona = next(p for p in PERSONAS if "H" in expected(policy_name, p))
    with pytest.raises(TypeError, match="handed over"):
        Scope.of(personas[persona]).filter(Unit.objects.all(), policy, unit="")


# Paths to a unit, a province, a lead department -----------------------------------------


def test_units_reads_through_the_path_to_the_unit(personas, world):
    for persona, codes in OWN_UNITS.items():
        pairings = Scope.of(personas[persona]).units(Pairing.objects.all(), via="unit")
        assert set(pairings.values_list("unit__code", flat=True)) == codes, persona
    assert Scope.of(personas["auditor"]).units(Pairing.objects.all()).count() == 0
    assert Scope.of(personas["office"]).units(Pairing.objects.all()).count() == 3


def test_a_province_reads_the_units_working_in_it_in_the_given_round(personas, world):
    province = Scope.of(personas["province"])
    assert set(province.units(Unit.objects.all(), via="", round=world["round"])
               .values_list("code", flat=True)) == {"A001"}
    assert not province.units(Unit.objects.all(), via="", round=world["round"].pk + 1).exists()


def test_a_province_path_reads_the_own_province_only(personas, world):
    def provinces(persona):
        return Scope.of(personas[persona]).filter(Province.objects.all(), scopes.PROVINCES,
                                                  unit=None, province="")

    assert list(provinces("province")) == [world["province_a"]]
    assert list(provinces("province_b")) == [world["province_b"]]
    assert provinces("office").count() == provinces("org_department").count() > 2
    for persona in ("lead_reviewer", "military_inspector", "unit", "auditor"):
        assert not provinces(persona).exists(), persona


def test_counties_a_unit_reads_those_it_is_paired_with_a_province_its_own(personas, world):
    def counties(persona):
        return Scope.of(personas[persona]).filter(
            County.objects.all(), scopes.COUNTIES, unit="pairings__unit", province="province")

    assert list(counties("unit")) == [world["county_a"]]
    assert set(counties("province").values_list("province", flat=True)) == {
        world["province_a"].pk}
    assert counties("lead_reviewer").count() == County.objects.count()
    assert not counties("auditor").exists()


def test_a_lead_department_path_reads_the_own_lead_department_only(personas, world):
    def leads(persona):
        return Scope.of(personas[persona]).filter(LeadDepartment.objects.all(), scopes.REVIEWS,
                                                  unit=None, lead_department="")

    assert list(leads("lead_reviewer")) == [world["lead_a"]]
    assert list(leads("lead_reviewer_b")) == [world["lead_b"]]
    assert leads("leading_group").count() == LeadDepartment.objects.count()
    for persona in ("military_inspector", "unit", "province", "org_department"):
        assert not leads(persona).exists(), persona


def test_records_that_lead_to_no_unit_are_none_of_a_scoped_roles(personas):
    for persona in ("unit", "lead_reviewer", "military_inspector", "province"):
        assert not Scope.of(personas[persona]).filter(
            Province.objects.all(), scopes.EVIDENCE, unit=None).exists(), persona
    assert Scope.of(personas["office"]).filter(Province.objects.all(), scopes.EVIDENCE,
                                               unit=None).exists()


def test_condition_is_empty_for_everything_and_none_for_nothing(personas):
    assert Scope.of(personas["office"]).condition(scopes.UNITS) == Q()
    assert Scope.of(personas["auditor"]).condition(scopes.UNITS) is None
    assert Scope.of(personas["unit"]).condition(scopes.UNITS) == Q(
        unit_id=personas["unit"].unit_id)
