"""Findings about a unit: serious problems (of the lead department or the organization
department) and major incidents, and their withdrawal. A finding is never deleted: a
withdrawn one stays, marked with who, why and when, and no longer counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.capabilities import CHECK_CADRES, has_capability
from kaohe.accounts.scope import Scope
from kaohe.audit.services import log_action
from kaohe.reviews.models import FindingSource, MajorIncident, SeriousProblem
from kaohe.reviews.services.guards import ReviewError, check_unlocked
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.directory.models import County, Unit
    from kaohe.rounds.models import Round, SeriousProblemKind


def _check_county(round: Round, unit: Unit, county: County | None) -> None:
    if county is not None and not unit.pairings.filter(round=round, county=county).exists():
        raise ReviewError(_("该县不是该单位的定点扶贫县。"))


@transaction.atomic
def serious_problem_add(*, round: Round, unit: Unit, actor: User, kind: SeriousProblemKind,
                        county: County | None, description: str, source: str,
                        evidence_note: str = "") -> SeriousProblem:
    ensure_round_writable(round, error=ReviewError)
    if source != FindingSource.ORG_DEPARTMENT:
        check_unlocked(round, unit)
    _check_county(round, unit, county)
    if kind.round_id != round.pk:
        raise ReviewError(_("突出问题类别不属于本年度考核。"))
    if not description.strip():
        raise ReviewError(_("请填写情况说明。"))
    problem = SeriousProblem.objects.create(round=round, unit=unit, kind=kind, county=county,
                                            description=description, source=source,
                                            evidence_note=evidence_note, recorded_by=actor)
    log_action("review.problem.added", actor=actor, target=problem,
               data={"kind": kind.code, "source": source})
    return problem


@transaction.atomic
def major_incident_add(*, round: Round, unit: Unit, actor: User, county: County | None,
                       description: str, source: str,
                       evidence_note: str = "") -> MajorIncident:
    ensure_round_writable(round, error=ReviewError)
    check_unlocked(round, unit)
    _check_county(round, unit, county)
    if county is None:
        raise ReviewError(_("请选择发生重大涉贫事件的县。"))
    if not description.strip():
        raise ReviewError(_("请填写情况说明。"))
    incident = MajorIncident.objects.create(round=round, unit=unit, county=county,
                                            description=description, source=source,
                                            evidence_note=evidence_note, recorded_by=actor)
    log_action("review.incident.added", actor=actor, target=incident,
               data={"county": county.code, "source": source})
    return incident


def finding_withdraw_refusal(finding: SeriousProblem | MajorIncident, actor: User) -> str:
    """Why `actor` may not withdraw the finding ("" when it may): a finding is withdrawn
    only by the role that recorded it (the lead department of the unit's category, or the
    organization department), never by another."""
    if finding.source == FindingSource.ORG_DEPARTMENT:
        if not has_capability(actor, CHECK_CADRES):
            return _("该问题由中央组织部报送，只能由中央组织部撤回。")
    elif finding.source == FindingSource.REVIEWER:
        if not Scope.of(actor).is_own_lead_department(
                finding.unit.category.lead_department_id):
            return _("该问题由牵头部门记录，只能由负责该单位考核的牵头部门撤回。")
    else:
        return _("省级报告反映的问题不能在此撤回。")
    return ""


@transaction.atomic
def finding_withdraw(*, finding: SeriousProblem | MajorIncident, actor: User,
                     reason: str) -> SeriousProblem | MajorIncident:
    """Withdraw a serious problem or major incident: it stays, marked 已撤回 with who, why
    and when, and no longer counts. Findings are never deleted."""
    ensure_round_writable(finding.round_id, error=ReviewError)
    finding = (type(finding).objects.select_for_update().select_related("unit__category")
               .get(pk=finding.pk))
    refusal = finding_withdraw_refusal(finding, actor)
    if refusal:
        raise ReviewError(refusal)
    if finding.source != FindingSource.ORG_DEPARTMENT:
        # The organization department records its findings whatever the category's state.
        check_unlocked(finding.round, finding.unit)
    reason = finding.withdraw(actor=actor, reason=reason, error=ReviewError)
    log_action(f"review.{finding._meta.model_name}.withdrawn", actor=actor, target=finding,
               data={"reason": reason, "source": finding.source})
    return finding
