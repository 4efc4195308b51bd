"""The categorized assessment's workflow: grades, sub-reports, findings, the category's
submission and return, the organization department's checks and military inspection."""

import datetime

import pytest

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Category, Unit
from kaohe.grading import services as grading
from kaohe.reviews import services
from kaohe.reviews.models import (
    AreaGrade,
    CadreCheck,
    CategorySubmission,
    CategorySubmissionStatus,
    FindingSource,
    GradeSource,
    MajorIncident,
    MilitaryInspection,
    ReviewMethod,
    SeriousProblem,
    SubReport,
    VerificationStatus,
)
from kaohe.rounds.models import Grade
from kaohe.submissions.models import FirstSecretary, SecondedCadre
from tests.grading.test_result_sets import AVERAGE_ALL, GOOD_ALL, _review, _submit_category
from tests.outcomes.test_outcomes import _release, approved  # noqa: F401 - the fixture
from tests.reviews.conftest import (
    AREA_CODES,
    all_grades,
    complete_review,
    fresh,
    grade_all,
    outcome,
    provincial,
    second_unit_a,
    write_category_report,
    write_sub_report,
)

G, FG, AV, P = Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE, Grade.POOR


def _save(review, actor, grades, revision=None):
    return services.area_grades_save(
        review=review, actor=actor,
        revision=fresh(review).revision if revision is None else revision, grades=grades)


def _grades(review):
    return {g.area.code: g for g in review.area_grades.select_related("area")}


def _kind(world, code):
    return world["round"].problem_kinds.get(code=code)


# Grades with reasons and sources ------------------------------------------------------


def test_it_stores_grade_reason_reviewer_source_and_bumps_the_revision(world, reviewer,
                                                                      review_a):
    _save(review_a, reviewer, {"leadership": (G, "年度计划经党组会审定")})

    grade = _grades(review_a)["leadership"]
    assert (grade.grade, grade.reason, grade.source, grade.suggested_grade, grade.graded_by) == (
        G, "年度计划经党组会审定", GradeSource.REVIEWER, "", reviewer)
    assert fresh(review_a).revision == 1
    assert review_a.updated_by == reviewer


def test_a_county_area_graded_as_the_province_suggests_is_sourced_from_the_province(
        world, reviewer, review_a):
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(exited=True, sat_unit=FG, sat_cadres=AV)})

    _save(review_a, reviewer, {"effectiveness": (G, "当年摘帽"),
                               "satisfaction": (AV, "座谈中群众反映一般")})

    grades = _grades(review_a)
    assert (grades["effectiveness"].source, grades["effectiveness"].suggested_grade) == (
        GradeSource.PROVINCE, G)
    # Suggested 较好 (2.5 → 3); the reviewer chose otherwise.
    assert (grades["satisfaction"].source, grades["satisfaction"].suggested_grade) == (
        GradeSource.REVIEWER, FG)


def test_a_unit_area_never_takes_the_province_as_source(world, reviewer, review_a):
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(exited=True, sat_unit=G, sat_cadres=G)})

    _save(review_a, reviewer, {"leadership": (G, "理由"), "innovation": (G, "理由")})

    assert {g.source for g in _grades(review_a).values()} == {GradeSource.REVIEWER}


def test_a_county_area_without_provincial_data_is_the_reviewers(world, reviewer, review_a):
    _save(review_a, reviewer, {"effectiveness": (G, "依据自评材料")})

    grade = _grades(review_a)["effectiveness"]
    assert (grade.source, grade.suggested_grade) == (GradeSource.REVIEWER, "")


@pytest.mark.parametrize(("grades", "message"), [
    ({"leadership": (G, "理由"), "cadres": (G, "   ")}, "请填写“选派干部”的评定理由"),
    ({"leadership": (G, "理由"), "cadres": (G, "")}, "请填写“选派干部”的评定理由"),
    ({"leadership": (G, "理由"), "cadres": ("excellent", "理由")}, "“选派干部”的等次无效"),
    ({"leadership": (G, "理由"), "cadres": (Grade.PENDING, "理由")}, "“选派干部”的等次无效"),
    ({"leadership": (G, "理由"), "nonsense": (G, "理由")}, "未知的考核内容：nonsense"),
])
def test_a_missing_reason_or_invalid_grade_is_refused_and_changes_nothing(
        world, reviewer, review_a, grades, message):
    _save(review_a, reviewer, {"leadership": (AV, "原理由")})
    entries = AuditEntry.objects.count()

    with pytest.raises(services.ReviewError, match=message):
        _save(review_a, reviewer, grades)

    assert {c: (g.grade, g.reason) for c, g in _grades(review_a).items()} == {
        "leadership": (AV, "原理由")}
    assert fresh(review_a).revision == 1
    assert AuditEntry.objects.count() == entries


