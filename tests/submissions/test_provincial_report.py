"""Provincial reports (step 3b): one report per province and unit, county outcomes, findings."""

import datetime

import pytest

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Pairing
from kaohe.rounds.models import Grade, Round
from kaohe.submissions import services
from kaohe.submissions.forms import CountyOutcomeForm, ProvincialReportForm
from kaohe.submissions.models import CountyOutcome, FindingKind, ProvincialReport, ReportStatus
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture
from tests.submissions.conftest import attach_approval


@pytest.fixture
def spread(world, deep_county, second_guizhou_county):
    """unit_a paired with two counties in 贵州 and one in 云南 (where unit_b also works)."""
    Pairing.objects.create(round=world["round"], unit=world["unit_a"],
                           county=second_guizhou_county)
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=deep_county)
    return world


@pytest.fixture
def prov_report(world, personas):
    """贵州's report on unit_a, with its approval document attached (submission needs it)."""
    report = services.provincial_report_for(round=world["round"], province=world["province_a"],
                                            unit=world["unit_a"])
    return attach_approval(report, personas["province"])


def _codes(report):
    return sorted(report.outcomes.values_list("county__code", flat=True))


def _complete_fields():
    return {"work_text": "该单位在我省开展定点扶贫情况", "recommended_grade": Grade.GOOD,
            "recommendation_reason": "成效显著", "approved_on": datetime.date(2017, 12, 28),
            "approval_reference": "省扶贫开发领导小组第5次会议"}


def _complete_outcome(**overrides):
    values = {"planned_exit": 1200, "actual_exit": 1250, "county_exited": False,
              "plan_met": True, "satisfaction_unit": Grade.GOOD,
              "satisfaction_cadres": Grade.FAIRLY_GOOD, "note": ""}
    values.update(overrides)
    return values


def _save(report, actor, fields=None, outcomes=None):
    report.refresh_from_db()
    services.provincial_report_save(report=report, actor=actor, revision=report.revision,
                                    fields=fields or {}, outcomes=outcomes or {})
    report.refresh_from_db()
    return report


def _fill(report, actor):
    _save(report, actor, _complete_fields(),
          {o.county_id: _complete_outcome() for o in report.outcomes.all()})
    report.refresh_from_db()
    return report


def _submit(report, actor):
    report.refresh_from_db()
    return services.provincial_report_submit(report=report, actor=actor,
                                             revision=report.revision)


# Creating ------------------------------------------------------------------------------


def test_a_report_has_one_outcome_per_county_of_the_unit_in_that_province(spread, deep_county,
                                                                         second_guizhou_county):
    guizhou = services.provincial_report_for(round=spread["round"],
                                             province=spread["province_a"],
                                             unit=spread["unit_a"])
    yunnan = services.provincial_report_for(round=spread["round"],
                                            province=spread["province_b"],
                                            unit=spread["unit_a"])
    assert guizhou.pk != yunnan.pk
    assert _codes(guizhou) == sorted([spread["county_a"].code, second_guizhou_county.code])
    # unit_b's county in 云南 is not unit_a's.
    assert _codes(yunnan) == [deep_county.code]


def test_asking_again_returns_the_same_report_and_adds_new_pairings(world, prov_report,
                                                                    second_guizhou_county):
    again = services.provincial_report_for(round=world["round"], province=world["province_a"],
                                           unit=world["unit_a"])
    assert again.pk == prov_report.pk
    assert ProvincialReport.objects.count() == 1 and CountyOutcome.objects.count() == 1
    Pairing.objects.create(round=world["round"], unit=world["unit_a"],
                           county=second_guizhou_county)
    services.provincial_report_for(round=world["round"], province=world["province_a"],
                                   unit=world["unit_a"])
    assert _codes(prov_report) == sorted([world["county_a"].code, second_guizhou_county.code])


def test_pairings_of_another_round_get_no_outcome(world, second_guizhou_county, prov_report):
    other = Round.objects.create(year=2016, name="2016年度")
    Pairing.objects.create(round=other, unit=world["unit_a"], county=second_guizhou_county)
    services.provincial_report_for(round=world["round"], province=world["province_a"],
                                   unit=world["unit_a"])
    assert _codes(prov_report) == [world["county_a"].code]


# Saving --------------------------------------------------------------------------------


