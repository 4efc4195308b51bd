"""Issue 19, the documents page: 3.3-7.1 s at 310 units and out of memory at 3,100. No query
it runs selects a result set's JSON snapshots (inputs, method, outputs: 0.7 MB at 310 units,
decoded per row), and it names at most 50 objects of a document: more are found on a page of
their own, searched by unit and paginated, so that the page is the same at any scale."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.documents.exporters import outcomes as letters
from kaohe.documents.selectors import OFFER_LIMIT
from kaohe.grading.models import ResultSet
from kaohe.outcomes.models import Feedback
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here
from tests.outcomes.test_slow_pages import _letters, _more_units

SNAPSHOT_COLUMN = re.compile(r'(?:"grading_resultset"|\b(T\d+|U\d+))\."(inputs|method|outputs)"')


def _snapshot_selects(sql_list) -> list[str]:
    """The statements that read a result set's snapshot columns, under the table's name or
    under an alias Django gave the table in a join."""
    found = []
    for sql in sql_list:
        aliases = set(re.findall(r'"grading_resultset" (\w+)', sql))
        for match in SNAPSHOT_COLUMN.finditer(sql):
            if match.group(1) is None or match.group(1) in aliases:
                found.append(sql)
                break
    return found


def _sql(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in queries], response


def test_the_detector_sees_snapshot_columns(released):  # noqa: F811
    """The check below can fail: it recognises a plain and a joined read of the snapshots."""
    with CaptureQueriesContext(connection) as queries:
        list(ResultSet.objects.all())
        list(Feedback.objects.select_related("result_set", "replaces__result_set"))
        list(ResultSet.objects.defer("inputs", "method", "outputs"))
    sql = [q["sql"] for q in queries]
    assert _snapshot_selects(sql) == sql[:2]


@pytest.mark.parametrize("persona", ["office", "working_group", "leading_group", "unit_b",
                                     "lead_reviewer"])
def test_the_documents_page_selects_no_result_set_snapshot(released, world, personas,  # noqa: F811
                                                           client, persona):
    _letters(world, released, _more_units(world, 3), personas["office"])
    client.force_login(personas[persona])
    sql, _response = _sql(client, reverse("documents:index"))
    assert _snapshot_selects(sql) == []


def test_the_choose_page_and_the_bulk_export_select_no_snapshot(released, world,  # noqa: F811
                                                                personas, client, monkeypatch):
    _letters(world, released, _more_units(world, 3), personas["office"])
    client.force_login(personas["office"])
    sql, _response = _sql(client, reverse("documents:choose", args=["feedback_letter"]))
    assert _snapshot_selects(sql) == []
    monkeypatch.setattr(letters, "_render_letter", lambda args: (args[0], b""))
    monkeypatch.setattr(letters, "_processes", lambda: 1)
    with CaptureQueriesContext(connection) as queries:
        letters.FeedbackLettersExporter().render("pdf", world["round"], mark=None)
    assert _snapshot_selects([q["sql"] for q in queries]) == []


def test_the_documents_page_names_at_most_50_objects_in_constant_queries(
        released, world, personas, client):  # noqa: F811
    office = personas["office"]
    client.force_login(office)
    url = reverse("documents:index")
    _letters(world, released, _more_units(world, 55), office)
    client.get(url)
    before, _ = _sql(client, url)
    _letters(world, released, _more_units(world, 60, start=55), office)
    after, response = _sql(client, url)
    assert len(after) == len(before), (len(before), len(after))
    page = response.content.decode()
    row = page.split('id="doc-feedback_letter"')[1].split("</tr>")[0]
    assert "<option" not in row  # 117 letters: not listed, searched
    choose = reverse("documents:choose", args=["feedback_letter"])
    assert choose in row and 'name="q"' in row
    assert "测试企业114" not in page


def test_the_choose_page_pages_searches_and_links_to_the_documents(
        released, world, personas, client):  # noqa: F811
    client.force_login(personas["office"])
    _letters(world, released, _more_units(world, 60), personas["office"])
    url = reverse("documents:choose", args=["feedback_letter"])
    first = client.get(url + "?year=2017").content.decode()
    per_page = OFFER_LIMIT  # 62 letters: 20, 20, 20 and 2
    assert first.count('href="/documents/feedback_letter/') == per_page * 2  # Word and PDF
    assert "第 1/4 页" in first and "year=2017&page=2" in first
    last = client.get(url + "?year=2017&page=4").content.decode()
    assert last.count('href="/documents/feedback_letter/') == (62 - 3 * per_page) * 2
    found = client.get(url, {"year": "2017", "q": "测试企业59"}).content.decode()
    letter = Feedback.objects.get(unit__name="测试企业59")
    make = reverse("documents:make", args=["feedback_letter", letter.pk, "docx"])
    assert found.count('href="/documents/feedback_letter/') == 2 and make in found
    by_code = client.get(url, {"q": "e059"}).content.decode()
    assert make in by_code
    # A unit chooses among its own letter only; a document it cannot make is not found.
    client.force_login(personas["unit_b"])
    own = client.get(url).content.decode()
    assert world["unit_b"].name in own and "测试企业59" not in own
    assert own.count('href="/documents/feedback_letter/') == 2
    assert client.get(reverse("documents:choose", args=["ranking_table"])).status_code == 404
    assert client.get(reverse("documents:choose", args=["feedback_letters"])).status_code == 404


def test_the_documents_page_decodes_no_category_snapshot(released, personas, client,  # noqa: F811
                                                         json_decodes):
    """A category's submission keeps every unit's grades (1.2 MB at 3,100 units): the page
    names the category report without reading them."""

    from kaohe.reviews.models import CategorySubmission

    assert CategorySubmission.objects.exclude(snapshot={}).count() == 2
    json_decodes.clear()
    seen = json_decodes
    client.force_login(personas["office"])
    page = client.get(reverse("documents:index")).content.decode()
    assert 'id="doc-category_report"' in page
    assert ("CategorySubmission", "snapshot") not in seen
    assert ("ResultSet", "outputs") not in seen
