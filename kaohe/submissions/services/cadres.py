"""Seconded cadres and first secretaries a unit records with its self-report: add (once per
person), and later remove (only while nobody relies on the record) or withdraw (the record
stays, marked, for the organization department to see).
"""

from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import User
from kaohe.audit.services import log_action
from kaohe.directory.models import County, Unit
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Round
from kaohe.submissions import deadlines
from kaohe.submissions.models import FirstSecretary, ReportStatus, SecondedCadre, SelfReport
from kaohe.submissions.services.errors import (
    ClosedError,
    ConflictError,
    LockedError,
    SubmissionError,
)

Cadre = SecondedCadre | FirstSecretary  # a record a unit keeps of one of its people
_Record = TypeVar("_Record", SecondedCadre, FirstSecretary)


def _check_paired(*, round: Round, unit: Unit, county: County) -> None:
    if not unit.pairings.filter(round=round, county=county).exists():
        raise SubmissionError(_("该县不是本单位的定点扶贫县。"))


def _create_once(model: type[_Record], **fields: Any) -> _Record:
    """Create a cadre or first secretary unless the same person is registered already (the
    natural key; two tabs or two requests at once give one record and a clear refusal)."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        raise ConflictError(_("%(name)s已登记，不能重复登记。")
                            % {"name": fields.get("name", "")}) from None


@transaction.atomic
def cadre_add(*, round: Round, unit: Unit, actor: User, **fields: Any) -> SecondedCadre:
    ensure_round_writable(round, error=SubmissionError)
    _check_cadres_open(round=round, unit=unit)
    _check_paired(round=round, unit=unit, county=fields["county"])
    cadre = _create_once(SecondedCadre, round=round, unit=unit, **fields)
    log_action("cadre.added", actor=actor, target=cadre,
               data={"county": cadre.county.code, "post": cadre.post})
    return cadre


@transaction.atomic
def first_secretary_add(*, round: Round, unit: Unit, actor: User,
                        **fields: Any) -> FirstSecretary:
    ensure_round_writable(round, error=SubmissionError)
    _check_cadres_open(round=round, unit=unit)
    _check_paired(round=round, unit=unit, county=fields["county"])
    secretary = _create_once(FirstSecretary, round=round, unit=unit, **fields)
    log_action("first_secretary.added", actor=actor, target=secretary,
               data={"county": secretary.county.code, "village": secretary.village})
    return secretary


def cadres_open(*, round: Round, unit: Unit) -> bool:
    """Cadres are recorded with the self-report: until its deadline (or the unit's extension)."""
    return deadlines.is_open(round.steps.get(code="self_report"), unit=unit)


def _check_cadres_open(*, round: Round, unit: Unit) -> None:
    if not cadres_open(round=round, unit=unit):
        raise ClosedError(_("挂职干部和第一书记登记已截止（随自评报告报送）；"
                            "如需延期，请联系国务院扶贫办。"))


def _check_own_record(record: Cadre, actor: User) -> None:
    if actor.unit_id is None or actor.unit_id != record.unit_id:
        raise SubmissionError(_("只能处理本单位登记的挂职干部和第一书记。"))


def cadre_lock_reason(record: Cadre, *, report_submitted: bool | None = None,
                      checked: bool | None = None) -> str:
    """Why the unit may no longer delete the record ("" while it still may).

    A record is relied on once the unit's self-report stands submitted (the lead department
    reviews it) or once the organization department has checked it; from then on the unit
    only withdraws it, with a reason the department sees. Pages pass what they already know
    (`report_submitted`, `checked`) to keep their queries constant."""
    if record.withdrawn_at is not None:
        return _("该记录已撤回")
    if report_submitted is None:
        report_submitted = SelfReport.objects.filter(
            round_id=record.round_id, unit_id=record.unit_id,
            status=ReportStatus.SUBMITTED).exists()
    if report_submitted:
        return _("本单位自评报告已提交")
    if checked is None:
        from kaohe.reviews.models import CadreCheck

        field = "cadre" if isinstance(record, SecondedCadre) else "secretary"
        checked = CadreCheck.objects.filter(**{field: record.pk}).exists()
    if checked:
        return _("中央组织部已核查")
    return ""


def cadre_is_locked(record: Cadre) -> bool:
    return bool(cadre_lock_reason(record))


@transaction.atomic
def cadre_remove(*, record: Cadre, actor: User) -> None:
    """Remove a seconded cadre or first secretary the unit recorded by mistake: only before
    the deadline, and only while nobody relies on it (see cadre_lock_reason)."""
    ensure_round_writable(record.round_id, error=SubmissionError)
    # Row locks against a submission or a check landing between the test and the delete.
    list(SelfReport.objects.select_for_update().filter(round_id=record.round_id,
                                                       unit_id=record.unit_id))
    record = type(record).objects.select_for_update().get(pk=record.pk)
    _check_own_record(record, actor)
    reason = cadre_lock_reason(record)
    if reason:
        raise LockedError(
            _("%(reason)s，不能删除；如该同志已不在岗或登记有误，请填写原因撤回，"
              "撤回记录中央组织部可见。") % {"reason": reason})
    _check_cadres_open(round=record.round, unit=record.unit)
    log_action(f"{record._meta.model_name}.removed", actor=actor, target=record)
    record.delete()


@transaction.atomic
def cadre_withdraw(*, record: Cadre, actor: User, reason: str) -> Cadre:
    """Withdraw a seconded cadre or first secretary: the record stays, marked 已撤回 with who,
    why and when, for the organization department and the lead department to see. Allowed
    after the deadline too, as it erases nothing."""
    ensure_round_writable(record.round_id, error=SubmissionError)
    record = type(record).objects.select_for_update().get(pk=record.pk)
    _check_own_record(record, actor)
    reason = record.withdraw(actor=actor, reason=reason, error=SubmissionError)
    log_action(f"{record._meta.model_name}.withdrawn", actor=actor, target=record,
               data={"reason": reason})
    return record
