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
