"""Workflow steps of the launch and the training; each owns its transaction and audit entry."""

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import Role, User
from kaohe.audit.services import log_action
from kaohe.evidence import filetypes
from kaohe.launch import files
from kaohe.launch.models import (
    OFFICE_BODIES,
    Attendance,
    CategoryPlan,
    Level,
    Position,
    RefinedItem,
    RefinedItemAnswer,
    TeamFiling,
    TeamMember,
    TrainingMaterial,
    TrainingSession,
    WorkingGroupMember,
)
from kaohe.lib import clock
from kaohe.lib.errors import ServiceError
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import IndicatorItem

INNOVATION_INDICATOR = 13
MAX_TEAM_MEMBERS = 30


class LaunchError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


def _ranked(lead_department) -> None:
    if not lead_department.categories.filter(ranked=True).exists():
        raise LaunchError(_("该部门不牵头分类考核。"))


# The working group ---------------------------------------------------------------------

_MEMBER_FIELDS = ("name", "organization", "post", "position", "body")


def _check_member(*, round, position, body, exclude_pk=None) -> None:
    if position == Position.LEADER:
        if body not in OFFICE_BODIES:
            raise LaunchError(_("考核工作组组长由国务院扶贫办负责同志担任。"))
        leaders = WorkingGroupMember.objects.filter(round=round, position=Position.LEADER)
        if leaders.exclude(pk=exclude_pk).exists():
            raise LaunchError(_("考核工作组已有组长。"))


@transaction.atomic
def working_group_member_add(*, round, actor, name, organization, post, position,
                             body) -> WorkingGroupMember:
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
def working_group_member_update(*, member: WorkingGroupMember, actor, **fields) -> None:
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
def working_group_member_remove(*, member: WorkingGroupMember, actor) -> None:
    ensure_round_writable(member.round_id, error=LaunchError)
    log_action("launch.working_group.member_removed", actor=actor, target=member,
               data={"position": member.position, "body": member.body})
    member.delete()


# The lead department teams ---------------------------------------------------------------


@dataclass
class MemberEntry:
    """One person on a team filing, as the lead department enters it."""

    name: str
    post: str
    level: str
    phone: str
    email: str


def _next_username(lead_department, taken: set[str]) -> str:
    """lead-<code>-<n> with the next n after the highest one in use."""
    prefix = f"lead-{lead_department.code}-"
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)")
    used = [int(m.group(1)) for name in taken if (m := pattern.fullmatch(name))]
    return f"{prefix}{max(used, default=0) + 1}"


@transaction.atomic
def team_file(*, round, lead_department, members: list[MemberEntry], liaison: int,
              actor) -> TeamFiling:
    """File (or refile) a lead department's team for the round; `liaison` indexes members.

    Each member gets an account in the lead department's scope: an existing account of the
    same lead department with the same e-mail is linked, otherwise a lead_reviewer account
    is created without a usable password (the system administrator sets it). The liaison
    is the only liaison of the lead department afterwards.
    """
    ensure_round_writable(round, error=LaunchError)
    _ranked(lead_department)
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
    created, linked = [], []
    rows = []
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
    TeamMember.objects.bulk_create(rows)

    liaison_user = rows[liaison].user
    previous = list(scope.filter(is_liaison=True).exclude(pk=liaison_user.pk)
                    .values_list("username", flat=True))
    scope.filter(is_liaison=True).exclude(pk=liaison_user.pk).update(is_liaison=False)
    if not liaison_user.is_liaison:
        liaison_user.is_liaison = True
        liaison_user.save(update_fields=["is_liaison"])
    log_action("launch.team.filed", actor=actor, target=filing, data={
        "refiled": refiled, "members": len(rows), "created": created, "linked": linked,
        "liaison": liaison_user.username, "previous_liaison": previous,
        "late": _is_late(round, "launch", filing.filed_on),
    })
    return filing


def _is_late(round, step_code: str, day) -> bool:
    step = round.steps.filter(code=step_code).first()
    return step is not None and day > step.due


# Category plans ------------------------------------------------------------------------


