"""Reads of the directory, always scoped to the user who asks."""

from django.http import Http404

from kaohe.accounts.models import Role
from kaohe.directory.models import County, Pairing, Province, Unit

_SEE_ALL = {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP, Role.ORG_DEPARTMENT}


def units_visible_to(user, *, round=None):
    """The units a user may see; for a province, those working in it in the given round."""
    units = Unit.objects.select_related("category", "category__lead_department")
    if not user.is_authenticated or not user.is_active:
        return units.none()
    if user.role in _SEE_ALL:
        return units
    if user.role == Role.LEAD_REVIEWER:
        return units.filter(category__lead_department_id=user.lead_department_id)
    if user.role == Role.MILITARY_INSPECTOR:
        return units.filter(category__ranked=False)
    if user.role == Role.UNIT:
        return units.filter(pk=user.unit_id)
    if user.role == Role.PROVINCE:
        pairings = Pairing.objects.filter(county__province_id=user.province_id)
        if round is not None:
            pairings = pairings.filter(round=round)
        return units.filter(pk__in=pairings.values("unit_id"))
    return units.none()


def get_unit_for_user(user, pk, *, round=None) -> Unit:
    """The unit, or 404 when it does not exist or lies outside the user's scope."""
    try:
        return units_visible_to(user, round=round).get(pk=pk)
    except Unit.DoesNotExist:
        raise Http404 from None


def counties_visible_to(user):
    counties = County.objects.select_related("province")
    if not user.is_authenticated or not user.is_active:
        return counties.none()
    if user.role == Role.PROVINCE:
        return counties.filter(province_id=user.province_id)
    if user.role == Role.UNIT:
        return counties.filter(pairings__unit_id=user.unit_id).distinct()
    if user.role in _SEE_ALL or user.role in {Role.LEAD_REVIEWER, Role.MILITARY_INSPECTOR}:
        return counties
    return counties.none()


def get_county_for_user(user, pk) -> County:
    try:
        return counties_visible_to(user).get(pk=pk)
    except County.DoesNotExist:
        raise Http404 from None


def pairings_visible_to(user, *, round):
    pairings = Pairing.objects.filter(round=round).select_related(
        "unit", "unit__category", "county", "county__province"
    )
    if user.role == Role.PROVINCE:
        return pairings.filter(county__province_id=user.province_id)
    return pairings.filter(unit__in=units_visible_to(user, round=round))


def provinces_visible_to(user):
    if user.role == Role.PROVINCE:
        return Province.objects.filter(pk=user.province_id)
    if user.role in _SEE_ALL:
        return Province.objects.all()
    return Province.objects.none()


class LiaisonRow:
    """A unit or a province with its liaison, as the contact list shows it."""

    def __init__(self, kind: str, record):
        self.kind, self.record = kind, record
        self.kind_label = "中央单位" if kind == "unit" else "省份"
        self.pk, self.code, self.name = record.pk, record.code, record.name
        self.liaison_name = record.liaison_name
        self.liaison_phone = record.liaison_phone
        self.liaison_email = record.liaison_email


def liaison_rows() -> list[LiaisonRow]:
    """Every active unit, then every province, with its liaison (the office's contact list)."""
    units = Unit.objects.filter(active=True).order_by("category__order", "code")
    return ([LiaisonRow("unit", u) for u in units]
            + [LiaisonRow("province", p) for p in Province.objects.order_by("code")])


def liaison_target_or_404(kind: str, pk):
    model = {"unit": Unit, "province": Province}.get(kind)
    if model is None:
        raise Http404
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        raise Http404 from None
