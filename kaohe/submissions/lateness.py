"""Late and missing submissions per step, for the office (issue 17).

One row per party that owes the step and has not submitted it, or submitted it after the
step's due date (the late flag kept at submission). The queries do not grow with the number
of units: deadlines (with extensions) are read once per step and matched in Python.
"""

import datetime
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaohe.directory.models import Category, LeadDepartment, Pairing, Province, Unit
from kaohe.lib import clock
from kaohe.lib.spreadsheets import workbook_bytes, write_row
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
from kaohe.rounds.models import Step
from kaohe.submissions.models import Extension, ProvincialReport, ReportStatus, SelfReport

# The steps whose submissions the list covers (rectification has its own tracker).
STEPS = ("self_report", "provincial_report", "review")

LATE = "late"
OVERDUE = "overdue"
PENDING = "pending"
STATES = {
    LATE: gettext_lazy("逾期提交"),
    OVERDUE: gettext_lazy("逾期未报"),
    PENDING: gettext_lazy("未报送（未到期）"),
}


@dataclass
class Row:
    step: Step
    party: str
    code: str
    category: str
    province: str
    deadline: datetime.date
    extension: Extension | None
    state: str
    submitted_at: datetime.datetime | None = None

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])


# The party each step is owed by, as named on an extension.
PARTY_FIELDS = {"self_report": "unit", "provincial_report": "province",
                "review": "lead_department"}


def _extensions(steps, match: Q | None = None) -> dict:
    """The latest extension per party of each step, {step id: {party id: extension}}, in
    one query for all the steps (of the parties ``match`` names, when given)."""
    latest: dict = {step.pk: {} for step in steps}
    fields = {step.pk: PARTY_FIELDS[step.code] for step in steps}
    extensions = Extension.objects.filter(step__in=list(fields))
    if match is not None:
        extensions = extensions.filter(match)
    for ext in extensions.select_related("granted_by").order_by("until", "created_at", "pk"):
        party = getattr(ext, f"{fields[ext.step_id]}_id")
        if party is not None:
            latest[ext.step_id][party] = ext
    return latest


def _state(report, deadline, today) -> str | None:
    if report is not None and report.status == ReportStatus.SUBMITTED:
        return LATE if report.submitted_late else None
    return OVERDUE if today > deadline else PENDING


def _row(step, extensions, key, report, today, **fields) -> Row | None:
    ext = extensions.get(key)
    deadline = max(step.due, ext.until) if ext else step.due
    state = _state(report, deadline, today)
    if state is None:
        return None
    submitted = report is not None and report.status == ReportStatus.SUBMITTED
    return Row(step=step, deadline=deadline, state=state,
               extension=report.late_extension if state == LATE else ext,
               submitted_at=report.submitted_at if submitted else None, **fields)


def _self_report_rows(round_, step, extensions, category, province, today):
    units = Unit.objects.filter(active=True, pairings__round=round_).select_related("category")
    if category is not None:
        units = units.filter(category=category)
    if province is not None:
        units = units.filter(pairings__county__province=province)
    units = units.distinct().order_by("category__order", "code")
    reports = {r.unit_id: r for r in SelfReport.objects.filter(round=round_, unit__in=units)
               .select_related("late_extension__granted_by")}
    rows = (_row(step, extensions, u.pk, reports.get(u.pk), today, party=u.name, code=u.code,
                 category=u.category.name, province="") for u in units)
    return [r for r in rows if r]


def _provincial_rows(round_, step, extensions, category, province, today):
    paired = Pairing.objects.filter(round=round_, unit__active=True)
    if category is not None:
        paired = paired.filter(unit__category=category)
    if province is not None:
        paired = paired.filter(county__province=province)
    pairs = sorted(set(paired.values_list("county__province_id", "unit_id")))
    units = Unit.objects.in_bulk({u for _p, u in pairs})
    categories = Category.objects.in_bulk({u.category_id for u in units.values()})
    provinces = Province.objects.in_bulk({p for p, _u in pairs})
    reports = {(r.province_id, r.unit_id): r for r in ProvincialReport.objects.filter(
        round=round_, unit_id__in=units).select_related("late_extension__granted_by")}
    rows = []
    for province_id, unit_id in pairs:
        unit = units[unit_id]
        row = _row(step, extensions, province_id, reports.get((province_id, unit_id)), today,
                   party=f"{provinces[province_id].name} · {unit.name}", code=unit.code,
                   category=categories[unit.category_id].name,
                   province=provinces[province_id].name)
        if row:
            rows.append(row)
    return rows


