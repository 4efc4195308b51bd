"""The working group of step 1: its members added, changed and removed, with one leader
from the office."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.launch.models import OFFICE_BODIES, Position, WorkingGroupMember
from kaohe.launch.services.common import LaunchError
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.rounds.models import Round

_MEMBER_FIELDS = ("name", "organization", "post", "position", "body")


def _check_member(*, round: Round, position: str, body: str,
                  exclude_pk: int | None = None) -> None:
    if position == Position.LEADER:
        if body not in OFFICE_BODIES:
            raise LaunchError(_("考核工作组组长由国务院扶贫办负责同志担任。"))
        leaders = WorkingGroupMember.objects.filter(round=round, position=Position.LEADER)
        if exclude_pk is not None:
            leaders = leaders.exclude(pk=exclude_pk)
        if leaders.exists():
            raise LaunchError(_("考核工作组已有组长。"))


@transaction.atomic
def working_group_member_add(*, round: Round, actor: User, name: str, organization: str,
                             post: str, position: str, body: str) -> WorkingGroupMember:
    ensure_round_writable(round, error=LaunchError)
    _check_member(round=round, position=position, body=body)
    last = round.working_group_members.order_by("-order").values_list("order", flat=True)
    member = WorkingGroupMember.objects.create(
        round=round, name=name, organization=organization, post=post, position=position,
        body=body, order=(last.first() or 0) + 1,
    )
    log_action("launch.working_group.member_added", actor=actor, target=member,
               data={"position": position, "body": body})
    return member


@transaction.atomic
def working_group_member_update(*, member: WorkingGroupMember, actor: User,
                                **fields: Any) -> None:
    ensure_round_writable(member.round_id, error=LaunchError)
    unknown = set(fields) - set(_MEMBER_FIELDS)
    if unknown:
        raise ValueError(f"fields not editable: {sorted(unknown)}")
    _check_member(round=member.round, position=fields.get("position", member.position),
                  body=fields.get("body", member.body), exclude_pk=member.pk)
    changes = {}
    for name, value in fields.items():
        if getattr(member, name) != value:
            changes[name] = {"old": getattr(member, name), "new": value}
            setattr(member, name, value)
    if changes:
        member.save(update_fields=list(changes))
        log_action("launch.working_group.member_changed", actor=actor, target=member,
                   data=changes)


@transaction.atomic
def working_group_member_remove(*, member: WorkingGroupMember, actor: User) -> None:
    ensure_round_writable(member.round_id, error=LaunchError)
    log_action("launch.working_group.member_removed", actor=actor, target=member,
               data={"position": member.position, "body": member.body})
    member.delete()
