"""Workflow steps of the submissions: save, attach, submit, return, extend.

Each service owns its transaction and audit entry. Saves carry the revision the user
started from; a save based on an older revision is refused as a conflict, so two people
editing the same report never overwrite each other silently.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import County
from kaohe.launch import selectors as launch_selectors
from kaohe.launch import services as launch_services
from kaohe.lib import clock
from kaohe.lib.errors import ServiceError
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Indicator, Source
from kaohe.submissions import deadlines
from kaohe.submissions.models import (
    DEEP_POVERTY_FIELDS,
    CountyOutcome,
    EvidenceAttachment,
    Extension,
    FindingKind,
    FirstSecretary,
    ProvincialAttachment,
    ProvincialAttachmentKind,
    ProvincialFinding,
    ProvincialReport,
    ReportStatus,
    ReportVersion,
    SecondedCadre,
    SelfReport,
    SelfReportAnswer,
)

MAX_ANSWER_CHARS = 20_000


class SubmissionError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


class ConflictError(SubmissionError):
    pass


class ClosedError(SubmissionError):
    pass


class LockedError(SubmissionError):
    pass


@dataclass(frozen=True)
class Slot:
    """One place in a self-report that needs an answer: an indicator, maybe for one county."""

    indicator: Indicator
    county: County | None

    @property
    def key(self) -> str:
        return f"{self.indicator.pk}:{self.county.pk if self.county else ''}"


@dataclass(frozen=True)
class Gap:
    slot: Slot
    requirement: object | None  # EvidenceRequirement, or None for the missing text
    # A lead department's refined item (kaohe.launch) the unit has not answered.
    refined_item: object | None = None

    def __str__(self):
        where = f"指标{self.slot.indicator.number}"
        if self.slot.county:
            where += f"（{self.slot.county.name}）"
        if self.refined_item is not None:
            return _("%(where)s：未填写“%(item)s”") % {"where": where,
                                                      "item": self.refined_item.name}
        if self.requirement is None:
            return _("%(where)s：未填写工作情况") % {"where": where}
        return _("%(where)s：缺少“%(req)s”") % {"where": where, "req": self.requirement.name}

    def as_dict(self) -> dict:
        data = {
            "indicator": self.slot.indicator.number,
            "county": self.slot.county.code if self.slot.county else None,
            "requirement": self.requirement.name if self.requirement else None,
            "text": str(self),
        }
        if self.refined_item is not None:
            data["refined_item"] = self.refined_item.name
        return data


def self_report_slots(report: SelfReport) -> list[Slot]:
    """The indicators this unit answers, per paired county where the indicator says so.

    Indicators that apply only to deep-poverty areas are asked only for such counties.
    """
    counties = [
        p.county for p in report.unit.pairings.filter(round=report.round)
        .select_related("county", "county__province")
    ]
    indicators = report.round.indicators.select_related("area").prefetch_related(
        "evidence_requirements", "items"
    )
    slots = []
    for indicator in indicators:
        if indicator.per_county or indicator.deep_poverty_only:
            for county in counties:
                if indicator.deep_poverty_only and not county.deep_poverty:
                    continue
                slots.append(Slot(indicator, county))
        else:
            slots.append(Slot(indicator, None))
    return slots


def self_report_gaps(report: SelfReport, slots: list[Slot] | None = None) -> list[Gap]:
    """What the unit still owes against the evidence basis of the indicators it reports.

    Indicators whose data the county provides (effectiveness, satisfaction) may be
    described but are not required of the unit.
    """
    slots = slots if slots is not None else self_report_slots(report)
    answered = {
        (a.indicator_id, a.county_id)
        for a in report.answers.all() if a.text.strip()
    }
    attached = {
        (a.indicator_id, a.county_id, a.requirement_id) for a in report.attachments.all()
    }
    refined = launch_selectors.refined_items_by_indicator(report)
    refined_answered = {pk for pk, text in
                        launch_selectors.refined_answers_for_report(report).items()
                        if text.strip()}
    gaps = []
    for slot in slots:
        if slot.indicator.source != Source.UNIT:
            continue
        county_id = slot.county.pk if slot.county else None
        if (slot.indicator.pk, county_id) not in answered:
            gaps.append(Gap(slot, None))
        for requirement in slot.indicator.evidence_requirements.all():
            if (slot.indicator.pk, county_id, requirement.pk) not in attached:
                gaps.append(Gap(slot, requirement))
        # Refined items are answered once per indicator, not per county.
        gaps.extend(Gap(slot, None, item) for item in refined.pop(slot.indicator.pk, [])
                    if item.pk not in refined_answered)
    return gaps


def _self_report_step(report):
    return report.round.steps.get(code="self_report")


def _check_editable(report: SelfReport, *, revision: int | None):
    if not report.is_editable:
        raise LockedError(_("自评报告已提交并锁定；如需修改，请联系牵头部门退回。"))
    if not deadlines.is_open(_self_report_step(report), unit=report.unit):
        raise ClosedError(_("自评报告报送已截止；如需延期，请联系国务院扶贫办。"))
    if revision is not None and revision != report.revision:
        raise ConflictError(_("该报告已被他人修改，请刷新页面后在最新内容上修改。"))


def self_report_for(*, round, unit) -> SelfReport:
    report, _created = SelfReport.objects.get_or_create(round=round, unit=unit)
    return report


@transaction.atomic
def self_report_save(*, report: SelfReport, actor, revision: int, summary: str | None = None,
                     answers: dict[str, str], refined: dict[int, str] | None = None
                     ) -> SelfReport:
    """Save the draft's texts; `answers` maps Slot.key to text, `refined` a refined item's
    id (kaohe.launch) to text. Unknown keys are refused."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    _check_editable(report, revision=revision)
    slots = {slot.key: slot for slot in self_report_slots(report)}
    unknown = set(answers) - set(slots)
    refined = refined or {}
    refined_items = {item.pk: item
                     for item in launch_selectors.refined_items_for_report(report)}
    if unknown or set(refined) - set(refined_items):
        raise SubmissionError(_("提交的内容包含本报告没有的指标。"))
    for key, text in answers.items():
        if len(text) > MAX_ANSWER_CHARS:
            raise SubmissionError(
                _("指标%(n)s的工作情况超过%(max)s字。")
                % {"n": slots[key].indicator.number, "max": MAX_ANSWER_CHARS}
            )
    for pk, text in refined.items():
        if len(text) > MAX_ANSWER_CHARS:
            raise SubmissionError(_("“%(item)s”的工作情况超过%(max)s字。")
                                  % {"item": refined_items[pk].name, "max": MAX_ANSWER_CHARS})
    existing = {(a.indicator_id, a.county_id): a for a in report.answers.all()}
    changed = []
    for key, text in answers.items():
        slot = slots[key]
        county_id = slot.county.pk if slot.county else None
        answer = existing.get((slot.indicator.pk, county_id))
        if answer is None:
            if text.strip():
                SelfReportAnswer.objects.create(report=report, indicator=slot.indicator,
                                                county=slot.county, text=text)
                changed.append(key)
        elif answer.text != text:
            answer.text = text
            answer.save(update_fields=["text"])
            changed.append(key)
    changed += launch_services.refined_answers_apply(report=report, items=refined_items,
                                                     texts=refined)
    if summary is not None and summary != report.summary:
        report.summary = summary
        changed.append("summary")
    report.revision += 1
    report.save(update_fields=["summary", "revision", "updated_at"])
    log_action("self_report.saved", actor=actor, target=report, data={"changed": changed})
    return report


