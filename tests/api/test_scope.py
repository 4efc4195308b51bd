"""Scope: a token sees exactly what its account sees on the pages; the rest answers 404."""

from kaohe.submissions.models import CountyOutcome, ProvincialReport
from tests.api.conftest import OPEN_DAY


def test_a_province_reads_only_the_units_and_counties_paired_in_it(api_as, world):
    units = api_as("province").get("/province/units").json()
    assert [u["code"] for u in units] == ["A001"]
    assert units[0]["counties"][0]["code"] == world["county_a"].code
    assert units[0]["report_status"] == "not_started"
    counties = api_as("province").get("/province/counties").json()
    assert [(c["code"], c["units"]) for c in counties] == [(world["county_a"].code, ["A001"])]
    assert sorted(u["code"] for u in api_as("province_b").get("/province/units").json()) == [
        "B001", "M001"]


def test_a_province_cannot_read_or_write_another_provinces_unit(api_as, world, settings):
    settings.KAOHE_TODAY = OPEN_DAY
    # province_b's own report on unit_b exists; province_a asks for it.
    assert api_as("province_b").put("/province/units/B001/report",
                                    {"revision": 0}).status_code == 200
    for path in ("/province/units/B001/report", "/province/units/NOPE/report"):
        response = api_as("province").get(path)
        assert response.status_code == 404
        assert "测试单位乙" not in response.content.decode()
    response = api_as("province").put("/province/units/B001/report", {
        "revision": 0, "outcomes": [{"county": world["county_b"].code, "planned_exit": 5}]})
    assert response.status_code == 404
    assert not ProvincialReport.objects.filter(province=world["province_a"]).exists()
    assert not CountyOutcome.objects.filter(planned_exit=5).exists()
    assert api_as("province").post("/province/units/B001/report/submit",
                                   {"revision": 0}).status_code == 404


def test_each_role_reaches_only_its_own_endpoints(api_as):
    assert api_as("unit").get("/province/units").status_code == 404
    assert api_as("unit").get("/office/progress").status_code == 404
    assert api_as("province").get("/unit/report").status_code == 404
    assert api_as("province").get("/office/progress").status_code == 404
    assert api_as("office").get("/unit/report").status_code == 404
    assert api_as("office").get("/province/units").status_code == 404
    assert api_as("office").get("/unit/result").status_code == 404


def test_a_unit_reads_its_own_report_only(api_as):
    mine = api_as("unit").get("/unit/report").json()
    theirs = api_as("unit_b").get("/unit/report").json()
    assert (mine["unit"], theirs["unit"]) == ("A001", "B001")
    assert "B001" not in str(mine) and "A001" not in str(theirs)


def test_an_unknown_or_preparing_year_answers_404(api_as):
    assert api_as("unit").get("/unit/report", year=2016).status_code == 404
    response = api_as("unit").get("/unit/report", year=1800)
    assert response.status_code == 422 and response.json()["field"] == "year"


def test_the_office_reads_the_progress_by_step_category_unit_and_province(api_as, world):
    body = api_as("office").get("/office/progress").json()
    assert body["year"] == 2017
    assert {s["code"] for s in body["steps"]} >= {"self_report", "provincial_report"}
    assert {u["code"] for u in body["units"]} == {"A001", "B001", "M001"}
    assert {p["name"]: p["reports_expected"] for p in body["provinces"]} == {
        "贵州省": 1, "云南省": 2}
    assert sum(c["units"] for c in body["categories"]) == 3


def test_an_unknown_query_parameter_is_refused_not_ignored(api_as):
    response = api_as("unit").get("/unit/report", yaer=2016)
    assert response.status_code == 422
    assert response.json()["field"] == "yaer"
