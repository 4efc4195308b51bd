"""Self-reports (step 3a): completeness check, submission, return, conflicts, bad input."""

import datetime

import pytest

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Pairing
from kaohe.reviews import services as reviews
from kaohe.rounds.models import Round
from kaohe.submissions import services
from kaohe.submissions.models import EvidenceAttachment, ReportStatus, ReportVersion, SelfReport
from tests.grading.test_result_sets import GOOD_ALL, _review, _submit_category
from tests.outcomes.test_outcomes import _release, approved  # noqa: F401 - the fixture

from .conftest import fill_completely, indicator, make_evidence, requirement, slot_key

PER_COUNTY = {1, 3, 6, 12}
DEEP_ONLY = {2, 8}
ONCE = {4, 5, 7, 9, 10, 11, 13}


def _slot_pairs(report):
    return sorted((s.indicator.number, s.county.code if s.county else None)
                  for s in services.self_report_slots(report))


def _gap_tuples(report):
    return {(g.slot.indicator.number, g.slot.county.code if g.slot.county else None,
             g.requirement.name if g.requirement else None)
            for g in services.self_report_gaps(report)}


def _state(report):
    """Everything a refused request must leave untouched."""
    report.refresh_from_db()
    return {
        "status": report.status, "revision": report.revision, "summary": report.summary,
        "answers": sorted(report.answers.values_list("indicator__number", "county_id", "text")),
        "attachments": sorted(report.attachments.values_list("pk", flat=True)),
        "versions": report.versions.count(),
    }


# Slots ---------------------------------------------------------------------------------


def test_per_county_indicators_repeat_for_each_paired_county(two_counties, deep_county,
                                                             report_a):
    ordinary = two_counties["county_a"].code
    deep = deep_county.code
    expected = sorted(
        [(n, c) for n in PER_COUNTY for c in (ordinary, deep)]
        + [(n, deep) for n in DEEP_ONLY]
        + [(n, None) for n in ONCE]
    )
    assert _slot_pairs(report_a) == expected
    assert len(expected) == 17


def test_deep_poverty_indicators_are_absent_for_an_ordinary_county(world, report_a):
    numbers = {n for n, _c in _slot_pairs(report_a)}
    assert numbers == PER_COUNTY | ONCE
    assert not numbers & DEEP_ONLY


def test_a_province_designated_county_gets_the_deep_poverty_indicators(world, report_a):
    county = world["county_a"]
    county.province_designated = True
    county.save()
    pairs = _slot_pairs(report_a)
    assert (2, county.code) in pairs
    assert (8, county.code) in pairs


def test_slots_ignore_pairings_of_another_round(world, deep_county, report_a):
    other = Round.objects.create(year=2016, name="2016年度")
    Pairing.objects.create(round=other, unit=world["unit_a"], county=deep_county)
    assert deep_county.code not in {c for _n, c in _slot_pairs(report_a)}


# Gaps ----------------------------------------------------------------------------------


def test_gaps_list_every_unit_text_and_requirement_still_missing(two_counties, deep_county,
                                                                 report_a):
    gaps = _gap_tuples(report_a)
    a, d = two_counties["county_a"].code, deep_county.code
    # 12 unit-sourced slots without text, 24 requirements without evidence.
    assert len(gaps) == 36
    assert (3, a, None) in gaps and (3, d, None) in gaps
    assert (3, a, "调研对接的视频") in gaps and (3, d, "其他原始材料") in gaps
    assert (8, d, "挂职干部或第一书记任职文件") in gaps
    assert (4, None, "会议纪要") in gaps
    assert (13, None, "视频") in gaps


def test_county_sourced_indicators_are_never_gaps(two_counties, personas, report_a):
    assert not {n for n, _c, _r in _gap_tuples(report_a)} & {1, 2, 12}
    # With every unit-sourced slot filled, indicators 1, 2 and 12 (no text, no evidence)
    # leave nothing missing.
    report = fill_completely(report_a, personas["unit"])
    assert not report.answers.filter(indicator__number__in=[1, 2, 12]).exists()
    assert services.self_report_gaps(report) == []