def test_grade_changes_are_audited_with_old_and_new(world, reviewer, review_a):
    _save(review_a, reviewer, {"leadership": (G, "理由一")})
    _save(review_a, reviewer, {"leadership": (AV, "理由二"), "cadres": (FG, "理由")})

    entries = list(AuditEntry.objects.filter(action="review.grade.changed").order_by("id"))
    assert [e.data for e in entries] == [
        {"leadership": {"old": None, "new": G}},
        {"leadership": {"old": G, "new": AV}, "cadres": {"old": None, "new": FG}},
    ]
    assert entries[-1].actor == reviewer
    assert (entries[-1].target_type, entries[-1].target_id) == ("reviews.Review",
                                                                str(review_a.pk))


def test_saving_the_same_grades_again_writes_no_grade_audit_entry(world, reviewer, review_a):
    _save(review_a, reviewer, {"leadership": (G, "理由")})
    _save(review_a, reviewer, {"leadership": (G, "理由")})

    assert AuditEntry.objects.filter(action="review.grade.changed").count() == 1


# Concurrent edits ---------------------------------------------------------------------


def test_the_second_reviewer_saving_from_an_old_revision_gets_a_conflict(
        world, reviewer, second_reviewer, review_a):
    loaded = fresh(review_a).revision  # both open the desk at this revision
    _save(review_a, reviewer, {"leadership": (G, "第一位的理由")}, revision=loaded)

    with pytest.raises(services.ConflictError):
        _save(review_a, second_reviewer, {"leadership": (P, "第二位的理由")}, revision=loaded)

    grade = _grades(review_a)["leadership"]
    assert (grade.grade, grade.reason, grade.graded_by) == (G, "第一位的理由", reviewer)
    assert fresh(review_a).revision == loaded + 1


def test_the_second_sub_report_from_an_old_revision_gets_a_conflict(
        world, reviewer, second_reviewer, review_a):
    loaded = fresh(review_a).revision
    services.sub_report_save(review=review_a, actor=reviewer, revision=loaded,
                             basic_situation="甲写的基本情况", problems="甲", suggestions="甲")

    with pytest.raises(services.ConflictError):
        services.sub_report_save(review=review_a, actor=second_reviewer, revision=loaded,
                                 basic_situation="乙写的基本情况", problems="乙",
                                 suggestions="乙")

    report = SubReport.objects.get(review=review_a)
    assert (report.basic_situation, report.problems) == ("甲写的基本情况", "甲")


def test_a_sub_report_save_bumps_the_revision_the_grades_check(world, reviewer, review_a):
    loaded = fresh(review_a).revision
    write_sub_report(review_a, reviewer)

    with pytest.raises(services.ConflictError):
        _save(review_a, reviewer, {"leadership": (G, "理由")}, revision=loaded)
    assert not AreaGrade.objects.exists()


# Verification, activities, findings ----------------------------------------------------


def test_a_verification_is_recorded_once_per_indicator_and_updated(world, reviewer, review_a):
    indicator = world["round"].indicators.get(number=4)
    services.verification_set(review=review_a, actor=reviewer, indicator=indicator,
                              county=None, status=VerificationStatus.DOUBTFUL, note="无会议纪要")
    services.verification_set(review=review_a, actor=reviewer, indicator=indicator,
                              county=None, status=VerificationStatus.VERIFIED, note="已补充")

    (verification,) = review_a.verifications.all()
    assert (verification.status, verification.note) == (VerificationStatus.VERIFIED, "已补充")
    assert AuditEntry.objects.filter(action="review.verification.set").count() == 2


