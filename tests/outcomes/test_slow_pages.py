"""Issue 19, the measured slow pages: constant queries in the number of units, and the result
set's JSON snapshots (inputs, method, outputs; 0.7 MB at 310 units) left unread where a page
only names a version or shows one unit's grade."""

import datetime
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.directory.models import Category, Pairing, Unit
from kaohe.documents.exporters import outcomes as letters
from kaohe.grading.models import ResultSet, ResultSetStatus
from kaohe.lib.paging import ROWS
from kaohe.outcomes.models import Feedback
from kaohe.submissions.models import FirstSecretary, ProvincialReport, SecondedCadre, SelfReport
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here

SNAPSHOTS = {"inputs", "method", "outputs"}


def _more_units(world, n, start=0):
    category = Category.objects.get(code="enterprises")
    units = []
    for i in range(start, start + n):
        unit = Unit.objects.create(code=f"E{i:03d}", name=f"测试企业{i}", category=category)
        Pairing.objects.create(round=world["round"], unit=unit, county=world["county_b"])
        units.append(unit)
    return units


def _letters(world, result_set, units, office):
    for unit in units:
        Feedback.objects.create(round=world["round"], unit=unit, result_set=result_set,
                                grade="average", problems="问题", suggestions="建议",
                                updated_by=office)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response.content.decode()


# 1. The documents page and the bulk export of every letter -----------------------------


def test_the_documents_page_reads_no_snapshot_per_letter(released, world, personas,  # noqa: F811
                                                         client, decodes):
    office = personas["office"]
    client.force_login(office)
    url = reverse("documents:index")
    _letters(world, released, _more_units(world, 3), office)
    client.get(url)
    decodes.clear()
    before, _ = _count(client, url)
    before_decodes = len(decodes)
    _letters(world, released, _more_units(world, 12, start=3), office)
    decodes.clear()
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert len(decodes) == before_decodes == 0, decodes  # not one decode per letter
    assert "测试企业14" in page
    listed = list(letters._feedback_for(office, world["round"]))
    assert len(listed) == 17
    assert all(f.result_set.get_deferred_fields() >= SNAPSHOTS for f in listed)


def test_the_bulk_export_of_letters_reads_no_snapshot(released, world, personas,  # noqa: F811
                                                      monkeypatch, decodes):
    _letters(world, released, _more_units(world, 12), personas["office"])
    seen = []

    def record(feedback, due):
        seen.append(feedback.result_set.get_deferred_fields())
        return real(feedback, due)

    real = letters.feedback_letter
    monkeypatch.setattr(letters, "feedback_letter", record)
    monkeypatch.setattr(letters, "_render_letter", lambda args: (args[0], b""))
    monkeypatch.setattr(letters, "_processes", lambda: 1)
    decodes.clear()
    letters.FeedbackLettersExporter().render("pdf", world["round"], mark="")
    assert len(seen) == 14 and all(deferred >= SNAPSHOTS for deferred in seen)
    assert len(decodes) == 0, decodes


# 2. The grading index -----------------------------------------------------------------


def test_the_grading_index_lists_versions_without_decoding_them(approved, personas,  # noqa: F811
                                                                client, decodes):
    client.force_login(personas["working_group"])
    _queries, page = _count(client, reverse("grading:index"))
    assert decodes == []
    # The units of the version, counted by the database.
    assert re.search(r"第1版.*?<td>2</td>", page, re.S)


# 3. A unit's own result -----------------------------------------------------------------


def test_the_units_result_page_reads_the_released_letter_not_the_snapshots(
        released, world, personas, client, decodes):  # noqa: F811
    client.force_login(personas["unit_b"])
    for url in (reverse("outcomes:my_result"), reverse("home")):
        client.get(url)
        decodes.clear()
        before, page = _count(client, url)
        assert "较差" in page
        assert decodes == [], (url, decodes)
        _letters(world, released, _more_units(world, 6, start=len(Unit.objects.all())),
                 personas["office"])
        after, _ = _count(client, url)
        assert after == before, (url, before, after)


