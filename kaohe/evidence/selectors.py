"""Reads of evidence and uploads, always scoped to the user who asks.

Lead reviewers read the evidence of the units in their lead department's categories and,
of a province's evidence, only what is attached to a submitted provincial report on one of
those units (as they read that report). The military inspector reads the evidence of the
unranked (army) units, and likewise what the provinces attached to their reports on them.
The organization department reads no evidence: it checks the cadres, whose list it reads
through the submissions app.
"""

from django.db.models import Q
from django.http import Http404

from kaohe.accounts.models import Role
from kaohe.directory.models import Unit
from kaohe.evidence.models import Evidence, Upload

_SEE_ALL = {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP}


def evidence_visible_to(user):
    evidence = Evidence.objects.select_related("unit", "province")
    if not user.is_authenticated or not user.is_active:
        return evidence.none()
    if user.role in _SEE_ALL:
        return evidence
    if user.role == Role.LEAD_REVIEWER:
        units = Q(category__lead_department_id=user.lead_department_id)
        return evidence.filter(Q(unit__category__lead_department_id=user.lead_department_id)
                               | Q(pk__in=_provincial_evidence(units)))
    if user.role == Role.MILITARY_INSPECTOR:
        return evidence.filter(Q(unit__category__ranked=False)
                               | Q(pk__in=_provincial_evidence(Q(category__ranked=False))))
    if user.role == Role.UNIT:
        return evidence.filter(unit_id=user.unit_id)
    if user.role == Role.PROVINCE:
        return evidence.filter(province_id=user.province_id)
    return evidence.none()


def _provincial_evidence(units: Q):
    """Ids of the provinces' evidence attached to submitted provincial reports on the units
    (a Q on Unit); a draft stays the province's own."""
    return Evidence.objects.filter(
        province__isnull=False,
        provincial_attachments__report__status="submitted",
        provincial_attachments__report__unit__in=Unit.objects.filter(units),
    ).values("pk")


def get_evidence_for_user(user, pk) -> Evidence:
    """The evidence, or 404 when it does not exist or lies outside the user's scope."""
    try:
        return evidence_visible_to(user).get(pk=pk)
    except Evidence.DoesNotExist:
        raise Http404 from None


def get_upload_for_user(user, pk) -> Upload:
    """An upload, for its creator only, and only while the creator keeps the same scope."""
    if not user.is_authenticated or not user.is_active:
        raise Http404
    try:
        return Upload.objects.get(pk=pk, created_by=user, unit_id=user.unit_id,
                                  province_id=user.province_id)
    except Upload.DoesNotExist:
        raise Http404 from None