@transaction.atomic
def self_report_attach(*, report: SelfReport, actor, indicator, requirement, county,
                       evidence) -> EvidenceAttachment:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    _check_editable(report, revision=None)
    if evidence.unit_id != report.unit_id:
        raise SubmissionError(_("只能附上本单位上传的材料。"))
    if indicator.round_id != report.round_id:
        raise SubmissionError(_("指标不属于本年度考核。"))
    if requirement is not None and requirement.indicator_id != indicator.pk:
        raise SubmissionError(_("证明材料类别与指标不符。"))
    if county is not None and not report.unit.pairings.filter(round=report.round,
                                                              county=county).exists():
        raise SubmissionError(_("该县不是本单位的定点扶贫县。"))
    slot = Slot(indicator, county)
    if slot.key not in {s.key for s in self_report_slots(report)}:
        raise SubmissionError(_("本报告没有这一指标（或该县不适用此指标）。"))
    attachment, _created = EvidenceAttachment.objects.get_or_create(
        report=report, indicator=indicator, requirement=requirement, county=county,
        evidence=evidence,
    )
    report.revision += 1
    report.save(update_fields=["revision", "updated_at"])
    log_action("self_report.evidence_attached", actor=actor, target=report,
               data={"indicator": indicator.number, "evidence": str(evidence.pk),
                     "requirement": requirement.name if requirement else None})
    return attachment


