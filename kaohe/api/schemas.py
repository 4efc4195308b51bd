"""The API's request and response bodies (pydantic, through django-ninja).

Input fields that are left out keep their stored value; ``null`` clears a field that may
be empty. Bounds are those of the web forms, so the schema documents them; the forms and
services still check every value, as they do for the pages.
"""

import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict

from kaohe.submissions.models import (
    DEEP_CADRES_MAX,
    DEEP_FUNDS_MAX,
    DEEP_PROJECTS_MAX,
    PEOPLE_COUNT_MAX,
)
from kaohe.submissions.services.self_report import MAX_ANSWER_CHARS

# A grade a province gives (the two satisfaction grades, the recommended grade):
# 好, 较好, 一般, 较差; "" clears it.
GradeCode = Literal["good", "fairly_good", "average", "poor", ""]
ReportState = Literal["not_started", "draft", "submitted", "returned"]


def _storable(text: str) -> str:
    """Text the database can hold: no NUL character, no lone surrogate."""
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode") from None
    return text


# Text the database can store, of at most so many characters (a type per length, spelled
# out: a type checker takes no function call in an annotation).
_NO_NUL = r"^[^\x00]*$"
Code12 = Annotated[str, Field(max_length=12, pattern=_NO_NUL), AfterValidator(_storable)]
Code40 = Annotated[str, Field(max_length=40, pattern=_NO_NUL), AfterValidator(_storable)]
Text200 = Annotated[str, Field(max_length=200, pattern=_NO_NUL), AfterValidator(_storable)]
Text5000 = Annotated[str, Field(max_length=5000, pattern=_NO_NUL), AfterValidator(_storable)]
Text20000 = Annotated[str, Field(max_length=20000, pattern=_NO_NUL), AfterValidator(_storable)]
AnswerText = Annotated[str, Field(max_length=MAX_ANSWER_CHARS, pattern=_NO_NUL),
                       AfterValidator(_storable)]


class In(Schema):
    """A request body: a field the schema does not name is refused (a mistyped
    "planed_exit" must not be dropped silently)."""

    model_config = ConfigDict(extra="forbid")


class Error(Schema):
    """Every refusal: ``detail`` for people, ``code`` and ``field`` for programs."""

    detail: str
    code: str | None = Field(None, description=(
        "invalid（内容有误）、conflict（版本冲突）、locked（已提交锁定）、closed（已截止）、"
        "round_closed（年度考核已结束）、gaps_not_confirmed（缺少材料未确认）、not_found、"
        "unauthorized"))
    field: str | None = Field(None, description="出错的字段，如 outcomes[0].planned_exit")
    errors: list[dict] | None = None


class Organization(Schema):
    kind: Literal["unit", "province", "office"]
    code: str | None
    name: str


class Me(Schema):
    username: str
    role: str
    organization: Organization
    token: str = Field(description="令牌前缀")


# -- Provinces ------------------------------------------------------------------------------


class County(Schema):
    code: str
    name: str
    prefecture: str
    deep_poverty: bool


class ProvinceUnit(Schema):
    code: str
    name: str
    category: str
    counties: list[County]
    report_status: ReportState
    report_revision: int | None


class ProvinceCounty(County):
    exit_year: int | None
    three_areas: bool
    units: list[str] = Field(description="在本县定点扶贫的中央单位编码")


class Outcome(Schema):
    county: str
    county_name: str
    deep_poverty: bool
    planned_exit: int | None
    actual_exit: int | None
    county_exited: bool
    plan_met: bool | None
    satisfaction_unit: str
    satisfaction_cadres: str
    note: str
    deep_funds: str | None = Field(description="万元，两位小数；仅深度贫困县")
    deep_projects: int | None
    deep_cadres: int | None
    deep_support: str


class Finding(Schema):
    county: str
    kind: Literal["major_incident", "serious_problem"]
    problem_kind: str | None
    description: str


class ProvincialReport(Schema):
    year: int
    unit: str
    status: ReportState
    revision: int
    deadline: datetime.date
    is_open: bool
    submitted_at: datetime.datetime | None
    work_text: str
    recommended_grade: str
    recommendation_reason: str
    approved_on: datetime.date | None
    approval_reference: str
    outcomes: list[Outcome]
    findings: list[Finding]
    missing: list[str] = Field(description="报送前尚需填写的内容")