def plan_file(*, round, lead_department, upload, key_points: str, actor) -> CategoryPlan:
    """File the category plan for the record; a new filing replaces the document."""
    ensure_round_writable(round, error=LaunchError)
    _ranked(lead_department)
    if not key_points.strip():
        raise LaunchError(_("请填写方案要点。"))
    try:
        stored = files.store(upload, folder=f"launch/{round.year}/plans",
                             allowed=files.PLAN_TYPES)
    except files.FileRefused as refusal:
        log_action("launch.plan.refused", actor=actor, target=lead_department,
                   data={"name": filetypes.clean_label(upload.name or ""),
                         "reason": str(refusal)}, success=False)
        raise LaunchError(str(refusal)) from None
    try:
        return _plan_record(round=round, lead_department=lead_department, stored=stored,
                            key_points=key_points, actor=actor)
    except BaseException:
        files.discard(stored.storage_name)
        raise


@transaction.atomic
def _plan_record(*, round, lead_department, stored, key_points, actor) -> CategoryPlan:
    today = clock.today()
    plan = (CategoryPlan.objects.select_for_update()
            .filter(round=round, lead_department=lead_department).first())
    old = None
    if plan is None:
        plan = CategoryPlan(round=round, lead_department=lead_department, filed_on=today,
                            filed_by=actor)
    else:
        old = {"name": plan.original_name, "sha256": plan.sha256}
        files.delete_on_commit(plan.storage_name)
    plan.key_points = key_points
    plan.original_name = stored.original_name
    plan.storage_name = stored.storage_name
    plan.size = stored.size
    plan.sha256 = stored.sha256
    plan.content_type = stored.content_type
    plan.updated_on = today
    plan.save()
    log_action("launch.plan.filed", actor=actor, target=plan, data={
        "name": plan.original_name, "sha256": plan.sha256, "size": plan.size,
        "filed_on": plan.filed_on.isoformat(), "replaced": old,
        "late": _is_late(round, "launch", plan.filed_on),
    })
    return plan


# Refined innovation items ---------------------------------------------------------------


def innovation_items(round):
    """The sub-items of the innovation indicator (13) that lead departments refine."""
    return IndicatorItem.objects.filter(indicator__round=round,
                                        indicator__number=INNOVATION_INDICATOR)


@transaction.atomic
def refined_item_add(*, round, lead_department, item, name: str, description: str,
                     actor) -> RefinedItem:
    ensure_round_writable(round, error=LaunchError)
    _ranked(lead_department)
    if not innovation_items(round).filter(pk=item.pk).exists():
        raise LaunchError(_("只能细化本年度工作创新指标的子项。"))
    if not name.strip():
        raise LaunchError(_("请填写细化内容。"))
    last = (RefinedItem.objects.filter(round=round, lead_department=lead_department, item=item)
            .order_by("-order").values_list("order", flat=True).first())
    refined = RefinedItem.objects.create(round=round, lead_department=lead_department,
                                         item=item, order=(last or 0) + 1, name=name.strip(),
                                         description=description.strip(), created_by=actor)
    log_action("launch.refined_item.added", actor=actor, target=refined,
               data={"item": item.code, "name": refined.name})
    return refined


@transaction.atomic
def refined_item_update(*, refined: RefinedItem, name: str, description: str, actor) -> None:
    ensure_round_writable(refined.round_id, error=LaunchError)
    if not name.strip():
        raise LaunchError(_("请填写细化内容。"))
    changes = {}
    for field, value in (("name", name.strip()), ("description", description.strip())):
        if getattr(refined, field) != value:
            changes[field] = {"old": getattr(refined, field), "new": value}
            setattr(refined, field, value)
    if changes:
        refined.save(update_fields=list(changes))
        log_action("launch.refined_item.changed", actor=actor, target=refined, data=changes)


@transaction.atomic
def refined_item_remove(*, refined: RefinedItem, actor) -> None:
    """Remove an item no unit has answered yet; answered ones would lose the unit's text."""
    ensure_round_writable(refined.round_id, error=LaunchError)
    if refined.answers.exclude(text="").exists():
        raise LaunchError(_("已有单位填写了该项内容，不能删除；可修改其名称和说明。"))
    log_action("launch.refined_item.removed", actor=actor, target=refined,
               data={"item": refined.item.code, "name": refined.name})
    refined.delete()