@transaction.atomic
def self_report_add_link(*, report: SelfReport, actor, indicator, requirement, county,
                         url: str, title: str) -> EvidenceAttachment:
    """Add a link (a news report, another page) as the unit's evidence and attach it, in
    one act: a refused attach leaves no link behind. A bad link raises the evidence
    service's ValidationError, a refused attach a SubmissionError."""
    from kaohe.evidence.services import evidence_add_link

    evidence = evidence_add_link(round=report.round, owner=report.unit, url=url, title=title,
                                 actor=actor)
    return self_report_attach(report=report, actor=actor, indicator=indicator,
                              requirement=requirement, county=county, evidence=evidence)


@transaction.atomic
def self_report_detach(*, report: SelfReport, actor, attachment: EvidenceAttachment) -> None:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    _check_editable(report, revision=None)
    if attachment.report_id != report.pk:
        raise SubmissionError(_("材料不属于本报告。"))
    attachment.delete()
    report.revision += 1
    report.save(update_fields=["revision", "updated_at"])
    log_action("self_report.evidence_detached", actor=actor, target=report,
               data={"evidence": str(attachment.evidence_id)})


class GapsNotConfirmed(SubmissionError):
    def __init__(self, gaps):
        super().__init__(_("仍有%(n)s项材料未提供，请确认后再提交。") % {"n": len(gaps)})
        self.gaps = gaps


def self_report_snapshot(report: SelfReport) -> dict:
    return {
        "summary": report.summary,
        "answers": [
            {"indicator": a.indicator.number, "county": a.county.code if a.county else None,
             "text": a.text}
            for a in report.answers.select_related("indicator", "county")
            .order_by("indicator__number", "county__code")
        ],
        "refined": [
            {"item": a.refined_item.item.code, "name": a.refined_item.name, "text": a.text}
            for a in report.refined_answers.select_related("refined_item__item")
            .order_by("refined_item__item__order", "refined_item__order", "refined_item_id")
        ],
        "evidence": [
            {"indicator": a.indicator.number, "county": a.county.code if a.county else None,
             "requirement": a.requirement.name if a.requirement else None,
             "evidence": str(a.evidence_id), "name": a.evidence.original_name,
             "sha256": a.evidence.sha256}
            for a in report.attachments.select_related("indicator", "county", "requirement",
                                                       "evidence")
        ],
        "gaps": report.gaps,
    }


