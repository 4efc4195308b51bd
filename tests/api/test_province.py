"""Provinces submit county figures and the recommended grade through the web form's rules."""

import datetime

import pytest

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Pairing
from kaohe.rounds.models import RoundStatus
from kaohe.submissions import services
from kaohe.submissions.models import CountyOutcome, ProvincialReport, ReportStatus
from tests.api.conftest import OPEN_DAY

REPORT = "/province/units/A001/report"


@pytest.fixture(autouse=True)
def _open(settings):
    settings.KAOHE_TODAY = OPEN_DAY


def _figures(world, **extra):
    return {"county": world["county_a"].code, "planned_exit": 1200, "actual_exit": 1250,
            "county_exited": True, "plan_met": True, "satisfaction_unit": "good",
            "satisfaction_cadres": "fairly_good", "note": "按期完成", **extra}


def test_a_province_saves_county_figures_and_its_recommended_grade(api_as, world, personas):
    response = api_as("province").put(REPORT, {
        "revision": 0, "work_text": "帮扶有力", "recommended_grade": "good",
        "outcomes": [_figures(world)]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "draft" and body["revision"] == 1
    assert body["deadline"] == "2017-12-31" and body["is_open"]
    outcome = CountyOutcome.objects.get(report__unit=world["unit_a"])
    assert (outcome.planned_exit, outcome.actual_exit, outcome.county_exited, outcome.plan_met,
            outcome.satisfaction_unit, outcome.satisfaction_cadres) == (
        1200, 1250, True, True, "good", "fairly_good")
    report = outcome.report
    assert (report.work_text, report.recommended_grade) == ("帮扶有力", "good")
    assert AuditEntry.objects.filter(action="provincial_report.saved",
                                     actor=personas["province"]).exists()
    # Left out keeps its value; null clears.
    response = api_as("province").put(REPORT, {
        "revision": 1, "outcomes": [{"county": world["county_a"].code, "actual_exit": None}]})
    assert response.status_code == 200
    outcome.refresh_from_db()
    assert (outcome.planned_exit, outcome.actual_exit) == (1200, None)
    assert response.json()["work_text"] == "帮扶有力"


@pytest.mark.parametrize(("change", "field"), [
    ({"planned_exit": -1}, "outcomes[0].planned_exit"),
    ({"planned_exit": 10**12}, "outcomes[0].planned_exit"),
    ({"satisfaction_unit": "excellent"}, "outcomes[0].satisfaction_unit"),
    ({"note": "a\x00b"}, "outcomes[0].note"),
    ({"plan_met": "perhaps"}, "outcomes[0].plan_met"),
    ({"deep_funds": "1.234"}, "outcomes[0].deep_funds"),
    ({"planed_exit": 5}, "outcomes[0].planed_exit"),  # a mistyped name is not dropped
])
def test_bad_figures_answer_422_naming_the_field(api_as, world, change, field):
    response = api_as("province").put(REPORT, {"revision": 0,
                                               "outcomes": [_figures(world, **change)]})
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert not ProvincialReport.objects.exists()


def test_refusals_of_the_form_and_service_answer_400_naming_the_field(api_as, world):
    response = api_as("province").put(REPORT, {"revision": 0, "outcomes": [
        _figures(world, county="999999")]})
    assert response.status_code == 400
    assert response.json()["field"] == "outcomes[0].county"
    # Indicator 2's figures belong to deep-poverty counties only.
    response = api_as("province").put(REPORT, {"revision": 0, "outcomes": [
        _figures(world, deep_funds="12.50")]})
    assert response.status_code == 400
    assert response.json()["field"] == "outcomes[0].deep_funds"
    assert response.json()["code"] == "invalid"
    # Refused as a whole: not even the report was started.
    assert not ProvincialReport.objects.exists()
    assert not AuditEntry.objects.filter(action="provincial_report.started").exists()


def test_a_deep_poverty_county_takes_indicator_2(api_as, world):
    from kaohe.directory.models import County

    deep = County.objects.filter(province=world["province_a"]).exclude(
        pk=world["county_a"].pk).first()
    deep.province_designated = True
    deep.save()
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=deep)
    response = api_as("province").put(REPORT, {"revision": 0, "outcomes": [
        {"county": deep.code, "deep_funds": "12.50", "deep_projects": 3,
         "deep_support": "修路"}]})
    assert response.status_code == 200, response.content
    row = next(o for o in response.json()["outcomes"] if o["county"] == deep.code)
    assert (row["deep_funds"], row["deep_projects"]) == ("12.50", 3)


def test_a_report_not_yet_started_reads_404_and_the_first_save_starts_it(api_as, world):
    response = api_as("province").get(REPORT)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api_as("province").get("/province/units").json()[0]["report_status"] == "not_started"
    assert api_as("province").put(REPORT, {"revision": 0}).status_code == 200
    body = api_as("province").get(REPORT).json()
    assert [o["county"] for o in body["outcomes"]] == [world["county_a"].code]
    assert "评价等次意见" in body["missing"]


def test_a_stale_revision_is_a_conflict(api_as, world):
    assert api_as("province").put(REPORT, {"revision": 0}).status_code == 200
    response = api_as("province").put(REPORT, {"revision": 0, "work_text": "覆盖"})
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert ProvincialReport.objects.get().work_text == ""


def test_after_the_deadline_it_is_refused_until_an_extension(api_as, world, personas,
                                                             settings):
    settings.KAOHE_TODAY = "2018-01-05"
    response = api_as("province").put(REPORT, {"revision": 0})
    assert response.status_code == 409 and response.json()["code"] == "closed"
    assert not ProvincialReport.objects.exists()
    step = world["round"].steps.get(code="provincial_report")
    services.extension_grant(step=step, actor=personas["office"], until=datetime.date(2018, 1, 20),
                             reason="系统故障", province=world["province_a"])
    assert api_as("province").put(REPORT, {"revision": 0}).status_code == 200


def test_a_submitted_report_is_locked(api_as, world):
    api_as("province").put(REPORT, {"revision": 0})
    ProvincialReport.objects.update(status=ReportStatus.SUBMITTED)
    response = api_as("province").put(REPORT, {"revision": 1, "work_text": "改"})
    assert response.status_code == 409 and response.json()["code"] == "locked"
    assert ProvincialReport.objects.get().work_text == ""


def test_a_closed_round_is_read_only(api_as, world):
    api_as("province").put(REPORT, {"revision": 0})
    type(world["round"]).objects.filter(pk=world["round"].pk).update(status=RoundStatus.CLOSED)
    response = api_as("province").put(REPORT, {"revision": 1, "work_text": "改"})
    assert response.status_code == 409 and response.json()["code"] == "round_closed"
    assert api_as("province").get(REPORT).status_code == 200


def test_findings_and_submission_follow_the_services(api_as, world):
    api_as("province").put(REPORT, {"revision": 0})
    response = api_as("province").post(f"{REPORT}/findings", {
        "county": world["county_a"].code, "kind": "serious_problem", "description": "挪用"})
    assert response.status_code == 400 and "突出问题类别" in response.json()["detail"]
    response = api_as("province").post(f"{REPORT}/findings", {
        "county": world["county_a"].code, "kind": "major_incident", "description": "事件"})
    assert response.status_code == 200
    assert response.json()["findings"][0]["kind"] == "major_incident"
    response = api_as("province").post(f"{REPORT}/submit", {"revision": 2})
    assert response.status_code == 400 and "尚未填写" in response.json()["detail"]
    assert ProvincialReport.objects.get().status == ReportStatus.DRAFT
