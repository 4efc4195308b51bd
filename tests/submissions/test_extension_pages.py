"""Issue 19, the office's extension page (19 ms at 310 units, 70 ms at 3,100): a unit is
named by its code, not chosen in a list of every unit, and the extensions granted are shown
a page at a time."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.directory.models import Pairing, Unit
from kaohe.submissions import services
from kaohe.submissions.models import Extension

URL = reverse("submissions:extensions")


def _extended_units(world, office, start, n):
    step = world["round"].steps.get(code="self_report")
    for i in range(start, start + n):
        unit = Unit.objects.create(code=f"Z{i:03d}", name=f"增补单位{i}",
                                   category=world["unit_a"].category)
        Pairing.objects.create(round=world["round"], unit=unit, county=world["county_a"])
        services.extension_grant(step=step, actor=office, unit=unit, reason="材料补充",
                                 until=datetime.date(2018, 1, 18))


def _get(client, url=URL, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_extension_page_shows_one_page_of_extensions_and_no_list_of_units(
        world, personas, login):
    from kaohe.submissions.views.deadlines import PAGE_SIZE

    office = personas["office"]
    client = login(office)
    _extended_units(world, office, 0, 5)
    before, _page = _get(client)
    _extended_units(world, office, 5, PAGE_SIZE + 10)  # two pages
    after, page = _get(client)
    assert after == before, (before, after)
    assert page.count("材料补充") == PAGE_SIZE
    assert "增补单位0<" not in page  # no option per unit
    assert "第 1/2 页" in page and "page=2" in page
    _count, second = _get(client, page=2)
    assert "第 2/2 页" in second and second.count("材料补充") == 15
    # The latest first: the page shows the last units extended, the next page the first.
    assert f"增补单位{PAGE_SIZE + 14}" in page and "增补单位0<" in second


def test_the_office_names_the_unit_by_its_code(world, personas, login):
    client = login(personas["office"])
    response = client.post(reverse("submissions:extension_grant"), {
        "step": "self_report", "unit_code": f" {world['unit_a'].code} ",
        "until": "2018-01-20", "reason": "机构调整", "back": "extensions"})
    assert response.status_code == 302 and response.url == URL
    assert Extension.objects.get().unit == world["unit_a"]
    response = client.post(reverse("submissions:extension_grant"), {
        "step": "self_report", "unit_code": "NO-SUCH", "until": "2018-01-20",
        "reason": "机构调整", "back": "extensions"}, follow=True)
    assert Extension.objects.count() == 1
    assert "单位编码" in response.content.decode()
    assert "不存在" in response.content.decode()


def test_the_office_may_name_the_unit_by_its_full_name(world, personas, login):
    client = login(personas["office"])
    client.post(reverse("submissions:extension_grant"), {
        "step": "self_report", "unit_code": world["unit_b"].name, "until": "2018-01-20",
        "reason": "机构调整", "back": "extensions"})
    assert Extension.objects.get().unit == world["unit_b"]


def test_the_overview_shows_a_page_of_late_units_and_the_latest_extensions(
        world, personas, login, settings):
    """Issue 19: the deadline overview lists a page of the units that have not submitted,
    and the latest extensions with their count and a link to all of them, in the same
    queries however many there are."""
    from kaohe.submissions.views.deadlines import PAGE_SIZE

    settings.KAOHE_TODAY = "2017-12-20"
    office = personas["office"]
    client = login(office)
    url = reverse("submissions:deadlines")

    _extended_units(world, office, 0, 5)
    before, _page = _get(client, url)
    _extended_units(world, office, 5, PAGE_SIZE + 10)  # two pages, none submitted
    after, page = _get(client, url)
    assert after == before, (before, after)
    assert f"已准予的延期（{PAGE_SIZE + 15}项）" in page
    assert page.count("材料补充") == PAGE_SIZE
    assert reverse("submissions:extensions") in page.split("已准予的延期")[1]
    late = page.split("未提交自评报告的单位")[1].split("省级总结报告")[0]
    assert late.count('name="unit"') == PAGE_SIZE and "page=2" in late
    _count, last = _get(client, url, page=2)
    assert "第 2/2 页" in last