def test_the_unit_sees_the_released_grade_not_an_approved_newer_one(
        released, world, personas, client):  # noqa: F811
    newer = ResultSet.objects.create(
        round=world["round"], version=released.version + 1, status=ResultSetStatus.APPROVED,
        inputs=[], method={}, outputs={"results": []}, created_by=personas["working_group"])
    Feedback.objects.create(round=world["round"], unit=world["unit_b"], result_set=newer,
                            grade="good", updated_by=personas["office"])
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "较差" in page and "“好”" not in page
    home = client.get(reverse("home")).content.decode()
    assert "较差" in home


def test_a_units_history_and_the_org_department_list_read_rows_not_snapshots(
        released, world, personas, client, decodes):  # noqa: F811
    """The unit's page shows its released grade of every year, and the organization
    department's list every unit's: from the versions' rows, not their snapshots (nor
    their seals re-hashed on every view)."""
    from kaohe.outcomes import services as outcomes

    client.force_login(personas["office"])
    url = reverse("directory:unit_detail", args=[world["unit_b"].pk])
    client.get(url)
    decodes.clear()
    page = client.get(url).content.decode()
    assert "较差" in page and decodes == [], ("unit page", decodes)
    outcomes.dispatch_record(round=world["round"], actor=personas["office"],
                             kind="org_department", recipients="中央组织部",
                             sent_on=world["round"].steps.last().due)
    client.force_login(personas["org_department"])
    decodes.clear()
    listed = client.get(reverse("outcomes:org_results")).content.decode()
    assert world["unit_b"].name in listed and "较差" in listed
    assert decodes == [], decodes


# 5. Lists that grow with the units: paginated, filters kept --------------------------


def _self_reports(world, units, status="submitted"):
    for unit in units:
        SelfReport.objects.create(round=world["round"], unit=unit, status=status)


def test_the_self_report_list_pages_and_keeps_its_filter(world, personas, client):
    client.force_login(personas["office"])
    url = reverse("submissions:self_reports") + "?status=submitted"
    _self_reports(world, _more_units(world, 5))
    before, _ = _count(client, url)
    _self_reports(world, _more_units(world, ROWS + 10, start=5))  # two pages
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert page.count("submissions/self/") <= ROWS + 5  # one page of rows (and the menu)
    assert "?status=submitted&page=2" in page  # the filter stays in the page links
    second = client.get(url + "&page=2").content.decode()
    assert "第 2/2 页" in second and f"测试企业{ROWS + 14}" in second


def test_the_provincial_list_pages(world, personas, client):
    client.force_login(personas["office"])
    url = reverse("submissions:provincial_reports")

    def reports(units):
        for unit in units:
            ProvincialReport.objects.create(round=world["round"], unit=unit,
                                            province=world["province_b"])

    reports(_more_units(world, 5))
    before, _ = _count(client, url)
    reports(_more_units(world, ROWS + 10, start=5))  # two pages
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert "第 1/2 页" in page and "page=2" in page


def test_a_provinces_list_of_its_units_pages(world, personas, client):
    """The province's own list: every unit working in its counties, a page at a time, with
    the reports of that page's units."""
    client.force_login(personas["province_b"])  # Yunnan, where _more_units pair them
    url = reverse("submissions:provincial_reports")
    units = _more_units(world, 5)
    ProvincialReport.objects.create(round=world["round"], unit=units[0],
                                    province=world["province_b"])
    before, _ = _count(client, url)
    _more_units(world, ROWS + 10, start=5)  # two pages
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert "第 1/2 页" in page and page.count("开始填写") <= ROWS
    _queries, second = _count(client, url + "?page=2")
    assert "第 2/2 页" in second and f"测试企业{ROWS + 14}" in second and "测试企业0<" not in second


def test_the_cadre_list_pages_both_lists(world, personas, client):
    client.force_login(personas["office"])
    url = reverse("submissions:cadres")

    def records(units):
        for unit in units:
            SecondedCadre.objects.create(round=world["round"], unit=unit,
                                         county=world["county_b"], name="张三", post="副县长",
                                         start=datetime.date(2017, 1, 1))
            FirstSecretary.objects.create(round=world["round"], unit=unit,
                                          county=world["county_b"], village="某村",
                                          name="李四", start=datetime.date(2017, 1, 1))

    records(_more_units(world, 5))
    before, _ = _count(client, url)
    records(_more_units(world, ROWS + 10, start=5))  # two pages
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert "第 1/2 页" in page and "spage=2" in page
    assert page.count("张三") == ROWS and page.count("李四") == ROWS


