import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaohe.directory.models import Category, County, Pairing, Unit
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport


@pytest.fixture
def progress(world):
    round_ = world["round"]
    SelfReport.objects.create(round=round_, unit=world["unit_a"], status=ReportStatus.SUBMITTED,
                              submitted_at=timezone.now())
    SelfReport.objects.create(round=round_, unit=world["unit_b"], status=ReportStatus.DRAFT)
    ProvincialReport.objects.create(round=round_, province=world["province_a"],
                                    unit=world["unit_a"], status=ReportStatus.SUBMITTED,
                                    submitted_at=timezone.now())
    return world


@pytest.mark.django_db
def test_office_home_shows_progress_per_step_and_category(client, personas, progress):
    client.force_login(personas["office"])
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "考核工作总览" in html
    # 1 of 3 active units has submitted its self-report; 1 of 3 provincial reports is in.
    steps = {p.step.code: p for p in response.context["steps"]}
    assert (steps["self_report"].done, steps["self_report"].total) == (1, 3)
    assert (steps["provincial_report"].done, steps["provincial_report"].total) == (1, 3)
    cats = {c.code: c for c in response.context["categories"]}
    assert (cats["party_organs"].submitted, cats["party_organs"].not_started) == (1, 0)
    assert (cats["enterprises"].drafts, cats["enterprises"].submitted) == (1, 0)
    chart = response.context["chart"]
    assert chart["submitted"][chart["categories"].index("中央直属机关")] == 1
    assert 'id="category-chart"' in html
    # The overview counts; its figures open the units on the unit progress page.
    assert "测试单位甲" not in html and "page" not in response.context
    progress_url = reverse("unit_progress")
    for query in ("category=party_organs", "category=party_organs&amp;status=submitted",
                  "category=enterprises&amp;status=unsubmitted",
                  "category=enterprises&amp;status=none"):
        assert f'href="{progress_url}?{query}"' in html
    # The totals row: all three active units, one submitted, one in draft, one not begun.
    assert response.context["totals"] == {"unit_count": 3, "submitted": 1, "drafts": 1,
                                          "not_started": 1}
    assert f'href="{progress_url}?status=none">1</a>' in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["working_group", "leading_group"])
def test_the_overview_home_of_every_overview_role_links_the_unit_progress(client, personas,
                                                                         progress, persona):
    client.force_login(personas[persona])
    html = client.get(reverse("home")).content.decode()
    for query in ("", "?status=none", "?category=party_organs&amp;status=submitted"):
        assert f'href="{reverse("unit_progress")}{query}"' in html


def _listed(client, **query):
    response = client.get(reverse("unit_progress"), query)
    assert response.status_code == 200
    return response, {u.name for u in response.context["page"]}


@pytest.mark.django_db
def test_unit_progress_filters_units_by_report_status_and_category(client, personas, progress):
    client.force_login(personas["office"])
    assert _listed(client, status="none")[1] == {"测试部队"}  # no report begun
    SelfReport.objects.create(round=progress["round"], unit=progress["army"],
                              status=ReportStatus.RETURNED)
    assert _listed(client, status="none")[1] == set()
    response, everyone = _listed(client)
    assert everyone == {"测试单位甲", "测试单位乙", "测试部队"}
    html = response.content.decode()
    assert "1/1" in html  # unit A: one provincial report of one expected
    assert _listed(client, status="submitted")[1] == {"测试单位甲"}
    assert _listed(client, status="draft")[1] == {"测试单位乙"}
    assert _listed(client, status="returned")[1] == {"测试部队"}
    # 填报中 on the overview counts drafts and returned reports alike.
    assert _listed(client, status="unsubmitted")[1] == {"测试单位乙", "测试部队"}
    assert _listed(client, category="enterprises")[1] == {"测试单位乙"}
    assert _listed(client, category="enterprises", status="submitted")[1] == set()
    # An unknown filter value filters nothing, and says so by selecting nothing.
    response, listed = _listed(client, status="<b>x</b>", category="nope")
    assert listed == everyone
    assert (response.context["status"], response.context["category"]) == ("", None)
    assert "<b>x</b>" not in response.content.decode()