def test_an_activity_is_recorded_with_its_method(world, reviewer, review_a):
    services.activity_add(review=review_a, actor=reviewer, method=ReviewMethod.SPOT_CHECK,
                          held_on=datetime.date(2018, 1, 5), people="张三、李四", note="实地核查")

    (activity,) = review_a.activities.all()
    assert (activity.method, activity.people, activity.recorded_by) == (
        ReviewMethod.SPOT_CHECK, "张三、李四", reviewer)


def test_a_problem_and_an_incident_are_recorded_for_a_paired_county(world, reviewer):
    problem = services.serious_problem_add(
        round=world["round"], unit=world["unit_a"], actor=reviewer,
        kind=_kind(world, "target_missed"), county=world["county_a"],
        description="县未完成年度任务", source=FindingSource.REVIEWER)
    incident = services.major_incident_add(
        round=world["round"], unit=world["unit_a"], actor=reviewer, county=world["county_a"],
        description="发生重大涉贫舆情", source=FindingSource.REVIEWER)

    assert list(world["unit_a"].serious_problems.all()) == [problem]
    assert list(world["unit_a"].major_incidents.all()) == [incident]
    assert AuditEntry.objects.filter(action__in=["review.problem.added",
                                                 "review.incident.added"]).count() == 2


@pytest.mark.parametrize("call", ["problem", "incident"])
def test_a_finding_in_a_county_not_paired_with_the_unit_is_refused(world, reviewer, call):
    with pytest.raises(services.ReviewError, match="不是该单位的定点扶贫县"):
        if call == "problem":
            services.serious_problem_add(
                round=world["round"], unit=world["unit_a"], actor=reviewer,
                kind=_kind(world, "neglect"), county=world["county_b"], description="x",
                source=FindingSource.REVIEWER)
        else:
            services.major_incident_add(
                round=world["round"], unit=world["unit_a"], actor=reviewer,
                county=world["county_b"], description="x", source=FindingSource.REVIEWER)
    assert not SeriousProblem.objects.exists() and not MajorIncident.objects.exists()


def test_a_finding_needs_a_description_and_an_incident_a_county(world, reviewer):
    with pytest.raises(services.ReviewError, match="请填写情况说明"):
        services.serious_problem_add(round=world["round"], unit=world["unit_a"], actor=reviewer,
                                     kind=_kind(world, "neglect"), county=None,
                                     description="  ", source=FindingSource.REVIEWER)
    with pytest.raises(services.ReviewError, match="请选择发生重大涉贫事件的县"):
        services.major_incident_add(round=world["round"], unit=world["unit_a"], actor=reviewer,
                                    county=None, description="x", source=FindingSource.REVIEWER)
    assert not SeriousProblem.objects.exists() and not MajorIncident.objects.exists()


def test_a_finding_is_withdrawn_not_deleted_with_an_audit_entry(world, reviewer):
    problem = services.serious_problem_add(
        round=world["round"], unit=world["unit_a"], actor=reviewer,
        kind=_kind(world, "neglect"), county=None, description="x",
        source=FindingSource.REVIEWER)

    services.finding_withdraw(finding=problem, actor=reviewer, reason="误报")

    assert SeriousProblem.objects.get().withdrawn_reason == "误报"
    assert AuditEntry.objects.filter(action="review.seriousproblem.withdrawn").count() == 1


# Submitting the category ----------------------------------------------------------------


@pytest.fixture
def category_a(world, reviewer):
    """Category A with two units: A001 complete, A002 not yet reviewed."""
    return {"complete": complete_review(world["round"], world["unit_a"], reviewer),
            "other": second_unit_a(world)}


def test_submission_is_refused_naming_the_unit_without_grades(world, reviewer, category_a,
                                                             submission_a):
    other = category_a["other"]
    review = services.review_for(round=world["round"], unit=other)
    _save(review, reviewer, {c: (G, "理由") for c in AREA_CODES[:5]})
    write_sub_report(review, reviewer)
    write_category_report(submission_a, reviewer)

    with pytest.raises(services.ReviewError) as exc:
        services.category_submit(submission=submission_a, actor=reviewer)

    assert f"{other.name}（1项考核内容未评定等次）" in str(exc.value)
    assert world["unit_a"].name not in str(exc.value)
    assert fresh(submission_a).status == CategorySubmissionStatus.DRAFT


