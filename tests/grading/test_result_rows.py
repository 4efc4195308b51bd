"""The read model of result sets (issue 19 item 4, issue 22 item 5): one row per unit, written
with the version and never changed, equal to what the engine produced; old versions get
theirs on the first read, once; pages read rows, not the snapshots, in a number of queries
that does not grow with the units; a changed row is told by approval and `kaohe verify`."""

import io
import re
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaohe.documents.exporters.review import ReviewReportExporter
from kaohe.documents.exporters.tables import ranking_rows
from kaohe.grading import readmodel, selectors, services
from kaohe.grading.models import (
    Decision,
    DecisionKind,
    ResultRow,
    ResultSet,
    ResultSummary,
    SealBroken,
)
from kaohe.grading.vocabulary import AREA_CODES, AREA_GRADES, Grade
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here

SNAPSHOTS = {"inputs", "method", "outputs"}


@pytest.fixture(autouse=True)
def _during_the_review(settings):
    """Before the lead departments' deadline, so that the fixtures can submit results."""
    settings.KAOHE_TODAY = "2018-01-10"


def _engine_row(result_set, code):
    return next(r for r in result_set.outputs["results"] if r["unit"] == code)


def _forget_rows(result_set):
    """A version as made before rows existed."""
    ResultRow.objects.filter(result_set=result_set).delete()
    ResultSummary.objects.filter(result_set=result_set).delete()


# 1. Rows equal what the engine produced ----------------------------------------------------


def test_rows_are_written_with_the_version_and_equal_the_engines_output(mixed, personas):
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    rows = {row.unit_code: row for row in selectors.result_rows(result_set)}
    inputs = {item["unit"]: item for item in result_set.inputs}
    rules = services.decision_rules(result_set)
    assert list(rows) == [r["unit"] for r in result_set.outputs["results"]]
    for seq, result in enumerate(result_set.outputs["results"]):
        row = rows[result["unit"]]
        assert (row.seq, row.rank, row.position, [row.position_first, row.position_last],
                row.score, row.grade, row.band) == (
            seq, result["rank"], result["position"], result["positions"], result["score"],
            result["grade_code"], result["band"])
        assert [Grade(code).label for code in row.candidates] == result["candidates"]
        assert (row.reasons, row.reason_codes) == (result["reasons"], result["reason_codes"])
        assert row.area_grades == inputs[row.unit_code]["grades"]
        assert row.unit_name == inputs[row.unit_code]["name"]
        assert row.allowed_grades == [g.value for g in rules.allowed(row.unit_code)]
        assert row.final_grade == result["grade_code"]  # no decision yet
    # The ties: M003/M004 pending between 较好 and 一般, their tie reason kept.
    assert [rows[c].grade for c in ("M003", "M004")] == ["pending", "pending"]
    assert rows["M003"].candidates == ["fairly_good", "average"]
    assert "示例并列单位丁" in rows["M003"].tie_reason
    # The major incident: never 好; the serious problem in the poor band: 较差 allowed.
    assert rows["M002"].major_incident and "good" not in rows["M002"].allowed_grades
    assert rows["M009"].serious_problem and rows["M009"].candidates == ["average", "poor"]
    assert "poor" in rows["M009"].allowed_grades and "poor" not in rows["M010"].allowed_grades
    # The warning of M005 (a problem outside the bottom band) is on its row.
    assert [w["code"] for w in rows["M005"].warnings] == ["problem.outside_bottom"]
    assert readmodel.row_disagreements(result_set) == []
    summary = ResultSummary.objects.get(result_set=result_set)
    assert summary.units == 10 and summary.bands == result_set.outputs["bands"]
    assert summary.warned_units == len({w["unit"] for w in result_set.outputs["warnings"]
                                        if w.get("unit")})
    assert summary.engine_outside == []  # the engine's own grades keep section 七


def test_the_final_grades_follow_the_decisions(mixed, personas):
    wg = personas["working_group"]
    result_set = services.result_set_compute(round=mixed["round"], actor=wg)
    services.decision_record(result_set=result_set, unit_code="M009", grade="poor",
                             reason="突出问题属实", actor=wg)
    services.decision_record(result_set=result_set, unit_code="M003", grade="average",
                             reason="工作组研究", actor=wg)
    services.decision_record(result_set=result_set, unit_code="M003", grade="fairly_good",
                             reason="再研究", actor=wg)
    final = result_set.final_grades()
    rows = {row.unit_code: row for row in selectors.result_rows(result_set)}
    assert {code: row.final_grade for code, row in rows.items()} == final
    assert (rows["M009"].final_grade, rows["M003"].final_grade) == ("poor", "fairly_good")
    assert rows["M009"].grade == "pending"  # the row keeps what the engine said
    assert [r.unit_code for r in selectors.result_rows(result_set, grade="poor")] == ["M009"]
    counts = selectors.final_grade_counts(result_set)
    assert sum(n for c in counts.values() for n in c.values()) == 10
    assert sum(c["poor"] for c in counts.values()) == 1


