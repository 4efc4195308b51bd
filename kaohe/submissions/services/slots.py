"""What a self-report asks of its unit: the slots (an indicator, per paired county where the
indicator says so) and the gaps (a missing text, a missing piece of evidence, an unanswered
refined item of the lead department) measured against them. Reads only; the pages, the
offline workbook, the API and the submission itself all count gaps here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from kaohe.directory.models import County
from kaohe.launch import selectors as launch_selectors
from kaohe.launch.models import RefinedItem
from kaohe.rounds.models import EvidenceRequirement, Indicator, Source
from kaohe.submissions.models import SelfReport


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
    requirement: EvidenceRequirement | None  # None for the missing text
    # A lead department's refined item (kaohe.launch) the unit has not answered.
    refined_item: RefinedItem | None = None

    def __str__(self) -> str:
        where = f"指标{self.slot.indicator.number}"
        if self.slot.county:
            where += f"（{self.slot.county.name}）"
        if self.refined_item is not None:
            return _("%(where)s：未填写“%(item)s”") % {"where": where,
                                                      "item": self.refined_item.name}
        if self.requirement is None:
            return _("%(where)s：未填写工作情况") % {"where": where}
        return _("%(where)s：缺少“%(req)s”") % {"where": where, "req": self.requirement.name}

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
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
    slots: list[Slot] = []
    for indicator in indicators:
        if indicator.per_county or indicator.deep_poverty_only:
            for county in counties:
                if indicator.deep_poverty_only and not county.deep_poverty:
                    continue
                slots.append(Slot(indicator, county))
        else:
            slots.append(Slot(indicator, None))
    return slots


@dataclass
class ReportReads:
    """What a self-report's page and its gaps both read of the report, read once."""

    answers: dict[tuple[int, int | None], str]
    attachments: list
    refined: dict[int, list]
    refined_texts: dict[int, str]

    @classmethod
    def of(cls, report: SelfReport, *, attachments=None) -> ReportReads:
        return cls(
            answers={(a.indicator_id, a.county_id): a.text for a in report.answers.all()},
            attachments=list(attachments if attachments is not None
                             else report.attachments.all()),
            refined=launch_selectors.refined_items_by_indicator(report),
            refined_texts=launch_selectors.refined_answers_for_report(report),
        )


def self_report_gaps(report: SelfReport, slots: list[Slot] | None = None, *,
                     read: ReportReads | None = None) -> list[Gap]:
    """What the unit still owes against the evidence basis of the indicators it reports.

    Indicators whose data the county provides (effectiveness, satisfaction) may be
    described but are not required of the unit. ``read``: the report's answers, evidence
    and refined items when the caller has read them already (the report's page).
    """
    slots = slots if slots is not None else self_report_slots(report)
    read = read if read is not None else ReportReads.of(report)
    answered = {key for key, text in read.answers.items() if text.strip()}
    attached = {(a.indicator_id, a.county_id, a.requirement_id) for a in read.attachments}
    refined = dict(read.refined)  # popped below, an indicator at a time
    refined_answered = {pk for pk, text in read.refined_texts.items() if text.strip()}
    gaps: list[Gap] = []
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
