"""The lead departments' category plans (step 1): the document and its key points filed
for the record; a new filing replaces the document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.evidence import filetypes
from kaohe.launch import files
from kaohe.launch.models import CategoryPlan
from kaohe.launch.services.common import LaunchError, ensure_ranked, is_late
from kaohe.lib import clock
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from kaohe.accounts.models import User
    from kaohe.directory.models import LeadDepartment
    from kaohe.rounds.models import Round


def plan_file(*, round: Round, lead_department: LeadDepartment, upload: UploadedFile,
              key_points: str, actor: User) -> CategoryPlan:
    """File the category plan for the record; a new filing replaces the document."""
    ensure_round_writable(round, error=LaunchError)
    ensure_ranked(lead_department)
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
def _plan_record(*, round: Round, lead_department: LeadDepartment, stored: files.StoredFile,
                 key_points: str, actor: User) -> CategoryPlan:
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
        "late": is_late(round, "launch", plan.filed_on),
    })
    return plan