def test_writing_text_and_attaching_evidence_remove_exactly_those_gaps(two_counties, personas,
                                                                      report_a):
    round_, county = two_counties["round"], two_counties["county_a"]
    user = personas["unit"]
    before = _gap_tuples(report_a)
    services.self_report_save(report=report_a, actor=user, revision=report_a.revision,
                              answers={slot_key(round_, 3, county): "书记到县调研"})
    services.self_report_attach(
        report=report_a, actor=user, indicator=indicator(round_, 3),
        requirement=requirement(round_, 3, "新闻报道"), county=county,
        evidence=make_evidence(unit=two_counties["unit_a"], user=user, round=round_),
    )
    after = _gap_tuples(report_a)
    assert before - after == {(3, county.code, None), (3, county.code, "新闻报道")}
    assert after <= before


def test_whitespace_is_not_an_answer(world, personas, report_a):
    round_, county = world["round"], world["county_a"]
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision,
                              answers={slot_key(round_, 3, county): "  \n "})
    assert (3, county.code, None) in _gap_tuples(report_a)


# Submitting ----------------------------------------------------------------------------


def test_submitting_with_gaps_needs_confirmation_and_changes_nothing(world, personas,
                                                                     report_a):
    before = _state(report_a)
    with pytest.raises(services.GapsNotConfirmed) as info:
        services.self_report_submit(report=report_a, actor=personas["unit"],
                                    revision=report_a.revision)
    assert len(info.value.gaps) == len(services.self_report_gaps(report_a)) > 0
    assert _state(report_a) == before
    assert report_a.status == ReportStatus.DRAFT and report_a.submitted_at is None
    assert not AuditEntry.objects.filter(action="self_report.submitted").exists()


def test_confirmed_submission_records_gaps_version_and_audit(world, personas, report_a):
    round_, county, user = world["round"], world["county_a"], personas["unit"]
    services.self_report_save(report=report_a, actor=user, revision=report_a.revision,
                              summary="全年工作总结",
                              answers={slot_key(round_, 3, county): "书记到县调研"})
    evidence = make_evidence(unit=world["unit_a"], user=user, round=round_, name="调研视频.mp4")
    services.self_report_attach(report=report_a, actor=user, indicator=indicator(round_, 3),
                                requirement=requirement(round_, 3, "调研对接的视频"),
                                county=county, evidence=evidence)
    report_a.refresh_from_db()
    gaps = [g.as_dict() for g in services.self_report_gaps(report_a)]

    services.self_report_submit(report=report_a, actor=user, revision=report_a.revision,
                                confirm_gaps=True)

    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED
    assert report_a.submitted_by == user and report_a.submitted_at is not None
    assert report_a.gaps == gaps and len(gaps) > 0
    version = report_a.versions.get()
    assert version.number == 1 and version.submitted_by == user
    assert version.content["gaps"] == gaps
    assert version.content["summary"] == "全年工作总结"
    assert version.content["answers"] == [
        {"indicator": 3, "county": county.code, "text": "书记到县调研"}]
    assert version.content["evidence"] == [{
        "indicator": 3, "county": county.code, "requirement": "调研对接的视频",
        "evidence": str(evidence.pk), "name": "调研视频.mp4", "sha256": evidence.sha256,
    }]
    assert len(evidence.sha256) == 64
    entry = AuditEntry.objects.get(action="self_report.submitted")
    assert entry.target_id == str(report_a.pk) and entry.actor == user
    assert entry.data == {"version": 1, "gaps": len(gaps)}


def test_a_complete_report_submits_without_confirmation(world, personas, report_a):
    report = fill_completely(report_a, personas["unit"])
    services.self_report_submit(report=report, actor=personas["unit"],
                                revision=report.revision)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.gaps == []
    assert report.versions.get().content["gaps"] == []


def test_submitting_the_same_revision_twice_makes_one_version(world, personas, report_a):
    revision = report_a.revision
    for _ in range(2):  # a double click or a replayed request
        services.self_report_submit(report=report_a, actor=personas["unit"], revision=revision,
                                    confirm_gaps=True)
    assert ReportVersion.objects.filter(self_report=report_a).count() == 1
    assert AuditEntry.objects.filter(action="self_report.submitted").count() == 1


