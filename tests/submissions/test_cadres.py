"""Seconded cadres and village first secretaries: units record them, the org department checks."""

import datetime

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.submissions import services
from kaohe.submissions.models import FirstSecretary, SecondedCadre
from kaohe.submissions.selectors import cadres_visible_to

START = datetime.date(2017, 3, 1)


def _cadre(world, unit, county, user, name):
    return services.cadre_add(round=world["round"], unit=unit, actor=user, county=county,
                              name=name, post="副县长", duties="分管扶贫",
                              in_charge_of_poverty=True, start=START, end=None,
                              document="任职文件")


def _secretary(world, unit, county, user, name):
    return services.first_secretary_add(round=world["round"], unit=unit, actor=user,
                                        county=county, village="某某村", name=name,
                                        start=START, end=None, document="")


@pytest.fixture
def recorded(world, personas):
    """A cadre and a first secretary of each unit, including the army unit."""
    rows = {}
    for key, unit, county, user in [
        ("a", world["unit_a"], world["county_a"], personas["unit"]),
        ("b", world["unit_b"], world["county_b"], personas["unit_b"]),
        ("army", world["army"], world["county_b"], personas["office"]),
    ]:
        rows[key] = (_cadre(world, unit, county, user, f"干部{key}"),
                     _secretary(world, unit, county, user, f"书记{key}"))
    return rows


# Services ------------------------------------------------------------------------------


def test_a_unit_records_a_cadre_for_its_paired_county(world, personas):
    cadre = _cadre(world, world["unit_a"], world["county_a"], personas["unit"], "张三")
    assert SecondedCadre.objects.get() == cadre and cadre.unit == world["unit_a"]
    entry = AuditEntry.objects.get(action="cadre.added")
    assert entry.actor == personas["unit"]
    assert entry.data == {"county": world["county_a"].code, "post": "副县长"}


def test_a_cadre_for_a_county_not_paired_with_the_unit_is_refused(world, personas):
    with pytest.raises(services.SubmissionError):
        _cadre(world, world["unit_a"], world["county_b"], personas["unit"], "张三")
    assert not SecondedCadre.objects.exists()
    assert not AuditEntry.objects.filter(action="cadre.added").exists()


def test_a_first_secretary_for_a_county_not_paired_with_the_unit_is_refused(world, personas):
    with pytest.raises(services.SubmissionError):
        _secretary(world, world["unit_a"], world["county_b"], personas["unit"], "李四")
    assert not FirstSecretary.objects.exists()
    secretary = _secretary(world, world["unit_a"], world["county_a"], personas["unit"], "李四")
    assert FirstSecretary.objects.get() == secretary
    assert AuditEntry.objects.get(action="first_secretary.added").data == {
        "county": world["county_a"].code, "village": "某某村"}


def test_a_pairing_of_another_round_does_not_count(world, personas):
    from kaohe.directory.models import Pairing
    from kaohe.rounds.models import Round
    other = Round.objects.create(year=2016, name="2016年度")
    Pairing.objects.create(round=other, unit=world["unit_a"], county=world["county_b"])
    with pytest.raises(services.SubmissionError):
        _cadre(world, world["unit_a"], world["county_b"], personas["unit"], "张三")


def test_removing_a_record_deletes_it_and_logs_it(world, personas, recorded):
    cadre, secretary = recorded["a"]
    services.cadre_remove(record=cadre, actor=personas["unit"])
    services.cadre_remove(record=secretary, actor=personas["unit"])
    assert not SecondedCadre.objects.filter(pk=cadre.pk).exists()
    assert not FirstSecretary.objects.filter(pk=secretary.pk).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"secondedcadre.removed", "firstsecretary.removed"} <= actions


# Scope ---------------------------------------------------------------------------------


def _names(user, world):
    cadres, secretaries = cadres_visible_to(user, round=world["round"])
    return {c.name for c in cadres} | {s.name for s in secretaries}


@pytest.mark.parametrize("persona, sees", [
    ("org_department", {"a", "b", "army"}),
    ("office", {"a", "b", "army"}),
    ("working_group", {"a", "b", "army"}),
    ("unit", {"a"}),
    ("unit_b", {"b"}),
    ("lead_reviewer", {"a"}),
    ("lead_reviewer_b", {"b"}),
    ("military_inspector", {"army"}),
    ("province", set()),
    ("system_admin", set()),
    ("security_admin", set()),
    ("auditor", set()),
])
def test_cadres_are_scoped_to_the_user(world, personas, recorded, persona, sees):
    expected = {f"干部{k}" for k in sees} | {f"书记{k}" for k in sees}
    assert _names(personas[persona], world) == expected


# Pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona, sees", [
    ("org_department", {"a", "b", "army"}),
    ("leading_group", {"a", "b", "army"}),
    ("unit", {"a"}),
    ("unit_b", {"b"}),
    ("lead_reviewer", {"a"}),
    ("lead_reviewer_b", {"b"}),
])
def test_the_cadres_page_lists_only_what_the_user_may_see(world, personas, recorded, login,
                                                         persona, sees):
    response = login(personas[persona]).get(reverse("submissions:cadres"))
    assert response.status_code == 200
    page = response.content.decode()
    for key in ("a", "b", "army"):
        assert (f"干部{key}" in page) is (key in sees), key
        assert (f"书记{key}" in page) is (key in sees), key


@pytest.mark.parametrize("persona", ["province", "province_b", "system_admin",
                                     "security_admin", "auditor"])
def test_the_cadres_page_is_hidden_from_provinces_and_admins(world, personas, login, persona):
    assert login(personas[persona]).get(reverse("submissions:cadres")).status_code == 404


def _cadre_post(county, **extra):
    data = {"cadre-county": county.pk, "cadre-name": "王五", "cadre-post": "县委常委、副县长",
            "cadre-duties": "协助分管扶贫", "cadre-in_charge_of_poverty": "on",
            "cadre-start": "2017-03-01", "cadre-end": "", "cadre-document": "任职文件"}
    data.update(extra)
    return data


def test_a_unit_adds_a_cadre_through_the_page(world, personas, login):
    client = login(personas["unit"])
    response = client.post(reverse("submissions:cadre_add"), _cadre_post(world["county_a"]))
    assert response.status_code == 302
    cadre = SecondedCadre.objects.get()
    assert (cadre.unit, cadre.county, cadre.name) == (world["unit_a"], world["county_a"], "王五")


def test_the_page_refuses_a_county_not_paired_with_the_unit(world, personas, login):
    client = login(personas["unit"])
    response = client.post(reverse("submissions:cadre_add"), _cadre_post(world["county_b"]),
                           follow=True)
    assert not SecondedCadre.objects.exists()
    assert "填写有误" in response.content.decode()


def test_the_page_refuses_an_end_before_the_start(world, personas, login):
    client = login(personas["unit"])
    client.post(reverse("submissions:first_secretary_add"), {
        "sec-county": world["county_a"].pk, "sec-village": "某村", "sec-name": "赵六",
        "sec-start": "2017-06-01", "sec-end": "2017-01-01"})
    assert not FirstSecretary.objects.exists()


def test_a_unit_cannot_remove_another_units_cadre(world, personas, recorded, login):
    client = login(personas["unit"])
    cadre_b, secretary_b = recorded["b"]
    for kind, record in [("cadre", cadre_b), ("secretary", secretary_b)]:
        url = reverse("submissions:cadre_remove", kwargs={"kind": kind, "pk": record.pk})
        assert client.post(url).status_code == 404
    assert SecondedCadre.objects.filter(pk=cadre_b.pk).exists()
    assert FirstSecretary.objects.filter(pk=secretary_b.pk).exists()
    own = recorded["a"][0]
    url = reverse("submissions:cadre_remove", kwargs={"kind": "cadre", "pk": own.pk})
    assert client.post(url).status_code == 302
    assert not SecondedCadre.objects.filter(pk=own.pk).exists()


def test_an_unknown_record_kind_answers_404(world, personas, recorded, login):
    url = reverse("submissions:cadre_remove",
                  kwargs={"kind": "user", "pk": recorded["a"][0].pk})
    assert login(personas["unit"]).post(url).status_code == 404


def test_the_same_person_cannot_be_registered_twice(world, personas):
    """Two tabs (two form tokens) posting the same cadre give one record and a refusal."""
    _cadre(world, world["unit_a"], world["county_a"], personas["unit"], "王五")
    with pytest.raises(services.ConflictError, match="王五已登记"):
        _cadre(world, world["unit_a"], world["county_a"], personas["unit"], "王五")
    _secretary(world, world["unit_a"], world["county_a"], personas["unit"], "赵六")
    with pytest.raises(services.ConflictError, match="赵六已登记"):
        _secretary(world, world["unit_a"], world["county_a"], personas["unit"], "赵六")
    assert SecondedCadre.objects.count() == FirstSecretary.objects.count() == 1


def test_the_page_says_a_duplicate_is_registered_already(world, personas, login):
    client = login(personas["unit"])
    client.post(reverse("submissions:cadre_add"), _cadre_post(world["county_a"]))
    response = client.post(reverse("submissions:cadre_add"), _cadre_post(world["county_a"]),
                           follow=True)
    assert "王五已登记" in response.content.decode()
    assert SecondedCadre.objects.count() == 1
