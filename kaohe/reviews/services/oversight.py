"""The checks outside the lead departments: the organization department's check of a
seconded cadre or first secretary (a finding may become a serious problem of the unit), and
the military inspection of army and armed police units, which are inspected, not graded.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.reviews.models import CadreCheck, FindingSource, MilitaryInspection
from kaohe.reviews.services.findings import serious_problem_add
from kaohe.reviews.services.guards import ReviewError
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.directory.models import Unit
    from kaohe.rounds.models import Round
    from kaohe.submissions.models import FirstSecretary, SecondedCadre


@transaction.atomic
def cadre_check_save(*, record: SecondedCadre | FirstSecretary, actor: User, in_post: bool,
                     in_charge: bool, nominal_only: bool, discipline_issue: bool, note: str,
                     raise_problem: bool) -> CadreCheck:
    """Record the check of a seconded cadre or first secretary; a finding may become a
    serious problem of the unit (挂职干部挂名无实走形式，或出现违纪违规问题)."""
    ensure_round_writable(record.round_id, error=ReviewError)
    # The row lock orders a check against the unit deleting the record (cadre_remove).
    record = type(record).objects.select_for_update().get(pk=record.pk)
    field = "cadre" if record._meta.model_name == "secondedcadre" else "secretary"
    lookup: dict[str, Any] = {field: record}
    check, _created = CadreCheck.objects.update_or_create(
        **lookup,
        defaults={"round": record.round, "in_post": in_post, "in_charge": in_charge,
                  "nominal_only": nominal_only, "discipline_issue": discipline_issue,
                  "note": note, "checked_by": actor},
    )
    log_action("org.cadre.checked", actor=actor, target=record,
               data={"in_post": in_post, "in_charge": in_charge, "nominal_only": nominal_only,
                     "discipline_issue": discipline_issue})
    # A withdrawn problem stays in the history; raising again records a new one.
    standing = check.problem is not None and check.problem.withdrawn_at is None
    if raise_problem and check.has_problem and not standing:
        kind = record.round.problem_kinds.get(code="cadres_nominal")
        # A county no longer paired with the unit (a later import) still leaves the problem.
        paired = record.unit.pairings.filter(round=record.round, county=record.county).exists()
        check.problem = serious_problem_add(
            round=record.round, unit=record.unit, actor=actor, kind=kind,
            county=record.county if paired else None,
            description=f"{record.name}：{note or '核查发现问题'}",
            source=FindingSource.ORG_DEPARTMENT, evidence_note=_("中央组织部核查"),
        )
        check.save(update_fields=["problem"])
    return check


@transaction.atomic
def inspection_add(*, round: Round, unit: Unit, actor: User, inspected_on: datetime.date,
                   inspectors: str, findings: str, report: str) -> MilitaryInspection:
    ensure_round_writable(round, error=ReviewError)
    if unit.category.ranked:
        raise ReviewError(_("只有军队和武警部队单位由中央军委政治工作部检查督导。"))
    inspection = MilitaryInspection.objects.create(
        round=round, unit=unit, inspected_on=inspected_on, inspectors=inspectors,
        findings=findings, report=report, recorded_by=actor)
    log_action("military.inspection.added", actor=actor, target=inspection)
    return inspection
