"""Reads of result sets. Before release nothing here is visible outside the office, the
working group and the leading group; after release a unit sees its own grade only.

A version's units are read from its rows (``kaohe.grading.readmodel``), never from its
snapshots: a page of rows, one unit's row and the counts cost the same at 310 or 3,100
units. The final grade of a row is the engine's unless a decision replaced it (the latest
decision wins, as in ``ResultSet.final_grades``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from kaohe.grading import readmodel
from kaohe.grading.models import (
    SNAPSHOTS,
    Correction,
    Decision,
    ResultRow,
    ResultSet,
    ResultSetStatus,
    ResultSummary,
)
from kaohe.grading.vocabulary import Grade
from kaohe.lib.memo import per_request


class _Final(TypedDict):
    final_grade: str


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from kaohe.directory.models import Unit
    from kaohe.grading import engine
    from kaohe.rounds.models import Round

    # A row with its final grade (the engine's, or the latest decision's).
    Row = WithAnnotations[ResultRow, _Final]


def released_result_set(round_: Round | int) -> ResultSet | None:
    result_set = ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED).first()
    if result_set is not None:
        result_set.verify_seal()
    return result_set


@per_request
def released_version(round_: Round | int) -> ResultSet | None:
    """The released version without its snapshots, its seal not checked: for pages that only
    ask whether results are out or which version's letters are in force (issue 19). What is
    read from the snapshots goes through released_result_set, which checks the seal; release
    checks it before the letters (and their grades) become visible, and `kaohe verify`
    checks every sealed version."""
    return (ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED)
            .defer(*SNAPSHOTS).first())


@per_request
def approved_result_set(round_: Round | int | None) -> ResultSet | None:
    """The newest approved or released version (what the office prepares letters and papers
    from), with its correction and the version that corrects; the snapshots of both stay
    unread until asked for."""
    if round_ is None:
        return None
    result_set = (ResultSet.objects.filter(
        round=round_, status__in=[ResultSetStatus.APPROVED, ResultSetStatus.RELEASED])
        .select_related("round").defer(*SNAPSHOTS).order_by("-version").first())
    if result_set is not None and result_set.correction_id is not None:
        # Read apart: joined to every read, the (rare) correction doubled its cost (issue 19).
        result_set.correction = (
            Correction.objects.select_related("corrects")
            .defer(*(f"corrects__{field}" for field in SNAPSHOTS))
            .get(pk=result_set.correction_id))
    return result_set


@per_request
def result_set_versions(round_: Round) -> tuple[ResultSet, ...]:
    """The round's result sets as lists name them (year, version, status): only the columns
    before the snapshots are read (in SQLite reading a later one walks through them). The
    documents that list them (the ranking table, the comprehensive review) share one read
    per page view (issue 19)."""
    return tuple(ResultSet.objects.filter(round=round_).select_related("round").only(
        "id", "version", "status", "round", "round__year"))


def released_grade_for(round_: Round | int, unit: Unit) -> str | None:
    """The unit's own released grade code, or None before release (or when the unit was
    not ranked): its row of the released version."""
    result_set = released_version(round_)
    if result_set is None:
        return None
    row = result_row(result_set, unit.code)
    return row.final_grade if row is not None else None


# Rows -----------------------------------------------------------------------------------


# A page of the ranking (the working group's page paginates its rows by this).
ROWS_PER_PAGE = 50


def _final_grade() -> Coalesce:
    latest = (Decision.objects.filter(result_set_id=OuterRef("result_set_id"),
                                      unit_code=OuterRef("unit_code"))
              .order_by("-decided_at", "-pk").values("grade")[:1])
    return Coalesce(Subquery(latest), F("grade"))


def _pk(result_set: ResultSet | int) -> int:
    return result_set if isinstance(result_set, int) else result_set.pk


def result_summary(result_set: ResultSet | int) -> ResultSummary:
    """The version's summary (warnings, sensitivity, calibration, bands); its rows are
    written first if the version has none yet."""
    summary = ResultSummary.objects.filter(result_set_id=_pk(result_set)).first()
    if summary is None:
        readmodel.ensure_rows(result_set)
        summary = ResultSummary.objects.get(result_set_id=_pk(result_set))
    return summary


def result_rows(result_set: ResultSet | int, *, category: str = "", grade: str = "",
                warned: bool = False, units: Iterable[str] | None = None,
                ensure: bool = True) -> QuerySet[Row]:
    """The version's rows in ranking order with their ``final_grade``; of one category, one
    final grade, the units with warnings or the given units only when asked. ``ensure=False``
    when the caller already read the summary (the rows exist)."""
    if ensure:
        readmodel.ensure_rows(result_set)
    rows = ResultRow.objects.filter(result_set_id=_pk(result_set)).annotate(
        final_grade=_final_grade())
    if category:
        rows = rows.filter(category=category)
    if grade:
        rows = rows.filter(final_grade=grade)
    if warned:
        rows = rows.exclude(warnings=[])
    if units is not None:
        rows = rows.filter(unit_code__in=list(units))
    return rows.order_by("seq")


def result_row(result_set: ResultSet | int, unit_code: str) -> Row | None:
    """One unit's row with its final grade (None when the unit was not ranked)."""
    rows = ResultRow.objects.filter(result_set_id=_pk(result_set), unit_code=unit_code
                                    ).annotate(final_grade=_final_grade())
    row = rows.first()
    if row is None and not ResultSummary.objects.filter(result_set_id=_pk(result_set)).exists():
        readmodel.ensure_rows(result_set)
        row = rows.first()
    return row


