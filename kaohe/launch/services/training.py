"""The training of step 2: sessions, their materials, and who of the lead departments'
staff attended."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import Role, User
from kaohe.audit.services import log_action
from kaohe.launch import files
from kaohe.launch.models import Attendance, TrainingMaterial, TrainingSession
from kaohe.launch.services.common import LaunchError
from kaohe.lib import clock
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from kaohe.rounds.models import Round


@transaction.atomic
def session_add(*, round: Round, held_on: datetime.date, place: str, topic: str,
                actor: User) -> TrainingSession:
    ensure_round_writable(round, error=LaunchError)
    session = TrainingSession.objects.create(round=round, held_on=held_on, place=place,
                                             topic=topic, created_by=actor)
    log_action("launch.training.session_added", actor=actor, target=session,
               data={"held_on": held_on.isoformat(), "place": place, "topic": topic})
    return session


def material_add(*, session: TrainingSession, upload: UploadedFile,
                 actor: User) -> TrainingMaterial:
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
def material_remove(*, material: TrainingMaterial, actor: User) -> None:
    ensure_round_writable(material.session.round_id, error=LaunchError)
    log_action("launch.training.material_removed", actor=actor, target=material,
               data={"session": material.session_id, "name": material.original_name,
                     "sha256": material.sha256})
    files.delete_on_commit(material.storage_name)
    material.delete()


@transaction.atomic
def attendance_set(*, session: TrainingSession, user_ids: set[int], actor: User) -> None:
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
