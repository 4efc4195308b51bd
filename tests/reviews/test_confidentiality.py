"""The lead departments give the assessed units no feedback (plan, step 4; security.md 9).

A lead reviewer grades unit A, writes its sub-report, records a problem and an incident,
verifies, notes an activity; the organization department raises a cadre problem; the
military inspects the army unit. Every text carries a marker. Then every page the units
and provinces can open is walked: no marker may appear, and their pages must be exactly
what they were before the review (so no grade, count or label of it leaks either).
"""

import datetime
import io
import re
import zipfile

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from kaohe.accounts.models import Role
from kaohe.reviews import services
from kaohe.reviews.models import (
    AreaGrade,
    CadreCheck,
    CategorySubmission,
    FindingSource,
    MajorIncident,
    MilitaryInspection,
    ReviewActivity,
    SeriousProblem,
    SubReport,
    Verification,
    VerificationStatus,
)
from kaohe.rounds.models import Grade
from kaohe.submissions.models import SecondedCadre
from tests.conftest import make_user
from tests.reviews.conftest import AREA_CODES, fresh, outcome, provincial
from tests.submissions.conftest import matrix_self_report
from tests.test_permissions import ROUTES

OUTSIDERS = ["unit", "unit_b", "province", "province_b"]
MARKERS = {
    "reason": "MARKER-REASON-123",
    "basic": "MARKER-SUB-BASIC-123",
    "problems": "MARKER-SUB-PROBLEMS-123",
    "suggestions": "MARKER-SUB-SUGGESTIONS-123",
    "problem": "MARKER-PROBLEM-123",
    "problem_evidence": "MARKER-PROBLEM-EVIDENCE-123",
    "incident": "MARKER-INCIDENT-123",
    "verification": "MARKER-VERIFY-123",
    "activity": "MARKER-ACTIVITY-123",
    "category": "MARKER-CATEGORY-123",
    "org_check": "MARKER-ORGCHECK-123",
    "military": "MARKER-MILITARY-123",
}
REVIEW_ROUTES = sorted(r for r in ROUTES if r.startswith("reviews:"))
GET_ROUTES = sorted(r for r, (method, *_rest) in ROUTES.items() if method == "get")


def _reviews_url_names():
    resolver = get_resolver()
    (_pattern, sub) = resolver.namespace_dict["reviews"]
    return {f"reviews:{p.name}" for p in sub.url_patterns if p.name}


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _url(route, world, persona):
    kwargs_fn = ROUTES[route][1]
    return reverse(route, kwargs=kwargs_fn(world, persona) if kwargs_fn else None)


