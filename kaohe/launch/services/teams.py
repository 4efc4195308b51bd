"""The lead departments' teams (step 1): a team filed or refiled, each member linked to an
account of the lead department (or given a new one), one liaison per lead department."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import Role, User
from kaohe.audit.services import log_action
from kaohe.launch.models import Level, TeamFiling, TeamMember
from kaohe.launch.services.common import LaunchError, ensure_ranked, is_late
from kaohe.lib import clock
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from kaohe.directory.models import LeadDepartment
    from kaohe.rounds.models import Round

MAX_TEAM_MEMBERS = 30


@dataclass
class MemberEntry:
    """One person on a team filing, as the lead department enters it."""

    name: str
    post: str
    level: str
    phone: str
    email: str


def _next_username(lead_department: LeadDepartment, taken: set[str]) -> str:
    """lead-<code>-<n> with the next n after the highest one in use."""
    prefix = f"lead-{lead_department.code}-"
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)")
    used = [int(m.group(1)) for name in taken if (m := pattern.fullmatch(name))]
    return f"{prefix}{max(used, default=0) + 1}"


@transaction.atomic
def team_file(*, round: Round, lead_department: LeadDepartment, members: list[MemberEntry],
              liaison: int, actor: User) -> TeamFiling:
    """File (or refile) a lead department's team for the round; `liaison` indexes members.

    Each member gets an account in the lead department's scope: an existing account of the
    same lead department with the same e-mail is linked, otherwise a lead_reviewer account
    is created without a usable password (the system administrator sets it). The liaison
    is the only liaison of the lead department afterwards.
    """
    ensure_round_writable(round, error=LaunchError)
    ensure_ranked(lead_department)
    if not members:
        raise LaunchError(_("请至少填写一名小组成员。"))
    if len(members) > MAX_TEAM_MEMBERS:
        raise LaunchError(_("小组成员不能超过 %(max)d 人。") % {"max": MAX_TEAM_MEMBERS})
    if not 0 <= liaison < len(members):
        raise LaunchError(_("请指定一名联络员。"))
    if members[liaison].level != Level.DIVISION:
        raise LaunchError(_("联络员应由处级同志担任。"))
    emails = [m.email.strip().lower() for m in members]
    duplicates = sorted({e for e in emails if emails.count(e) > 1})
    if duplicates:
        raise LaunchError(_("电子邮箱重复：%(emails)s。") % {"emails": "、".join(duplicates)})

    scope = User.objects.filter(role=Role.LEAD_REVIEWER, lead_department=lead_department)
    accounts = {}
    for email in emails:
        found = list(scope.filter(email__iexact=email)[:2])
        if len(found) > 1:
            raise LaunchError(_("邮箱 %(email)s 对应本部门多个账户，请联系系统管理员处理。")
                              % {"email": email})
        if found:
            accounts[email] = found[0]
        elif User.objects.filter(email__iexact=email).exists():
            # The address belongs to an account outside this lead department: linking it
            # would move someone else's account, a second account would share its address.
            raise LaunchError(
                _("邮箱 %(email)s 已被其他部门或角色的账户使用，请核对或联系系统管理员。")
                % {"email": email})

    filing = (TeamFiling.objects.select_for_update()
              .filter(round=round, lead_department=lead_department).first())
    today = clock.today()
    refiled = filing is not None
    if filing is None:
        filing = TeamFiling.objects.create(round=round, lead_department=lead_department,
                                           filed_on=today, updated_on=today, filed_by=actor)
    else:
        filing.updated_on = today
        filing.save(update_fields=["updated_on", "updated_at"])
        filing.members.all().delete()

    taken = set(User.objects.filter(username__startswith=f"lead-{lead_department.code}-")
                .values_list("username", flat=True))
    created: list[str] = []
    linked: list[str] = []
    rows: list[TeamMember] = []
    users: list[User] = []
    for order, (entry, email) in enumerate(zip(members, emails, strict=True), start=1):
        user = accounts.get(email)
        if user is None:
            user = User(username=_next_username(lead_department, taken),
                        role=Role.LEAD_REVIEWER, lead_department=lead_department,
                        email=email, full_name=entry.name, post=entry.post, phone=entry.phone)
            user.set_unusable_password()
            user.full_clean()
            user.save()
            taken.add(user.username)
            created.append(user.username)
        else:
            user.post, user.phone = entry.post, entry.phone
            user.full_name = user.full_name or entry.name
            user.save(update_fields=["post", "phone", "full_name"])
            linked.append(user.username)
        rows.append(TeamMember(filing=filing, order=order, name=entry.name, post=entry.post,
                               level=entry.level, phone=entry.phone, email=email,
                               is_liaison=order - 1 == liaison, user=user))
        users.append(user)
    TeamMember.objects.bulk_create(rows)

    liaison_user = users[liaison]
    previous = list(scope.filter(is_liaison=True).exclude(pk=liaison_user.pk)
                    .values_list("username", flat=True))
    scope.filter(is_liaison=True).exclude(pk=liaison_user.pk).update(is_liaison=False)
    if not liaison_user.is_liaison:
        liaison_user.is_liaison = True
        liaison_user.save(update_fields=["is_liaison"])
    log_action("launch.team.filed", actor=actor, target=filing, data={
        "refiled": refiled, "members": len(rows), "created": created, "linked": linked,
        "liaison": liaison_user.username, "previous_liaison": previous,
        "late": is_late(round, "launch", filing.filed_on),
    })
    return filing
