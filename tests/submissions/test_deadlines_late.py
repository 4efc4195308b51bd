"""Issue 17: closed province pages, the late flag, the office's extension page and the list
of late and missing submissions.

Dates are the simulated ones (settings.KAOHE_TODAY); the 2017 round closes self-reports and
provincial reports on 2017-12-31 and the lead departments' review on 2018-01-15.
"""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Pairing, Unit
from kaohe.submissions import lateness, services
from kaohe.submissions.models import Extension, ProvincialReport, ReportStatus, SelfReport
from kaohe.submissions.services import provincial

from .conftest import slot_key


def url(name, **kwargs):
    return reverse(f"submissions:{name}", kwargs=kwargs)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def self_step(world):
    return world["round"].steps.get(code="self_report")


@pytest.fixture
def prov_step(world):
    return world["round"].steps.get(code="provincial_report")


def _extend(step, office, until="2018-01-10", **party):
    return services.extension_grant(step=step, actor=office, reason="材料补充",
                                    until=datetime.date.fromisoformat(until), **party)


def _submit_self(report, user, world):
    report.refresh_from_db()
    services.self_report_save(report=report, actor=user, revision=report.revision,
                              answers={slot_key(world["round"], 4): "内容"})
    report.refresh_from_db()
    return services.self_report_submit(report=report, actor=user, revision=report.revision,
                                       confirm_gaps=True)


# 3. The province's pages after its deadline ------------------------------------------------


def test_past_its_deadline_the_province_sees_no_start_button_and_is_told_why(
        settings, world, personas, login):
    settings.KAOHE_TODAY = "2018-01-02"
    response = login(personas["province"]).get(url("provincial_reports"))
    body = response.content.decode()
    assert "开始填写" not in body
    assert url("provincial_start", unit_pk=world["unit_a"].pk) not in body
    assert "省级总结报告已于2017-12-31截止报送；如需延期，请联系国务院扶贫办。" in body


def test_past_its_deadline_starting_a_report_by_hand_creates_nothing(settings, world, personas,
                                                                     login):
    settings.KAOHE_TODAY = "2018-01-02"
    client = login(personas["province"])
    response = client.post(url("provincial_start", unit_pk=world["unit_a"].pk), follow=True)
    assert not ProvincialReport.objects.exists()
    assert "省级总结报告已于2017-12-31截止报送；如需延期，请联系国务院扶贫办。" in messages_of(
        response)
    with pytest.raises(services.ClosedError):
        services.provincial_report_start(round=world["round"], province=world["province_a"],
                                         unit=world["unit_a"], actor=personas["province"])


def test_past_its_deadline_the_report_page_has_no_editable_form_and_saving_is_refused(
        settings, world, personas, login):
    report = services.provincial_report_for(round=world["round"], province=world["province_a"],
                                            unit=world["unit_a"])
    settings.KAOHE_TODAY = "2018-01-02"
    client = login(personas["province"])
    body = client.get(url("provincial_report", pk=report.pk)).content.decode()
    assert "<fieldset disabled>" in body
    assert url("provincial_submit", pk=report.pk) not in body
    assert url("provincial_finding_add", pk=report.pk) not in body
    assert url("provincial_import", pk=report.pk) not in body
    assert "省级总结报告已于2017-12-31截止报送" in body
    response = client.post(url("provincial_save", pk=report.pk),
                           {"revision": report.revision, "work_text": "迟到的内容"}, follow=True)
    report.refresh_from_db()
    assert report.work_text == ""
    assert any("截止" in m for m in messages_of(response))


def test_an_extension_for_the_province_opens_its_pages_again(settings, world, personas, login,
                                                             prov_step):
    _extend(prov_step, personas["office"], province=world["province_a"])
    settings.KAOHE_TODAY = "2018-01-05"
    client = login(personas["province"])
    assert "开始填写" in client.get(url("provincial_reports")).content.decode()
    response = client.post(url("provincial_start", unit_pk=world["unit_a"].pk))
    report = ProvincialReport.objects.get()
    assert response.url == url("provincial_report", pk=report.pk)
    assert url("provincial_submit", pk=report.pk) in client.get(response.url).content.decode()