def refined_answers_apply(*, report, items: dict, texts: dict[int, str]) -> list[str]:
    """Store a self-report's answers to refined items (keyed by item id); the caller
    (kaohe.submissions.services.self_report_save) has checked the report and the keys and
    holds the transaction. Returns the keys that changed."""
    existing = {a.refined_item_id: a for a in
                RefinedItemAnswer.objects.filter(report=report, refined_item_id__in=texts)}
    changed = []
    for pk, text in texts.items():
        answer = existing.get(pk)
        if answer is None:
            if text.strip():
                RefinedItemAnswer.objects.create(report=report, refined_item=items[pk], text=text)
                changed.append(f"refined:{pk}")
        elif answer.text != text:
            answer.text = text
            answer.save(update_fields=["text"])
            changed.append(f"refined:{pk}")
    return changed


def refined_items_copy(*, source, target) -> int:
    """Carry the refined items into a copied round, matched by sub-item code (round_copy)."""
    items = {(i.indicator.number, i.code): i
             for i in IndicatorItem.objects.filter(indicator__round=target)
             .select_related("indicator")}
    copies = []
    for refined in (RefinedItem.objects.filter(round=source)
                    .select_related("item__indicator").order_by("pk")):
        item = items.get((refined.item.indicator.number, refined.item.code))
        if item is not None:
            copies.append(RefinedItem(round=target, lead_department_id=refined.lead_department_id,
                                      item=item, order=refined.order, name=refined.name,
                                      description=refined.description))
    RefinedItem.objects.bulk_create(copies)
    return len(copies)


# Training ------------------------------------------------------------------------------


@transaction.atomic
def session_add(*, round, held_on, place: str, topic: str, actor) -> TrainingSession:
    ensure_round_writable(round, error=LaunchError)
    session = TrainingSession.objects.create(round=round, held_on=held_on, place=place,
                                             topic=topic, created_by=actor)
    log_action("launch.training.session_added", actor=actor, target=session,
               data={"held_on": held_on.isoformat(), "place": place, "topic": topic})
    return session


def material_add(*, session: TrainingSession, upload, actor) -> TrainingMaterial:
    ensure_round_writable(session.round_id, error=LaunchError)
    try:
        stored = files.store(upload, folder=f"launch/{session.round.year}/training",
                             allowed=files.MATERIAL_TYPES)
    except files.FileRefused as refusal:
        raise LaunchError(str(refusal)) from None
    try:
        with transaction.atomic():
            material = TrainingMaterial.objects.create(
                session=session, original_name=stored.original_name,
                storage_name=stored.storage_name, size=stored.size, sha256=stored.sha256,
                content_type=stored.content_type, uploaded_by=actor,
            )
            log_action("launch.training.material_added", actor=actor, target=material,
                       data={"session": session.pk, "name": material.original_name,
                             "sha256": material.sha256, "size": material.size})
    except BaseException:
        files.discard(stored.storage_name)
        raise
    return material


@transaction.atomic
def material_remove(*, material: TrainingMaterial, actor) -> None:
    ensure_round_writable(material.session.round_id, error=LaunchError)
    log_action("launch.training.material_removed", actor=actor, target=material,
               data={"session": material.session_id, "name": material.original_name,
                     "sha256": material.sha256})
    files.delete_on_commit(material.storage_name)
    material.delete()


@transaction.atomic
def attendance_set(*, session: TrainingSession, user_ids: set[int], actor) -> None:
    """Record who of the lead departments' staff attended; the list replaces the old one."""
    ensure_round_writable(session.round_id, error=LaunchError)
    if session.held_on > clock.today():
        raise LaunchError(_("培训尚未举行，不能登记参训人员。"))
    staff = User.objects.filter(role=Role.LEAD_REVIEWER, is_active=True, pk__in=user_ids)
    if staff.count() != len(user_ids):
        raise LaunchError(_("只能登记牵头部门考核工作小组的人员。"))
    before = set(session.attendances.values_list("user_id", flat=True))
    added, removed = user_ids - before, before - user_ids
    session.attendances.filter(user_id__in=removed).delete()
    Attendance.objects.bulk_create(
        Attendance(session=session, user_id=pk, recorded_by=actor) for pk in sorted(added)
    )
    if added or removed:
        names = dict(User.objects.filter(pk__in=added | removed)
                     .values_list("pk", "username"))
        log_action("launch.training.attendance_recorded", actor=actor, target=session, data={
            "added": sorted(names[pk] for pk in added),
            "removed": sorted(names[pk] for pk in removed),
            "attended": len(user_ids),
        })
