"""The organization department's checklist (issue 17): a checked or unchecked state per
cadre and first secretary (nothing pre-ticked), filters by unit and category, and the
coverage the plan implies (a seconded cadre in every paired county, at least one first
secretary per unit, a tenure of two years or more)."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaohe.directory.models import Pairing, Unit
from kaohe.reviews import services
from kaohe.reviews.models import CadreCheck
from kaohe.reviews.selectors import cadre_coverage_gaps
from kaohe.submissions.models import FirstSecretary, SecondedCadre
from tests.reviews.conftest import second_unit_a

URL = "reviews:org_cadres"


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _cadre(world, unit, county, name, start=datetime.date(2017, 3, 1), end=None):
    return SecondedCadre.objects.create(round=world["round"], unit=unit, county=county,
                                        name=name, post="副县长", start=start, end=end)


def _secretary(world, unit, county, name):
    return FirstSecretary.objects.create(round=world["round"], unit=unit, county=county,
                                         village="某村", name=name,
                                         start=datetime.date(2017, 3, 1))


def _check(record, org, **values):
    data = {"in_post": True, "in_charge": True, "nominal_only": False,
            "discipline_issue": False, "note": "", "raise_problem": False}
    data.update(values)
    return services.cadre_check_save(record=record, actor=org, **data)


def _row(page, anchor):
    match = re.search(rf'<tr id="{anchor}">(.*?)</tr>', page, re.S)
    assert match, anchor
    return match.group(1)


# Checked and unchecked --------------------------------------------------------------------


def test_nothing_is_pre_ticked_for_an_unchecked_record(world, personas):
    cadre = _cadre(world, world["unit_a"], world["county_a"], "王五")
    secretary = _secretary(world, world["unit_a"], world["county_a"], "赵六")

    client = _client(personas["org_department"])
    cadres = client.get(reverse(URL)).content.decode()
    secretaries = client.get(reverse(URL), {"show": "secretaries"}).content.decode()

    for page, anchor in ((cadres, f"cadre-{cadre.pk}"), (secretaries, f"secretary-{secretary.pk}")):
        row = _row(page, anchor)
        assert "未核查" in row
        assert "checked" not in row


def test_a_checked_record_says_by_whom_and_when(world, personas):
    org = personas["org_department"]
    cadre = _cadre(world, world["unit_a"], world["county_a"], "王五")
    check = _check(cadre, org, note="在岗履职")

    row = _row(_client(org).get(reverse(URL)).content.decode(), f"cadre-{cadre.pk}")

    assert "已核查" in row and org.full_name in row
    assert timezone.localtime(check.checked_at).strftime("%Y-%m-%d %H:%M") in row


def test_the_in_post_answer_must_be_given(world, personas):
    cadre = _cadre(world, world["unit_a"], world["county_a"], "王五")
    client = _client(personas["org_department"])

    response = client.post(reverse("reviews:org_cadre_check", args=["cadre", cadre.pk]),
                           {"in_charge": "on", "note": "未选"}, follow=True)

    assert "请选择" in response.content.decode()
    assert not CadreCheck.objects.exists()


def test_the_state_filter_separates_checked_from_unchecked(world, personas):
    org = personas["org_department"]
    done = _cadre(world, world["unit_a"], world["county_a"], "已查干部")
    _cadre(world, world["unit_a"], world["county_a"], "未查干部")
    _check(done, org)
    client = _client(org)

    unchecked = client.get(reverse(URL), {"state": "unchecked"}).content.decode()
    checked = client.get(reverse(URL), {"state": "checked"}).content.decode()

    assert "未查干部" in unchecked and "已查干部" not in unchecked
    assert "已查干部" in checked and "未查干部" not in checked


# Filters -----------------------------------------------------------------------------------


def test_filters_by_unit_and_by_category(world, personas):
    _cadre(world, world["unit_a"], world["county_a"], "甲单位干部")
    _cadre(world, world["unit_b"], world["county_b"], "乙单位干部")
    _secretary(world, world["unit_b"], world["county_b"], "乙单位书记")
    client = _client(personas["org_department"])

    def tab(show, **filters):
        return client.get(reverse(URL), {"show": show, **filters}).content.decode()

    by_unit = tab("cadres", unit=world["unit_a"].pk)
    by_category = tab("cadres", category=world["unit_b"].category.code)
    everything = client.get(reverse(URL)).content.decode()

    assert "甲单位干部" in by_unit and "乙单位干部" not in by_unit
    assert "乙单位书记" not in tab("secretaries", unit=world["unit_a"].pk)
    assert "乙单位干部" in by_category
    assert "乙单位书记" in tab("secretaries", category=world["unit_b"].category.code)
    assert "甲单位干部" not in by_category
    assert "甲单位干部" in everything and "乙单位干部" in everything


def test_a_bad_filter_value_shows_nothing_rather_than_failing(world, personas):
    _cadre(world, world["unit_a"], world["county_a"], "甲单位干部")

    response = _client(personas["org_department"]).get(reverse(URL), {"unit": "x' or 1=1"})

    assert response.status_code == 200
    assert "甲单位干部" not in response.content.decode()


# Coverage ----------------------------------------------------------------------------------


@pytest.fixture
def two_county_unit(world):
    """unit_a paired with a second county of 贵州."""
    from kaohe.directory.models import County

    second = County.objects.get(code="520204")
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=second)
    return second


def _gap_texts(world, units=None):
    units = units if units is not None else Unit.objects.filter(
        pk__in=[world["unit_a"].pk, world["unit_b"].pk])
    return [g.text for g in cadre_coverage_gaps(world["round"], units)]


def test_a_paired_county_without_a_cadre_is_a_gap(world, two_county_unit):
    _cadre(world, world["unit_a"], world["county_a"], "王五")
    _secretary(world, world["unit_a"], world["county_a"], "赵六")

    gaps = cadre_coverage_gaps(world["round"], Unit.objects.filter(pk=world["unit_a"].pk))

    assert [(g.kind, g.county) for g in gaps] == [("county", two_county_unit)]
    assert two_county_unit.name in gaps[0].text and "挂职扶贫干部" in gaps[0].text


def test_a_unit_without_a_first_secretary_is_a_gap(world):
    _cadre(world, world["unit_b"], world["county_b"], "钱七")

    gaps = cadre_coverage_gaps(world["round"], Unit.objects.filter(pk=world["unit_b"].pk))

    assert [g.kind for g in gaps] == ["secretary"]
    assert "第一书记" in gaps[0].text and world["unit_b"].name in gaps[0].text


def test_a_tenure_under_two_years_is_a_gap(world):
    _secretary(world, world["unit_a"], world["county_a"], "赵六")
    _cadre(world, world["unit_a"], world["county_a"], "短期",
           start=datetime.date(2017, 3, 1), end=datetime.date(2019, 2, 28))
    _cadre(world, world["unit_a"], world["county_a"], "两年整",
           start=datetime.date(2017, 3, 1), end=datetime.date(2019, 3, 1))
    _cadre(world, world["unit_a"], world["county_a"], "未定", start=datetime.date(2017, 3, 1))

    gaps = cadre_coverage_gaps(world["round"], Unit.objects.filter(pk=world["unit_a"].pk))

    assert [(g.kind, g.record.name) for g in gaps] == [("tenure", "短期")]
    assert "两年" in gaps[0].text


def test_withdrawn_records_do_not_cover(world, personas):
    cadre = _cadre(world, world["unit_a"], world["county_a"], "王五")
    secretary = _secretary(world, world["unit_a"], world["county_a"], "赵六")
    units = Unit.objects.filter(pk=world["unit_a"].pk)
    assert cadre_coverage_gaps(world["round"], units) == []

    for record in (cadre, secretary):
        type(record).objects.filter(pk=record.pk).update(
            withdrawn_at=datetime.datetime(2017, 12, 20, tzinfo=datetime.UTC),
            withdrawn_by=personas["unit"], withdrawn_reason="调回")

    assert sorted(g.kind for g in cadre_coverage_gaps(world["round"], units)) == [
        "county", "secretary"]


def test_the_page_lists_the_gaps_and_filters_them(world, personas, two_county_unit):
    _cadre(world, world["unit_a"], world["county_a"], "王五")
    client = _client(personas["org_department"])

    page = client.get(reverse(URL), {"show": "coverage"}).content.decode()
    only_b = client.get(reverse(URL), {"show": "coverage", "unit": world["unit_b"].pk}
                        ).content.decode()

    assert "覆盖情况" in page
    for text in _gap_texts(world):
        assert text in page
    assert two_county_unit.name in page
    assert world["unit_a"].name + "：未选派驻村第一书记" in page
    assert world["unit_a"].name + "：未选派驻村第一书记" not in only_b
    assert world["unit_b"].name + "：未选派驻村第一书记" in only_b


def _page_queries(client, show="cadres"):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(URL), {"show": show}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("show", ["cadres", "secretaries", "coverage"])
def test_the_page_queries_do_not_grow_with_the_units(world, personas, show):
    client = _client(personas["org_department"])
    _cadre(world, world["unit_a"], world["county_a"], "王五")
    _secretary(world, world["unit_a"], world["county_a"], "赵六")
    client.get(reverse(URL))  # warm caches (session, round)
    before = _page_queries(client, show)

    for n in range(2, 8):
        unit = second_unit_a(world, code=f"A00{n}", name=f"测试单位{n}")
        cadre = _cadre(world, unit, world["county_a"], f"干部{n}",
                       end=datetime.date(2018, 1, 1))
        _secretary(world, unit, world["county_a"], f"书记{n}")
        _check(cadre, personas["org_department"], nominal_only=True, raise_problem=True)

    assert _page_queries(client, show) == before


# One page of everything (issue 19: 89 ms at 310 units, 501 ms at 3,100) -----------------


def _units_with_cadres(world, start, n):
    """Units each paired with county_a and with a cadre there, none with a first secretary
    (a gap each), every third with a tenure under two years (a second gap)."""
    units = []
    for i in range(start, start + n):
        unit = second_unit_a(world, code=f"Z{i:03d}", name=f"增补单位{i}")
        _cadre(world, unit, world["county_a"], f"干部{i}",
               end=datetime.date(2018, 1, 1) if i % 3 == 0 else None)
        units.append(unit)
    return units


def test_the_checklist_shows_a_page_of_gaps_and_no_list_of_units(world, personas):
    from kaohe.reviews.selectors import units_with_cadre_gaps
    from kaohe.reviews.views.oversight import PAGE_SIZE

    client = _client(personas["org_department"])
    _units_with_cadres(world, 0, 5)
    client.get(reverse(URL))
    before = _page_queries(client, "coverage")
    _units_with_cadres(world, 5, PAGE_SIZE + 10)  # two pages of gaps
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(URL), {"show": "coverage"})
    assert len(queries) == before, (before, len(queries))
    page = response.content.decode()
    assert page.count("：未选派驻村第一书记") == PAGE_SIZE  # a page of units with gaps
    assert "增补单位12" not in page.split('id="coverage"')[0]  # no option per unit
    assert "show=coverage&page=2" in page.replace("&amp;", "&")
    second = client.get(reverse(URL), {"show": "coverage", "page": 2}).content.decode()
    last = PAGE_SIZE + 14
    assert f"增补单位{last}：未选派驻村第一书记" in second
    assert f"增补单位{last - 1}：干部{last - 1}（" in second and "不足两年" in second
    # The units chosen in the database are those the gaps are found for.
    units = Unit.objects.filter(active=True)
    with_gaps = {g.unit.pk for g in cadre_coverage_gaps(world["round"], units)}
    assert set(units_with_cadre_gaps(world["round"], units).values_list("pk", flat=True)
               ) == with_gaps
    # A unit is chosen by its code; the old ?unit=<id> still filters.
    by_code = client.get(reverse(URL), {"show": "coverage", "unit_code": "Z007"}
                         ).content.decode()
    assert "增补单位7：未选派驻村第一书记" in by_code and "增补单位8：" not in by_code
    assert 'value="Z007"' in by_code
    unit = Unit.objects.get(code="Z009")
    by_id = client.get(reverse(URL), {"show": "coverage", "unit": unit.pk}).content.decode()
    assert "增补单位9：未选派驻村第一书记" in by_id and "增补单位8：" not in by_id


def test_the_gap_query_agrees_on_tenures_around_two_years(world, personas):
    from kaohe.reviews.selectors import units_with_cadre_gaps

    world["unit_a"].pairings.exclude(county=world["county_a"]).delete()
    _secretary(world, world["unit_a"], world["county_a"], "赵六")
    cases = [(datetime.date(2016, 2, 29), datetime.date(2018, 2, 28), True),
             (datetime.date(2016, 2, 29), datetime.date(2018, 3, 1), False),
             (datetime.date(2016, 3, 15), datetime.date(2018, 3, 14), True),
             (datetime.date(2016, 3, 15), datetime.date(2018, 3, 15), False),
             (datetime.date(2016, 3, 15), datetime.date(2017, 12, 31), True),
             (datetime.date(2016, 3, 15), datetime.date(2018, 4, 1), False)]
    units = Unit.objects.filter(pk=world["unit_a"].pk)
    for start, end, short in cases:
        SecondedCadre.objects.filter(unit=world["unit_a"]).delete()
        _cadre(world, world["unit_a"], world["county_a"], "王五", start=start, end=end)
        python = bool(cadre_coverage_gaps(world["round"], units))
        database = units_with_cadre_gaps(world["round"], units).exists()
        assert python == database == short, (start, end)


# One list a tab; back where the form was posted from (issue 19) ---------------------------


def test_each_tab_shows_its_own_list_and_keeps_the_filters(world, personas, two_county_unit):
    _cadre(world, world["unit_a"], world["county_a"], "甲单位干部")
    _secretary(world, world["unit_a"], world["county_a"], "甲单位书记")
    client = _client(personas["org_department"])

    cadres = client.get(reverse(URL)).content.decode()
    secretaries = client.get(reverse(URL), {"show": "secretaries"}).content.decode()
    coverage = client.get(reverse(URL), {"show": "coverage"}).content.decode()

    assert "甲单位干部" in cadres and "甲单位书记" not in cadres
    assert "未向" not in cadres and 'id="coverage"' not in cadres
    assert "甲单位书记" in secretaries and "甲单位干部" not in secretaries
    assert 'id="coverage"' in coverage and "甲单位干部" not in coverage
    assert "org_cadre_check" not in coverage and 'name="in_post"' not in coverage
    # An unknown tab is the first one.
    assert "甲单位干部" in client.get(reverse(URL), {"show": "x"}).content.decode()
    # The tabs keep the filters, not the page.
    filtered = client.get(reverse(URL), {"category": world["unit_a"].category.code,
                                         "state": "unchecked", "page": "2"})
    strip = re.search(r'<ul class="nav nav-tabs.*?</ul>', filtered.content.decode(), re.S)
    tabs = re.findall(r'href="([^"]*)"', strip.group(0))
    assert len(tabs) == 3
    for address in tabs:
        address = address.replace("&amp;", "&")
        assert f"category={world['unit_a'].category.code}" in address
        assert "state=unchecked" in address and "page=" not in address


def test_a_check_returns_to_the_tab_filters_and_page_it_was_posted_from(world, personas):
    from kaohe.reviews.views.oversight import PAGE_SIZE

    secretaries = [_secretary(world, world["unit_a"], world["county_a"], f"书记{n:02d}")
                   for n in range(PAGE_SIZE + 3)]
    client = _client(personas["org_department"])
    query = {"show": "secretaries", "category": world["unit_a"].category.code, "page": "2"}
    page = client.get(reverse(URL), query).content.decode()
    record = secretaries[PAGE_SIZE + 1]
    row = _row(page, f"secretary-{record.pk}")
    back = re.search(r'name="back" value="([^"]*)"', row).group(1).replace("&amp;", "&")

    response = client.post(reverse("reviews:org_cadre_check", args=["secretary", record.pk]),
                           {"in_post": "on", "in_charge": "on", "note": "", "back": back})

    assert CadreCheck.objects.filter(secretary=record).exists()
    address = response.url
    assert address.startswith(reverse(URL) + "?") and address.endswith(f"#secretary-{record.pk}")
    for key, value in query.items():
        assert f"{key}={value}" in address
    followed = client.get(address.split("#")[0]).content.decode()
    assert "已核查" in _row(followed, f"secretary-{record.pk}")


def test_the_way_back_carries_only_the_checklists_own_parameters(world, personas):
    cadre = _cadre(world, world["unit_a"], world["county_a"], "王五")
    client = _client(personas["org_department"])
    hostile = "next=https://evil.example/&show=cadres&state=<script>&page=" + "9" * 80

    response = client.post(reverse("reviews:org_cadre_check", args=["cadre", cadre.pk]),
                           {"in_post": "on", "in_charge": "on", "back": hostile})
    missing = client.post(reverse("reviews:org_cadre_check", args=["secretary", 0]),
                          {"in_post": "on", "back": hostile})

    assert response.url.startswith(reverse(URL) + "?")
    assert "evil" not in response.url and "next" not in response.url
    assert "9" * 80 not in response.url  # no overlong value is carried either
    assert "state=%3Cscript%3E" in response.url  # encoded; the page ignores an unknown state
    assert client.get(response.url.split("#")[0]).status_code == 200
    assert missing.status_code == 404
    # Posted without any way back (an older page): the record's own tab.
    secretary = _secretary(world, world["unit_a"], world["county_a"], "赵六")
    bare = client.post(reverse("reviews:org_cadre_check", args=["secretary", secretary.pk]),
                       {"in_post": "on", "in_charge": "on"})
    assert bare.url == f"{reverse(URL)}?show=secretaries#secretary-{secretary.pk}"