def test_before_the_deadline_the_province_starts_its_report(world, personas, login):
    client = login(personas["province"])
    assert "开始填写" in client.get(url("provincial_reports")).content.decode()
    client.post(url("provincial_start", unit_pk=world["unit_a"].pk))
    assert ProvincialReport.objects.filter(province=world["province_a"]).count() == 1


# 5. The late flag ----------------------------------------------------------------------------


def test_a_timely_self_report_is_not_marked_late(world, personas, report_a):
    _submit_self(report_a, personas["unit"], world)
    report_a.refresh_from_db()
    assert report_a.submitted_late is False and report_a.late_extension is None


def test_a_self_report_submitted_under_an_extension_is_marked_late_with_it(
        settings, world, personas, report_a, self_step, login):
    extension = _extend(self_step, personas["office"], unit=world["unit_a"])
    settings.KAOHE_TODAY = "2018-01-05"
    _submit_self(report_a, personas["unit"], world)
    report_a.refresh_from_db()
    assert report_a.submitted_late is True and report_a.late_extension == extension
    # The flag was kept at submission: a later extension does not change it.
    _extend(self_step, personas["office"], until="2018-02-01", unit=world["unit_a"])
    report_a.refresh_from_db()
    assert report_a.late_extension == extension
    body = login(personas["office"]).get(url("self_report", pk=report_a.pk)).content.decode()
    assert "逾期提交" in body and "延期至2018-01-10" in body
    listing = login(personas["office"]).get(url("self_reports")).content.decode()
    assert "逾期提交" in listing


def test_a_provincial_report_submitted_late_is_marked(settings, world, personas, prov_step,
                                                      monkeypatch, login):
    report = services.provincial_report_for(round=world["round"], province=world["province_a"],
                                            unit=world["unit_a"])
    extension = _extend(prov_step, personas["office"], province=world["province_a"])
    settings.KAOHE_TODAY = "2018-01-08"
    # Completeness is tested elsewhere; this test is about when it was submitted.
    monkeypatch.setattr(provincial, "provincial_report_missing", lambda report: [])
    services.provincial_report_submit(report=report, actor=personas["province"],
                                      revision=report.revision)
    report.refresh_from_db()
    assert report.submitted_late and report.late_extension == extension
    body = login(personas["office"]).get(url("provincial_reports")).content.decode()
    assert "逾期提交" in body


def test_a_timely_provincial_report_is_not_marked(world, personas, monkeypatch):
    report = services.provincial_report_for(round=world["round"], province=world["province_a"],
                                            unit=world["unit_a"])
    monkeypatch.setattr(provincial, "provincial_report_missing", lambda report: [])
    services.provincial_report_submit(report=report, actor=personas["province"],
                                      revision=report.revision)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and not report.submitted_late


# 4. Extensions: the office's page --------------------------------------------------------------


def test_the_office_grants_a_lead_department_an_extension_of_the_review(world, personas, login):
    client = login(personas["office"])
    page = client.get(url("extensions"))
    assert page.status_code == 200 and "分类考核" in page.content.decode()
    review = world["round"].steps.get(code="review")
    response = client.post(url("extension_grant"), {
        "step": "review", "lead_department": world["lead_a"].pk, "until": "2018-01-20",
        "reason": "核查工作量大", "back": "extensions"}, follow=True)
    assert response.redirect_chain[-1][0] == url("extensions")
    extension = Extension.objects.get(step=review)
    assert extension.lead_department == world["lead_a"] and extension.granted_by == personas[
        "office"]
    body = response.content.decode()
    assert "核查工作量大" in body and str(personas["office"]) in body
    entry = AuditEntry.objects.get(action="deadline.extended")
    assert entry.data["step"] == "review" and entry.data["until"] == "2018-01-20"