@transaction.atomic
def self_report_submit(*, report: SelfReport, actor, revision: int,
                       confirm_gaps: bool = False) -> SelfReport:
    """Lock the report and keep a version. Submitting the same revision twice is a no-op."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.SUBMITTED and report.revision == revision:
        return report  # a double click or a replayed request
    _check_editable(report, revision=revision)
    gaps = self_report_gaps(report)
    if gaps and not confirm_gaps:
        raise GapsNotConfirmed(gaps)
    report.gaps = [gap.as_dict() for gap in gaps]
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = clock.now()
    report.submitted_by = actor
    report.returned_reason = ""
    report.submitted_late, report.late_extension = deadlines.late_mark(
        _self_report_step(report), unit=report.unit)
    report.save(update_fields=["gaps", "status", "submitted_at", "submitted_by",
                               "returned_reason", "submitted_late", "late_extension",
                               "updated_at"])
    number = report.versions.count() + 1
    ReportVersion.objects.create(self_report=report, number=number,
                                 content=self_report_snapshot(report),
                                 submitted_at=report.submitted_at, submitted_by=actor)
    log_action("self_report.submitted", actor=actor, target=report,
               data={"version": number, "gaps": len(gaps)})
    return report


@transaction.atomic
def self_report_return(*, report: SelfReport, actor, reason: str) -> SelfReport:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    if report.status != ReportStatus.SUBMITTED:
        raise SubmissionError(_("只能退回已提交的自评报告。"))
    if not reason.strip():
        raise SubmissionError(_("请填写退回原因。"))
    report.status = ReportStatus.RETURNED
    report.returned_reason = reason
    report.revision += 1
    report.save(update_fields=["status", "returned_reason", "revision", "updated_at"])
    log_action("self_report.returned", actor=actor, target=report, data={"reason": reason})
    from kaohe.notifications import events

    events.self_report_returned(report=report)
    return report


# Provincial reports --------------------------------------------------------------------


def provincial_report_for(*, round, province, unit) -> ProvincialReport:
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


def provincial_closed_message(step, province) -> str:
    """Why a province's forms are closed: since when, and who grants extensions."""
    return _("省级总结报告已于%(day)s截止报送；如需延期，请联系国务院扶贫办。") % {
        "day": deadlines.deadline_for(step, province=province).strftime("%Y-%m-%d")}


def _check_provincial_open(round, province):
    step = round.steps.get(code="provincial_report")
    if not deadlines.is_open(step, province=province):
        raise ClosedError(provincial_closed_message(step, province))


@transaction.atomic
def provincial_report_start(*, round, province, unit, actor) -> ProvincialReport:
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


def _check_provincial_editable(report: ProvincialReport, *, revision: int | None):
    if not report.is_editable:
        raise LockedError(_("省级总结报告已报送并锁定。"))
    _check_provincial_open(report.round, report.province)
    if revision is not None and revision != report.revision:
        raise ConflictError(_("该报告已被他人修改，请刷新页面后在最新内容上修改。"))


_REPORT_FIELDS = ["work_text", "recommended_grade", "recommendation_reason", "approved_on",
                  "approval_reference"]
_OUTCOME_FIELDS = ["planned_exit", "actual_exit", "county_exited", "plan_met",
                   "satisfaction_unit", "satisfaction_cadres", "note", *DEEP_POVERTY_FIELDS]


def deep_poverty_indicator(round):
    """Indicator 2 of the plan (加大对深度贫困地区帮扶情况): the county-sourced indicator that
    applies to deep-poverty areas only. Its number and name come from the round's data."""
    return round.indicators.filter(source=Source.COUNTY, deep_poverty_only=True).first()


def _check_outcome_values(outcome: CountyOutcome, values: dict) -> None:
    """Every path (page, offline workbook, a hand-made POST) meets the model's bounds; a
    refusal names the county and the field. Indicator 2 is for deep-poverty counties only."""
    county = outcome.county
    for name, value in values.items():
        if name not in _OUTCOME_FIELDS:
            continue
        field = CountyOutcome._meta.get_field(name)
        if (name in DEEP_POVERTY_FIELDS and not county.deep_poverty
                and value not in (None, "")):
            raise SubmissionError(
                _("%(county)s不属于深度贫困地区，不填报“%(field)s”。")
                % {"county": county.name, "field": field.verbose_name})
        try:
            field.clean(value, outcome)
        except ValidationError as error:
            raise SubmissionError(
                _("%(county)s：%(field)s：%(error)s")
                % {"county": county.name, "field": field.verbose_name,
                   "error": "".join(error.messages)}) from None


