"""The provincial summary report (step 3b) a province writes on each central unit paired
with its counties: start, save its fields and county outcomes, check what the plan requires,
submit with a version kept, record findings, attach evidence and the approval document.
Each step owns its transaction and audit entry and honours the province's deadline.
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import User
from kaohe.audit.services import log_action
from kaohe.directory.models import County, Province, Unit
from kaohe.evidence.models import Evidence
from kaohe.lib import clock
from kaohe.lib.errors import refuse_longer
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Indicator, Round, SeriousProblemKind, Source, Step
from kaohe.submissions import deadlines
from kaohe.submissions.models import (
    DEEP_POVERTY_FIELDS,
    CountyOutcome,
    FindingKind,
    ProvincialAttachment,
    ProvincialAttachmentKind,
    ProvincialFinding,
    ProvincialReport,
    ReportStatus,
    ReportVersion,
)
from kaohe.submissions.services.attachments import remove_attachment
from kaohe.submissions.services.errors import (
    ClosedError,
    ConflictError,
    LockedError,
    SubmissionError,
)


def provincial_report_for(*, round: Round, province: Province, unit: Unit) -> ProvincialReport:
    report, _created = ProvincialReport.objects.get_or_create(round=round, province=province,
                                                              unit=unit)
    counties = County.objects.filter(pairings__round=round, pairings__unit=unit,
                                     province=province)
    have = set(report.outcomes.values_list("county_id", flat=True))
    CountyOutcome.objects.bulk_create(
        CountyOutcome(report=report, county=county) for county in counties
        if county.pk not in have
    )
    return report


def provincial_closed_message(step: Step, province: Province) -> str:
    """Why a province's forms are closed: since when, and who grants extensions."""
    return _("省级总结报告已于%(day)s截止报送；如需延期，请联系国务院扶贫办。") % {
        "day": deadlines.deadline_for(step, province=province).strftime("%Y-%m-%d")}


def _check_provincial_open(round: Round, province: Province) -> None:
    from kaohe.grading.services import results_final

    step = round.steps.get(code="provincial_report")
    if not deadlines.is_open(step, province=province):
        raise ClosedError(provincial_closed_message(step, province))
    if results_final(round):
        # Even under an extension granted before: the results no longer change.
        raise ClosedError(_("本年度考核结果已反馈，省级总结报告不能再开始、修改或报送。"))


@transaction.atomic
def provincial_report_start(*, round: Round, province: Province, unit: Unit,
                            actor: User) -> ProvincialReport:
    """The province starts its report on a unit: only while its step is open (an existing
    report is returned as it is, to be read)."""
    existing = ProvincialReport.objects.filter(round=round, province=province, unit=unit).first()
    if existing is not None:
        return existing
    ensure_round_writable(round, error=SubmissionError)
    _check_provincial_open(round, province)
    report = provincial_report_for(round=round, province=province, unit=unit)
    log_action("provincial_report.started", actor=actor, target=report)
    return report


def _check_provincial_editable(report: ProvincialReport, *, revision: int | None) -> None:
    if not report.is_editable:
        raise LockedError(_("省级总结报告已报送并锁定。"))
    _check_provincial_open(report.round, report.province)
    if revision is not None and revision != report.revision:
        raise ConflictError(_("该报告已被他人修改，请刷新页面后在最新内容上修改。"))


_REPORT_FIELDS = ["work_text", "recommended_grade", "recommendation_reason", "approved_on",
                  "approval_reference"]
_OUTCOME_FIELDS = ["planned_exit", "actual_exit", "county_exited", "plan_met",
                   "satisfaction_unit", "satisfaction_cadres", "note", *DEEP_POVERTY_FIELDS]

# The longest texts of the report, in characters: the web form's limits (its max_length),
# held here for every path (page, offline workbook, API). The columns are unbounded text.
MAX_WORK_TEXT_CHARS = 20_000
MAX_REMARK_CHARS = 5_000
TEXT_LIMITS = {"work_text": MAX_WORK_TEXT_CHARS, "recommendation_reason": MAX_REMARK_CHARS,
               "note": MAX_REMARK_CHARS, "deep_support": MAX_REMARK_CHARS}


def deep_poverty_indicator(round: Round) -> Indicator | None:
    """Indicator 2 of the plan (加大对深度贫困地区帮扶情况): the county-sourced indicator that
    applies to deep-poverty areas only. Its number and name come from the round's data."""
    return round.indicators.filter(source=Source.COUNTY, deep_poverty_only=True).first()


