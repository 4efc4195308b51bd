"""Units read their report's status, gaps and deadline, and write their answers."""

import pytest

from kaohe.submissions.models import SelfReport
from tests.api.conftest import OPEN_DAY


@pytest.fixture(autouse=True)
def _open(settings):
    settings.KAOHE_TODAY = OPEN_DAY


def test_a_unit_reads_its_status_gaps_and_deadline(api_as):
    body = api_as("unit").get("/unit/report").json()
    assert (body["status"], body["deadline"], body["is_open"]) == ("draft", "2017-12-31", True)
    assert body["gaps"] and all("text" in g for g in body["gaps"])
    assert {a["indicator"] for a in body["answers"]} >= {1, 4}


def test_a_unit_saves_answers_and_submits(api_as):
    response = api_as("unit").put("/unit/report", {"revision": 0, "summary": "总结",
                                                   "answers": [{"indicator": 4, "text": "做了"}]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert next(a["text"] for a in body["answers"] if a["indicator"] == 4) == "做了"
    response = api_as("unit").post("/unit/report/submit", {"revision": body["revision"]})
    assert response.status_code == 409 and response.json()["code"] == "gaps_not_confirmed"
    response = api_as("unit").post("/unit/report/submit",
                                   {"revision": body["revision"], "confirm_gaps": True})
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    response = api_as("unit").put("/unit/report", {"revision": body["revision"], "summary": "x"})
    assert response.status_code == 409 and response.json()["code"] == "locked"
    assert SelfReport.objects.get(unit__code="A001").summary == "总结"


def test_an_indicator_the_report_has_not_is_refused_naming_it(api_as):
    response = api_as("unit").put("/unit/report", {"revision": 0, "answers": [
        {"indicator": 4, "text": "好"}, {"indicator": 999, "text": "x"}]})
    assert response.status_code == 400
    assert response.json()["field"] == "answers[1].indicator"
    response = api_as("unit").put("/unit/report", {"revision": 0, "answers": [
        {"indicator": 4, "text": "x" * 20_001}]})
    assert response.status_code == 422 and response.json()["field"] == "answers[0].text"
    assert not SelfReport.objects.exists()  # refused as a whole: not even started


def test_after_the_deadline_answers_are_refused(api_as, settings):
    settings.KAOHE_TODAY = "2018-01-02"
    response = api_as("unit").put("/unit/report", {"revision": 0, "summary": "晚了"})
    assert response.status_code == 409 and response.json()["code"] == "closed"
    assert not SelfReport.objects.exists()
    assert api_as("unit").get("/unit/report").json()["is_open"] is False


def test_a_closed_round_is_read_only_and_gains_no_report(api_as, world):
    from kaohe.rounds.models import Round, RoundStatus

    Round.objects.filter(pk=world["round"].pk).update(status=RoundStatus.CLOSED)
    assert api_as("unit").get("/unit/report").status_code == 404
    response = api_as("unit").put("/unit/report", {"revision": 0, "summary": "x"})
    assert response.status_code == 409 and response.json()["code"] == "round_closed"
    assert not SelfReport.objects.exists()


@pytest.fixture
def unpaired_api(world, client):
    """The API as a unit the round does not assess (no pairing in 2017)."""
    from kaohe.accounts.models import Role
    from kaohe.api import services as api_services
    from kaohe.directory.models import Unit
    from tests.api.conftest import Api
    from tests.conftest import make_user

    unit = Unit.objects.create(code="A099", name="无结对单位", category=world["unit_a"].category)
    user = make_user("unit_unpaired", Role.UNIT, unit=unit)
    security = make_user("sec_unpaired", Role.SECURITY_ADMIN)
    record = api_services.token_authorize(user=user, name="无结对单位系统", actor=security)
    _record, raw = api_services.token_activate(token=record, actor=user)
    return Api(client, raw)


@pytest.mark.parametrize("method,path,body", [
    ("get", "/unit/report", None),
    ("put", "/unit/report", {"revision": 0, "summary": "总结"}),
    ("post", "/unit/report/submit", {"revision": 0, "confirm_gaps": True}),
])
def test_a_unit_the_round_does_not_assess_gets_no_report(unpaired_api, method, path, body):
    response = (unpaired_api.get(path) if body is None
                else getattr(unpaired_api, method)(path, body))
    assert response.status_code == 400, response.content
    assert "没有结对的定点扶贫县" in response.json()["detail"]
    assert not SelfReport.objects.exists()  # nothing half made