def test_submission_is_refused_naming_the_unit_with_an_incomplete_sub_report(
        world, reviewer, category_a, submission_a):
    other = category_a["other"]
    review = services.review_for(round=world["round"], unit=other)
    grade_all(review, reviewer)
    services.sub_report_save(review=review, actor=reviewer, revision=fresh(review).revision,
                             basic_situation="有", problems="有", suggestions="  ")
    write_category_report(submission_a, reviewer)

    with pytest.raises(services.ReviewError) as exc:
        services.category_submit(submission=submission_a, actor=reviewer)

    assert f"{other.name}（考核子报告未完成）" in str(exc.value)
    assert world["unit_a"].name not in str(exc.value)
    assert fresh(submission_a).status == CategorySubmissionStatus.DRAFT


def test_a_unit_never_opened_is_named_with_everything_it_lacks(world, reviewer, category_a):
    assert services.category_missing(world["round"], world["lead_a"]) == [
        f"{category_a['other'].name}（6项考核内容未评定等次，考核子报告未完成）"]


def test_submission_needs_the_three_parts_of_the_category_report(world, reviewer, category_a,
                                                                submission_a):
    complete_review(world["round"], category_a["other"], reviewer)
    services.category_report_save(submission=submission_a, actor=reviewer, overview="概况",
                                  problems="问题", suggestions="")

    with pytest.raises(services.ReviewError, match="综合考核报告"):
        services.category_submit(submission=submission_a, actor=reviewer)
    assert fresh(submission_a).status == CategorySubmissionStatus.DRAFT


@pytest.fixture
def submitted_a(world, reviewer, category_a, submission_a):
    complete_review(world["round"], category_a["other"], reviewer, grade=AV)
    write_category_report(submission_a, reviewer)
    return services.category_submit(submission=submission_a, actor=reviewer)


def test_a_complete_category_is_submitted_with_a_snapshot_of_its_grades(world, reviewer,
                                                                       category_a, submitted_a):
    submission = fresh(submitted_a)

    assert submission.status == CategorySubmissionStatus.SUBMITTED
    assert submission.submitted_by == reviewer and submission.submitted_at is not None
    snapshot = {u["unit"]: u for u in submission.snapshot["units"]}
    assert set(snapshot) == {"A001", "A002"}
    assert snapshot["A001"]["grades"] == dict.fromkeys(AREA_CODES, FG)
    assert snapshot["A002"]["grades"] == dict.fromkeys(AREA_CODES, AV)
    assert snapshot["A002"]["reasons"]["cadres"] == "cadres：理由"
    assert AuditEntry.objects.filter(action="review.category.submitted").count() == 1


def _locked_edits(world, reviewer, submission):
    review = services.review_for(round=world["round"], unit=world["unit_a"])
    indicator = world["round"].indicators.get(number=4)

    def remove():
        problem = SeriousProblem.objects.create(
            round=world["round"], unit=world["unit_a"], kind=_kind(world, "neglect"),
            description="x", source=FindingSource.REVIEWER, recorded_by=reviewer)
        services.finding_withdraw(finding=problem, actor=reviewer, reason="误报")

    return {
        "grades": lambda: _save(review, reviewer, {"leadership": (P, "改")}),
        "sub_report": lambda: write_sub_report(review, reviewer, "改"),
        "verification": lambda: services.verification_set(
            review=review, actor=reviewer, indicator=indicator, county=None,
            status=VerificationStatus.VERIFIED, note=""),
        "activity": lambda: services.activity_add(
            review=review, actor=reviewer, method=ReviewMethod.DOCUMENT,
            held_on=datetime.date(2018, 1, 5), people="张三", note=""),
        "problem": lambda: services.serious_problem_add(
            round=world["round"], unit=world["unit_a"], actor=reviewer,
            kind=_kind(world, "neglect"), county=None, description="x",
            source=FindingSource.REVIEWER),
        "incident": lambda: services.major_incident_add(
            round=world["round"], unit=world["unit_a"], actor=reviewer,
            county=world["county_a"], description="x", source=FindingSource.REVIEWER),
        "remove": remove,
        "category_report": lambda: write_category_report(submission, reviewer, "改"),
    }


