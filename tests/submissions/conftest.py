"""Fixtures for the submissions tests: reports of the world's units, evidence, a full report.

The 2017 round closes self-reports and provincial reports on 2017-12-31, so every test
runs on a simulated 2017-12-15 unless it sets its own date (tests of deadlines do).
"""

import hashlib
import itertools

import pytest
from django.utils import timezone

from kaohe.accounts.models import Role, User
from kaohe.directory.models import County, Pairing, Unit
from kaohe.evidence.models import Evidence, EvidenceKind
from kaohe.rounds.models import Indicator, Source
from kaohe.submissions import services
from kaohe.submissions.models import (
    EvidenceAttachment,
    FirstSecretary,
    ProvincialAttachmentKind,
    ProvincialReport,
    ReportStatus,
    ReportVersion,
    SecondedCadre,
    SelfReport,
)

OPEN_DAY = "2017-12-15"
_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _submissions_open(settings):
    settings.KAOHE_TODAY = OPEN_DAY


@pytest.fixture
def deep_county(round_2017):
    """A county in the three areas (怒江州, 云南省): indicators 2 and 8 apply to it."""
    county = County.objects.get(code="533301")
    assert county.three_areas and not county.province_designated
    return county


@pytest.fixture
def second_guizhou_county(round_2017):
    return County.objects.get(code="520204")


@pytest.fixture
def two_counties(world, deep_county):
    """unit_a paired with an ordinary county (贵州) and a three-areas county (云南)."""
    assert not world["county_a"].deep_poverty
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=deep_county)
    return world


@pytest.fixture
def report_a(world):
    return services.self_report_for(round=world["round"], unit=world["unit_a"])


@pytest.fixture
def report_b(world):
    return services.self_report_for(round=world["round"], unit=world["unit_b"])


def make_evidence(*, unit=None, province=None, user, round, name=None, kind=EvidenceKind.FILE):
    n = next(_counter)
    content = f"evidence {n}".encode()
    return Evidence.objects.create(
        round=round, unit=unit, province=province, kind=kind, uploaded_by=user,
        original_name=name or f"材料{n}.pdf",
        storage_name="" if kind == EvidenceKind.LINK else f"{n}.pdf",
        size=0 if kind == EvidenceKind.LINK else len(content),
        sha256="" if kind == EvidenceKind.LINK else hashlib.sha256(content).hexdigest(),
        content_type="" if kind == EvidenceKind.LINK else "application/pdf",
        url="https://example.org/news/1" if kind == EvidenceKind.LINK else "",
    )


def indicator(round_, number):
    return round_.indicators.get(number=number)


def requirement(round_, number, name):
    return indicator(round_, number).evidence_requirements.get(name=name)


def slot_key(round_, number, county=None):
    return f"{indicator(round_, number).pk}:{county.pk if county else ''}"


def fill_completely(report, actor):
    """Write every unit-sourced text and attach evidence for every requirement: no gaps."""
    slots = [s for s in services.self_report_slots(report) if s.indicator.source == Source.UNIT]
    report.refresh_from_db()
    services.self_report_save(
        report=report, actor=actor, revision=report.revision,
        answers={s.key: f"指标{s.indicator.number}的工作情况" for s in slots},
    )
    for slot in slots:
        for req in slot.indicator.evidence_requirements.all():
            services.self_report_attach(
                report=report, actor=actor, indicator=slot.indicator, requirement=req,
                county=slot.county,
                evidence=make_evidence(unit=report.unit, user=actor, round=report.round),
            )
    report.refresh_from_db()
    return report


# Objects for the permission matrix (tests/test_permissions.py) --------------------------
# There the date is the real one, so the 2017 deadlines have passed: refused saves still
# answer with a redirect and a message, which is what the matrix checks.


class Deferred:
    """A form value looked up when the request is encoded, after the route's kwargs made it."""

    def __init__(self, lookup):
        self.lookup = lookup

    def __str__(self):
        return str(self.lookup())


def matrix_user(unit):
    user, _created = User.objects.get_or_create(
        username=f"matrix-{unit.code}", defaults={"role": Role.UNIT, "unit": unit})
    return user


def matrix_self_report(world, unit, *, submitted=True):
    """The unit's self-report; submitted once (version 1) unless a draft is asked for."""
    report = services.self_report_for(round=world["round"], unit=unit)
    if submitted and not report.versions.exists():
        user, now = matrix_user(unit), timezone.now()
        SelfReport.objects.filter(pk=report.pk).update(
            status=ReportStatus.SUBMITTED, submitted_at=now, submitted_by=user)
        ReportVersion.objects.create(
            self_report=report, number=1, submitted_at=now, submitted_by=user,
            content={"summary": "", "answers": [], "evidence": [], "gaps": []})
    return report


def matrix_evidence(world, unit):
    return make_evidence(unit=unit, user=matrix_user(unit), round=world["round"])


def matrix_attachment(world, unit):
    report = matrix_self_report(world, unit, submitted=False)
    return EvidenceAttachment.objects.create(
        report=report, indicator=indicator(world["round"], 4), requirement=None,
        evidence=matrix_evidence(world, unit))


def attach_approval(report, actor):
    """Attach the provincial leading group's approval document, which submission needs."""
    services.provincial_attach(
        report=report, actor=actor, kind=ProvincialAttachmentKind.APPROVAL, county=None,
        evidence=make_evidence(province=report.province, user=actor, round=report.round,
                               name="省扶贫开发领导小组审定文件.pdf"))
    report.refresh_from_db()
    return report


def matrix_provincial_report(world, unit, *, submitted=True):
    """The report on the unit by the province of its first county (贵州 for A, 云南 else)."""
    province = world["province_a"] if unit == world["unit_a"] else world["province_b"]
    report = services.provincial_report_for(round=world["round"], province=province, unit=unit)
    if submitted:
        ProvincialReport.objects.filter(pk=report.pk).update(
            status=ReportStatus.SUBMITTED, submitted_at=timezone.now())
    return report


def matrix_cadre(world, unit, kind):
    county = unit.pairings.first().county
    if kind == "cadre":
        return SecondedCadre.objects.create(round=world["round"], unit=unit, county=county,
                                            name="矩阵干部", post="副县长", start="2017-03-01")
    return FirstSecretary.objects.create(round=world["round"], unit=unit, county=county,
                                         village="某村", name="矩阵书记", start="2017-03-01")


def latest_evidence_pk():
    return Evidence.objects.latest("created_at").pk


def indicator_pk(number, year=2017):
    return Indicator.objects.get(round__year=year, number=number).pk


def county_pk(code):
    return County.objects.get(code=code).pk


def unit_pk(code):
    return Unit.objects.get(code=code).pk


def paired_county_pk(unit_code):
    return Pairing.objects.filter(unit__code=unit_code).order_by("county__code").first().county_id
