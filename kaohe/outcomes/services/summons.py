"""Summons and dispatches: the record of each 较差 unit's summons talk, and the record of
each dispatch of the results (to the organization department and others)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.outcomes.models import Dispatch, Summons
from kaohe.outcomes.services.common import OutcomeError
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.rounds.models import Round


@transaction.atomic
def summons_update(*, summons: Summons, actor: User, **fields: Any) -> Summons:
    ensure_round_writable(summons.round_id, error=OutcomeError)
    if Summons.objects.filter(pk=summons.pk, withdrawn_at__isnull=False).exists():
        raise OutcomeError(_("该单位的考核结果已更正，不再是较差等次，约谈已撤销，不能再修改。"))
    for name in ("summoner", "summoned", "held_on", "minutes", "follow_up", "closed"):
        if name in fields:
            setattr(summons, name, fields[name])
    summons.updated_by = actor
    summons.save()
    log_action("outcomes.summons.updated", actor=actor, target=summons,
               data={"held_on": str(summons.held_on or ""), "closed": summons.closed})
    return summons


@transaction.atomic
def dispatch_record(*, round: Round, actor: User, **fields: Any) -> Dispatch:
    ensure_round_writable(round, error=OutcomeError)
    dispatch = Dispatch.objects.create(round=round, recorded_by=actor, **fields)
    log_action("outcomes.dispatch.recorded", actor=actor, target=dispatch,
               data={"kind": dispatch.kind, "sent_on": dispatch.sent_on.isoformat()})
    return dispatch
