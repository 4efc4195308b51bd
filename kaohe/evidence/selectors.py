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

from kaohe.accounts.scope import EVIDENCE, PROVINCIAL_REPORTS, Scope
from kaohe.evidence.models import Evidence, Upload


def evidence_visible_to(user):
    scope = Scope.of(user)
    evidence = Evidence.objects.select_related("unit", "province")
    own = scope.condition(EVIDENCE, unit="unit", province="province")
    if own is None:
        return evidence.none()
    if own and scope.reads_handed_over_only(PROVINCIAL_REPORTS):  # own: a limited scope
        own |= Q(pk__in=_provincial_evidence(scope))
    return evidence.filter(own) if own else evidence


def _provincial_evidence(scope: Scope):
    """Ids of the provinces' evidence attached to the provincial reports handed over to a
    reviewer (submitted, on its units); a draft stays the province's own."""
    report = "provincial_attachments__report"
    reports = scope.condition(PROVINCIAL_REPORTS, unit=f"{report}__unit",
                              province=f"{report}__province",
                              handed_over=Q(**{f"{report}__status": "submitted"}))
    if reports is None:
        return Evidence.objects.none().values("pk")
    return Evidence.objects.filter(reports, province__isnull=False).values("pk")


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