def _submitted(world, personas, report):
    user = personas["unit"]
    round_, county = world["round"], world["county_a"]
    services.self_report_save(report=report, actor=user, revision=report.revision,
                              answers={slot_key(round_, 3, county): "第一版"})
    attachment = services.self_report_attach(
        report=report, actor=user, indicator=indicator(round_, 3),
        requirement=requirement(round_, 3, "新闻报道"), county=county,
        evidence=make_evidence(unit=world["unit_a"], user=user, round=round_))
    report.refresh_from_db()
    services.self_report_submit(report=report, actor=user, revision=report.revision,
                                confirm_gaps=True)
    report.refresh_from_db()
    return attachment


def test_a_submitted_report_is_locked(world, personas, report_a):
    attachment = _submitted(world, personas, report_a)
    user, round_ = personas["unit"], world["round"]
    before = _state(report_a)
    with pytest.raises(services.LockedError):
        services.self_report_save(report=report_a, actor=user, revision=report_a.revision,
                                  answers={slot_key(round_, 3, world["county_a"]): "改了"})
    with pytest.raises(services.LockedError):
        services.self_report_attach(
            report=report_a, actor=user, indicator=indicator(round_, 4),
            requirement=requirement(round_, 4, "会议纪要"), county=None,
            evidence=make_evidence(unit=world["unit_a"], user=user, round=round_))
    with pytest.raises(services.LockedError):
        services.self_report_detach(report=report_a, actor=user, attachment=attachment)
    assert _state(report_a) == before


def test_the_lead_department_returns_a_report_with_a_reason(world, personas, report_a):
    _submitted(world, personas, report_a)
    reviewer = personas["lead_reviewer"]
    services.self_report_return(report=report_a, actor=reviewer, reason="缺少调研视频")
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.RETURNED
    assert report_a.returned_reason == "缺少调研视频"
    assert report_a.is_editable
    entry = AuditEntry.objects.get(action="self_report.returned")
    assert entry.actor == reviewer and entry.data == {"reason": "缺少调研视频"}
    # Editable again.
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision,
                              answers={slot_key(world["round"], 4): "已制定年度计划"})


def test_resubmitting_makes_version_2_and_keeps_version_1(world, personas, report_a):
    _submitted(world, personas, report_a)
    v1 = report_a.versions.get(number=1)
    v1_content = dict(v1.content)
    services.self_report_return(report=report_a, actor=personas["lead_reviewer"],
                                reason="请补充")
    report_a.refresh_from_db()
    key = slot_key(world["round"], 3, world["county_a"])
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision, answers={key: "第二版"})
    report_a.refresh_from_db()
    services.self_report_submit(report=report_a, actor=personas["unit"],
                                revision=report_a.revision, confirm_gaps=True)
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED and report_a.returned_reason == ""
    assert list(report_a.versions.values_list("number", flat=True)) == [1, 2]
    v1.refresh_from_db()
    assert v1.content == v1_content
    assert v1.content["answers"][0]["text"] == "第一版"
    assert report_a.versions.get(number=2).content["answers"][0]["text"] == "第二版"


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_returning_without_a_reason_is_refused(world, personas, report_a, reason):
    _submitted(world, personas, report_a)
    with pytest.raises(services.SubmissionError):
        services.self_report_return(report=report_a, actor=personas["lead_reviewer"],
                                    reason=reason)
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED


@pytest.mark.parametrize("status", [ReportStatus.DRAFT, ReportStatus.RETURNED])
def test_only_a_submitted_report_can_be_returned(world, personas, report_a, status):
    SelfReport.objects.filter(pk=report_a.pk).update(status=status)
    before = _state(report_a)
    with pytest.raises(services.SubmissionError):
        services.self_report_return(report=report_a, actor=personas["lead_reviewer"],
                                    reason="退回")
    assert _state(report_a) == before
    assert not AuditEntry.objects.filter(action="self_report.returned").exists()


# Returns once the lead department's review is locked, over or released ---------------


def _category_a_submitted(world, personas):
    """unit_a graded with its sub-report, and category A submitted to the working group."""
    round_, reviewer = world["round"], personas["lead_reviewer"]
    _review(round_, world["unit_a"], reviewer, GOOD_ALL)
    return _submit_category(round_, world["lead_a"], reviewer)


def _refused_return(report, personas, error, match):
    before = _state(report)
    with pytest.raises(error, match=match):
        services.self_report_return(report=report, actor=personas["lead_reviewer"],
                                    reason="请补充")
    assert _state(report) == before
    assert report.status == ReportStatus.SUBMITTED
    assert not AuditEntry.objects.filter(action="self_report.returned").exists()