class _Submission:
    """A category submission read like a report (status, late flag)."""

    def __init__(self, submission):
        self.status = (ReportStatus.SUBMITTED if submission.status ==
                       CategorySubmissionStatus.SUBMITTED else ReportStatus.DRAFT)
        self.submitted_late = submission.submitted_late
        self.late_extension = submission.late_extension
        self.submitted_at = submission.submitted_at


def _review_rows(round_, step, extensions, category, today):
    leads = LeadDepartment.objects.filter(categories__ranked=True)
    if category is not None:
        leads = leads.filter(categories=category)
    leads = leads.distinct().prefetch_related("categories").order_by("order", "code")
    # Whether and when it was submitted; not the grades it submitted (its snapshot).
    submissions = {s.lead_department_id: _Submission(s) for s in CategorySubmission.objects
                   .filter(round=round_).select_related("late_extension__granted_by")
                   .without_grades()}
    rows = (_row(step, extensions, lead.pk, submissions.get(lead.pk), today, party=lead.name,
                 code=lead.code, province="",
                 category="、".join(c.name for c in lead.categories.all() if c.ranked))
            for lead in leads)
    return [r for r in rows if r]


def late_and_missing(round_, *, step_code: str | None = None, category=None,
                     province=None) -> list[Row]:
    """The rows of the chosen step (all of STEPS when None); the province filter applies to
    the steps of units and provinces, not to the lead departments'."""
    today = clock.today()
    steps = [step for step in round_.steps.filter(code__in=[step_code] if step_code else STEPS)
             if step.code != "review" or province is None]
    extensions = _extensions(steps)
    rows = []
    for step in steps:
        if step.code == "self_report":
            rows += _self_report_rows(round_, step, extensions[step.pk], category, province,
                                      today)
        elif step.code == "provincial_report":
            rows += _provincial_rows(round_, step, extensions[step.pk], category, province,
                                     today)
        elif step.code == "review":
            rows += _review_rows(round_, step, extensions[step.pk], category, today)
    return rows


# One page of each step (issue 19): the parties that owe a step and have not submitted it
# on time are chosen, counted and cut to a page in the database; only the page's rows are
# built, with the extensions of every step's page read at once.


def _on_time(model, **match):
    return Exists(model.objects.filter(status=ReportStatus.SUBMITTED, submitted_late=False,
                                       **match))


def _self_report_parties(round_, category, province):
    paired = Pairing.objects.filter(round=round_, unit=OuterRef("pk"))
    if province is not None:
        paired = paired.filter(county__province=province)
    units = Unit.objects.filter(Exists(paired), active=True).exclude(
        _on_time(SelfReport, round=round_, unit=OuterRef("pk")))
    if category is not None:
        units = units.filter(category=category)
    return units.select_related("category").order_by("category__order", "code", "pk")


PAIR_FIELDS = ("county__province__code", "unit__category__order", "unit__code",
               "county__province_id", "unit_id", "county__province__name", "unit__name",
               "unit__category__name")


def _provincial_parties(round_, category, province):
    paired = Pairing.objects.filter(round=round_, unit__active=True).exclude(_on_time(
        ProvincialReport, round=round_, province=OuterRef("county__province"),
        unit=OuterRef("unit")))
    if category is not None:
        paired = paired.filter(unit__category=category)
    if province is not None:
        paired = paired.filter(county__province=province)
    # The (province, unit) pairs, each once (a unit may be paired with several counties).
    return paired.values_list(*PAIR_FIELDS).distinct().order_by(*PAIR_FIELDS[:5])


def _review_parties(round_, category):
    leads = LeadDepartment.objects.filter(categories__ranked=True)
    if category is not None:
        leads = leads.filter(categories=category)
    late_or_missing = leads.exclude(_on_time(CategorySubmission, round=round_,
                                             lead_department=OuterRef("pk")))
    return LeadDepartment.objects.filter(pk__in=late_or_missing.values("pk")).prefetch_related(
        "categories").order_by("order", "code", "pk")


