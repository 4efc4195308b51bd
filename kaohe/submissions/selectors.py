"""Reads of reports, scoped to the user. Anything outside the scope answers 404."""

from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404

from kaohe.accounts.scope import CADRES, PROVINCIAL_REPORTS, SELF_REPORTS, Scope
from kaohe.directory.models import Pairing, Unit
from kaohe.lib.memo import per_request
from kaohe.rounds.models import Round
from kaohe.submissions.models import (
    FirstSecretary,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)
from kaohe.submissions.services.slots import ReportReads, self_report_gaps, self_report_slots

# Who reads which report or cadre: kaohe.accounts.scope. Reviewers see a report while it
# stands submitted, never a draft in progress (a returned report is back with its unit until
# it is submitted again); the organization department reads the cadres only.
_SUBMITTED = Q(status=ReportStatus.SUBMITTED)


def self_reports_visible_to(user, *, round):
    reports = SelfReport.objects.filter(round=round).select_related("unit", "unit__category")
    return Scope.of(user).filter(reports, SELF_REPORTS, handed_over=_SUBMITTED)


def get_self_report_for_user(user, pk, *, round) -> SelfReport:
    try:
        report = self_reports_visible_to(user, round=round).get(pk=pk)
    except SelfReport.DoesNotExist:
        raise Http404 from None
    if isinstance(round, Round):
        report.round = round  # the round it was found in: not read again
    return report


def provincial_reports_visible_to(user, *, round):
    reports = ProvincialReport.objects.filter(round=round).select_related(
        "unit", "unit__category", "province"
    )
    return Scope.of(user).filter(reports, PROVINCIAL_REPORTS, province="province",
                                 handed_over=_SUBMITTED)


def get_provincial_report_for_user(user, pk, *, round) -> ProvincialReport:
    try:
        report = provincial_reports_visible_to(user, round=round).get(pk=pk)
    except ProvincialReport.DoesNotExist:
        raise Http404 from None
    if isinstance(round, Round):
        report.round = round  # the round it was found in: not read again
    return report


@per_request
def provincial_report_counts(round_, province, units=None) -> tuple[int, int]:
    """(submitted, expected): the province's summary reports on the active units (of
    `units`, by default all) working in it this round, one per unit (its home page's
    reminder and progress both ask)."""
    counts = (Unit.objects.all() if units is None else units).filter(
        active=True,
        pk__in=Pairing.objects.filter(round=round_, county__province=province).values("unit"),
    ).aggregate(expected=Count("pk"), submitted=Count("pk", filter=Exists(
        ProvincialReport.objects.filter(round=round_, province=province, unit=OuterRef("pk"),
                                        status=ReportStatus.SUBMITTED))))
    return counts["submitted"], counts["expected"]


def cadres_visible_to(user, *, round):
    cadres = SecondedCadre.objects.filter(round=round).select_related("unit", "county")
    secretaries = FirstSecretary.objects.filter(round=round).select_related("unit", "county")
    scope = Scope.of(user)
    return scope.filter(cadres, CADRES), scope.filter(secretaries, CADRES)


def late_self_reports(round, units):
    """Units whose self-report is not submitted (missing or still a draft)."""
    submitted = SelfReport.objects.filter(round=round, status=ReportStatus.SUBMITTED)
    return units.filter(active=True).exclude(pk__in=submitted.values("unit_id"))


def self_report_sections(report):
    """The report's areas with their slots, answers and attached evidence, for the page."""
    slots = self_report_slots(report)
    read = ReportReads.of(report, attachments=report.attachments.select_related(
        "evidence", "requirement"))
    answers = read.answers
    attached = defaultdict(list)
    for att in read.attachments:
        attached[(att.indicator_id, att.county_id, att.requirement_id)].append(att)
    gaps = self_report_gaps(report, slots, read=read)
    missing = {(g.slot.key, g.requirement.pk if g.requirement else None) for g in gaps
               if g.refined_item is None}
    # The lead department's refined items (kaohe.launch), shown once under their indicator.
    refined = dict(read.refined)
    refined_texts = read.refined_texts
    refined_missing = {g.refined_item.pk for g in gaps if g.refined_item is not None}
    sections: list[dict[str, Any]] = []
    by_area: dict[int, dict[str, Any]] = {}
    for slot in slots:
        area = slot.indicator.area
        if area.pk not in by_area:
            by_area[area.pk] = {"area": area, "slots": []}
            sections.append(by_area[area.pk])
        county_id = slot.county.pk if slot.county else None
        requirements = [
            {"requirement": req,
             "attachments": attached[(slot.indicator.pk, county_id, req.pk)],
             "missing": (slot.key, req.pk) in missing}
            for req in slot.indicator.evidence_requirements.all()
        ]
        by_area[area.pk]["slots"].append({
            "slot": slot,
            "text": answers.get((slot.indicator.pk, county_id), ""),
            "text_missing": (slot.key, None) in missing,
            "requirements": requirements,
            "other": attached[(slot.indicator.pk, county_id, None)],
            "refined": [
                {"item": item, "text": refined_texts.get(item.pk, ""),
                 "missing": item.pk in refined_missing}
                for item in refined.pop(slot.indicator.pk, [])
            ],
        })
    return sections, gaps