def _check_report_values(report: ProvincialReport, values: dict[str, Any]) -> None:
    """The report's own fields meet the form's limits and the model's bounds on every path
    (a grade among the grades, the approval reference within its column); a refusal names
    the field."""
    for name, value in values.items():
        if name not in _REPORT_FIELDS:
            continue
        field = ProvincialReport._meta.get_field(name)
        assert isinstance(field, models.Field)  # the report's own columns, never a relation
        if name in TEXT_LIMITS and isinstance(value, str):
            refuse_longer(value, TEXT_LIMITS[name], field=str(field.verbose_name),
                          error=SubmissionError)
        choices = dict(field.flatchoices)
        if choices and value not in ("", *choices):
            raise SubmissionError(_("%(field)s应为%(choices)s之一。") % {
                "field": field.verbose_name, "choices": "、".join(map(str, choices.values()))})
        try:
            field.clean(value, report)
        except ValidationError as error:
            raise SubmissionError(_("%(field)s：%(error)s") % {
                "field": field.verbose_name, "error": "".join(error.messages)}) from None


def _check_outcome_values(outcome: CountyOutcome, values: dict[str, Any]) -> None:
    """Every path (page, offline workbook, a hand-made POST) meets the model's bounds; a
    refusal names the county and the field. Indicator 2 is for deep-poverty counties only."""
    county = outcome.county
    for name, value in values.items():
        if name not in _OUTCOME_FIELDS:
            continue
        field = CountyOutcome._meta.get_field(name)
        assert isinstance(field, models.Field)  # the outcome's own columns, never a relation
        if (name in DEEP_POVERTY_FIELDS and not county.deep_poverty
                and value not in (None, "")):
            raise SubmissionError(
                _("%(county)s不属于深度贫困地区，不填报“%(field)s”。")
                % {"county": county.name, "field": field.verbose_name})
        if name in TEXT_LIMITS and isinstance(value, str):
            refuse_longer(value, TEXT_LIMITS[name], error=SubmissionError,
                          field=_("%(county)s：%(field)s")
                          % {"county": county.name, "field": field.verbose_name})
        try:
            field.clean(value, outcome)
        except ValidationError as error:
            raise SubmissionError(
                _("%(county)s：%(field)s：%(error)s")
                % {"county": county.name, "field": field.verbose_name,
                   "error": "".join(error.messages)}) from None


@transaction.atomic
def provincial_report_save(*, report: ProvincialReport, actor: User, revision: int,
                           fields: dict[str, Any], outcomes: dict[int, dict[str, Any]]
                           ) -> ProvincialReport:
    """Save the report's own fields and its county outcomes (keyed by county id)."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = ProvincialReport.objects.select_for_update().get(pk=report.pk)
    _check_provincial_editable(report, revision=revision)
    _check_report_values(report, fields)
    by_county = {o.county_id: o for o in report.outcomes.select_related("county")}
    unknown = set(outcomes) - set(by_county)
    if unknown:
        raise SubmissionError(_("提交的内容包含不属于本报告的县。"))
    for county_id, values in outcomes.items():
        _check_outcome_values(by_county[county_id], values)
    # Everything checked: nothing is changed by a refused save.
    for name in _REPORT_FIELDS:
        if name in fields:
            setattr(report, name, fields[name])
    for county_id, values in outcomes.items():
        outcome = by_county[county_id]
        for name in _OUTCOME_FIELDS:
            if name in values:
                setattr(outcome, name, values[name])
        outcome.save()
    report.revision += 1
    report.save()
    log_action("provincial_report.saved", actor=actor, target=report,
               data={"fields": sorted(fields), "counties": len(outcomes)})
    return report


def provincial_report_missing(report: ProvincialReport) -> list[str]:
    """What must be filled before the report can go: the plan's required content."""
    missing: list[str] = []
    if not report.work_text.strip():
        missing.append(_("中央单位在本地开展定点扶贫情况"))
    if not report.recommended_grade:
        missing.append(_("评价等次意见"))
    if not report.approved_on:
        missing.append(_("省级领导小组审定日期"))
    if not report.attachments.filter(kind=ProvincialAttachmentKind.APPROVAL).exists():
        missing.append(_("省级扶贫开发领导小组审定文件"))
    deep = deep_poverty_indicator(report.round)
    for outcome in report.outcomes.select_related("county"):
        if deep is not None and outcome.county.deep_poverty and not outcome.deep_support.strip():
            missing.append(_("%(county)s：%(field)s（指标%(n)s）") % {
                "county": outcome.county.name, "n": deep.number,
                "field": CountyOutcome._meta.get_field("deep_support").verbose_name})
        if outcome.plan_met is None:
            missing.append(
                _("%(county)s：是否完成年度脱贫攻坚任务") % {"county": outcome.county.name}
            )
        if not outcome.satisfaction_unit or not outcome.satisfaction_cadres:
            missing.append(_("%(county)s：满意情况评价等次") % {"county": outcome.county.name})
    return missing