def _page_extensions(shown) -> dict:
    """The latest extension per party of each step's page, {step id: {party id: ext}}, in
    one query for all the steps."""
    match = Q(pk__in=[])
    for step, parties in shown:
        field = PARTY_FIELDS[step.code]
        ids = [p[3] if field == "province" else p.pk for p in parties]
        if ids:
            match |= Q(step=step, **{f"{field}_id__in": ids})
    return _extensions([step for step, _parties in shown], match)


def late_and_missing_pages(round_, *, step_code: str | None = None, category=None,
                           province=None, pages: dict | None = None,
                           per_page: int = 50) -> list[dict]:
    """The sections of the chosen steps (all of STEPS when None), each {"step", "page",
    "rows"}: one page (``pages`` names it by the step's code) of the rows
    late_and_missing() gives, in the same order within each step."""
    today = clock.today()
    steps = [step for step in round_.steps.filter(code__in=[step_code] if step_code else STEPS)
             if step.code != "review" or province is None]
    shown = []
    for step in steps:
        if step.code == "self_report":
            parties = _self_report_parties(round_, category, province)
        elif step.code == "provincial_report":
            parties = _provincial_parties(round_, category, province)
        else:
            parties = _review_parties(round_, category)
        page = Paginator(parties, per_page).get_page((pages or {}).get(step.code))
        shown.append((step, list(page.object_list), page))
    extensions = _page_extensions([(step, parties) for step, parties, _page in shown])
    sections = []
    for step, parties, page in shown:
        build = {"self_report": _self_report_page, "provincial_report": _provincial_page,
                 "review": _review_page}[step.code]
        rows = build(round_, step, extensions[step.pk], parties, today) if parties else []
        sections.append({"step": step, "page": page, "rows": [r for r in rows if r]})
    return sections


def _self_report_page(round_, step, extensions, units, today):
    reports = {r.unit_id: r for r in SelfReport.objects.filter(round=round_, unit__in=units)
               .select_related("late_extension__granted_by")}
    return [_row(step, extensions, u.pk, reports.get(u.pk), today, party=u.name, code=u.code,
                 category=u.category.name, province="") for u in units]


def _provincial_page(round_, step, extensions, pairs, today):
    reports = {(r.province_id, r.unit_id): r for r in ProvincialReport.objects.filter(
        round=round_, unit_id__in={p[4] for p in pairs}).select_related(
        "late_extension__granted_by")}
    return [_row(step, extensions, province_id, reports.get((province_id, unit_id)), today,
                 party=f"{province_name} · {unit_name}", code=unit_code, category=category,
                 province=province_name)
            for (_pc, _co, unit_code, province_id, unit_id, province_name, unit_name, category)
            in pairs]


def _review_page(round_, step, extensions, leads, today):
    submissions = {s.lead_department_id: _Submission(s) for s in CategorySubmission.objects
                   .filter(round=round_, lead_department__in=leads)
                   .select_related("late_extension__granted_by").without_grades()}
    return [_row(step, extensions, lead.pk, submissions.get(lead.pk), today, party=lead.name,
                 code=lead.code, province="",
                 category="、".join(c.name for c in lead.categories.all() if c.ranked))
            for lead in leads]


def late_and_missing_workbook(rows: list[Row]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    sheet.title = _("逾期和未报送")
    write_row(sheet, [_("步骤"), _("编码"), _("单位、省份或牵头部门"), _("类别"),
                      _("省（区、市）"), _("完成时限"), _("延期"), _("状态"), _("提交时间")])
    for row in rows:
        write_row(sheet, [
            row.step.name, row.code, row.party, row.category, row.province, row.deadline,
            (_("延期至%(day)s（%(who)s准予：%(reason)s）") % {
                "day": row.extension.until.isoformat(), "who": str(row.extension.granted_by),
                "reason": row.extension.reason} if row.extension else ""),
            row.state_label,
            (timezone.localtime(row.submitted_at).strftime("%Y-%m-%d %H:%M")
             if row.submitted_at else ""),
        ])
    return workbook_bytes(wb)