def final_grade_counts(result_set: ResultSet | int,
                       summary: ResultSummary | None = None) -> dict[str, Counter[str]]:
    """Category -> final grade code -> number of units: the engine's counts kept in the
    summary, moved by the decisions (a query of the decided units only)."""
    pk = _pk(result_set)
    summary = summary or result_summary(result_set)
    counts: dict[str, Counter[str]] = {}
    for category, grade, n in summary.grade_counts:
        counts.setdefault(category, Counter())[grade] += n
    decided = _decided(pk)
    for code, category, grade in (ResultRow.objects.filter(result_set_id=pk,
                                                           unit_code__in=decided)
                                  .values_list("unit_code", "category", "grade")):
        counts[category][grade] -= 1
        counts[category][decided[code]] += 1
    return counts


def _decided(pk: int) -> dict[str, str]:
    """Unit code -> grade of its latest decision."""
    return dict(Decision.objects.filter(result_set_id=pk).order_by("decided_at", "pk")
                .values_list("unit_code", "grade"))


def rule_breaches(result_set: ResultSet, summary: ResultSummary,
                  totals: Counter[str]) -> list[engine.RuleBreach]:
    """Section 七 broken by the version's final grades so far (pending units aside), as
    ``services.rule_breaches(complete=False)`` finds them, from the rows: a unit whose final
    grade is not one its row allows, then the quotas (``totals``: final grade -> units).
    Only a decided unit, or one whose own engine grade its row does not allow, can break
    a rule: those rows are read, not every row."""
    decided = _decided(result_set.pk)
    candidates = ResultRow.objects.filter(
        result_set_id=result_set.pk,
        unit_code__in={*decided, *summary.engine_outside}).order_by("seq")
    breaking = []
    for row in candidates:
        final = decided.get(row.unit_code, row.grade)
        if final != Grade.PENDING and final not in row.allowed_grades:
            breaking.append((row, final))
    rules = readmodel.rules_for_rows(result_set, summary, [row for row, _final in breaking])
    out = [breach for row, final in breaking
           if (breach := rules.breach(row.unit_code, Grade(final))) is not None]
    decided_totals = Counter({Grade(code): n for code, n in totals.items()
                              if code != Grade.PENDING})
    return out + rules.quota_breaches_counted(decided_totals)