def test_saving_stores_the_report_fields_and_the_county_outcomes(world, personas, prov_report):
    user = personas["province"]
    county = world["county_a"]
    start = prov_report.revision
    _save(prov_report, user, _complete_fields(),
          {county.pk: _complete_outcome(plan_met=False, note="因灾返贫")})
    prov_report.refresh_from_db()
    assert prov_report.work_text == "该单位在我省开展定点扶贫情况"
    assert prov_report.recommended_grade == Grade.GOOD
    assert prov_report.approved_on == datetime.date(2017, 12, 28)
    assert prov_report.revision == start + 1
    outcome = prov_report.outcomes.get()
    assert (outcome.planned_exit, outcome.actual_exit, outcome.plan_met) == (1200, 1250, False)
    assert (outcome.satisfaction_unit, outcome.satisfaction_cadres) == (
        Grade.GOOD, Grade.FAIRLY_GOOD)
    assert outcome.note == "因灾返贫"
    entry = AuditEntry.objects.get(action="provincial_report.saved")
    assert entry.actor == user and entry.target_id == str(prov_report.pk)


def test_an_outcome_for_a_county_outside_the_report_is_refused(world, personas, prov_report):
    start = prov_report.revision
    with pytest.raises(services.SubmissionError):
        _save(prov_report, personas["province"], {"work_text": "不应保存"},
              {world["county_a"].pk: _complete_outcome(),
               world["county_b"].pk: _complete_outcome()})
    prov_report.refresh_from_db()
    assert prov_report.work_text == "" and prov_report.revision == start
    assert prov_report.outcomes.get().plan_met is None


def test_a_save_on_a_stale_revision_is_a_conflict(world, personas, prov_report):
    start = prov_report.revision
    services.provincial_report_save(report=prov_report, actor=personas["province"],
                                    revision=start, fields={"work_text": "甲"}, outcomes={})
    with pytest.raises(services.ConflictError):
        services.provincial_report_save(report=prov_report, actor=personas["province"],
                                        revision=start, fields={"work_text": "乙"},
                                        outcomes={})
    prov_report.refresh_from_db()
    assert prov_report.work_text == "甲"


# The form's limits hold on every path (page, offline workbook, API) -----------------------


@pytest.mark.parametrize(("name", "limit"), [("work_text", 20000),
                                             ("recommendation_reason", 5000)])
def test_the_service_refuses_a_report_text_beyond_the_forms_limit(world, personas, prov_report,
                                                                  name, limit):
    assert ProvincialReportForm.base_fields[name].max_length == limit  # one limit, two holders
    _save(prov_report, personas["province"], {name: "长" * limit})  # at the limit: taken
    start = prov_report.revision
    label = ProvincialReport._meta.get_field(name).verbose_name
    with pytest.raises(services.SubmissionError, match=f"{label}不能超过{limit}个字"):
        _save(prov_report, personas["province"],
              {name: "长" * (limit + 1), "approval_reference": "不应保存"},
              {world["county_a"].pk: _complete_outcome(note="不应保存")})
    prov_report.refresh_from_db()
    assert len(getattr(prov_report, name)) == limit and prov_report.revision == start
    assert prov_report.approval_reference == "" and prov_report.outcomes.get().note == ""


@pytest.mark.parametrize("name", ["note", "deep_support"])
def test_the_service_refuses_a_county_text_beyond_the_forms_limit(world, personas, deep_county,
                                                                  name):
    assert CountyOutcomeForm(deep_poverty=True).fields[name].max_length == 5000
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=deep_county)
    report = services.provincial_report_for(round=world["round"], province=world["province_b"],
                                            unit=world["unit_a"])
    start = report.revision
    with pytest.raises(services.SubmissionError) as refused:
        _save(report, personas["province_b"], {"work_text": "不应保存"},
              {deep_county.pk: {name: "长" * 5001}})
    message = str(refused.value)
    label = CountyOutcome._meta.get_field(name).verbose_name
    assert deep_county.name in message and f"{label}不能超过5000个字" in message
    report.refresh_from_db()
    assert report.work_text == "" and report.revision == start
    assert getattr(report.outcomes.get(county=deep_county), name) == ""