def test_a_report_cannot_be_returned_once_its_category_is_submitted(world, personas,
                                                                    report_a):
    _submitted(world, personas, report_a)
    assert _category_a_submitted(world, personas).is_locked
    _refused_return(report_a, personas, services.LockedError, "已报送考核工作组")


def test_a_report_can_be_returned_again_once_the_working_group_returns_the_category(
        world, personas, report_a, settings):
    _submitted(world, personas, report_a)
    submission = _category_a_submitted(world, personas)
    settings.KAOHE_TODAY = "2018-01-20"  # past step 四, within step 五 (01-31)
    reviews.category_return(submission=submission, actor=personas["working_group"],
                            reason="请补充核查情况")
    services.self_report_return(report=report_a, actor=personas["lead_reviewer"],
                                reason="请补充")
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.RETURNED


def test_a_report_cannot_be_returned_after_the_review_deadline(world, personas, report_a,
                                                               settings):
    _submitted(world, personas, report_a)
    settings.KAOHE_TODAY = "2018-01-16"  # step 四 closed on 01-15
    _refused_return(report_a, personas, services.ClosedError, "2018-01-15")


def test_a_report_cannot_be_returned_after_results_are_released(world, personas, report_a,
                                                                approved, settings):  # noqa: F811
    _submitted(world, personas, report_a)
    _release(approved, personas)
    settings.KAOHE_TODAY = "2018-03-01"
    _refused_return(report_a, personas, services.SubmissionError, "已反馈")


# Concurrent edits ----------------------------------------------------------------------


def test_a_second_save_on_the_same_revision_is_a_conflict(world, personas, report_a):
    key = slot_key(world["round"], 4)
    started_from = report_a.revision
    services.self_report_save(report=report_a, actor=personas["unit"], revision=started_from,
                              answers={key: "甲写的"})
    with pytest.raises(services.ConflictError):
        services.self_report_save(report=report_a, actor=personas["unit"],
                                  revision=started_from, answers={key: "乙写的"},
                                  summary="乙的总结")
    report_a.refresh_from_db()
    assert report_a.answers.get().text == "甲写的"
    assert report_a.summary == ""
    assert report_a.revision == started_from + 1


def test_submitting_a_stale_revision_is_a_conflict(world, personas, report_a):
    started_from = report_a.revision
    services.self_report_save(report=report_a, actor=personas["unit"], revision=started_from,
                              answers={slot_key(world["round"], 4): "新内容"})
    with pytest.raises(services.ConflictError):
        services.self_report_submit(report=report_a, actor=personas["unit"],
                                    revision=started_from, confirm_gaps=True)
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.DRAFT and not report_a.versions.exists()


def test_attaching_and_detaching_bump_the_revision(world, personas, report_a):
    user, round_ = personas["unit"], world["round"]
    start = report_a.revision
    attachment = services.self_report_attach(
        report=report_a, actor=user, indicator=indicator(round_, 5), requirement=None,
        county=None, evidence=make_evidence(unit=world["unit_a"], user=user, round=round_))
    services.self_report_detach(report=report_a, actor=user, attachment=attachment)
    report_a.refresh_from_db()
    assert report_a.revision == start + 2
    assert not report_a.attachments.exists()
    with pytest.raises(services.ConflictError):
        services.self_report_save(report=report_a, actor=user, revision=start,
                                  answers={slot_key(round_, 5): "旧页面上的修改"})


# Bad input changes nothing -------------------------------------------------------------


def test_an_unknown_slot_key_is_refused_and_nothing_is_saved(world, personas, report_a):
    round_ = world["round"]
    before = _state(report_a)
    # Indicator 2 applies only to deep-poverty counties; county_a is not one.
    for bad in ["999999:", slot_key(round_, 2, world["county_a"]), slot_key(round_, 4,
                                                                             world["county_a"])]:
        with pytest.raises(services.SubmissionError):
            services.self_report_save(
                report=report_a, actor=personas["unit"], revision=report_a.revision,
                summary="不应保存", answers={slot_key(round_, 4): "不应保存", bad: "x"})
    assert _state(report_a) == before