def test_a_unit_graded_poor_by_the_engine(approved, world):  # noqa: F811
    row = selectors.result_row(approved, world["unit_b"].code)
    assert (row.grade, row.final_grade) == ("poor", "poor")
    assert row.serious_problem and row.grade == _engine_row(approved, "B001")["grade_code"]


def test_the_breaches_read_from_rows_are_those_of_the_snapshots(mixed, personas):
    """Decisions recorded behind the service's back: 好 for the unit with a major incident,
    较差 without a serious problem, and two more 好 beyond the quota."""
    wg = personas["working_group"]
    result_set = services.result_set_compute(round=mixed["round"], actor=wg)
    for code, grade in (("M002", "good"), ("M010", "poor"), ("M003", "good"),
                        ("M004", "good")):
        Decision.objects.create(result_set=result_set, unit_code=code, grade=grade,
                                kind=DecisionKind.ADJUSTMENT, previous="average",
                                reason="测试", decided_by=wg, decided_at=timezone.now())
    expected = [b.message for b in services.rule_breaches(result_set, complete=False)]
    assert len(expected) >= 4
    summary = selectors.result_summary(result_set)
    totals = {}
    for counted in selectors.final_grade_counts(result_set).values():
        for code, n in counted.items():
            totals[code] = totals.get(code, 0) + n
    from collections import Counter

    got = selectors.rule_breaches(ResultSet.objects.defer(*SNAPSHOTS).get(pk=result_set.pk),
                                  summary, Counter(totals))
    assert [b.message for b in got] == expected


# 2. Old versions: rows on the first read, once, never from a broken seal ---------------------