@pytest.mark.parametrize("grade", ["excellent", Grade.PENDING, "好"])
def test_the_service_refuses_a_recommended_grade_that_is_not_a_grade(world, personas,
                                                                     prov_report, grade):
    start = prov_report.revision
    with pytest.raises(services.SubmissionError, match="评价等次意见"):
        _save(prov_report, personas["province"],
              {"recommended_grade": grade, "work_text": "不应保存"})
    prov_report.refresh_from_db()
    assert prov_report.recommended_grade == "" and prov_report.work_text == ""
    assert prov_report.revision == start


def test_the_service_refuses_an_approval_reference_beyond_its_column(world, personas,
                                                                     prov_report):
    with pytest.raises(services.SubmissionError, match="审定文件或会议"):
        _save(prov_report, personas["province"], {"approval_reference": "会" * 201})
    prov_report.refresh_from_db()
    assert prov_report.approval_reference == ""


# Submitting ----------------------------------------------------------------------------


def test_submitting_an_empty_report_names_everything_missing(world, personas, prov_report):
    with pytest.raises(services.SubmissionError) as info:
        _submit(prov_report, personas["province"])
    message = str(info.value)
    county = world["county_a"].name
    for item in ["中央单位在本地开展定点扶贫情况", "评价等次意见", "省级领导小组审定日期",
                 f"{county}：是否完成年度脱贫攻坚任务", f"{county}：满意情况评价等次"]:
        assert item in message
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.DRAFT and not prov_report.versions.exists()


@pytest.mark.parametrize("field, outcome, named", [
    ({"work_text": "  "}, {}, "中央单位在本地开展定点扶贫情况"),
    ({"recommended_grade": ""}, {}, "评价等次意见"),
    ({"approved_on": None}, {}, "省级领导小组审定日期"),
    ({}, {"plan_met": None}, "是否完成年度脱贫攻坚任务"),
    ({}, {"satisfaction_unit": ""}, "满意情况评价等次"),
    ({}, {"satisfaction_cadres": ""}, "满意情况评价等次"),
])
def test_submitting_is_refused_while_one_required_item_is_missing(world, personas, prov_report,
                                                                  field, outcome, named):
    fields = {**_complete_fields(), **field}
    _save(prov_report, personas["province"], fields,
          {world["county_a"].pk: _complete_outcome(**outcome)})
    assert len(services.provincial_report_missing(prov_report)) == 1
    with pytest.raises(services.SubmissionError, match=named):
        _submit(prov_report, personas["province"])
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.DRAFT and not prov_report.versions.exists()


def test_every_county_of_the_report_needs_its_outcome(spread, personas,
                                                      second_guizhou_county):
    report = services.provincial_report_for(round=spread["round"],
                                            province=spread["province_a"],
                                            unit=spread["unit_a"])
    attach_approval(report, personas["province"])
    _save(report, personas["province"], _complete_fields(),
          {spread["county_a"].pk: _complete_outcome()})
    missing = services.provincial_report_missing(report)
    assert missing and all(second_guizhou_county.name in m for m in missing)


def test_an_unmet_plan_is_an_answer_not_a_gap(world, personas, prov_report):
    _save(prov_report, personas["province"], _complete_fields(),
          {world["county_a"].pk: _complete_outcome(plan_met=False)})
    assert services.provincial_report_missing(prov_report) == []
    _submit(prov_report, personas["province"])


def test_a_complete_report_is_submitted_as_version_1_and_locked(world, personas, prov_report):
    user, county = personas["province"], world["county_a"]
    _fill(prov_report, user)
    services.provincial_finding_add(report=prov_report, actor=user, county=county,
                                    kind=FindingKind.MAJOR_INCIDENT, problem_kind=None,
                                    description="发生一起涉贫舆情事件")
    _submit(prov_report, user)
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.SUBMITTED
    assert prov_report.submitted_by == user and prov_report.submitted_at is not None
    version = prov_report.versions.get()
    assert version.number == 1
    assert version.content["recommended_grade"] == Grade.GOOD
    assert version.content["approved_on"] == "2017-12-28"
    assert version.content["outcomes"][0]["county"] == county.code
    assert version.content["outcomes"][0]["plan_met"] is True
    assert version.content["findings"][0]["kind"] == FindingKind.MAJOR_INCIDENT
    assert AuditEntry.objects.get(action="provincial_report.submitted").data == {"version": 1}

    with pytest.raises(services.LockedError):
        _save(prov_report, user, {"work_text": "提交后改"})
    with pytest.raises(services.LockedError):
        services.provincial_finding_add(report=prov_report, actor=user, county=county,
                                        kind=FindingKind.MAJOR_INCIDENT, problem_kind=None,
                                        description="再加一条")
    prov_report.refresh_from_db()
    assert prov_report.work_text == _complete_fields()["work_text"]
    assert prov_report.findings.count() == 1


