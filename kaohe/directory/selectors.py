"""Reads of the directory, always scoped to the user who asks."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from kaohe.accounts.scope import COUNTIES, PROVINCES, UNITS, Reach, Scope
from kaohe.directory.models import County, Pairing, Province, Unit


def units_visible_to(user, *, round=None):
    """The units a user may see; for a province, those working in it in the given round."""
    units = Unit.objects.select_related("category", "category__lead_department")
    return Scope.of(user).units(units, via="", round=round)


def get_unit_for_user(user, pk, *, round=None) -> Unit:
    """The unit, or 404 when it does not exist or lies outside the user's scope."""
    try:
        return units_visible_to(user, round=round).get(pk=pk)
    except Unit.DoesNotExist:
        raise Http404 from None


def counties_visible_to(user):
    scope = Scope.of(user)
    counties = scope.filter(County.objects.select_related("province"), COUNTIES,
                            unit="pairings__unit", province="province")
    # A unit reads its counties through its pairings, one row for each: once each.
    return counties.distinct() if scope.reach is Reach.UNIT else counties


def get_county_for_user(user, pk) -> County:
    try:
        return counties_visible_to(user).get(pk=pk)
    except County.DoesNotExist:
        raise Http404 from None


def pairings_visible_to(user, *, round):
    pairings = Pairing.objects.filter(round=round).select_related(
        "unit", "unit__category", "county", "county__province"
    )
    # A province reads the pairings in its own counties, not its units' pairings elsewhere.
    return Scope.of(user).filter(pairings, UNITS, province="county__province")


def provinces_visible_to(user):
    return Scope.of(user).filter(Province.objects.all(), PROVINCES, unit=None, province="")


class LiaisonRow:
    """A unit or a province with its liaison, as the contact list shows it."""

    def __init__(self, kind: str, record):
        self.kind, self.record = kind, record
        self.kind_label = "中央单位" if kind == "unit" else "省份"
        self.pk, self.code, self.name = record.pk, record.code, record.name
        self.liaison_name = record.liaison_name
        self.liaison_phone = record.liaison_phone
        self.liaison_email = record.liaison_email


def liaison_units():
    """The active units of the contact list, in its order."""
    return Unit.objects.filter(active=True).order_by("category__order", "code", "pk")


def liaison_provinces() -> list[LiaisonRow]:
    return [LiaisonRow("province", p) for p in Province.objects.order_by("code", "pk")]


def liaison_rows() -> list[LiaisonRow]:
    """Every active unit, then every province, with its liaison (the office's contact list)."""
    return [LiaisonRow("unit", u) for u in liaison_units()] + liaison_provinces()


def liaison_target_or_404(kind: str, pk: int) -> Unit | Province:
    if kind == "unit":
        return get_object_or_404(Unit, pk=pk)
    if kind == "province":
        return get_object_or_404(Province, pk=pk)
    raise Http404