def _text(response) -> str:
    """The body as text; Office files (zip) are unpacked so their XML is searched too."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"".join(archive.read(name) for name in archive.namelist())
    return body.decode("utf-8", errors="ignore")


_VOLATILE = re.compile(
    r'(csrfmiddlewaretoken" value="|csrf-token" content="|data-csrf="|nonce="'
    r'|once_token" value=")[^"]*')


def _normalized(html: str) -> str:
    return _VOLATILE.sub(r"\1", html)


def _prepare(world):
    """What exists before the review: unit A's submitted self-report, 贵州's report on it,
    a seconded cadre."""
    matrix_self_report(world, world["unit_a"])
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(exited=True, sat_unit=Grade.GOOD, sat_cadres=Grade.GOOD)})
    SecondedCadre.objects.create(round=world["round"], unit=world["unit_a"],
                                 county=world["county_a"], name="王五", post="副县长",
                                 start=datetime.date(2017, 3, 1))


def _review_everything(world, personas):
    """What the lead reviewer, the organization department and the military record."""
    round_, unit, reviewer = world["round"], world["unit_a"], personas["lead_reviewer"]
    review = services.review_for(round=round_, unit=unit)
    services.area_grades_save(
        review=review, actor=reviewer, revision=fresh(review).revision,
        grades={c: (Grade.POOR, f"{MARKERS['reason']} {c}") for c in AREA_CODES})
    services.sub_report_save(review=review, actor=reviewer, revision=fresh(review).revision,
                             basic_situation=MARKERS["basic"], problems=MARKERS["problems"],
                             suggestions=MARKERS["suggestions"])
    services.verification_set(review=review, actor=reviewer,
                              indicator=round_.indicators.get(number=4), county=None,
                              status=VerificationStatus.NOT_MATCHING,
                              note=MARKERS["verification"])
    services.activity_add(review=review, actor=reviewer, method="spot_check",
                          held_on=datetime.date(2018, 1, 5), people="考核组",
                          note=MARKERS["activity"])
    services.serious_problem_add(round=round_, unit=unit, actor=reviewer,
                                 kind=round_.problem_kinds.get(code="neglect"),
                                 county=world["county_a"], description=MARKERS["problem"],
                                 evidence_note=MARKERS["problem_evidence"],
                                 source=FindingSource.REVIEWER)
    services.major_incident_add(round=round_, unit=unit, actor=reviewer,
                                county=world["county_a"], description=MARKERS["incident"],
                                source=FindingSource.REVIEWER)
    submission = services.category_submission_for(round=round_,
                                                  lead_department=world["lead_a"])
    services.category_report_save(submission=submission, actor=reviewer,
                                  overview=MARKERS["category"], problems=MARKERS["category"],
                                  suggestions=MARKERS["category"])
    cadre = SecondedCadre.objects.get(unit=unit, name="王五")
    services.cadre_check_save(record=cadre, actor=personas["org_department"], in_post=False,
                              in_charge=True, nominal_only=True, discipline_issue=False,
                              note=MARKERS["org_check"], raise_problem=True)
    services.inspection_add(round=round_, unit=world["army"],
                            actor=personas["military_inspector"],
                            inspected_on=datetime.date(2018, 1, 8), inspectors="检查组",
                            findings=MARKERS["military"], report=MARKERS["military"])
    # The reviewers' own desk shows them all: the markers are where they should be.
    desk = _client(reviewer).get(reverse("reviews:desk", args=[unit.pk])).content.decode()
    for key in ("reason", "basic", "problems", "suggestions", "problem", "incident",
                "verification", "activity", "org_check"):
        assert MARKERS[key] in desk, key


@pytest.fixture
def army_unit_user(world):
    return make_user("unit_army", Role.UNIT, unit=world["army"])


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_every_reviews_url_is_404_for_units_and_provinces(world, personas, persona):
    assert set(REVIEW_ROUTES) == _reviews_url_names()
    _prepare(world)
    _review_everything(world, personas)
    # The routes make their objects (the category return's submits category A: it goes last).
    urls = {route: _url(route, world, persona)
            for route in sorted(REVIEW_ROUTES, key=lambda r: r == "reviews:category_return")}
    client = _client(personas[persona])
    state = _state()

    for route, url in urls.items():
        data = ROUTES[route][2]
        for method in ("get", "post"):
            response = getattr(client, method)(url, data or {})
            assert response.status_code == 404, (route, method)
            assert not [m for m in MARKERS.values() if m in _text(response)], (route, method)

    assert _state() == state


def _state():
    return (list(AreaGrade.objects.values_list("grade", "reason")),
            list(SubReport.objects.values_list("basic_situation", "problems", "suggestions")),
            SeriousProblem.objects.count(), MajorIncident.objects.count(),
            ReviewActivity.objects.count(), Verification.objects.count(),
            list(CategorySubmission.objects.values_list("status", "overview")),
            CadreCheck.objects.count(), MilitaryInspection.objects.count())


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_no_review_finding_appears_on_any_page_of_units_or_provinces(world, personas, persona):
    _prepare(world)
    client = _client(personas[persona])
    urls = {route: _url(route, world, persona) for route in GET_ROUTES}
    before = {route: client.get(url) for route, url in urls.items()}

    _review_everything(world, personas)

    opened = []
    for route, url in urls.items():
        response = client.get(url)
        assert response.status_code == before[route].status_code, route
        if response.status_code != 200:
            continue
        opened.append(route)
        text = _text(response)
        assert not [k for k, m in MARKERS.items() if m in text], route
        if response["Content-Type"].startswith("text/html"):
            assert _normalized(text) == _normalized(_text(before[route])), route
    # The walk reached the pages the unit and the province live on.
    expected = {"home", "rounds:detail", "directory:unit_detail", "directory:county_detail"}
    expected |= ({"submissions:self_report", "submissions:cadres"} if persona.startswith("unit")
                 else {"submissions:provincial_report", "submissions:provincial_reports"})
    assert expected <= set(opened), expected - set(opened)


def test_the_army_unit_sees_nothing_of_its_inspection(world, personas, army_unit_user):
    _prepare(world)
    client = _client(army_unit_user)
    pages = [reverse("home"), reverse("rounds:detail", kwargs={"year": 2017}),
             reverse("directory:unit_detail", kwargs={"pk": world["army"].pk})]
    before = [_normalized(client.get(url).content.decode()) for url in pages]

    _review_everything(world, personas)

    after = [_normalized(client.get(url).content.decode()) for url in pages]
    assert after == before
    assert not [p for p in after if MARKERS["military"] in p]
    for route in ("reviews:military", "reviews:queue"):
        assert client.get(reverse(route)).status_code == 404
