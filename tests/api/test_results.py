"""Results: nothing before release; after it, a unit reads its own grade and feedback."""

from kaohe.audit.models import AuditEntry
from kaohe.outcomes import services
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture


def test_nothing_of_a_result_is_readable_before_release(api_as, approved, personas):  # noqa: F811
    services.feedback_prepare(result_set=approved, actor=personas["office"])
    for persona in ("unit", "unit_b"):
        response = api_as(persona).get("/unit/result")
        assert response.status_code == 404
        assert api_as(persona).get("/unit/result", year=2017).status_code == 404
        report = api_as(persona).get("/unit/report").content.decode()
        assert "较差" not in report and "帮扶资金到位慢" not in report and "poor" not in report


def test_after_release_a_unit_reads_its_own_grade_and_feedback_only(api_as, approved,  # noqa: F811
                                                                    personas):
    services.release(result_set=approved, actor=personas["office"])
    body = api_as("unit_b").get("/unit/result").json()
    assert (body["unit"], body["grade"], body["grade_label"]) == ("B001", "poor", "较差")
    assert "帮扶资金到位慢" in body["problems"]
    mine = api_as("unit").get("/unit/result").json()
    assert mine["unit"] == "A001" and "帮扶资金到位慢" not in str(mine)
    assert AuditEntry.objects.filter(action="outcomes.feedback.viewed",
                                     actor=personas["unit_b"]).exists()
    for persona in ("province", "province_b", "office"):
        assert api_as(persona).get("/unit/result").status_code == 404