@pytest.mark.django_db
def test_unit_progress_lists_the_active_units_the_overview_counts(client, personas, progress):
    """The list's units are those the steps and categories count: an inactive unit is no
    longer assessed. Each filter's count is the overview's figure, over pages of 20."""
    extra = [Unit.objects.create(code=f"X{n:03d}", name=f"增补单位{n}",
                                 category=progress["unit_b"].category) for n in range(22)]
    Unit.objects.filter(pk=progress["unit_b"].pk).update(active=False)
    client.force_login(personas["office"])
    enterprises = next(c for c in client.get(reverse("home")).context["categories"]
                       if c.code == "enterprises")
    for query, count in (({}, Unit.objects.filter(active=True).count()),
                         ({"category": "enterprises"}, enterprises.unit_count),
                         ({"category": "enterprises", "status": "none"},
                          enterprises.not_started),
                         ({"status": "unsubmitted"}, 0)):
        response, shown = _listed(client, **query)
        assert response.context["page"].paginator.count == count, query
        assert "测试单位乙" not in shown
        if count > 20:
            _, rest = _listed(client, **query, page=2)
            assert len(rest) == count - 20 and not shown & rest
            assert extra[21].name in shown | rest
            html = response.content.decode()
            assert "page=2" in html and all(f"{k}={v}" in html for k, v in query.items())


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["office", "lead_reviewer", "military_inspector"])
def test_unit_progress_query_count_does_not_grow_with_units(client, personas, progress,
                                                            persona):
    client.force_login(personas[persona])
    _add_units(progress, 10)
    with CaptureQueriesContext(connection) as small:
        _listed(client, status="submitted")
    _add_units(progress, 120)
    with CaptureQueriesContext(connection) as large:
        _listed(client, status="submitted")
    assert len(large) == len(small)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["lead_reviewer", "military_inspector"])
def test_a_reviewer_lists_the_active_units_of_its_categories_only(client, personas, progress,
                                                                 persona):
    """A lead department's (the army inspector's) home counts its categories' units; its
    figures open them on the unit progress page, which lists its units and no other."""
    user = personas[persona]
    client.force_login(user)
    home = client.get(reverse("home"))
    codes = [c.code for c in home.context["categories"]]
    assert "page" not in home.context
    html = home.content.decode()
    for code in codes:
        assert f'href="{reverse("unit_progress")}?category={code}&amp;status=none"' in html
    units = Unit.objects.filter(active=True, category__code__in=codes)
    response, listed = _listed(client)
    assert listed == {u.name for u in units} and listed
    assert [c.code for c in response.context["categories"]] == codes
    # Another category's code in the query lists nothing of it.
    other = Category.objects.exclude(code__in=codes).filter(units__isnull=False).first()
    assert _listed(client, category=other.code)[1] == listed


@pytest.mark.django_db
def test_unit_progress_pages_a_lead_departments_units(client, personas, progress):
    extra = [Unit.objects.create(code=f"X{n:03d}", name=f"增补单位{n}",
                                 category=progress["unit_a"].category) for n in range(22)]
    Unit.objects.filter(pk=extra[0].pk).update(active=False)
    client.force_login(personas["lead_reviewer"])
    lead = personas["lead_reviewer"].lead_department
    count = Unit.objects.filter(active=True, category__lead_department=lead).count()
    first, shown = _listed(client)
    assert first.context["page"].paginator.count == count > 20
    shown |= _listed(client, page=2)[1]
    assert len(shown) == count and extra[0].name not in shown


@pytest.mark.django_db
def test_page_links_keep_other_query_keys_encoded(client, personas, progress):
    """A key or value holding "&", "=" or "#" stays one parameter in the next page's link."""
    for n in range(22):
        Unit.objects.create(code=f"X{n:03d}", name=f"增补单位{n}",
                            category=progress["unit_a"].category)
    client.force_login(personas["office"])
    response = client.get(reverse("unit_progress"), {"a&b=c": "d&e#f", "category": "party_organs"})
    html = response.content.decode()
    assert 'href="?a%26b%3Dc=d%26e%23f&category=party_organs&page=2"' in html
    assert "a&amp;b=c" not in html and "d&amp;e" not in html


@pytest.mark.django_db
def test_unit_home_shows_only_its_own_report_and_counties(client, personas, progress):
    client.force_login(personas["unit_b"])
    html = client.get(reverse("home")).content.decode()
    assert "测试单位乙" in html
    assert "填报中" in html
    assert progress["county_b"].name in html
    assert "测试单位甲" not in html
    assert progress["county_a"].name not in html


@pytest.mark.django_db
def test_province_home_lists_units_working_in_the_province_only(client, personas, progress):
    client.force_login(personas["province_b"])
    html = client.get(reverse("home")).content.decode()
    assert "测试单位乙" in html and "测试部队" in html
    assert "测试单位甲" not in html