def test_submitting_the_same_revision_twice_makes_one_version(world, personas, prov_report):
    _fill(prov_report, personas["province"])
    revision = prov_report.revision
    for _ in range(2):
        services.provincial_report_submit(report=prov_report, actor=personas["province"],
                                          revision=revision)
    assert prov_report.versions.count() == 1
    assert AuditEntry.objects.filter(action="provincial_report.submitted").count() == 1


def test_submitting_a_stale_revision_is_a_conflict(world, personas, prov_report):
    _fill(prov_report, personas["province"])
    with pytest.raises(services.ConflictError):
        services.provincial_report_submit(report=prov_report, actor=personas["province"],
                                          revision=prov_report.revision - 1)
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.DRAFT


# Findings ------------------------------------------------------------------------------


def test_a_major_incident_needs_no_problem_kind(world, personas, prov_report):
    kind = world["round"].problem_kinds.first()
    start = prov_report.revision
    finding = services.provincial_finding_add(
        report=prov_report, actor=personas["province"], county=world["county_a"],
        kind=FindingKind.MAJOR_INCIDENT, problem_kind=kind, description="重大涉贫事件")
    assert finding.kind == FindingKind.MAJOR_INCIDENT
    assert finding.problem_kind is None  # a problem kind belongs only to serious problems
    prov_report.refresh_from_db()
    assert prov_report.revision == start + 1
    assert AuditEntry.objects.get(action="provincial_report.finding_added").data == {
        "kind": FindingKind.MAJOR_INCIDENT, "county": world["county_a"].code}


def test_a_serious_problem_needs_its_kind(world, personas, prov_report):
    with pytest.raises(services.SubmissionError):
        services.provincial_finding_add(
            report=prov_report, actor=personas["province"], county=world["county_a"],
            kind=FindingKind.SERIOUS_PROBLEM, problem_kind=None, description="挂名干部")
    assert not prov_report.findings.exists()
    kind = world["round"].problem_kinds.get(code="cadres_nominal")
    finding = services.provincial_finding_add(
        report=prov_report, actor=personas["province"], county=world["county_a"],
        kind=FindingKind.SERIOUS_PROBLEM, problem_kind=kind, description="挂名干部")
    assert finding.problem_kind == kind


def test_a_finding_must_be_about_a_county_of_the_report(world, personas, prov_report):
    with pytest.raises(services.SubmissionError):
        services.provincial_finding_add(
            report=prov_report, actor=personas["province"], county=world["county_b"],
            kind=FindingKind.MAJOR_INCIDENT, problem_kind=None, description="别省的县")
    assert not prov_report.findings.exists()


def test_a_finding_needs_a_description(world, personas, prov_report):
    with pytest.raises(services.SubmissionError):
        services.provincial_finding_add(
            report=prov_report, actor=personas["province"], county=world["county_a"],
            kind=FindingKind.MAJOR_INCIDENT, problem_kind=None, description="   ")
    assert not prov_report.findings.exists()


def test_an_extension_granted_before_release_does_not_reopen_a_report_after_it(
        world, personas, prov_report, approved, settings):  # noqa: F811
    from kaohe.submissions.models import ProvincialReport
    from tests.outcomes.test_outcomes import _release

    settings.KAOHE_TODAY = "2018-01-10"
    step = world["round"].steps.get(code="provincial_report")
    services.extension_grant(step=step, actor=personas["office"],
                             province=world["province_a"],
                             until=datetime.date(2018, 3, 31), reason="材料补充")
    _release(approved, personas)
    settings.KAOHE_TODAY = "2018-03-01"
    with pytest.raises(services.ClosedError, match="已反馈"):
        _save(prov_report, personas["province"], {"work_text": "发布后补写"})
    assert ProvincialReport.objects.get(pk=prov_report.pk).work_text == ""
    with pytest.raises(services.ClosedError, match="已反馈"):
        services.provincial_report_start(round=world["round"], province=world["province_a"],
                                         unit=world["unit_b"], actor=personas["province"])
    assert not ProvincialReport.objects.filter(unit=world["unit_b"]).exists()