def test_text_longer_than_the_limit_is_refused(world, personas, report_a):
    round_ = world["round"]
    before = _state(report_a)
    with pytest.raises(services.SubmissionError, match="超过"):
        services.self_report_save(
            report=report_a, actor=personas["unit"], revision=report_a.revision,
            answers={slot_key(round_, 4): "短", slot_key(round_, 5):
                     "字" * (services.MAX_ANSWER_CHARS + 1)})
    assert _state(report_a) == before
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision,
                              answers={slot_key(round_, 5): "字" * services.MAX_ANSWER_CHARS})
    assert len(report_a.answers.get().text) == services.MAX_ANSWER_CHARS


def _attach_kwargs(world, personas, **overrides):
    round_ = world["round"]
    kwargs = {
        "actor": personas["unit"], "indicator": indicator(round_, 3),
        "requirement": requirement(round_, 3, "新闻报道"), "county": world["county_a"],
        "evidence": make_evidence(unit=world["unit_a"], user=personas["unit"], round=round_),
    }
    kwargs.update(overrides)
    return kwargs


def test_evidence_of_another_unit_cannot_be_attached(world, personas, report_a):
    foreign = make_evidence(unit=world["unit_b"], user=personas["unit_b"], round=world["round"])
    before = _state(report_a)
    with pytest.raises(services.SubmissionError):
        services.self_report_attach(report=report_a,
                                    **_attach_kwargs(world, personas, evidence=foreign))
    assert _state(report_a) == before


def test_province_evidence_cannot_be_attached_to_a_self_report(world, personas, report_a):
    provincial = make_evidence(province=world["province_a"], user=personas["province"],
                               round=world["round"])
    with pytest.raises(services.SubmissionError):
        services.self_report_attach(report=report_a,
                                    **_attach_kwargs(world, personas, evidence=provincial))
    assert not EvidenceAttachment.objects.exists()


def test_a_requirement_of_another_indicator_is_refused(world, personas, report_a):
    before = _state(report_a)
    with pytest.raises(services.SubmissionError):
        services.self_report_attach(report=report_a, **_attach_kwargs(
            world, personas, requirement=requirement(world["round"], 4, "会议纪要")))
    assert _state(report_a) == before


def test_an_indicator_of_another_round_is_refused(world, personas, report_a):
    from kaohe.rounds.services import round_copy
    other = round_copy(source=world["round"], year=2018, actor=personas["office"])
    other_indicator = other.indicators.get(number=3)
    before = _state(report_a)
    with pytest.raises(services.SubmissionError):
        services.self_report_attach(report=report_a, **_attach_kwargs(
            world, personas, indicator=other_indicator,
            requirement=other_indicator.evidence_requirements.first()))
    assert _state(report_a) == before


def test_a_county_not_paired_with_the_unit_is_refused(world, personas, report_a):
    before = _state(report_a)
    with pytest.raises(services.SubmissionError):
        services.self_report_attach(report=report_a,
                                    **_attach_kwargs(world, personas, county=world["county_b"]))
    assert _state(report_a) == before


def test_an_attachment_of_another_report_cannot_be_detached(world, personas, report_a,
                                                            report_b):
    round_ = world["round"]
    foreign = services.self_report_attach(
        report=report_b, actor=personas["unit_b"], indicator=indicator(round_, 4),
        requirement=None, county=None,
        evidence=make_evidence(unit=world["unit_b"], user=personas["unit_b"], round=round_))
    with pytest.raises(services.SubmissionError):
        services.self_report_detach(report=report_a, actor=personas["unit"], attachment=foreign)
    assert EvidenceAttachment.objects.filter(pk=foreign.pk).exists()


def test_the_same_evidence_can_prove_a_requirement_for_two_counties(two_counties, deep_county,
                                                                    personas, report_a):
    round_, user = two_counties["round"], personas["unit"]
    evidence = make_evidence(unit=two_counties["unit_a"], user=user, round=round_)
    for county in (two_counties["county_a"], deep_county):
        services.self_report_attach(report=report_a, actor=user, indicator=indicator(round_, 3),
                                    requirement=requirement(round_, 3, "新闻报道"),
                                    county=county, evidence=evidence)
    gaps = _gap_tuples(report_a)
    assert (3, two_counties["county_a"].code, "新闻报道") not in gaps
    assert (3, deep_county.code, "新闻报道") not in gaps