@pytest.mark.parametrize("edit", ["grades", "sub_report", "verification", "activity", "problem",
                                  "incident", "remove", "category_report"])
def test_a_submitted_category_locks_every_edit(world, reviewer, submitted_a, edit):
    review = services.review_for(round=world["round"], unit=world["unit_a"])
    revision = fresh(review).revision

    with pytest.raises(services.LockedError):
        _locked_edits(world, reviewer, submitted_a)[edit]()

    assert fresh(review).revision == revision
    assert {g.grade for g in _grades(review).values()} == {FG}
    assert SubReport.objects.get(review=review).basic_situation == "基本情况：内容"
    assert not review.verifications.exists() and not review.activities.exists()
    assert SeriousProblem.objects.count() == (1 if edit == "remove" else 0)
    assert not MajorIncident.objects.exists()
    assert fresh(submitted_a).overview == "概况：综合"


def test_the_same_edits_work_before_submission(world, reviewer, category_a, submission_a):
    for edit in _locked_edits(world, reviewer, submission_a).values():
        edit()

    review = services.review_for(round=world["round"], unit=world["unit_a"])
    assert _grades(review)["leadership"].grade == P
    assert review.verifications.count() == 1 and review.activities.count() == 1
    # The removal edit withdraws its problem: it stays, no longer standing.
    assert SeriousProblem.objects.filter(withdrawn_at__isnull=True).count() == 1
    assert SeriousProblem.objects.count() == 2 and MajorIncident.objects.count() == 1
    assert fresh(submission_a).overview == "概况：改"


def test_the_lock_holds_only_for_the_submitted_category(world, personas, submitted_a):
    review_b = services.review_for(round=world["round"], unit=world["unit_b"])

    _save(review_b, personas["lead_reviewer_b"], {"leadership": (G, "理由")})

    assert review_b.area_grades.count() == 1


def test_submitting_twice_changes_nothing(world, reviewer, submitted_a):
    first = fresh(submitted_a)

    again = services.category_submit(submission=first, actor=reviewer)

    assert (again.status, again.submitted_at, again.snapshot) == (
        first.status, first.submitted_at, first.snapshot)
    assert AuditEntry.objects.filter(action="review.category.submitted").count() == 1


def test_the_working_group_returns_a_category_with_a_reason_and_it_unlocks(
        world, reviewer, personas, submitted_a):
    services.category_return(submission=submitted_a, actor=personas["working_group"],
                             reason="请补充个别核查情况")

    submission = fresh(submitted_a)
    assert submission.status == CategorySubmissionStatus.RETURNED
    assert submission.returned_reason == "请补充个别核查情况"
    entry = AuditEntry.objects.get(action="review.category.returned")
    assert entry.data == {"reason": "请补充个别核查情况"}
    review = services.review_for(round=world["round"], unit=world["unit_a"])
    _save(review, reviewer, {"leadership": (G, "补充核查后上调")})
    assert _grades(review)["leadership"].grade == G
    # The snapshot keeps what was submitted until the next submission.
    assert {u["unit"]: u["grades"]["leadership"] for u in submission.snapshot["units"]}[
        "A001"] == FG

    resubmitted = services.category_submit(submission=submission, actor=reviewer)

    assert resubmitted.status == CategorySubmissionStatus.SUBMITTED
    assert resubmitted.returned_reason == ""
    assert {u["unit"]: u["grades"]["leadership"] for u in resubmitted.snapshot["units"]}[
        "A001"] == G


def test_a_return_needs_a_reason_and_a_submitted_category(world, personas, submitted_a):
    with pytest.raises(services.ReviewError, match="请填写退回原因"):
        services.category_return(submission=submitted_a, actor=personas["working_group"],
                                 reason="  ")
    assert fresh(submitted_a).status == CategorySubmissionStatus.SUBMITTED

    draft_b = services.category_submission_for(round=world["round"],
                                               lead_department=world["lead_b"])
    with pytest.raises(services.ReviewError, match="只能退回已报送"):
        services.category_return(submission=draft_b, actor=personas["working_group"],
                                 reason="x")
    assert fresh(draft_b).status == CategorySubmissionStatus.DRAFT


