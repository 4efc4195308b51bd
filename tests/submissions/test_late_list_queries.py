"""Issue 19, the list of late and missing submissions: its queries do not grow with the
steps it covers (the extensions of every step are read at once) nor with the units, and it
does not read the grades a lead department submitted (a category's snapshot, 1.2 MB at
3,100 units) to say whether and when the department submitted."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.directory.models import Pairing, Unit
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
from kaohe.submissions import lateness, services
from kaohe.submissions.models import ReportStatus, SelfReport

URL = reverse("submissions:late_list")


def _grant_every_step(world, office):
    """An extension of each step the list covers, for the party the step is for."""
    steps = {s.code: s for s in world["round"].steps.filter(code__in=lateness.STEPS)}
    for code, party in (("self_report", {"unit": world["unit_a"]}),
                        ("provincial_report", {"province": world["province_a"]}),
                        ("review", {"lead_department": world["lead_a"]})):
        services.extension_grant(step=steps[code], actor=office, reason="材料补充",
                                 until=datetime.date(2018, 1, 18), **party)


def _queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return [q["sql"] for q in queries], response


def test_the_late_list_reads_the_extensions_of_every_step_at_once(settings, world,
                                                                   personas, login):
    settings.KAOHE_TODAY = "2018-01-20"
    client = login(personas["office"])
    _grant_every_step(world, personas["office"])
    client.get(URL)
    every, response = _queries(client)
    extended = {(r.step.code, r.code or r.party) for r in response.context["rows"]
                if r.extension is not None}
    assert ("review", world["lead_a"].code) in extended
    assert ("self_report", world["unit_a"].code) in extended
    assert any(code == "provincial_report" for code, _party in extended)
    assert len([sql for sql in every if 'FROM "submissions_extension"' in sql]) == 1
    # The three steps cost no more than one step does, but for their own records.
    one, _response = _queries(client, step="self_report")
    assert len(every) <= len(one) + 8, (len(one), len(every))


def test_the_late_list_runs_the_same_queries_for_three_times_the_units(settings, world,
                                                                       personas, login):
    settings.KAOHE_TODAY = "2018-01-20"
    client = login(personas["office"])
    _grant_every_step(world, personas["office"])

    def more(start, n):
        for i in range(start, start + n):
            unit = Unit.objects.create(code=f"Z{i:03d}", name=f"增补单位{i}",
                                       category=world["unit_a"].category)
            Pairing.objects.create(round=world["round"], unit=unit, county=world["county_a"])
            SelfReport.objects.create(round=world["round"], unit=unit,
                                      status=ReportStatus.SUBMITTED, submitted_late=True)

    more(0, 4)
    client.get(URL)
    before, _response = _queries(client)
    more(4, 8)
    after, response = _queries(client)
    assert len(response.context["rows"]) > 12
    assert len(after) == len(before), (len(before), len(after))


def test_the_late_list_does_not_decode_a_category_snapshot(settings, world, personas, login,
                                                           json_decodes):
    settings.KAOHE_TODAY = "2018-01-20"
    CategorySubmission.objects.create(
        round=world["round"], lead_department=world["lead_a"],
        status=CategorySubmissionStatus.SUBMITTED, submitted_late=True,
        snapshot={"units": [{"code": f"U{i}", "grade": "good"} for i in range(50)]})
    json_decodes.clear()
    seen = json_decodes
    _sql, response = _queries(login(personas["office"]), step="review")
    rows = [r for r in response.context["rows"] if r.code == world["lead_a"].code]
    assert [r.state for r in rows] == [lateness.LATE]
    assert ("CategorySubmission", "snapshot") not in seen


# One page of each step (issue 19: 45 ms at 310 units, 419 ms at 3,100) ------------------


def _late_units(world, start, n):
    """Units that submitted their self-report late and whose province has not reported."""
    from kaohe.submissions.models import ProvincialReport

    for i in range(start, start + n):
        unit = Unit.objects.create(code=f"Z{i:03d}", name=f"增补单位{i}",
                                   category=world["unit_a"].category)
        Pairing.objects.create(round=world["round"], unit=unit, county=world["county_a"])
        SelfReport.objects.create(round=world["round"], unit=unit,
                                  status=ReportStatus.SUBMITTED, submitted_late=True)
        ProvincialReport.objects.create(round=world["round"], unit=unit,
                                        province=world["province_a"])


def test_the_late_list_shows_one_page_of_each_step_and_the_next_page_the_rest(
        settings, world, personas, login):
    from kaohe.submissions.views.deadlines import PAGE_SIZE

    settings.KAOHE_TODAY = "2018-01-20"
    client = login(personas["office"])
    _grant_every_step(world, personas["office"])
    _late_units(world, 0, 5)
    client.get(URL)
    before, _response = _queries(client)
    _late_units(world, 5, PAGE_SIZE + 10)  # two pages of each step
    after, response = _queries(client)
    assert len(after) == len(before), (len(before), len(after))
    page = response.content.decode()
    steps = {s["step"].code: s for s in response.context["sections"]}
    # PAGE_SIZE + 15 units and the world's 2: one page of each step's rows, however many units.
    assert len(steps["self_report"]["rows"]) == PAGE_SIZE
    assert len(steps["provincial_report"]["rows"]) == PAGE_SIZE
    assert page.count("增补单位") <= 2 * PAGE_SIZE  # with the world's own units
    assert "page_self_report=2" in page and "page_provincial_report=2" in page
    # The filter stays in the page links; page 2 of one step shows the rest of it.
    response = client.get(URL, {"step": "self_report", "page_self_report": 2})
    second = response.content.decode()
    assert [s["step"].code for s in response.context["sections"]] == ["self_report"]
    assert "第 2/2 页" in second and f"增补单位{PAGE_SIZE + 14}" in second
    shown = [r.code for r in response.context["sections"][0]["rows"]]
    first = [r.code for r in client.get(URL, {"step": "self_report"}).context["rows"]]
    assert len(shown) < PAGE_SIZE and not set(first) & set(shown)
    # The Excel export still has every row.
    from kaohe.submissions import lateness
    every = [r for r in lateness.late_and_missing(world["round"]) if r.step.code == "self_report"]
    assert len(every) > PAGE_SIZE + 10
    # The same rows, in the same order, as the pages show them.
    assert [r.code for r in every] == first + shown
    assert [(r.state, r.extension) for r in every[:PAGE_SIZE]] == [
        (r.state, r.extension) for r in steps["self_report"]["rows"]]
    provincial = [r for r in lateness.late_and_missing(world["round"])
                  if r.step.code == "provincial_report"]
    assert steps["provincial_report"]["page"].paginator.count == len(provincial)
    assert {(r.party, r.state, r.deadline) for r in steps["provincial_report"]["rows"]} <= {
        (r.party, r.state, r.deadline) for r in provincial}
