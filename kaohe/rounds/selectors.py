import hashlib
import json

from django.http import Http404

from kaohe.lib.memo import per_request
from kaohe.rounds.models import Round, RoundStatus, Step


@per_request
def current_round() -> Round | None:
    """The newest active round: the one every page works on by default.

    A round being prepared (a fresh copy) is not current for anyone; a closed one is not
    either, unless no round is active at all (its results stay readable)."""
    return (Round.objects.filter(status=RoundStatus.ACTIVE).order_by("-year").first()
            or Round.objects.filter(status=RoundStatus.CLOSED).order_by("-year").first())


@per_request
def steps_of(round_: Round) -> tuple[Step, ...]:
    """The round's steps in the plan's order. Several parts of one page (the to-do panel,
    the reminders, the progress table) ask for them: read once per page view (issue 19)."""
    return tuple(Step.objects.filter(round=round_).order_by("order"))


def step_of(round_: Round, code: str) -> Step | None:
    """The round's step of that code, or None (from steps_of)."""
    return next((step for step in steps_of(round_) if step.code == code), None)


def preparation_round() -> Round | None:
    """The round the office is preparing (the newest in preparation), else the current one:
    where the office's preparation (units and pairings) goes before the round starts."""
    return (Round.objects.filter(status=RoundStatus.PREPARING).order_by("-year").first()
            or current_round())


def can_see_preparing(user) -> bool:
    from kaohe.accounts.capabilities import MANAGE_ROUNDS, has_capability

    return has_capability(user, MANAGE_ROUNDS)


def rounds_visible_to(user):
    """Active and closed rounds for everyone; preparing ones only for the office."""
    rounds = Round.objects.all()
    if not can_see_preparing(user):
        rounds = rounds.exclude(status=RoundStatus.PREPARING)
    return rounds


@per_request
def visible_rounds(user) -> tuple[Round, ...]:
    """The rounds the user may see, newest first: the header's year selector and a page's
    own list of years both show them (read once per page view)."""
    return tuple(rounds_visible_to(user).order_by("-year"))


def visible_round(user, year: int) -> Round:
    """The round of that year if the user may see it, else 404."""
    try:
        return rounds_visible_to(user).get(year=year)
    except Round.DoesNotExist:
        raise Http404 from None


def round_from_request(request) -> Round | None:
    """The round named by ``?year=`` when the user may see it (404 otherwise), else the one
    the user chose earlier in the session, else the current round (kaohe.rounds.selection)."""
    from kaohe.rounds.selection import resolve

    return resolve(request)[0]


def scheme_hash(round_: Round) -> str:
    """SHA-256 of what a round assesses and how: its areas, indicators with their items and
    evidence requirements, and its evaluation method. Sealed with each result set."""
    areas = []
    for area in round_.areas.order_by("number").prefetch_related(
            "indicators__items", "indicators__evidence_requirements"):
        areas.append({
            "code": area.code, "number": area.number, "name": area.name,
            "source": area.source, "source_text": area.source_text,
            "indicators": [
                {"number": i.number, "name": i.name, "summary": i.summary,
                 "definition": i.definition, "evidence_basis": i.evidence_basis,
                 "source": i.source, "deep_poverty_only": i.deep_poverty_only,
                 "per_county": i.per_county,
                 "items": [[it.code, it.order, it.name, it.definition, it.evidence_basis]
                           for it in sorted(i.items.all(), key=lambda x: (x.order, x.pk))],
                 "evidence": [[e.order, e.name] for e in sorted(
                     i.evidence_requirements.all(), key=lambda x: (x.order, x.pk))]}
                for i in sorted(area.indicators.all(), key=lambda x: (x.number, x.pk))
            ],
        })
    payload = {"areas": areas, "method": round_.method}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def get_round(year: int) -> Round:
    try:
        return Round.objects.get(year=year)
    except Round.DoesNotExist:
        raise Http404 from None


def round_with_plan(year: int) -> Round:
    """The round with its areas, indicators, items and evidence in a fixed number of queries."""
    try:
        return Round.objects.prefetch_related(
            "areas__indicators__items",
            "areas__indicators__evidence_requirements",
            "steps",
            "problem_kinds",
        ).get(year=year)
    except Round.DoesNotExist:
        raise Http404 from None