def provincial_report_snapshot(report: ProvincialReport) -> dict[str, object]:
    return {
        **{name: str(getattr(report, name) or "") for name in _REPORT_FIELDS},
        "outcomes": [
            {"county": o.county.code,
             **{n: _json_value(getattr(o, n)) for n in _OUTCOME_FIELDS}}
            for o in report.outcomes.select_related("county")
        ],
        "findings": [
            {"county": f.county.code, "kind": f.kind,
             "problem_kind": f.problem_kind.code if f.problem_kind else None,
             "description": f.description}
            for f in report.findings.select_related("county", "problem_kind")
        ],
        "attachments": [
            {"kind": a.kind, "county": a.county.code if a.county else None,
             "evidence": str(a.evidence_id), "name": a.evidence.original_name,
             "sha256": a.evidence.sha256}
            for a in report.attachments.select_related("county", "evidence")
        ],
    }


def _json_value(value: object) -> object:
    """Decimals (the funds of indicator 2) are kept as text in the JSON snapshot."""
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def provincial_report_submit(*, report: ProvincialReport, actor: User,
                             revision: int) -> ProvincialReport:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = ProvincialReport.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.SUBMITTED and report.revision == revision:
        return report
    _check_provincial_editable(report, revision=revision)
    missing = provincial_report_missing(report)
    if missing:
        raise SubmissionError(_("尚未填写：") + "；".join(missing))
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = clock.now()
    report.submitted_by = actor
    report.submitted_late, report.late_extension = deadlines.late_mark(
        report.round.steps.get(code="provincial_report"), province=report.province)
    report.save(update_fields=["status", "submitted_at", "submitted_by", "submitted_late",
                               "late_extension", "updated_at"])
    number = report.versions.count() + 1
    ReportVersion.objects.create(provincial_report=report, number=number,
                                 content=provincial_report_snapshot(report),
                                 submitted_at=report.submitted_at, submitted_by=actor)
    log_action("provincial_report.submitted", actor=actor, target=report,
               data={"version": number})
    return report


@transaction.atomic
def provincial_finding_add(*, report: ProvincialReport, actor: User, county: County,
                           kind: str, problem_kind: SeriousProblemKind | None,
                           description: str) -> ProvincialFinding:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = ProvincialReport.objects.select_for_update().get(pk=report.pk)
    _check_provincial_editable(report, revision=None)
    if not report.outcomes.filter(county=county).exists():
        raise SubmissionError(_("该县不是本单位在本省的定点扶贫县。"))
    if kind == FindingKind.SERIOUS_PROBLEM and problem_kind is None:
        raise SubmissionError(_("请选择突出问题类别。"))
    if not description.strip():
        raise SubmissionError(_("请填写情况说明。"))
    finding = ProvincialFinding.objects.create(
        report=report, county=county, kind=kind,
        problem_kind=problem_kind if kind == FindingKind.SERIOUS_PROBLEM else None,
        description=description,
    )
    report.revision += 1
    report.save(update_fields=["revision", "updated_at"])
    log_action("provincial_report.finding_added", actor=actor, target=report,
               data={"kind": kind, "county": county.code})
    return finding


@transaction.atomic
def provincial_attach(*, report: ProvincialReport, actor: User, kind: str,
                      county: County | None, evidence: Evidence) -> ProvincialAttachment:
    """Attach one of the province's files (uploaded by tus like a unit's evidence) as
    evidence (for a paired county or the whole report) or as the approval document."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = ProvincialReport.objects.select_for_update().get(pk=report.pk)
    _check_provincial_editable(report, revision=None)
    if kind not in ProvincialAttachmentKind.values:
        raise SubmissionError(_("请选择材料类别。"))
    if evidence.province_id != report.province_id or evidence.round_id != report.round_id:
        raise SubmissionError(_("只能附上本省本年度上传的材料。"))
    if kind == ProvincialAttachmentKind.APPROVAL and county is not None:
        raise SubmissionError(_("审定文件针对整份报告，不选择县。"))
    if county is not None and not report.outcomes.filter(county=county).exists():
        raise SubmissionError(_("该县不是本单位在本省的定点扶贫县。"))
    attachment, created = ProvincialAttachment.objects.get_or_create(
        report=report, evidence=evidence, defaults={"kind": kind, "county": county})
    if not created:
        raise SubmissionError(_("该材料已附在本报告中。"))
    report.revision += 1
    report.save(update_fields=["revision", "updated_at"])
    log_action("provincial_report.evidence_attached", actor=actor, target=report,
               data={"kind": kind, "county": county.code if county else None,
                     "evidence": str(evidence.pk)})
    return attachment


@transaction.atomic
def provincial_detach(*, report: ProvincialReport, actor: User,
                      attachment: ProvincialAttachment) -> None:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = ProvincialReport.objects.select_for_update().get(pk=report.pk)
    _check_provincial_editable(report, revision=None)
    remove_attachment(report=report, attachment=attachment)
    log_action("provincial_report.evidence_detached", actor=actor, target=report,
               data={"kind": attachment.kind, "evidence": str(attachment.evidence_id)})
