"""One home page per role: what is due, by when, and what is done."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from kaohe.accounts.capabilities import (
    CHECK_CADRES,
    EDIT_PROVINCIAL_REPORT,
    EDIT_SELF_REPORT,
    INSPECT_MILITARY,
    MANAGE_ACCOUNTS,
    REVIEW_UNITS,
    VIEW_AUDIT_LOG,
    VIEW_PROGRESS,
    VIEW_UNIT_PROGRESS,
    capability_required,
    has_capability,
)
from kaohe.accounts.models import Role, User
from kaohe.accounts.scope import Reach, Scope
from kaohe.audit.models import AuditEntry
from kaohe.audit.redaction import for_auditor
from kaohe.dashboard import selectors, todo
from kaohe.directory.models import Category
from kaohe.directory.selectors import units_visible_to
from kaohe.grading.models import ResultSetStatus
from kaohe.lib import paging
from kaohe.lib.http import current_round_or_404
from kaohe.outcomes.selectors import (
    released_grade_and_letter,
    released_results_of,
    results_sent_to_org_department,
)
from kaohe.rounds.models import Grade
from kaohe.rounds.selection import chosen_round
from kaohe.submissions.models import ReportStatus, SelfReport
from kaohe.submissions.reminders import reminder_for

PAGE_SIZE = paging.ROWS
TODO_NAMED = 20  # units and accounts the system administrator's home names (the rest counted)
# The steps a home page follows, by what its user does in them (the overview: every step).
_STEP_ACTORS = (
    (EDIT_SELF_REPORT, {"unit"}),
    (EDIT_PROVINCIAL_REPORT, {"province"}),
    (REVIEW_UNITS, {"unit", "lead_reviewer"}),
    (INSPECT_MILITARY, {"unit", "lead_reviewer"}),
    # The cadre checks belong to the categorized assessment (step 4).
    (CHECK_CADRES, {"lead_reviewer"}),
)


@login_not_required
def healthz(request):
    return JsonResponse({"status": "ok"})


def home(request):
    user = request.user
    round_ = chosen_round()
    # A unit's account comes with its unit, category and lead department, read with the
    # account itself (kaohe.accounts.backends).
    panel = todo.panel_for(user, round_)
    # A unit's released results: for its reminder and its own results (read once).
    unit_results = (released_results_of(user.unit)
                    if Scope.of(user).reach is Reach.UNIT else None)
    released = (None if panel.result_statuses is None
                else ResultSetStatus.RELEASED in panel.result_statuses)
    context = {"round": round_, "steps": [], "role_label": user.get_role_display(),
               "reminder": reminder_for(user, round_, steps=panel.steps, released=released,
                                        unit_results=unit_results),
               # What is due from this user, first on every home page (issue 21).
               "todo": panel}
    overview = has_capability(user, VIEW_PROGRESS)
    actors = None if overview else _actors_for(user)
    reviewer = not overview and not has_capability(user, CHECK_CADRES) and (
        has_capability(user, REVIEW_UNITS) or has_capability(user, INSPECT_MILITARY))
    visible = tallies = None
    if round_ is not None:
        visible = units_visible_to(user, round=round_)
        if overview or reviewer:
            # Read once for the steps and the categories (issue 19).
            tallies = selectors.unit_tallies(round_, visible)
        # Only the steps the user follows are counted (the administrators follow none).
        if actors is None or actors:
            context["steps"] = selectors.step_progress(
                round_, visible, Scope.of(user).province_id, steps=panel.steps,
                statuses=panel.result_statuses, actors=actors, tallies=tallies)
    if overview:
        template = "dashboard/home_overview.html"
        context.update(_overview(round_, visible, tallies))
    elif has_capability(user, CHECK_CADRES):
        template = "dashboard/home_org_department.html"
        context.update(_org_department(round_))
    elif reviewer:
        template = "dashboard/home_reviewer.html"
        context.update(_reviewer(round_, visible, tallies))
    elif has_capability(user, EDIT_SELF_REPORT):
        template = "dashboard/home_unit.html"
        context.update(_unit(request, round_, unit_results))
    elif has_capability(user, EDIT_PROVINCIAL_REPORT):
        template = "dashboard/home_province.html"
        context["page"] = (selectors.province_reports(round_, user.province,
                                                      request.GET.get("page"))
                           if round_ else None)
    else:
        template = "dashboard/home_admin.html"
        context.update(_admin(request))
    return render(request, template, context)


def _actors_for(user) -> set[str]:
    return {actor for capability, actors in _STEP_ACTORS
            if has_capability(user, capability) for actor in actors}


def _overview(round_, units, tallies):
    """The round at a glance: the steps (counted by the caller) and the categories, each
    category's figures linking to its units on the unit progress page, which lists them
    one by one (issue 19: the overview counts, the list pages)."""
    if round_ is None:
        return {}
    categories = selectors.category_progress(round_, units, tallies=tallies)
    chart = {
        "categories": [c.name for c in categories],
        "submitted": [c.submitted for c in categories],
        "drafts": [c.drafts for c in categories],
        "not_started": [c.not_started for c in categories],
        "labels": {"submitted": _("已提交"), "drafts": _("填报中"), "not_started": _("未开始")},
    }
    totals = {name: sum(getattr(c, name) for c in categories)
              for name in ("unit_count", "submitted", "drafts", "not_started")}
    return {"categories": categories, "chart": chart, "totals": totals}


@capability_required(VIEW_UNIT_PROGRESS)
def unit_progress(request):
    """Every active unit the user sees (the overview: all; a lead department: its
    categories') with its self-report's status and the provincial reports on it, filtered
    by category and status, a page at a time (the home pages' figures link here)."""
    round_ = current_round_or_404()
    units = units_visible_to(request.user, round=round_).filter(active=True)
    categories = list(Category.objects.filter(units__in=units).distinct().order_by("order"))
    category = next((c for c in categories if c.code == request.GET.get("category")), None)
    if category is not None:
        units = units.filter(category=category)
    status = request.GET.get("status", "")
    if status not in selectors.PROGRESS_STATUSES:
        status = ""
    rows = selectors.unit_progress(round_, units, status=status)
    page = Paginator(rows.order_by("category__order", "code"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    # Each row's link and submission time made here rather than by a tag per row in the
    # template (issue 19); a lead department's ranked units open at the review desk.
    desk, detail = _url_of_pk("reviews:desk"), _url_of_pk("directory:unit_detail")
    reviews = request.user.role == Role.LEAD_REVIEWER
    for unit in page:
        unit.link = (desk if reviews and unit.category.ranked else detail)(unit.pk)
        at = unit.self_report_submitted_at
        unit.submitted_display = localtime(at).strftime("%Y-%m-%d %H:%M") if at else "—"
    return render(request, "dashboard/unit_progress.html", {
        "round": round_, "page": page,
        "categories": categories, "category": category, "status": status,
        "status_choices": [(selectors.NO_REPORT, _("未开始")),
                           (selectors.UNSUBMITTED, _("填报中（含已退回修改）")),
                           *ReportStatus.choices],
    })


def _reviewer(round_, units, tallies):
    if round_ is None:
        return {}
    return {"categories": selectors.category_progress(round_, units, tallies=tallies)}


def _url_of_pk(name):
    """The URL of the route taking one pk, for any pk: reversed once, then filled in."""
    marker = "987654321"
    url = reverse(name, args=[int(marker)])
    head, tail = url.split(marker, 1)
    return lambda pk: f"{head}{pk}{tail}"


def _org_department(round_):
    """The cadre checks, and the results once released and sent to the department; no
    report of a unit or province (its remit: kaohe.accounts.capabilities)."""
    if round_ is None:
        return {}
    return {"cadre_checks": selectors.cadre_check_progress(round_),
            "results_received": results_sent_to_org_department(round_) is not None}


def _unit(request, round_, released=None):
    unit = request.user.unit
    if released is None:
        released = released_results_of(unit)
    # Its released results of the other rounds, beside this round's report (issue 16).
    results = [r for r in released if r["round"] != round_]
    if round_ is None:
        return {"unit": unit, "results": results}
    report = SelfReport.objects.filter(round=round_, unit=unit).first()
    pairings = unit.pairings.filter(round=round_).select_related("county", "county__province")
    # The released letter's grade: the version's snapshots are not loaded and re-hashed on
    # every view (issue 19; release checked the seal, letters of it never change). This
    # round's letter, if listed with the released results, is not read twice.
    this_round = next((r["feedback"] for r in released if r["round"] == round_), None)
    grade, feedback = ((this_round.grade, this_round) if this_round is not None
                       else released_grade_and_letter(round_, unit))
    return {"unit": unit, "report": report, "pairings": pairings, "results": results,
            "released_grade": Grade(grade).label if grade else None,
            # A released correction that changed this unit's result: the unit is told here.
            "corrected_at": (feedback.result_set.released_at
                             if feedback is not None and feedback.corrected else None)}


def _admin(request):
    context: dict[str, Any] = {
        "role_counts": User.objects.values("role").annotate(n=Count("pk")).order_by("role"),
        "role_names": dict(Role.choices),
    }
    if has_capability(request.user, VIEW_AUDIT_LOG):
        # As on the audit pages: business values hidden (kaohe.audit.redaction).
        context["recent"] = list(for_auditor(AuditEntry.objects.order_by("-id")[:10]))
    if has_capability(request.user, MANAGE_ACCOUNTS):
        # What still needs an account, and accounts nobody has used (issue 20).
        from kaohe.accounts import bulk

        # Counted, and the first twenty named: not a row per unit (issue 19).
        units, never = bulk.units_without_account(), bulk.never_signed_in()
        context["accounts_todo"] = {
            "units": list(units[:TODO_NAMED]), "unit_count": units.count(),
            "provinces": list(bulk.provinces_without_account()),
            "never": list(never[:TODO_NAMED]), "never_count": never.count(),
        }
    return context