@pytest.mark.django_db
def test_province_home_pages_its_units_with_their_counties_and_reports(client, personas,
                                                                      progress):
    """A province hosts a tenth of the units or more: its list is paged, 20 a page, each
    unit with its counties in the province and the province's report on it."""
    round_, province = progress["round"], progress["province_b"]
    category = Category.objects.get(code="party_organs")
    counties = list(County.objects.filter(province=province).order_by("code")[:2])
    units = Unit.objects.bulk_create(
        Unit(code=f"Y{i:04d}", name=f"云南结对单位{i:02d}", category=category) for i in range(23))
    Pairing.objects.bulk_create(Pairing(round=round_, unit=unit, county=county)
                                for unit in units for county in counties)
    ProvincialReport.objects.create(round=round_, province=province, unit=units[0],
                                    status=ReportStatus.SUBMITTED, submitted_at=timezone.now())
    client.force_login(personas["province_b"])
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(reverse("home"))
    page = first.context["page"]
    assert (page.paginator.count, len(page.object_list)) == (25, 20)
    html = first.content.decode()
    assert "第 1/2 页，共 25 条" in html
    row = next(u for u in page if u.pk == units[0].pk)
    assert (row.county_count, row.report_status) == (2, ReportStatus.SUBMITTED)
    with CaptureQueriesContext(connection) as second_queries:
        second = client.get(reverse("home"), {"page": 2})
    shown = {u.pk for u in first.context["page"]} | {u.pk for u in second.context["page"]}
    assert len(second.context["page"].object_list) == 5
    assert shown == {u.pk for u in units} | {progress["unit_b"].pk, progress["army"].pk}
    assert len(second_queries) == len(first_queries)
    # Still only the units working in the province.
    assert "测试单位甲" not in html + second.content.decode()


@pytest.mark.django_db
def test_lead_department_home_counts_only_its_category(client, personas, progress):
    client.force_login(personas["lead_reviewer"])
    response = client.get(reverse("home"))
    assert [c.code for c in response.context["categories"]] == ["party_organs"]
    html = client.get(reverse("unit_progress")).content.decode()
    assert "测试单位甲" in html and "测试单位乙" not in html


@pytest.mark.django_db
def test_auditor_home_shows_recent_audit_entries_and_admins_do_not(client, personas, progress):
    client.force_login(personas["auditor"])
    assert "最近的审计记录" in client.get(reverse("home")).content.decode()
    client.force_login(personas["system_admin"])
    html = client.get(reverse("home")).content.decode()
    assert "最近的审计记录" not in html
    assert "各角色账户数" in html


@pytest.mark.django_db
def test_deadline_status_follows_the_domain_clock(client, personas, progress, settings):
    client.force_login(personas["unit"])
    settings.KAOHE_TODAY = "2017-12-20"
    html = client.get(reverse("home")).content.decode()
    assert "剩 11 天" in html
    assert "2017年12月20日" in html  # the demo banner names the simulated day
    settings.KAOHE_TODAY = "2018-01-02"
    assert "已截止" in client.get(reverse("home")).content.decode()


def _add_units(world, n):
    category = Category.objects.get(code="party_organs")
    counties = list(County.objects.order_by("code")[:n])
    start = Unit.objects.count()
    units = Unit.objects.bulk_create(
        Unit(code=f"X{start + i:05d}", name=f"扩展单位{start + i}", category=category)
        for i in range(n)
    )
    Pairing.objects.bulk_create(
        Pairing(round=world["round"], unit=u, county=c)
        for u, c in zip(units, counties, strict=True)
    )
    SelfReport.objects.bulk_create(
        SelfReport(round=world["round"], unit=u, status=ReportStatus.SUBMITTED,
                   submitted_at=timezone.now() - datetime.timedelta(days=1)) for u in units[::2]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["office", "lead_reviewer", "province", "unit"])
def test_home_query_count_does_not_grow_with_units(client, personas, progress, persona):
    client.force_login(personas[persona])
    _add_units(progress, 10)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("home")).status_code == 200
    _add_units(progress, 120)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse("home")).status_code == 200
    assert len(large) == len(small)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["directory:unit_list", "directory:county_list"])
def test_list_query_count_does_not_grow_with_units(client, personas, progress, route):
    client.force_login(personas["office"])
    _add_units(progress, 10)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse(route))
    _add_units(progress, 120)
    with CaptureQueriesContext(connection) as large:
        client.get(reverse(route))
    assert len(large) == len(small)


@pytest.mark.django_db
def test_unit_home_does_not_reveal_other_units_progress(client, personas, progress):
    client.force_login(personas["unit_b"])
    steps = {p.step.code: p for p in client.get(reverse("home")).context["steps"]}
    # Only its own report counts: 0 of 1, never the round's 1 of 3.
    assert (steps["self_report"].done, steps["self_report"].total) == (0, 1)


@pytest.mark.django_db
def test_province_home_counts_only_its_own_reports(client, personas, progress):
    client.force_login(personas["province_b"])
    steps = {p.step.code: p for p in client.get(reverse("home")).context["steps"]}
    assert (steps["provincial_report"].done, steps["provincial_report"].total) == (0, 2)
    assert "self_report" not in steps


@pytest.mark.django_db
def test_lead_department_unit_list_links_its_units_to_the_review_desk(client, personas,
                                                                    progress):
    client.force_login(personas["lead_reviewer"])
    html = client.get(reverse("unit_progress")).content.decode()
    assert reverse("reviews:desk", args=[progress["unit_a"].pk]) in html
