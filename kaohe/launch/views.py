"""Pages of steps 1 and 2: the working group, the teams, the category plans, the refined
innovation items and the training."""

import logging
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kaohe.accounts.capabilities import (
    FILE_LAUNCH,
    MANAGE_TRAINING,
    MANAGE_WORKING_GROUP,
    REFINE_INNOVATION,
    VIEW_LAUNCH,
    VIEW_LAUNCH_FILINGS,
    VIEW_TRAINING,
    capability_required,
    has_capability,
)
from kaohe.audit.services import log_action
from kaohe.directory.models import LeadDepartment
from kaohe.launch import files, selectors, services
from kaohe.launch.forms import (
    MaterialForm,
    PlanForm,
    RefinedItemEditForm,
    RefinedItemForm,
    SessionForm,
    TeamMemberRowForm,
    WorkingGroupMemberForm,
    team_row_forms,
)
from kaohe.launch.models import CategoryPlan, Position, WorkingGroupMember
from kaohe.lib import clock
from kaohe.lib.http import AuthenticatedRequest, current_round_or_404, run_service
from kaohe.rounds.models import Round
from kaohe.rounds.services import scheme_frozen

logger = logging.getLogger(__name__)


# Overview and the working group ----------------------------------------------------------


@capability_required(VIEW_LAUNCH_FILINGS)
def index(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    if not has_capability(request.user, VIEW_LAUNCH):  # a lead department: its own page
        lead = selectors.get_lead_department_for_user(request.user,
                                                      request.user.lead_department_id)
        return redirect("launch:lead", lead_pk=lead.pk)
    trained, staff = selectors.training_progress(round_)
    members = list(round_.working_group_members.all())
    return render(request, "launch/index.html", {
        "round": round_, "rows": selectors.launch_status(round_),
        "due": selectors.step_due(round_, "launch"),
        "training_due": selectors.step_due(round_, "training"),
        "members": members,
        "leader": next((m for m in members if m.position == Position.LEADER), None),
        "trained": trained, "staff": staff,
        "sessions": selectors.sessions_of(round_, materials=False),
    })


@capability_required(VIEW_LAUNCH)
def working_group(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    return render(request, "launch/working_group.html", {
        "round": round_, "members": round_.working_group_members.all(),
        "form": WorkingGroupMemberForm(),
        "can_manage": has_capability(request.user, MANAGE_WORKING_GROUP),
    })


@capability_required(MANAGE_WORKING_GROUP)
@require_POST
def member_add(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    form = WorkingGroupMemberForm(request.POST)
    if form.is_valid() and run_service(
            request, services.working_group_member_add, round=round_, actor=request.user,
            **form.cleaned_data, success=_("已添加考核工作组成员。")):
        return redirect("launch:working_group")
    return render(request, "launch/working_group.html", {
        "round": round_, "members": round_.working_group_members.all(), "form": form,
        "can_manage": True,
    })


def _member(pk: int) -> WorkingGroupMember:
    return get_object_or_404(WorkingGroupMember, pk=pk, round=current_round_or_404())


@capability_required(MANAGE_WORKING_GROUP)
def member_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    if request.method == "POST":
        form = WorkingGroupMemberForm(request.POST)
        if form.is_valid() and run_service(
                request, services.working_group_member_update, member=member,
                actor=request.user, **form.cleaned_data, success=_("已保存。")):
            return redirect("launch:working_group")
    else:
        form = WorkingGroupMemberForm(initial={f: getattr(member, f) for f in
                                               ("name", "organization", "post", "position",
                                                "body")})
    return render(request, "launch/member_edit.html", {"member": member, "form": form})


@capability_required(MANAGE_WORKING_GROUP)
@require_POST
def member_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    member = _member(pk)
    services.working_group_member_remove(member=member, actor=request.user)
    messages.success(request, _("已移除“%(name)s”。") % {"name": member.name})
    return redirect("launch:working_group")


# A lead department: its team and its plan ------------------------------------------------


def _lead(request: AuthenticatedRequest, lead_pk: int) -> tuple[Round, LeadDepartment]:
    round_ = current_round_or_404()
    return round_, selectors.get_lead_department_for_user(request.user, lead_pk)


def _lead_page(request: AuthenticatedRequest, round_: Round, lead: LeadDepartment, *,
               team_forms: list[TeamMemberRowForm] | None = None,
               plan_form: PlanForm | None = None, liaison: int | None = None,
               status: int = 200) -> HttpResponse:
    row = selectors.launch_status(round_, [lead])[0]
    members = list(row.filing.members.all()) if row.filing else []
    can_file = has_capability(request.user, FILE_LAUNCH)
    if can_file and team_forms is None:
        team_forms = team_row_forms(initial=[
            {"name": m.name, "post": m.post, "level": m.level, "phone": m.phone,
             "email": m.email} for m in members])
        liaison = next((i for i, m in enumerate(members) if m.is_liaison), None)
    return render(request, "launch/lead.html", {
        "round": round_, "lead": lead, "row": row, "members": members,
        "due": selectors.step_due(round_, "launch"),
        "can_file": can_file, "team_forms": team_forms, "liaison": liaison,
        "plan_form": plan_form or PlanForm(initial={
            "key_points": row.plan.key_points if row.plan else ""}),
        "refined": selectors.refined_items_of(round_, lead),
    }, status=status)


@capability_required(VIEW_LAUNCH_FILINGS)
@require_GET
def lead(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    round_, lead_department = _lead(request, lead_pk)
    return _lead_page(request, round_, lead_department)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@capability_required(FILE_LAUNCH)
@require_POST
def team_file(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    round_, lead_department = _lead(request, lead_pk)
    forms = team_row_forms(request.POST)
    liaison_row = _int(request.POST.get("liaison"))
    if all(form.is_valid() for form in forms):
        entries: list[services.MemberEntry] = []
        liaison = -1
        for row, form in enumerate(forms):
            if form.is_blank():
                continue
            if row == liaison_row:
                liaison = len(entries)
            data = form.cleaned_data
            entries.append(services.MemberEntry(
                name=data["name"].strip(), post=data["post"].strip(), level=data["level"],
                phone=data["phone"].strip(), email=data["email"]))
        if run_service(request, services.team_file, round=round_,
                       lead_department=lead_department, members=entries, liaison=liaison,
                       actor=request.user, success=_("考核工作小组名单已报送考核工作组。")):
            return redirect("launch:lead", lead_pk=lead_department.pk)
    else:
        messages.error(request, _("名单有误，请按提示修改。"))
    return _lead_page(request, round_, lead_department, team_forms=forms,
                      liaison=liaison_row, status=200)


@capability_required(FILE_LAUNCH)
@require_POST
def plan_file(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    round_, lead_department = _lead(request, lead_pk)
    form = PlanForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.plan_file(round=round_, lead_department=lead_department,
                               upload=form.cleaned_data["document"],
                               key_points=form.cleaned_data["key_points"], actor=request.user)
        except services.LaunchError as exc:
            form.add_error("document", str(exc))
        else:
            messages.success(request, _("分类考核具体方案已报考核工作组备案。"))
            return redirect("launch:lead", lead_pk=lead_department.pk)
    return _lead_page(request, round_, lead_department, plan_form=form)


@capability_required(VIEW_LAUNCH_FILINGS)
@require_GET
def plan_download(request: AuthenticatedRequest, lead_pk: int) -> FileResponse:
    round_, lead_department = _lead(request, lead_pk)
    plan = get_object_or_404(CategoryPlan, round=round_, lead_department=lead_department)
    try:
        response = files.response(storage_name=plan.storage_name,
                                  original_name=plan.original_name,
                                  content_type=plan.content_type)
    except FileNotFoundError:
        logger.error("category plan %s has no file", plan.pk)
        raise Http404 from None
    log_action("launch.plan.downloaded", actor=request.user, target=plan)
    return response


# Refined innovation items ----------------------------------------------------------------


def _innovation_page(request: AuthenticatedRequest, round_: Round, lead: LeadDepartment, *,
                     form: RefinedItemForm | None = None, status: int = 200) -> HttpResponse:
    # The refinement freezes with the scheme (the services refuse it): no forms then.
    frozen = scheme_frozen(round_)
    can_edit = has_capability(request.user, REFINE_INNOVATION) and not frozen
    items = services.innovation_items(round_)
    refined = list(selectors.refined_items_of(round_, lead))
    groups = [{"item": item, "refined": [r for r in refined if r.item_id == item.pk]}
              for item in items]
    return render(request, "launch/innovation.html", {
        "round": round_, "lead": lead, "groups": groups, "can_edit": can_edit,
        "frozen": frozen, "form": form or RefinedItemForm(items=items),
        "categories": lead.categories.all(),
    }, status=status)


@capability_required(VIEW_LAUNCH_FILINGS)
@require_GET
def innovation(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    round_, lead_department = _lead(request, lead_pk)
    return _innovation_page(request, round_, lead_department)


@capability_required(REFINE_INNOVATION)
@require_POST
def refined_add(request: AuthenticatedRequest, lead_pk: int) -> HttpResponse:
    round_, lead_department = _lead(request, lead_pk)
    form = RefinedItemForm(request.POST, items=services.innovation_items(round_))
    if form.is_valid() and run_service(
            request, services.refined_item_add, round=round_, lead_department=lead_department,
            actor=request.user, **form.cleaned_data, success=_("已添加细化内容。")):
        return redirect("launch:innovation", lead_pk=lead_department.pk)
    return _innovation_page(request, round_, lead_department, form=form)


@capability_required(REFINE_INNOVATION)
@require_POST
def refined_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    refined = selectors.get_refined_item_for_user(request.user, pk, round=current_round_or_404())
    form = RefinedItemEditForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写细化内容。"))
    else:
        run_service(request, services.refined_item_update, refined=refined, actor=request.user,
                    **form.cleaned_data, success=_("已保存。"))
    return redirect("launch:innovation", lead_pk=refined.lead_department_id)


@capability_required(REFINE_INNOVATION)
@require_POST
def refined_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    refined = selectors.get_refined_item_for_user(request.user, pk, round=current_round_or_404())
    run_service(request, services.refined_item_remove, refined=refined, actor=request.user,
                success=_("已删除。"))
    return redirect("launch:innovation", lead_pk=refined.lead_department_id)


# Training --------------------------------------------------------------------------------


def _training_page(request: AuthenticatedRequest, round_: Round, *,
                   form: SessionForm | None = None, status: int = 200) -> HttpResponse:
    can_manage = has_capability(request.user, MANAGE_TRAINING)
    oversee = has_capability(request.user, VIEW_LAUNCH)
    trained, staff = selectors.training_progress(round_)
    due = selectors.step_due(round_, "training")
    return render(request, "launch/training.html", {
        "round": round_, "sessions": selectors.sessions_of(round_), "due": due,
        "overdue": due is not None and clock.today() > due,
        "can_manage": can_manage, "oversee": oversee,
        "form": form or SessionForm(), "material_form": MaterialForm(),
        "trained": trained, "staff": staff,
        "untrained": selectors.untrained_staff(round_) if oversee else [],
        # A lead department's staff (those not overseeing): the sessions they attended.
        "mine": selectors.attended_sessions(round_, request.user) if not oversee else None,
    }, status=status)


@capability_required(VIEW_TRAINING)
@require_GET
def training(request: AuthenticatedRequest) -> HttpResponse:
    return _training_page(request, current_round_or_404())


@capability_required(MANAGE_TRAINING)
@require_POST
def session_add(request: AuthenticatedRequest) -> HttpResponse:
    round_ = current_round_or_404()
    form = SessionForm(request.POST)
    if form.is_valid():
        services.session_add(round=round_, actor=request.user, **form.cleaned_data)
        messages.success(request, _("已安排培训。"))
        return redirect("launch:training")
    return _training_page(request, round_, form=form)


@capability_required(VIEW_LAUNCH)
@require_GET
def session(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    training_session = selectors.get_session_for_user(request.user, pk, round=round_)
    attended = set(training_session.attendances.values_list("user_id", flat=True))
    staff = list(selectors.lead_staff())
    return render(request, "launch/session.html", {
        "round": round_, "session": training_session, "staff": staff, "attended": attended,
        "can_manage": has_capability(request.user, MANAGE_TRAINING),
        "held": training_session.held_on <= clock.today(),
        "material_form": MaterialForm(),
    })


@capability_required(MANAGE_TRAINING)
@require_POST
def attendance_save(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    training_session = selectors.get_session_for_user(request.user, pk, round=round_)
    user_ids = {_int(v) for v in request.POST.getlist("attendees")}
    run_service(request, services.attendance_set, session=training_session, actor=request.user,
                user_ids={pk for pk in user_ids if pk is not None}, success=_("参训情况已保存。"))
    return redirect("launch:session", pk=training_session.pk)


@capability_required(MANAGE_TRAINING)
@require_POST
def material_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    round_ = current_round_or_404()
    training_session = selectors.get_session_for_user(request.user, pk, round=round_)
    form = MaterialForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的培训材料。"))
    else:
        run_service(request, services.material_add, session=training_session,
                    actor=request.user, upload=form.cleaned_data["file"],
                    success=lambda material: _("已上传“%(name)s”。")
                    % {"name": material.original_name})
    return redirect("launch:session", pk=training_session.pk)


@capability_required(VIEW_TRAINING)
@require_GET
def material_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    material = selectors.get_material_for_user(request.user, pk, round=current_round_or_404())
    try:
        response = files.response(storage_name=material.storage_name,
                                  original_name=material.original_name,
                                  content_type=material.content_type)
    except FileNotFoundError:
        logger.error("training material %s has no file", material.pk)
        raise Http404 from None
    log_action("launch.training.material_downloaded", actor=request.user, target=material)
    return response


@capability_required(MANAGE_TRAINING)
@require_POST
def material_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    material = selectors.get_material_for_user(request.user, pk, round=current_round_or_404())
    services.material_remove(material=material, actor=request.user)
    messages.success(request, _("已删除“%(name)s”。") % {"name": material.original_name})
    return redirect("launch:session", pk=material.session_id)
