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
def test_office_home_shows_progress_per_step_category_and_unit(client, personas, progress):
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
    assert "测试单位甲" in html and "测试单位乙" in html


@pytest.mark.django_db
def test_office_can_filter_units_by_report_status(client, personas, progress):
    client.force_login(personas["office"])
    html = client.get(reverse("home"), {"status": "submitted"}).content.decode()
    assert "测试单位甲" in html
    assert "测试单位乙" not in html
    html = client.get(reverse("home"), {"status": "none"}).content.decode()
    assert "测试部队" in html and "测试单位甲" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["office", "lead_reviewer"])
def test_the_unit_table_lists_the_active_units_its_figures_count(client, personas, progress,
                                                                persona):
    """The table's units are those the steps and categories count: an inactive unit is no
    longer assessed. Its pager counts them from the tallies the page reads anyway (issue
    19: no count query of its own), for each status filter."""
    extra = [Unit.objects.create(code=f"X{n:03d}", name=f"增补单位{n}",
                                 category=progress["unit_b"].category) for n in range(22)]
    Unit.objects.filter(pk=progress["unit_b"].pk).update(active=False)
    client.force_login(personas[persona])
    everyone = Unit.objects.filter(active=True)
    if persona == "lead_reviewer":
        everyone = everyone.filter(category__lead_department=personas[persona].lead_department)
    expected = {
        "": everyone.count(),
        "none": everyone.exclude(self_reports__round=progress["round"]).count(),
        "submitted": everyone.filter(self_reports__round=progress["round"],
                                     self_reports__status=ReportStatus.SUBMITTED).count(),
        "draft": 0,
    }
    for status, count in expected.items():
        if status and persona == "lead_reviewer":
            continue  # the lead department's table has no status filter
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("home"), {"status": status} if status else {})
        page = response.context["page"]
        assert page.paginator.count == count, status
        shown = {u.pk for u in page}
        assert progress["unit_b"].pk not in shown
        assert not any(q["sql"].startswith('SELECT COUNT(*) FROM "directory_unit" LEFT OUTER')
                       for q in queries)
        if count > 20:
            last = client.get(reverse("home"), {"page": 2, **({"status": status} if status
                                                               else {})}).context["page"]
            assert len(last.object_list) == count - 20
            assert not shown & {u.pk for u in last}
    if persona == "office":  # the added units are listed, over two pages
        assert extra[0].pk in {u.pk for u in client.get(reverse("home")).context["page"]} | {
            u.pk for u in client.get(reverse("home"), {"page": 2}).context["page"]}


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
    html = response.content.decode()
    assert [c.code for c in response.context["categories"]] == ["party_organs"]
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
def test_lead_department_home_links_its_units_to_the_review_desk(client, personas, progress):
    client.force_login(personas["lead_reviewer"])
    html = client.get(reverse("home")).content.decode()
    assert reverse("reviews:desk", args=[progress["unit_a"].pk]) in html
