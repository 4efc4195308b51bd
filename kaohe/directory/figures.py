"""County figures from the national poverty alleviation information system
(全国扶贫开发信息系统): the office imports the system's export, CSV or Excel.

The file is hostile until checked: it is bounded in bytes (the form) and rows (here) and
Excel is read through kaohe.lib.xlsx_reading; every row is checked before anything is
written, each error names its row and column in Chinese, and a file with any error
imports nothing. A county-year already imported is updated (the export is re-run
through the year).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.importing import ImportProblem
from kaohe.directory.models import County, CountyFigure
from kaohe.lib import clock
from kaohe.lib.xlsx_reading import WorkbookLimits, WorkbookRefused, open_workbook

SOURCE = "全国扶贫开发信息系统"
MAX_ROWS = 10_000
PEOPLE_MAX = 10_000_000
YEARS = range(2013, 2031)
CODE, YEAR, PLANNED, ACTUAL, EXITED, INCIDENCE = (
    "县代码", "年度", "计划脱贫人口", "实际脱贫人口", "是否摘帽", "贫困发生率（%）")
COLUMNS = [CODE, YEAR, PLANNED, ACTUAL, EXITED, INCIDENCE]
# Other spellings the system's exports use for the same columns.
ALIASES = {"行政区划代码": CODE, "县（市、区）代码": CODE, "年份": YEAR, "摘帽": EXITED,
           "贫困发生率": INCIDENCE, "贫困发生率(%)": INCIDENCE}
_YES = {"是", "已摘帽", "1", "y", "yes", "true"}
_NO = {"否", "未摘帽", "0", "n", "no", "false"}


@dataclass
class FiguresResult:
    problems: list[ImportProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _csv_rows(data: bytes, max_rows: int):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = []
        for values in reader:
            rows.append(values)
            if len(rows) > max_rows + 1:
                break
        return rows
    raise ValueError(_("请上传 CSV（UTF-8 或 GB18030 编码）或 Excel（.xlsx）格式的导出文件"))


def _xlsx_rows(data: bytes, max_rows: int):
    with open_workbook(data, WorkbookLimits.from_settings()) as book:
        sheet = book.first()
        if sheet is None:
            return []
        return [list(values) for values in sheet.rows(max_row=max_rows + 2)]


def _read(data: bytes, max_rows: int, result: FiguresResult) -> list[tuple[int, dict]]:
    try:
        rows = _xlsx_rows(data, max_rows) if data[:4] == b"PK\x03\x04" else _csv_rows(
            data, max_rows)
    except WorkbookRefused as error:
        reason = (error.reason if error.code != "damaged"
                  else _("无法读取该 Excel 文件，请重新保存后上传"))
        result.problems.append(ImportProblem(None, None, None, reason))
        return []
    except (ValueError, csv.Error) as error:
        result.problems.append(ImportProblem(None, None, None, str(error)))
        return []
    if not rows:
        result.problems.append(ImportProblem(None, 1, None, _("缺少表头行")))
        return []
    header = [ALIASES.get(_text(h), _text(h)) for h in rows[0]]
    index = {name: i for i, name in enumerate(header) if name}
    missing = [name for name in (CODE, YEAR) if name not in index]
    for name in missing:
        result.problems.append(ImportProblem(None, 1, name, _("缺少此列")))
    if missing:
        return []
    if len(rows) > max_rows + 1:
        result.problems.append(ImportProblem(None, None, None, _(
            "超过%(n)d行上限，请分批导入") % {"n": max_rows}))
        return []
    found = []
    for number, values in enumerate(rows[1:], start=2):
        row = {name: _text(values[i]) if i < len(values) else "" for name, i in index.items()
               if name in COLUMNS}
        if any(row.values()):
            found.append((number, row))
    return found


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= most


def _count(row, name, number, result):
    text = row.get(name, "").replace(",", "")
    if not text:
        return None
    # ASCII digits, and few: str.isdigit() also takes "²" and int() refuses thousands of
    # digits, either a 500 where the row should be named.
    if not _digits(text, 9) or int(text) > PEOPLE_MAX:
        result.problems.append(ImportProblem(None, number, name, _(
            "应为 0 到 %(max)d 之间的整数，而不是“%(text)s”")
            % {"max": PEOPLE_MAX, "text": text[:20]}))
        return None
    return int(text)


def _check(rows, result) -> list[dict]:
    codes = {row.get(CODE, "") for _number, row in rows}
    counties = {c.code: c for c in County.objects.filter(code__in=codes)}
    seen: dict[tuple, int] = {}
    checked = []
    for number, row in rows:
        county = counties.get(row.get(CODE, ""))
        if county is None:
            result.problems.append(ImportProblem(None, number, CODE, _(
                "“%(code)s”不是832个贫困县之一") % {"code": row.get(CODE, "")[:20]}))
        year_text = row.get(YEAR, "")
        year = int(year_text) if _digits(year_text, 4) else None
        if year not in YEARS:
            result.problems.append(ImportProblem(None, number, YEAR, _(
                "应为 %(first)d 到 %(last)d 之间的年份")
                % {"first": YEARS.start, "last": YEARS.stop - 1}))
        planned = _count(row, PLANNED, number, result)
        actual = _count(row, ACTUAL, number, result)
        exited_text = row.get(EXITED, "").lower()
        exited = True if exited_text in _YES else False if exited_text in _NO else None
        if exited_text and exited is None:
            result.problems.append(ImportProblem(None, number, EXITED, _("应填“是”或“否”")))
        incidence = None
        incidence_text = row.get(INCIDENCE, "").rstrip("%")
        if incidence_text:
            try:
                incidence = Decimal(incidence_text)
            except InvalidOperation:
                incidence = None
            if incidence is None or not incidence.is_finite() or not 0 <= incidence <= 100:
                result.problems.append(ImportProblem(None, number, INCIDENCE,
                                                     _("应为 0 到 100 之间的百分数")))
                incidence = None
            else:
                incidence = incidence.quantize(Decimal("0.01"))
        if county is not None and year is not None:
            key = (county.pk, year)
            if key in seen:
                result.problems.append(ImportProblem(None, number, None, _(
                    "与第%(row)d行重复（同一县同一年度）") % {"row": seen[key]}))
            seen.setdefault(key, number)
            checked.append({"county": county, "year": year, "planned_exit": planned,
                            "actual_exit": actual, "exited": exited,
                            "poverty_incidence": incidence})
    return checked


def import_county_figures(*, data: bytes, file_name: str, actor,
                          max_rows: int = MAX_ROWS) -> FiguresResult:
    """Check the export; only if every row is right, create or update its county-years."""
    from kaohe.accounts.capabilities import MANAGE_DIRECTORY, has_capability

    if not has_capability(actor, MANAGE_DIRECTORY):
        raise PermissionDenied
    result = FiguresResult()
    rows = _read(data, max_rows, result)
    checked = _check(rows, result) if result.ok else []
    if result.ok and not checked:
        result.problems.append(ImportProblem(None, None, None, _("文件中没有数据行")))
    if not result.ok:
        log_action("directory.county_figures.rejected", actor=actor, success=False,
                   data={"file": file_name[:200], "problems": len(result.problems)})
        return result
    now = clock.now()
    with transaction.atomic():
        for item in checked:
            county, year = item.pop("county"), item.pop("year")
            _figure, created = CountyFigure.objects.update_or_create(
                county=county, year=year, defaults={
                    **item, "source_file": file_name[:200],
                    "imported_by": actor.get_username(), "imported_at": now})
            if created:
                result.created += 1
            else:
                result.updated += 1
        log_action("directory.county_figures.imported", actor=actor, data={
            "file": file_name[:200], "created": result.created, "updated": result.updated})
    return result


def figures_for(counties, year: int) -> dict[int, CountyFigure]:
    """county id -> its imported figures of the year, for the pages that pre-fill them."""
    return {f.county_id: f for f in CountyFigure.objects.filter(
        county__in=counties, year=year).select_related("county")}


def describe(figure: CountyFigure) -> str:
    """One line with the source, as shown beside the fields it pre-fills."""
    parts = []
    if figure.planned_exit is not None or figure.actual_exit is not None:
        parts.append(_("计划脱贫%(planned)s人，实际脱贫%(actual)s人") % {
            "planned": "—" if figure.planned_exit is None else figure.planned_exit,
            "actual": "—" if figure.actual_exit is None else figure.actual_exit})
    if figure.exited is not None:
        parts.append(_("当年摘帽") if figure.exited else _("当年未摘帽"))
    if figure.poverty_incidence is not None:
        parts.append(_("贫困发生率%(rate)s%%") % {"rate": figure.poverty_incidence})
    return _("%(source)s（%(year)d年，%(day)s导入自“%(file)s”）：%(figures)s") % {
        "source": _("全国扶贫开发信息系统"), "year": figure.year,
        "day": timezone.localtime(figure.imported_at).strftime("%Y-%m-%d"),
        "file": figure.source_file, "figures": "，".join(parts) or _("无数据")}