# Returns once results are computed from the category ---------------------------------


def _category_of_a(world):
    return CategorySubmission.objects.get(round=world["round"], lead_department=world["lead_a"])


def _refused_category_return(world, personas, match):
    submission = _category_of_a(world)
    with pytest.raises(services.ReviewError, match=match):
        services.category_return(submission=submission, actor=personas["working_group"],
                                 reason="请补充核查情况")
    submission = fresh(submission)
    assert submission.status == CategorySubmissionStatus.SUBMITTED and submission.is_locked
    assert submission.returned_reason == ""
    assert not AuditEntry.objects.filter(action="review.category.returned").exists()


def _both_categories_submitted(world, personas):
    round_ = world["round"]
    _review(round_, world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    _review(round_, world["unit_b"], personas["lead_reviewer_b"], AVERAGE_ALL)
    _submit_category(round_, world["lead_a"], personas["lead_reviewer"])
    _submit_category(round_, world["lead_b"], personas["lead_reviewer_b"])


def test_a_category_can_be_returned_while_its_results_are_a_draft_version(world, personas):
    _both_categories_submitted(world, personas)
    grading.result_set_compute(round=world["round"], actor=personas["working_group"])
    services.category_return(submission=_category_of_a(world),
                             actor=personas["working_group"], reason="请补充核查情况")
    assert fresh(_category_of_a(world)).status == CategorySubmissionStatus.RETURNED


def test_a_category_cannot_be_returned_while_a_version_awaits_the_leading_group(
        world, personas):
    wg = personas["working_group"]
    _both_categories_submitted(world, personas)
    result_set = grading.result_set_compute(round=world["round"], actor=wg)
    grading.result_set_submit(result_set=result_set, actor=wg)

    _refused_category_return(world, personas, "领导小组")

    # Once the leading group sends the version back, the category can be returned.
    grading.result_set_return(result_set=result_set, actor=personas["leading_group"],
                              comments="请核实甲单位")
    services.category_return(submission=_category_of_a(world), actor=wg,
                             reason="请补充核查情况")
    assert fresh(_category_of_a(world)).status == CategorySubmissionStatus.RETURNED


def test_a_category_cannot_be_returned_once_its_results_are_approved(
        world, personas, approved):  # noqa: F811
    _refused_category_return(world, personas, "审定")


def test_a_category_cannot_be_returned_after_results_are_released(
        world, personas, approved, settings):  # noqa: F811
    _release(approved, personas)
    settings.KAOHE_TODAY = "2018-03-01"
    _refused_category_return(world, personas, "已反馈")


def test_a_category_can_be_returned_for_an_open_correction(
        world, personas, approved, settings):  # noqa: F811
    _release(approved, personas)
    settings.KAOHE_TODAY = "2018-03-01"
    grading.correction_open(round=world["round"], actor=personas["leading_group"],
                            reason="甲单位的等次认定有误")
    services.category_return(submission=_category_of_a(world),
                             actor=personas["working_group"], reason="请重新核定")
    assert fresh(_category_of_a(world)).status == CategorySubmissionStatus.RETURNED


def test_army_units_are_never_units_of_a_category(world):
    military = world["army"].category
    assert list(services.category_units(world["round"], world["lead_a"])) == [world["unit_a"]]
    assert list(services.category_units(world["round"], military.lead_department)) == []
    # Even a lead department that also led the army category would not get them.
    Category.objects.filter(pk=military.pk).update(lead_department=world["lead_a"])
    assert list(services.category_units(world["round"], world["lead_a"])) == [world["unit_a"]]


def test_inactive_units_are_not_part_of_the_category(world, reviewer, category_a):
    Unit.objects.filter(pk=category_a["other"].pk).update(active=False)

    assert services.category_missing(world["round"], world["lead_a"]) == []


# Organization department ----------------------------------------------------------------


@pytest.fixture
def cadre(world):
    return SecondedCadre.objects.create(round=world["round"], unit=world["unit_a"],
                                        county=world["county_a"], name="王五", post="副县长",
                                        start=datetime.date(2017, 3, 1))


@pytest.fixture
def secretary(world):
    return FirstSecretary.objects.create(round=world["round"], unit=world["unit_a"],
                                         county=world["county_a"], village="某村",
                                         name="赵六", start=datetime.date(2017, 3, 1))


def _check(record, actor, **overrides):
    values = {"in_post": True, "in_charge": True, "nominal_only": False,
              "discipline_issue": False, "note": "", "raise_problem": False}
    values.update(overrides)
    return services.cadre_check_save(record=record, actor=actor, **values)


def test_the_org_department_records_a_check_without_a_problem(world, personas, cadre):
    check = _check(cadre, personas["org_department"], note="在岗履职")

    assert (check.in_post, check.note, check.checked_by, check.problem) == (
        True, "在岗履职", personas["org_department"], None)
    assert not check.has_problem
    assert not SeriousProblem.objects.exists()
    assert AuditEntry.objects.filter(action="org.cadre.checked").count() == 1


def test_raising_a_clean_check_creates_no_problem(world, personas, cadre):
    _check(cadre, personas["org_department"], raise_problem=True)

    assert not SeriousProblem.objects.exists()


@pytest.mark.parametrize("finding", [{"nominal_only": True}, {"in_post": False},
                                     {"discipline_issue": True}, {"in_charge": False}])
def test_a_problem_raised_by_the_org_department_becomes_one_serious_problem(
        world, personas, cadre, finding):
    org = personas["org_department"]
    check = _check(cadre, org, note="长期不在岗", raise_problem=True, **finding)

    (problem,) = SeriousProblem.objects.all()
    assert (problem.unit, problem.kind.code, problem.source, problem.county) == (
        world["unit_a"], "cadres_nominal", FindingSource.ORG_DEPARTMENT, world["county_a"])
    assert problem.recorded_by == org
    assert "王五" in problem.description
    assert fresh(check).problem == problem

    _check(cadre, org, note="复核仍不在岗", raise_problem=True, **finding)

    assert SeriousProblem.objects.count() == 1
    assert CadreCheck.objects.count() == 1
    assert CadreCheck.objects.get().note == "复核仍不在岗"


def test_a_problem_not_raised_is_only_recorded_on_the_check(world, personas, cadre):
    check = _check(cadre, personas["org_department"], nominal_only=True)

    assert check.has_problem
    assert not SeriousProblem.objects.exists()


def test_a_first_secretarys_discipline_issue_becomes_a_serious_problem(world, personas,
                                                                      secretary):
    check = _check(secretary, personas["org_department"], discipline_issue=True,
                   raise_problem=True)

    assert check.secretary == secretary and check.cadre is None
    assert SeriousProblem.objects.get().kind.code == "cadres_nominal"


def test_the_org_department_can_raise_a_problem_in_a_submitted_category(
        world, personas, cadre, submitted_a):
    _check(cadre, personas["org_department"], nominal_only=True, raise_problem=True)

    assert SeriousProblem.objects.filter(source=FindingSource.ORG_DEPARTMENT).count() == 1


# Military inspection --------------------------------------------------------------------


def test_an_army_unit_is_inspected(world, personas):
    inspection = services.inspection_add(
        round=world["round"], unit=world["army"], actor=personas["military_inspector"],
        inspected_on=datetime.date(2018, 1, 8), inspectors="检查组", findings="工作扎实",
        report="")

    assert list(MilitaryInspection.objects.all()) == [inspection]
    assert AuditEntry.objects.filter(action="military.inspection.added").count() == 1


def test_a_ranked_unit_is_not_inspected_by_the_military(world, personas):
    with pytest.raises(services.ReviewError, match="军队和武警部队"):
        services.inspection_add(
            round=world["round"], unit=world["unit_a"], actor=personas["military_inspector"],
            inspected_on=datetime.date(2018, 1, 8), inspectors="检查组", findings="x",
            report="")
    assert not MilitaryInspection.objects.exists()


def test_an_army_unit_is_never_graded(world, reviewer):
    review = services.review_for(round=world["round"], unit=world["army"])

    with pytest.raises(services.ReviewError, match="不评定等次"):
        _save(review, reviewer, all_grades())
    assert not AreaGrade.objects.exists()