def test_the_feedback_list_pages(released, world, personas, client, decodes):  # noqa: F811
    client.force_login(personas["office"])
    url = reverse("outcomes:feedback_list")
    before, _ = _count(client, url)
    _letters(world, released, _more_units(world, ROWS + 10), personas["office"])
    decodes.clear()
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert decodes == []
    assert "第 1/2 页" in page and "page=2" in page


def test_the_rectification_list_pages_and_keeps_its_filters(released, world, personas,  # noqa: F811
                                                             client):
    from kaohe.outcomes.models import RectificationReport
    from kaohe.submissions.models import Extension

    client.force_login(personas["office"])
    category = Category.objects.get(code="enterprises")
    url = reverse("outcomes:rectification_list") + f"?category={category.pk}"
    step = world["round"].steps.get(code="rectification")

    def tracked(units):
        # Each unit with a report, an item and an extension: what every row reads.
        for unit in units:
            report = RectificationReport.objects.create(round=world["round"], unit=unit)
            report.items.create(order=1, source="problem", text="问题")
            Extension.objects.create(step=step, unit=unit, until=datetime.date(2018, 6, 30),
                                     reason="延期", granted_by=personas["office"])

    tracked(_more_units(world, 5))
    before, _ = _count(client, url)
    tracked(_more_units(world, ROWS + 10, start=5))  # two pages
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert page.count('id="unit-') == ROWS  # one page of rows
    assert "第 1/2 页" in page
    assert f"category={category.pk}&amp;page=2" in page or f"category={category.pk}&page=2" in page
    response = client.get(url + "&page=2")
    second = response.content.decode()
    assert "第 2/2 页" in second and f"测试企业{ROWS + 14}" in second
    assert response.context["total"] == sum(response.context["counts"].values()) == ROWS + 17


def test_the_letter_edit_page_and_its_save_read_no_snapshot(approved, personas, client,  # noqa: F811
                                                            decodes):
    from kaohe.outcomes import services

    services.feedback_prepare(result_set=approved, actor=personas["office"])
    letter = Feedback.objects.get(unit__code="B001")
    client.force_login(personas["office"])
    url = reverse("outcomes:feedback_edit", args=[letter.pk])
    decodes.clear()
    assert "帮扶资金到位慢" in client.get(url).content.decode()
    response = client.post(url, {"problems": "新问题", "suggestions": "新建议"})
    assert response.status_code == 302
    assert decodes == [], decodes
    letter.refresh_from_db()
    assert letter.problems == "新问题"


def test_the_summons_list_pages(released, world, personas, client):  # noqa: F811
    """Issue 19: 16 ms at 310 units, 61 ms at 3,100; each summons is a form, a page of them."""
    from kaohe.outcomes.models import Summons
    from kaohe.outcomes.views.summons import PAGE_SIZE

    office = personas["office"]
    client.force_login(office)
    url = reverse("outcomes:summons")

    def summon(units):
        for unit in units:
            Summons.objects.create(round=world["round"], unit=unit, updated_by=office)

    summon(_more_units(world, 5))
    before, _ = _count(client, url)
    summon(_more_units(world, 60, start=5))
    after, page = _count(client, url)
    assert after == before, (before, after)
    assert page.count('name="minutes"') == PAGE_SIZE
    assert "第 1/" in page and "page=2" in page
    last = Summons.objects.filter(round=world["round"]).count()
    pages = -(-last // PAGE_SIZE)
    final = client.get(url, {"page": pages}).content.decode()
    assert f"第 {pages}/{pages} 页" in final and "测试企业64" in final
    assert final.count('name="minutes"') == last - (pages - 1) * PAGE_SIZE
    # Saving one keeps the page it was saved on.
    summons = Summons.objects.get(unit__code="E064")
    response = client.post(reverse("outcomes:summons_update", kwargs={"pk": summons.pk}),
                           {"summoner": summons.summoner, "summoned": summons.summoned,
                            "minutes": "已约谈", "page": pages})
    assert response.status_code == 302 and response.url.endswith(f"?page={pages}")