def test_evidence_for_a_slot_the_report_does_not_have_is_refused(world, personas, report_a):
    round_ = world["round"]
    for ind, county in [(2, world["county_a"]), (4, world["county_a"]), (3, None)]:
        with pytest.raises(services.SubmissionError):
            services.self_report_attach(report=report_a, **_attach_kwargs(
                world, personas, indicator=indicator(round_, ind), requirement=None,
                county=county))
    assert not EvidenceAttachment.objects.exists()


def test_self_report_for_returns_the_same_report(world):
    first = services.self_report_for(round=world["round"], unit=world["unit_a"])
    again = services.self_report_for(round=world["round"], unit=world["unit_a"])
    assert first.pk == again.pk and SelfReport.objects.count() == 1



# Nothing the results were computed from reopens once they are released ------------------


def test_no_extension_of_a_reporting_step_once_results_are_released(world, personas,
                                                                   approved, settings):  # noqa: F811
    from kaohe.submissions.models import Extension

    _release(approved, personas)
    settings.KAOHE_TODAY = "2018-03-01"
    steps = {s.code: s for s in world["round"].steps.all()}
    office = personas["office"]
    with pytest.raises(services.SubmissionError, match="已反馈"):
        services.extension_grant(step=steps["self_report"], actor=office, unit=world["unit_a"],
                                 until=datetime.date(2018, 3, 15), reason="补报")
    with pytest.raises(services.SubmissionError, match="已反馈"):
        services.extension_grant(step=steps["provincial_report"], actor=office,
                                 province=world["province_a"],
                                 until=datetime.date(2018, 3, 15), reason="补报")
    assert not Extension.objects.exists()
    # The rectification that follows the results may still be extended.
    services.extension_grant(step=steps["rectification"], actor=office, unit=world["unit_a"],
                             until=datetime.date(2018, 4, 15), reason="整改任务较重")


def test_an_extension_granted_before_release_does_not_reopen_a_report_after_it(
        world, personas, report_a, approved, settings):  # noqa: F811
    settings.KAOHE_TODAY = "2018-01-10"
    step = world["round"].steps.get(code="self_report")
    services.extension_grant(step=step, actor=personas["office"], unit=world["unit_a"],
                             until=datetime.date(2018, 3, 31), reason="材料补充")
    _release(approved, personas)
    settings.KAOHE_TODAY = "2018-03-01"
    before = _state(report_a)
    with pytest.raises(services.ClosedError, match="已反馈"):
        services.self_report_save(report=report_a, actor=personas["unit"],
                                  revision=report_a.revision, summary="发布后补写", answers={})
    with pytest.raises(services.ClosedError, match="已反馈"):
        services.self_report_submit(report=report_a, actor=personas["unit"],
                                    revision=report_a.revision, confirm_gaps=True)
    assert _state(report_a) == before


# A unit the round does not assess -------------------------------------------------------


@pytest.fixture
def unpaired_unit(world):
    """A central unit of unit_a's category with no pairing in the round (no poverty county
    that year): the round does not assess it."""
    from kaohe.directory.models import Unit

    return Unit.objects.create(code="A099", name="无结对单位", category=world["unit_a"].category)


def test_a_unit_without_a_pairing_in_the_round_gets_no_self_report(world, unpaired_unit):
    with pytest.raises(services.SubmissionError, match="没有结对的定点扶贫县") as refusal:
        services.self_report_for(round=world["round"], unit=unpaired_unit)
    assert "无结对单位" in str(refusal.value) and "2017" in str(refusal.value)
    assert not SelfReport.objects.filter(unit=unpaired_unit).exists()


def test_a_pairing_in_another_round_does_not_count(world, unpaired_unit):
    other = Round.objects.create(year=2016, name="2016年度")
    Pairing.objects.create(round=other, unit=unpaired_unit, county=world["county_a"])
    with pytest.raises(services.SubmissionError):
        services.self_report_for(round=world["round"], unit=unpaired_unit)
    assert not SelfReport.objects.exists()


def test_a_paired_unit_starts_its_report_once(world):
    first = services.self_report_for(round=world["round"], unit=world["unit_a"])
    assert services.self_report_for(round=world["round"], unit=world["unit_a"]) == first
    assert SelfReport.objects.filter(unit=world["unit_a"]).count() == 1