@transaction.atomic
def provincial_report_save(*, report: ProvincialReport, actor, revision: int, fields: dict,
                           outcomes: dict[int, dict]) -> ProvincialReport:
    """Save the report's own fields and its county outcomes (keyed by county id)."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = ProvincialReport.objects.select_for_update().get(pk=report.pk)
    _check_provincial_editable(report, revision=revision)
    for name in _REPORT_FIELDS:
        if name in fields:
            setattr(report, name, fields[name])
    by_county = {o.county_id: o for o in report.outcomes.select_related("county")}
    unknown = set(outcomes) - set(by_county)
    if unknown:
        raise SubmissionError(_("提交的内容包含不属于本报告的县。"))
    for county_id, values in outcomes.items():
        _check_outcome_values(by_county[county_id], values)
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
    missing = []
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


def provincial_report_snapshot(report: ProvincialReport) -> dict:
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


def _json_value(value):
    """Decimals (the funds of indicator 2) are kept as text in the JSON snapshot."""
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def provincial_report_submit(*, report: ProvincialReport, actor,
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
def provincial_finding_add(*, report: ProvincialReport, actor, county, kind: str,
                           problem_kind, description: str) -> ProvincialFinding:
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
def provincial_attach(*, report: ProvincialReport, actor, kind: str, county,
                      evidence) -> ProvincialAttachment:
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
def provincial_detach(*, report: ProvincialReport, actor,
                      attachment: ProvincialAttachment) -> None:
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = ProvincialReport.objects.select_for_update().get(pk=report.pk)
    _check_provincial_editable(report, revision=None)
    if attachment.report_id != report.pk:
        raise SubmissionError(_("材料不属于本报告。"))
    attachment.delete()
    report.revision += 1
    report.save(update_fields=["revision", "updated_at"])
    log_action("provincial_report.evidence_detached", actor=actor, target=report,
               data={"kind": attachment.kind, "evidence": str(attachment.evidence_id)})


# Deadlines -----------------------------------------------------------------------------


@transaction.atomic
def extension_grant(*, step, actor, until, reason: str, unit=None, province=None,
                    lead_department=None) -> Extension:
    ensure_round_writable(step.round_id, error=SubmissionError)
    parties = {"unit": unit, "province": province, "lead_department": lead_department}
    given = [name for name, value in parties.items() if value is not None]
    if len(given) != 1:
        raise SubmissionError(_("请指定一个单位、一个省份或一个牵头部门。"))
    if given[0] != extension_party(step):
        raise SubmissionError(_("“%(step)s”不能为该对象延期。") % {"step": step.name})
    if until <= step.due:
        raise SubmissionError(_("延期日期应晚于原定完成时限。"))
    if not reason.strip():
        raise SubmissionError(_("请填写延期原因。"))
    extension = Extension.objects.create(step=step, until=until, reason=reason,
                                         granted_by=actor, **parties)
    log_action("deadline.extended", actor=actor, target=extension,
               data={"step": step.code, "party": str(extension.party),
                     "until": until.isoformat(), "reason": reason})
    return extension


def extension_party(step) -> str | None:
    """Who a step's extension is for: "unit", "province" or "lead_department"; None when
    the step closes nothing for anyone (the office's own steps, the leading group's).
    Step 五 (the working group's) is extended for a lead department whose results were
    returned: it is the deadline of their resubmission."""
    if step.code == "deliberation":
        return "lead_department"
    return {"unit": "unit", "province": "province",
            "lead_reviewer": "lead_department"}.get(step.actor)


# Cadres --------------------------------------------------------------------------------


def _check_paired(*, round, unit, county):
    if not unit.pairings.filter(round=round, county=county).exists():
        raise SubmissionError(_("该县不是本单位的定点扶贫县。"))


def _create_once(model, **fields):
    """Create a cadre or first secretary unless the same person is registered already (the
    natural key; two tabs or two requests at once give one record and a clear refusal)."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        raise ConflictError(_("%(name)s已登记，不能重复登记。")
                            % {"name": fields.get("name", "")}) from None


@transaction.atomic
def cadre_add(*, round, unit, actor, **fields) -> SecondedCadre:
    ensure_round_writable(round, error=SubmissionError)
    _check_cadres_open(round=round, unit=unit)
    _check_paired(round=round, unit=unit, county=fields["county"])
    cadre = _create_once(SecondedCadre, round=round, unit=unit, **fields)
    log_action("cadre.added", actor=actor, target=cadre,
               data={"county": cadre.county.code, "post": cadre.post})
    return cadre


