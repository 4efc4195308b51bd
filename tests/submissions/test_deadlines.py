"""Deadlines of steps 3a and 3b, and the office's extensions for one unit or province.

Time is frozen with time-machine on the real clock (settings.KAOHE_TODAY empty); the
deadline is the end of the due day in the domain's time zone (Asia/Shanghai).
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kaohe.audit.models import AuditEntry
from kaohe.submissions import deadlines, services
from kaohe.submissions.models import Extension, ReportStatus

from .conftest import slot_key

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime.date(2017, 12, 31)


def at(day, hour=12, minute=0):
    return time_machine.travel(
        datetime.datetime.fromisoformat(day).replace(hour=hour, minute=minute,
                                                     tzinfo=SHANGHAI),
        tick=False,
    )


@pytest.fixture
def real_clock(settings):
    settings.KAOHE_TODAY = ""


@pytest.fixture
def self_step(world):
    return world["round"].steps.get(code="self_report")


@pytest.fixture
def prov_step(world):
    return world["round"].steps.get(code="provincial_report")


def _save(report, user, world, text="内容"):
    report.refresh_from_db()
    return services.self_report_save(report=report, actor=user, revision=report.revision,
                                     answers={slot_key(world["round"], 4): text})


def _submit(report, user):
    report.refresh_from_db()
    return services.self_report_submit(report=report, actor=user, revision=report.revision,
                                       confirm_gaps=True)


def test_the_2017_round_closes_self_reports_and_provincial_reports_on_31_december(
        self_step, prov_step):
    assert self_step.due == DUE and prov_step.due == DUE
    assert deadlines.deadline_for(self_step) == DUE


@pytest.mark.parametrize("moment", [("2017-12-30", 12, 0), ("2017-12-31", 0, 0),
                                    ("2017-12-31", 23, 59)])
def test_self_reports_are_open_until_the_end_of_the_due_day(real_clock, world, personas,
                                                            report_a, self_step, moment):
    with at(*moment):
        assert deadlines.is_open(self_step, unit=world["unit_a"])
        _save(report_a, personas["unit"], world)
        _submit(report_a, personas["unit"])
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED


@pytest.mark.parametrize("moment", [("2018-01-01", 0, 0), ("2018-02-01", 12, 0)])
def test_after_the_due_day_saving_and_submitting_are_closed(real_clock, world, personas,
                                                            report_a, self_step, moment):
    user = personas["unit"]
    with at("2017-12-20"):
        _save(report_a, user, world, text="截止前写的")
    with at(*moment):
        assert not deadlines.is_open(self_step, unit=world["unit_a"])
        with pytest.raises(services.ClosedError):
            _save(report_a, user, world, text="截止后改的")
        with pytest.raises(services.ClosedError):
            _submit(report_a, user)
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.DRAFT
    assert report_a.answers.get().text == "截止前写的"
    assert not report_a.versions.exists()


def test_the_deadline_is_the_end_of_the_day_in_china_not_utc(real_clock, world, self_step):
    # 2017-12-31 16:30 UTC is already 1 January in Beijing.
    with time_machine.travel(datetime.datetime(2017, 12, 31, 16, 30, tzinfo=datetime.UTC),
                             tick=False):
        assert not deadlines.is_open(self_step, unit=world["unit_a"])


def test_the_simulated_date_setting_decides_when_set(settings, world, self_step):
    settings.KAOHE_TODAY = "2018-01-01"
    with at("2017-12-01"):
        assert not deadlines.is_open(self_step, unit=world["unit_a"])
    settings.KAOHE_TODAY = "2017-12-31"
    with at("2018-06-01"):
        assert deadlines.is_open(self_step, unit=world["unit_a"])


def test_an_extension_reopens_the_self_report_for_that_unit_only(real_clock, world, personas,
                                                                report_a, report_b, self_step):
    with at("2018-01-05"):
        extension = services.extension_grant(step=self_step, actor=personas["office"],
                                             unit=world["unit_a"],
                                             until=datetime.date(2018, 1, 10),
                                             reason="单位机构调整")
        assert deadlines.deadline_for(self_step, unit=world["unit_a"]) == datetime.date(
            2018, 1, 10)
        assert deadlines.deadline_for(self_step, unit=world["unit_b"]) == DUE
        _save(report_a, personas["unit"], world)
        with pytest.raises(services.ClosedError):
            _save(report_b, personas["unit_b"], world)
    with at("2018-01-10", 23, 59):
        _submit(report_a, personas["unit"])
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED
    entry = AuditEntry.objects.get(action="deadline.extended")
    assert entry.target_id == str(extension.pk) and entry.actor == personas["office"]
    assert entry.data == {"step": "self_report", "party": "测试单位甲", "until": "2018-01-10",
                          "reason": "单位机构调整"}


def test_an_extension_ends_on_its_own_date(real_clock, world, personas, report_a, self_step):
    services.extension_grant(step=self_step, actor=personas["office"], unit=world["unit_a"],
                             until=datetime.date(2018, 1, 10), reason="延期")
    with at("2018-01-11", 0, 1), pytest.raises(services.ClosedError):
        _save(report_a, personas["unit"], world)


def test_the_latest_of_several_extensions_counts(world, personas, self_step):
    for day in (datetime.date(2018, 1, 20), datetime.date(2018, 1, 10)):
        services.extension_grant(step=self_step, actor=personas["office"],
                                 unit=world["unit_a"], until=day, reason="延期")
    assert deadlines.deadline_for(self_step, unit=world["unit_a"]) == datetime.date(2018, 1, 20)


@pytest.mark.parametrize("until, reason", [
    (DUE, "原因"),                              # not after the due date
    (datetime.date(2017, 12, 20), "原因"),      # before it
    (datetime.date(2018, 1, 10), ""),           # no reason
    (datetime.date(2018, 1, 10), "  \n"),
])
def test_an_extension_must_be_after_the_due_date_and_give_a_reason(world, personas, self_step,
                                                                   until, reason):
    with pytest.raises(services.SubmissionError):
        services.extension_grant(step=self_step, actor=personas["office"],
                                 unit=world["unit_a"], until=until, reason=reason)
    assert not Extension.objects.exists()
    assert not AuditEntry.objects.filter(action="deadline.extended").exists()


def test_an_extension_is_for_exactly_one_unit_or_province(world, personas, self_step):
    until = datetime.date(2018, 1, 10)
    with pytest.raises(services.SubmissionError):
        services.extension_grant(step=self_step, actor=personas["office"], until=until,
                                 reason="原因")
    with pytest.raises(services.SubmissionError):
        services.extension_grant(step=self_step, actor=personas["office"], until=until,
                                 reason="原因", unit=world["unit_a"],
                                 province=world["province_a"])
    assert not Extension.objects.exists()


def test_an_extension_of_one_step_does_not_reopen_another(real_clock, world, personas,
                                                         report_a, self_step):
    rectification = world["round"].steps.get(code="rectification")
    services.extension_grant(step=rectification, actor=personas["office"],
                             unit=world["unit_a"], until=datetime.date(2018, 4, 10),
                             reason="整改延期")
    with at("2018-01-05"), pytest.raises(services.ClosedError):
        _save(report_a, personas["unit"], world)


# Provincial reports --------------------------------------------------------------------


@pytest.fixture
def prov_reports(world):
    return {
        "a": services.provincial_report_for(round=world["round"], province=world["province_a"],
                                            unit=world["unit_a"]),
        "b": services.provincial_report_for(round=world["round"], province=world["province_b"],
                                            unit=world["unit_b"]),
    }


def _prov_save(report, user, text="省里的意见"):
    report.refresh_from_db()
    return services.provincial_report_save(report=report, actor=user, revision=report.revision,
                                           fields={"work_text": text}, outcomes={})


@pytest.mark.parametrize("moment, is_open", [
    (("2017-12-30", 12, 0), True), (("2017-12-31", 23, 59), True),
    (("2018-01-01", 0, 0), False),
])
def test_provincial_reports_close_after_the_due_day(real_clock, world, personas, prov_reports,
                                                    prov_step, moment, is_open):
    report = prov_reports["a"]
    with at(*moment):
        assert deadlines.is_open(prov_step, province=world["province_a"]) is is_open
        if is_open:
            _prov_save(report, personas["province"])
        else:
            with pytest.raises(services.ClosedError):
                _prov_save(report, personas["province"])
            with pytest.raises(services.ClosedError):
                services.provincial_report_submit(report=report, actor=personas["province"],
                                                  revision=report.revision)
            with pytest.raises(services.ClosedError):
                services.provincial_finding_add(
                    report=report, actor=personas["province"], county=world["county_a"],
                    kind="major_incident", problem_kind=None, description="事件")
    report.refresh_from_db()
    assert report.work_text == ("省里的意见" if is_open else "")
    assert not report.findings.exists()


def test_a_province_extension_reopens_only_that_provinces_reports(real_clock, world, personas,
                                                                  prov_reports, prov_step):
    services.extension_grant(step=prov_step, actor=personas["office"],
                             province=world["province_a"], until=datetime.date(2018, 1, 15),
                             reason="省领导小组会议推迟")
    with at("2018-01-10"):
        _prov_save(prov_reports["a"], personas["province"])
        with pytest.raises(services.ClosedError):
            _prov_save(prov_reports["b"], personas["province_b"])
    prov_reports["a"].refresh_from_db()
    assert prov_reports["a"].work_text == "省里的意见"


def test_a_province_extension_does_not_reopen_self_reports(real_clock, world, personas,
                                                           report_a, prov_step):
    services.extension_grant(step=prov_step, actor=personas["office"],
                             province=world["province_a"], until=datetime.date(2018, 1, 15),
                             reason="延期")
    with at("2018-01-10"), pytest.raises(services.ClosedError):
        _save(report_a, personas["unit"], world)


def test_a_unit_extension_of_the_self_report_does_not_reopen_provincial_reports(
        real_clock, world, personas, prov_reports, self_step):
    services.extension_grant(step=self_step, actor=personas["office"], unit=world["unit_a"],
                             until=datetime.date(2018, 1, 15), reason="延期")
    with at("2018-01-10"), pytest.raises(services.ClosedError):
        _prov_save(prov_reports["a"], personas["province"])