def test_an_extension_must_name_the_party_the_step_is_for(world, personas):
    review = world["round"].steps.get(code="review")
    with pytest.raises(services.SubmissionError, match="不能为该对象延期"):
        _extend(review, personas["office"], until="2018-01-20", unit=world["unit_a"])
    launch = world["round"].steps.get(code="launch")
    with pytest.raises(services.SubmissionError, match="不能为该对象延期"):
        _extend(launch, personas["office"], until="2018-01-20", unit=world["unit_a"])
    rectification = world["round"].steps.get(code="rectification")
    assert _extend(rectification, personas["office"], until="2018-04-15",
                   unit=world["unit_a"]).unit == world["unit_a"]
    assert not AuditEntry.objects.filter(action="deadline.extended",
                                         data__step="review").exists()


@pytest.mark.parametrize("persona", ["lead_reviewer", "working_group", "unit", "province",
                                     "org_department"])
def test_only_the_office_has_the_extension_page_and_the_late_list(world, personas, login,
                                                                  persona):
    client = login(personas[persona])
    assert client.get(url("extensions")).status_code == 404
    assert client.get(url("late_list")).status_code == 404
    assert client.post(url("extension_grant"), {
        "step": "review", "lead_department": world["lead_a"].pk, "until": "2018-01-20",
        "reason": "x"}).status_code == 404
    assert not Extension.objects.exists()


# 6. The list of late and missing submissions -----------------------------------------------------


def test_the_late_list_shows_missing_and_late_self_reports_and_filters(
        settings, world, personas, login, report_a, self_step):
    extension = _extend(self_step, personas["office"], unit=world["unit_a"])
    settings.KAOHE_TODAY = "2018-01-05"
    _submit_self(report_a, personas["unit"], world)
    client = login(personas["office"])
    rows = client.get(url("late_list"), {"step": "self_report"}).context["rows"]
    by_code = {r.code: r for r in rows}
    assert by_code[world["unit_a"].code].state == lateness.LATE
    assert by_code[world["unit_a"].code].extension == extension
    assert by_code[world["unit_b"].code].state == lateness.OVERDUE
    rows = client.get(url("late_list"), {"step": "self_report",
                                         "category": world["unit_b"].category_id}).context["rows"]
    assert {r.code for r in rows} == {world["unit_b"].code}
    body = client.get(url("late_list")).content.decode()
    assert "逾期提交" in body and "逾期未报" in body


def test_the_late_list_exports_to_excel(settings, world, personas, login):
    settings.KAOHE_TODAY = "2018-01-20"
    response = login(personas["office"]).get(url("late_list"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "步骤"
    assert any(row[1] == world["unit_b"].code and row[7] == "逾期未报" for row in values)
    assert any(row[2] == world["lead_a"].name and row[7] == "逾期未报" for row in values)
    assert AuditEntry.objects.filter(action="deadlines.late_list_exported").exists()


def _more_units(world, n):
    start = Unit.objects.count()
    county = world["county_a"]
    for i in range(n):
        unit = Unit.objects.create(code=f"Z{start + i:03d}", name=f"增补单位{start + i}",
                                   category=world["unit_a"].category)
        Pairing.objects.create(round=world["round"], unit=unit, county=county)
        SelfReport.objects.create(round=world["round"], unit=unit,
                                  status=ReportStatus.SUBMITTED, submitted_late=True)
        ProvincialReport.objects.create(round=world["round"], unit=unit,
                                        province=world["province_a"])


def test_the_late_list_query_count_does_not_grow_with_the_units(settings, world, personas,
                                                                login):
    settings.KAOHE_TODAY = "2018-01-20"
    client = login(personas["office"])
    _more_units(world, 2)
    client.get(url("late_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(url("late_list"))
    _more_units(world, 12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("late_list"))
    assert len(response.context["rows"]) > 14
    assert len(many.captured_queries) == len(few.captured_queries)
