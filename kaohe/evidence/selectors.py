"""Reads of evidence and uploads, always scoped to the user who asks.

Evidence follows the report it was handed over with. Lead reviewers read, of the units in
their lead department's categories, only the files attached to a self-report while it stands
submitted (as they read that report: never a draft, nor one returned to its unit) or to a
submitted rectification report; a file the unit keeps to itself, attached to a draft or to
nothing, stays its own. Of a province's evidence they read only what is attached to a
submitted provincial report on one of those units. The military inspector reads the same of
the unranked (army) units. The office, the working group and the leading group read every
report, drafts included (kaohe.accounts.scope.SELF_REPORTS), and so all evidence but what
is attached only to a rectification report not yet submitted, which is its unit's own. The
organization department reads no evidence: it checks the cadres, whose list it reads through
the submissions app.
"""

from django.db.models import F, Q
from django.http import Http404

from kaohe.accounts.scope import EVIDENCE, PROVINCIAL_REPORTS, SELF_REPORTS, Reach, Scope
from kaohe.evidence.models import Evidence, Upload


def evidence_visible_to(user):
    scope = Scope.of(user)
    evidence = Evidence.objects.select_related("unit", "province")
    own = scope.condition(EVIDENCE, unit="unit", province="province")
    if own is None:
        return evidence.none()
    if scope.reads_handed_over_only(SELF_REPORTS):
        own &= _handed_over_unit_evidence(scope)
    if own and scope.reads_handed_over_only(PROVINCIAL_REPORTS):  # own: a limited scope
        own |= Q(pk__in=_provincial_evidence(scope))
    visible = evidence.filter(own) if own else evidence
    if scope.reach is not Reach.UNIT:
        # A draft rectification report is its unit's own until submitted (as the tracker
        # and the report's pages read it: outcomes.selectors.rectification_reports_visible_to),
        # and so is a file attached to nothing (never attached, or detached again): its
        # unit's, or its province's (a province reads its own).
        owners = (Q(unit__isnull=False) if scope.reach is Reach.PROVINCE
                  else Q(unit__isnull=False) | Q(province__isnull=False))
        visible = visible.exclude(_in_draft_rectification_only()
                                  | (owners & _attached_to_nothing()))
    return visible


def _attached_to_nothing() -> Q:
    """Files on no self-report, no provincial report and no rectification report: uploaded
    and never attached, or detached (from a draft, or from a report returned to its owner)."""
    attached = Evidence.objects.filter
    return (~Q(pk__in=attached(attachments__isnull=False).values("pk"))
            & ~Q(pk__in=attached(provincial_attachments__isnull=False).values("pk"))
            & ~Q(pk__in=attached(rectification_attachments__isnull=False).values("pk")))


def _in_draft_rectification_only() -> Q:
    """Files attached to rectification work not handed over, and to nothing that was: to a
    report not yet submitted, or to a sent-back item (整改不到位) since the report's last
    submission (outcomes.selectors.handed_over). Handed over: attached to an item of a
    submitted report before its last submission, or to a self-report."""
    attached = Evidence.objects.filter
    unsubmitted = Q(rectification_attachments__report__submitted_at__isnull=True)
    revision = Q(rectification_attachments__item__needs_revision=True,
                 rectification_attachments__created_at__gt=F(
                     "rectification_attachments__report__last_submitted_at"))
    # Each test in one filter(): one join, so a file with no rectification report (whose
    # missing report's date would read as null) is not taken for a draft's.
    return (Q(pk__in=attached(Q(rectification_attachments__report__isnull=False)
                              & (unsubmitted | revision)).values("pk"))
            & ~Q(pk__in=attached(
                rectification_attachments__report__submitted_at__isnull=False,
                rectification_attachments__created_at__lte=F(
                    "rectification_attachments__report__last_submitted_at")).values("pk"))
            & ~Q(pk__in=attached(attachments__isnull=False).values("pk")))


def _handed_over_unit_evidence(scope: Scope) -> Q:
    """The units' evidence handed over to a reviewer: attached to a self-report of its scope
    while that stands submitted (a draft, or a report returned to its unit, is the unit's
    own), or to a submitted rectification report."""
    report = "attachments__report"
    reports = scope.condition(SELF_REPORTS, unit=f"{report}__unit",
                              handed_over=Q(**{f"{report}__status": "submitted"}))
    found = Q(pk__in=Evidence.objects.filter(
        rectification_attachments__report__submitted_at__isnull=False).values("pk"))
    if reports is not None:
        found |= Q(pk__in=Evidence.objects.filter(reports).values("pk"))
    return found


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