@transaction.atomic
def first_secretary_add(*, round, unit, actor, **fields) -> FirstSecretary:
    ensure_round_writable(round, error=SubmissionError)
    _check_cadres_open(round=round, unit=unit)
    _check_paired(round=round, unit=unit, county=fields["county"])
    secretary = _create_once(FirstSecretary, round=round, unit=unit, **fields)
    log_action("first_secretary.added", actor=actor, target=secretary,
               data={"county": secretary.county.code, "village": secretary.village})
    return secretary


def cadres_open(*, round, unit) -> bool:
    """Cadres are recorded with the self-report: until its deadline (or the unit's extension)."""
    return deadlines.is_open(round.steps.get(code="self_report"), unit=unit)


def _check_cadres_open(*, round, unit):
    if not cadres_open(round=round, unit=unit):
        raise ClosedError(_("挂职干部和第一书记登记已截止（随自评报告报送）；"
                            "如需延期，请联系国务院扶贫办。"))


def _check_own_record(record, actor):
    if actor.unit_id is None or actor.unit_id != record.unit_id:
        raise SubmissionError(_("只能处理本单位登记的挂职干部和第一书记。"))


def cadre_lock_reason(record, *, report_submitted: bool | None = None,
                      checked: bool | None = None) -> str:
    """Why the unit may no longer delete the record ("" while it still may).

    A record is relied on once the unit's self-report stands submitted (the lead department
    reviews it) or once the organization department has checked it; from then on the unit
    only withdraws it, with a reason the department sees. Pages pass what they already know
    (`report_submitted`, `checked`) to keep their queries constant."""
    if record.withdrawn_at is not None:
        return _("该记录已撤回")
    if report_submitted is None:
        report_submitted = SelfReport.objects.filter(
            round_id=record.round_id, unit_id=record.unit_id,
            status=ReportStatus.SUBMITTED).exists()
    if report_submitted:
        return _("本单位自评报告已提交")
    if checked is None:
        from kaohe.reviews.models import CadreCheck

        field = "cadre" if isinstance(record, SecondedCadre) else "secretary"
        checked = CadreCheck.objects.filter(**{field: record.pk}).exists()
    if checked:
        return _("中央组织部已核查")
    return ""


def cadre_is_locked(record) -> bool:
    return bool(cadre_lock_reason(record))


@transaction.atomic
def cadre_remove(*, record, actor) -> None:
    """Remove a seconded cadre or first secretary the unit recorded by mistake: only before
    the deadline, and only while nobody relies on it (see cadre_lock_reason)."""
    ensure_round_writable(record.round_id, error=SubmissionError)
    # Row locks against a submission or a check landing between the test and the delete.
    list(SelfReport.objects.select_for_update().filter(round_id=record.round_id,
                                                       unit_id=record.unit_id))
    record = type(record).objects.select_for_update().get(pk=record.pk)
    _check_own_record(record, actor)
    reason = cadre_lock_reason(record)
    if reason:
        raise LockedError(
            _("%(reason)s，不能删除；如该同志已不在岗或登记有误，请填写原因撤回，"
              "撤回记录中央组织部可见。") % {"reason": reason})
    _check_cadres_open(round=record.round, unit=record.unit)
    log_action(f"{record._meta.model_name}.removed", actor=actor, target=record)
    record.delete()


@transaction.atomic
def cadre_withdraw(*, record, actor, reason: str):
    """Withdraw a seconded cadre or first secretary: the record stays, marked 已撤回 with who,
    why and when, for the organization department and the lead department to see. Allowed
    after the deadline too, as it erases nothing."""
    ensure_round_writable(record.round_id, error=SubmissionError)
    record = type(record).objects.select_for_update().get(pk=record.pk)
    _check_own_record(record, actor)
    reason = record.withdraw(actor=actor, reason=reason, error=SubmissionError)
    log_action(f"{record._meta.model_name}.withdrawn", actor=actor, target=record,
               data={"reason": reason})
    return record