class OutcomeIn(In):
    county: Code12 = Field(description="县的行政区划代码")
    planned_exit: int | None = Field(None, ge=0, le=PEOPLE_COUNT_MAX)
    actual_exit: int | None = Field(None, ge=0, le=PEOPLE_COUNT_MAX)
    county_exited: bool | None = Field(None, description="当年摘帽")
    plan_met: bool | None = Field(None, description="完成年度脱贫攻坚任务")
    satisfaction_unit: GradeCode | None = None
    satisfaction_cadres: GradeCode | None = None
    note: Text5000 | None = None
    # Money as text, exact to the fen: "12.50" (万元); the form checks the upper bound.
    deep_funds: Annotated[str, Field(pattern=r"^[0-9]{1,7}(\.[0-9]{1,2})?$")] | None = Field(
        None, description=f"万元，至多两位小数，不超过 {DEEP_FUNDS_MAX}")
    deep_projects: int | None = Field(None, ge=0, le=DEEP_PROJECTS_MAX)
    deep_cadres: int | None = Field(None, ge=0, le=DEEP_CADRES_MAX)
    deep_support: Text5000 | None = None


class ProvincialReportIn(In):
    revision: int = Field(ge=0, le=2_000_000_000, description=(
        "读取报告时的 revision；报告已被他人修改时返回 409 conflict"))
    work_text: Text20000 | None = None
    recommended_grade: GradeCode | None = None
    recommendation_reason: Text5000 | None = None
    approved_on: datetime.date | None = None
    approval_reference: Text200 | None = None
    outcomes: list[OutcomeIn] = Field(default_factory=list, max_length=100)


class FindingIn(In):
    county: Code12
    kind: Literal["major_incident", "serious_problem"] = Field(
        description="major_incident 重大涉贫事件；serious_problem 突出问题")
    problem_kind: Code40 | None = Field(None, description="突出问题类别代码")
    description: Text5000


class RevisionIn(In):
    revision: int = Field(ge=0, le=2_000_000_000)


# -- Units ----------------------------------------------------------------------------------


class Answer(Schema):
    indicator: int
    indicator_name: str
    county: str | None
    county_name: str | None
    text: str
    evidence_requirements: list[str]


class Gap(Schema):
    indicator: int
    county: str | None
    requirement: str | None
    refined_item: str | None = None
    text: str


class UnitReport(Schema):
    year: int
    unit: str
    status: Literal["draft", "submitted", "returned"]
    revision: int
    deadline: datetime.date
    is_open: bool
    submitted_at: datetime.datetime | None
    returned_reason: str
    summary: str
    answers: list[Answer]
    gaps: list[Gap]


class AnswerIn(In):
    indicator: int = Field(ge=1, le=999, description="指标序号")
    county: Code12 | None = Field(None, description="按县考核的指标填县代码，否则为 null")
    text: AnswerText


class UnitReportIn(In):
    revision: int = Field(ge=0, le=2_000_000_000)
    summary: Text20000 | None = None
    answers: list[AnswerIn] = Field(default_factory=list, max_length=500)


class SubmitIn(RevisionIn):
    confirm_gaps: bool = Field(False, description="仍缺材料时确认提交")


class Result(Schema):
    year: int
    unit: str
    grade: str
    grade_label: str
    problems: str
    suggestions: str
    corrected: bool


# -- The office -----------------------------------------------------------------------------


class StepProgress(Schema):
    code: str
    number: str
    name: str
    due: datetime.date
    done: int | None
    total: int | None
    percent: int | None


class CategoryProgress(Schema):
    code: str
    name: str
    units: int
    submitted: int
    drafts: int
    not_started: int


class UnitProgress(Schema):
    code: str
    name: str
    category: str
    self_report_status: str | None
    provinces_expected: int
    provinces_received: int


class ProvinceProgress(Schema):
    code: str
    name: str
    reports_expected: int
    reports_submitted: int


class Progress(Schema):
    year: int
    steps: list[StepProgress]
    categories: list[CategoryProgress]
    units: list[UnitProgress]
    provinces: list[ProvinceProgress]