def test_an_old_version_gets_its_rows_on_the_first_read_once(mixed, personas, client):
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    expected = [(r.unit_code, r.grade, r.reasons) for r in selectors.result_rows(result_set)]
    _forget_rows(result_set)
    client.force_login(personas["working_group"])
    url = reverse("grading:detail", args=[result_set.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    assert [(r.unit_code, r.grade, r.reasons)
            for r in selectors.result_rows(result_set)] == expected
    assert ResultSummary.objects.filter(result_set=result_set).count() == 1
    assert ResultRow.objects.filter(result_set=result_set).count() == 10


def test_two_first_reads_at_once_write_one_set_of_rows(mixed, personas, monkeypatch):
    """The second read starts while the first is building: the summary's unique key lets
    one of them write (on SQLite writers take turns; PostgreSQL below)."""
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    _forget_rows(result_set)
    real, calls = readmodel.build, []

    def interleaved(version):
        calls.append(version.pk)
        if len(calls) == 1:
            readmodel.ensure_rows(version.pk)  # the other request, start to finish
        return real(version)

    monkeypatch.setattr(readmodel, "build", interleaved)
    readmodel.ensure_rows(result_set)
    assert len(calls) == 2  # both built; one wrote
    assert ResultSummary.objects.filter(result_set=result_set).count() == 1
    assert ResultRow.objects.filter(result_set=result_set).count() == 10


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers; the race needs PostgreSQL's unique index")
@pytest.mark.django_db(transaction=True)
def test_first_reads_at_once_through_the_page_write_one_set(mixed, personas):
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    _forget_rows(result_set)
    barrier, statuses, errors = threading.Barrier(4), [], []

    def read():
        try:
            client = Client()
            client.force_login(personas["working_group"])
            barrier.wait(timeout=20)
            statuses.append(client.get(reverse("grading:detail",
                                               args=[result_set.pk])).status_code)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and statuses == [200] * 4
    assert ResultSummary.objects.filter(result_set=result_set).count() == 1
    assert ResultRow.objects.filter(result_set=result_set).count() == 10


def _approved_mixed(mixed, personas):
    wg = personas["working_group"]
    result_set = services.result_set_compute(round=mixed["round"], actor=wg)
    for code, grade in (("M003", "fairly_good"), ("M004", "average"), ("M009", "poor")):
        services.decision_record(result_set=result_set, unit_code=code, grade=grade,
                                 reason="工作组研究确定", actor=wg)
    services.result_set_submit(result_set=result_set, actor=wg)
    return services.result_set_approve(result_set=result_set, actor=personas["leading_group"])


def test_an_old_version_whose_seal_is_broken_is_never_copied_into_rows(mixed, personas,
                                                                       client):
    from kaohe.audit.models import AuditEntry

    result_set = _approved_mixed(mixed, personas)
    _forget_rows(result_set)
    ResultSet.objects.filter(pk=result_set.pk).update(leader_comments="改过")
    with pytest.raises(SealBroken):
        readmodel.ensure_rows(result_set)
    client.force_login(personas["leading_group"])
    response = client.get(reverse("grading:detail", args=[result_set.pk]), follow=True)
    assert "封存校验值" in response.content.decode()
    assert not ResultRow.objects.filter(result_set=result_set).exists()
    assert AuditEntry.objects.filter(action="grading.result_set.seal_broken").exists()


# 3. A changed row is told ---------------------------------------------------------------------


def test_approval_refuses_a_version_whose_rows_were_changed(mixed, personas):
    wg = personas["working_group"]
    result_set = services.result_set_compute(round=mixed["round"], actor=wg)
    for code, grade in (("M003", "fairly_good"), ("M004", "average"), ("M009", "poor")):
        services.decision_record(result_set=result_set, unit_code=code, grade=grade,
                                 reason="工作组研究确定", actor=wg)
    services.result_set_submit(result_set=result_set, actor=wg)
    ResultRow.objects.filter(result_set=result_set, unit_code="M010").update(grade="good")
    assert readmodel.row_disagreements(result_set) == ["M010: grade"]
    with pytest.raises(services.GradingError, match="不一致"):
        services.result_set_approve(result_set=result_set, actor=personas["leading_group"])


def test_verify_names_a_sealed_version_whose_rows_were_changed(mixed, personas):
    result_set = _approved_mixed(mixed, personas)
    call_command("verify", stdout=io.StringIO())  # clean before
    ResultRow.objects.filter(result_set=result_set, unit_code="A001").update(
        reasons=["等次：较差"])
    ResultRow.objects.filter(result_set=result_set, unit_code="M005").delete()
    with pytest.raises(CommandError, match=r"A001: reasons.*M005: missing|M005: missing"):
        call_command("verify")


# 4. Pages read rows: one page of them, filters kept, queries flat ----------------------------


def _synthetic(round_, actor, n, version):
    """A version of ``n`` units straight from the engine (no reviews): grades in a pattern
    that ties units across the bands, every tenth unit with a serious problem and every
    thirteenth with a major incident."""
    inputs = []
    for i in range(n):
        grades = {area: AREA_GRADES[(i * (k + 1) // 3) % 4].value
                  for k, area in enumerate(AREA_CODES)}
        inputs.append({
            "unit": f"S{i:04d}", "name": f"合成单位{i:04d}", "grades": grades,
            "category": ("中央国家机关", "中央企业", "高校")[i % 3],
            "serious_problems": ([{"kind": "neglect", "name": "不重视", "source": "reviewer"}]
                                 if i % 10 == 0 else []),
            "incidents": ([{"county": "X", "county_name": "某县", "description": "事件",
                            "source": "reviewer"}] if i % 13 == 0 else []),
            "recommended_grade": None,
        })
    result_set = ResultSet.objects.create(
        round=round_, version=version, inputs=inputs, method=round_.method,
        outputs=services.run_engine(inputs, round_.method), created_by=actor)
    readmodel.write_rows(result_set)
    return result_set


def _page(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response.content.decode()


def test_the_result_set_page_is_one_page_of_rows_in_flat_queries(world, personas, client,
                                                                 decodes):
    wg = personas["working_group"]
    client.force_login(wg)
    figures = []
    for version, n in ((1, 60), (2, 240)):
        result_set = _synthetic(world["round"], wg, n, version)
        url = reverse("grading:detail", args=[result_set.pk])
        client.get(url)
        decodes.clear()
        queries, page = _page(client, url)
        # Neither units' snapshot is read (the method, 0.4 KB, words section 七's rules).
        assert set(decodes) <= {"method"}, decodes
        forms = page.count(f'action="{reverse("grading:decide", args=[result_set.pk])}"')
        pending = len(selectors.result_rows(result_set).filter(grade="pending"))
        assert forms <= selectors.ROWS_PER_PAGE + pending
        assert page.count('id="unit-S') == selectors.ROWS_PER_PAGE
        assert f"共 {n} 条" in page
        figures.append(queries)
    assert figures[0] == figures[1], figures


def test_the_ranking_pages_and_keeps_its_filters(mixed, personas, client, monkeypatch):
    monkeypatch.setattr(selectors, "ROWS_PER_PAGE", 3)
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    client.force_login(personas["working_group"])
    url = reverse("grading:detail", args=[result_set.pk])
    category = selectors.result_rows(result_set).first().category
    html = client.get(f"{url}?category={category}&grade=average").content.decode()
    ranking = html[html.index('id="ranking"'):]
    shown = re.findall(r'id="unit-(\w+)"', ranking)
    assert shown == ["M008", "M007", "M006"]  # 一般 units in ranking order, three a page
    assert re.search(r"category=[^&\"]+&(amp;)?grade=average&(amp;)?page=2", ranking)
    second = client.get(f"{url}?category={category}&grade=average&page=2").content.decode()
    assert re.findall(r'id="unit-(\w+)"', second[second.index('id="ranking"'):]) == [
        "M005", "M010"]
    assert "第 2/2 页" in second


def test_the_index_counts_units_without_reading_snapshots(mixed, personas, client, decodes):
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    client.force_login(personas["working_group"])
    decodes.clear()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("grading:index")).content.decode()
    assert decodes == []
    assert re.search(r"第1版.*?<td>10</td>", page, re.S)
    # Nor the lead departments' snapshots of every unit's grades: their units are counted.
    selects = [q["sql"].split(" FROM ")[0] for q in queries
               if 'FROM "reviews_categorysubmission"' in q["sql"]]
    assert selects and not [sql for sql in selects
                            if re.search(r'"reviews_categorysubmission"\."snapshot"(, "|$)', sql)]
    assert re.search(r"已报送.*?<td>10</td>", page, re.S)
    _forget_rows(result_set)  # an old version: counted by the database
    assert re.search(r"第1版.*?<td>10</td>",
                     client.get(reverse("grading:index")).content.decode(), re.S)


# 5. A unit reads its own row only ---------------------------------------------------------


def test_a_unit_reads_its_own_row_of_the_released_version(released, world, personas,  # noqa: F811
                                                          client, decodes):
    grades = {row.unit_code: row.final_grade for row in selectors.result_rows(released)}
    assert grades == {"A001": "average", "B001": "poor"}  # a leak would show
    for persona, mine, theirs in (("unit", "一般", "较差"), ("unit_b", "较差", "一般")):
        client.force_login(personas[persona])
        url = reverse("outcomes:my_result")
        client.get(url)
        decodes.clear()
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url).content.decode()
        assert decodes == [], decodes
        assert f'<strong class="me-auto ms-1">{mine}</strong>' in page
        assert f'<strong class="me-auto ms-1">{theirs}</strong>' not in page
        rows_read = [q["sql"] for q in queries if "grading_resultrow" in q["sql"]]
        assert len(rows_read) == 1 and "unit_code" in rows_read[0]
    assert selectors.released_grade_for(world["round"], world["unit_b"]) == "poor"


# 6. The exports read the same rows ----------------------------------------------------------


def test_the_ranking_table_and_the_review_report_read_the_rows(approved, decodes):  # noqa: F811
    named = ResultSet.objects.defer(*SNAPSHOTS).get(pk=approved.pk)
    decodes.clear()
    table = ranking_rows(named)
    assert decodes == []
    assert [(row[2], row[-4]) for row in table] == [("A001", "一般"), ("B001", "较差")]
    engine = {r["unit"]: r for r in approved.outputs["results"]}
    for row in table:
        assert row[0] == engine[row[2]]["rank"] and row[-6] == engine[row[2]]["score"]
        assert row[-2] == "\n".join(engine[row[2]]["reasons"])
    # A row changed behind the application's back shows in both: they read the rows.
    ResultRow.objects.filter(result_set=approved, unit_code="A001").update(unit_name="改名单位")
    assert ranking_rows(named)[0][3] == "改名单位"
    document = ReviewReportExporter().build(ResultSet.objects.get(pk=approved.pk), mark="")
    assert "改名单位" in repr(document.annexes)


def test_a_unit_of_a_changed_old_version_still_sees_its_letter(released, personas,  # noqa: F811
                                                               client):
    from kaohe.audit.models import AuditEntry

    _forget_rows(released)
    ResultSet.objects.filter(pk=released.pk).update(leader_comments="改过")
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert '<strong class="me-auto ms-1">较差</strong>' in page  # the letter's grade
    assert not ResultRow.objects.filter(result_set=released).exists()
    assert AuditEntry.objects.filter(action="grading.result_set.seal_broken").exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan, without statistics")
def test_the_units_left_pending_are_found_through_their_index(mixed, personas):
    """The version's page lists the units the engine left pending: read through the
    (version, grade, seq) index, not by walking every row of the version (4.7 ms of the
    page at 3,100 units)."""
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    pending = selectors.result_rows(result_set).filter(grade="pending")
    assert [row.unit_code for row in pending] == ["M003", "M004", "M009"]
    sql, params = pending.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [row[-1] for row in cursor.fetchall()]
    assert any("USING INDEX result_row_grade (result_set_id=? AND grade=?)" in line
               for line in plan), plan
