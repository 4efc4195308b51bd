from django.http import Http404

from kaohe.rounds.models import Round


def current_round() -> Round | None:
    return Round.objects.order_by("-year").first()


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
