"""Fixtures for the categorized-assessment tests: reviews, provincial data, a full category.

Plain helpers (not fixtures) are also used by tests/test_permissions.py to build the
objects its routes need; they must not depend on pytest fixtures.
"""

import datetime

import pytest
from django.utils import timezone

from kaohe.accounts.models import Role, User
from kaohe.directory.models import County, Pairing, Unit
from kaohe.lib import clock
from kaohe.reviews import services
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus, FindingSource
from kaohe.rounds.models import Grade, SeriousProblemKind
from kaohe.submissions.models import CountyOutcome, ProvincialReport, ReportStatus
from tests.conftest import make_user

AREA_CODES = ["effectiveness", "leadership", "cadres", "supervision", "satisfaction",
              "innovation"]
# Step 四 (the lead departments' review) closes on 2018-01-15: tests run on a day it is open
# unless they set their own date (tests of its deadline do).
REVIEW_DAY = "2018-01-10"


@pytest.fixture(autouse=True)
def _review_open(settings):
    settings.KAOHE_TODAY = REVIEW_DAY


@pytest.fixture
def reviewer(personas):
    """The lead reviewer of category A (中央直属机关工委)."""
    return personas["lead_reviewer"]


@pytest.fixture
def second_reviewer(personas, world):
    """Another member of the same lead department's team."""
    return make_user("lead_a2", Role.LEAD_REVIEWER, lead_department=world["lead_a"])


@pytest.fixture
def review_a(world):
    return services.review_for(round=world["round"], unit=world["unit_a"])


@pytest.fixture
def submission_a(world):
    return services.category_submission_for(round=world["round"],
                                             lead_department=world["lead_a"])


@pytest.fixture
def second_guizhou_county(round_2017):
    return County.objects.get(code="520204")  # 水城县, 贵州省


@pytest.fixture
def yunnan_deep_county(round_2017):
    return County.objects.get(code="533301")  # 泸水市, 云南省 (怒江州)


def all_grades(grade=Grade.FAIRLY_GOOD, reason="理由"):
    return {code: (grade, f"{code}：{reason}") for code in AREA_CODES}


def fresh(review):
    review.refresh_from_db()
    return review


def grade_all(review, actor, grade=Grade.FAIRLY_GOOD, reason="理由"):
    services.area_grades_save(review=review, actor=actor, revision=fresh(review).revision,
                              grades=all_grades(grade, reason))
    return fresh(review)


def write_sub_report(review, actor, text="内容"):
    return services.sub_report_save(
        review=review, actor=actor, revision=fresh(review).revision,
        basic_situation=f"基本情况：{text}", problems=f"问题：{text}",
        suggestions=f"建议：{text}")


def complete_review(round_, unit, actor, grade=Grade.FAIRLY_GOOD):
    review = services.review_for(round=round_, unit=unit)
    grade_all(review, actor, grade)
    write_sub_report(review, actor)
    return fresh(review)


def write_category_report(submission, actor, text="综合"):
    return services.category_report_save(submission=submission, actor=actor,
                                         overview=f"概况：{text}", problems=f"问题：{text}",
                                         suggestions=f"建议：{text}")


def provincial(round_, unit, province, outcomes, *, status=ReportStatus.SUBMITTED):
    """A provincial report on `unit` with {county: CountyOutcome fields}."""
    report = ProvincialReport.objects.create(
        round=round_, province=province, unit=unit, status=status,
        submitted_at=timezone.now() if status == ReportStatus.SUBMITTED else None)
    for county, fields in outcomes.items():
        CountyOutcome.objects.create(report=report, county=county, **fields)
    return report


def outcome(*, plan_met=True, planned=None, actual=None, exited=False, sat_unit="",
            sat_cadres=""):
    return {"plan_met": plan_met, "planned_exit": planned, "actual_exit": actual,
            "county_exited": exited, "satisfaction_unit": sat_unit,
            "satisfaction_cadres": sat_cadres}


# Objects for the permission matrix (tests/test_permissions.py) --------------------------


def _matrix_reviewer(unit):
    user, _created = User.objects.get_or_create(
        username=f"matrix-reviewer-{unit.category.lead_department.code}",
        defaults={"role": Role.LEAD_REVIEWER,
                  "lead_department": unit.category.lead_department})
    return user


def matrix_problem(world, unit):
    """A serious problem a lead reviewer recorded for the unit (while step 四 was open: the
    matrix runs on the real date, after the 2017 round's deadlines)."""
    round_ = world["round"]
    with clock.on(datetime.date.fromisoformat(REVIEW_DAY)):
        return services.serious_problem_add(
            round=round_, unit=unit, actor=_matrix_reviewer(unit),
            kind=round_.problem_kinds.get(code="neglect"), county=None,
            description="矩阵突出问题", source=FindingSource.REVIEWER)


def matrix_org_problem(world, unit):
    """A serious problem the organization department raised (中央组织部), for its withdrawal."""
    round_ = world["round"]
    org, _created = User.objects.get_or_create(username="matrix-org",
                                               defaults={"role": Role.ORG_DEPARTMENT})
    return services.serious_problem_add(
        round=round_, unit=unit, actor=org, kind=round_.problem_kinds.get(code="cadres_nominal"),
        county=None, description="矩阵挂名无实", source=FindingSource.ORG_DEPARTMENT)


def matrix_submitted_category(world, lead):
    """The lead department's category submission, marked submitted (for the return)."""
    submission = services.category_submission_for(round=world["round"], lead_department=lead)
    CategorySubmission.objects.filter(pk=submission.pk).update(
        status=CategorySubmissionStatus.SUBMITTED, submitted_at=timezone.now())
    return submission


def second_unit_a(world, code="A002", name="测试单位丙"):
    """Another unit of category A, paired with category A's county."""
    unit = Unit.objects.create(code=code, name=name, category=world["unit_a"].category)
    Pairing.objects.create(round=world["round"], unit=unit, county=world["county_a"])
    return unit



def problem_kind_pk(code, year=2017):
    return SeriousProblemKind.objects.get(round__year=year, code=code).pk
