"""Tables in and out of the grading engine, for ``kaohe evaluate``.

Input: a CSV (UTF-8, with or without BOM; GB18030 as Chinese Excel saves it) or an XLSX file
(first sheet), one header row, one unit per row. Columns, by Chinese or English header:

    单位 unit                      required, unique
    帮扶成效 effectiveness ... 工作创新 innovation   required; 好 / 较好 / 一般 / 较差
                                   (or good / fairly_good / average / poor)
    类别 category                  optional
    突出问题 serious_problems      optional; empty = none; several split on ；;、 or new lines;
                                   无 / 没有 / 否 / none / - alone also mean none
    重大涉贫事件 major_incident    optional; 是/否, 有/无, yes/no, true/false, 1/0; empty = 否
    省级推荐等次 recommended_grade optional; a grade or empty

Other columns are ignored, entirely blank rows skipped. Any error raises ``InputError`` naming
the row (as the user sees it: the header is row 1) and the column, the missing columns, or the
duplicate unit with both rows. Nothing is returned unless the whole file is valid.

Output: JSON (Evaluation.to_dict), CSV (UTF-8 with BOM when written to a file, so that Excel
opens it) and XLSX (sheet 结果, sheet 提示 for the warnings).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from kaohe.grading.engine import AREA_CODES, AREA_GRADES, AREA_NAMES, Evaluation, Grade, UnitInput

if TYPE_CHECKING:
    from kaohe.lib.xlsx_reading import UnreadableCell


class InputError(ValueError):
    """An input file the engine cannot use; the message says where and what."""


# field -> the headers that name it (Chinese first: that is what messages show by default).
FIELD_HEADERS: dict[str, tuple[str, str]] = {
    "unit": ("单位", "unit"),
    **{area: (AREA_NAMES[area], area) for area in AREA_CODES},
    "category": ("类别", "category"),
    "serious_problems": ("突出问题", "serious_problems"),
    "major_incident": ("重大涉贫事件", "major_incident"),
    "recommended_grade": ("省级推荐等次", "recommended_grade"),
}
REQUIRED_FIELDS: tuple[str, ...] = ("unit", *AREA_CODES)
_HEADER_TO_FIELD: dict[str, str] = {
    header.lower(): name for name, headers in FIELD_HEADERS.items() for header in headers
}
_YES = {"是", "有", "yes", "y", "true", "1"}
_NO = {"否", "无", "没有", "no", "n", "false", "0", ""}
# A cell that only says "none": without this, 无 would count as a serious problem and could
# make a unit 较差.
_NO_PROBLEM = {"无", "没有", "否", "none", "no", "-", "—", "/", "／"}
_PROBLEM_SEPARATORS = re.compile(r"[；;、\r\n]+")
RESULT_HEADERS: tuple[str, ...] = ("单位", "类别", "得分", "名次", "等次", "说明")
WARNING_HEADERS: tuple[str, ...] = ("单位", "代码", "提示")


@dataclass(frozen=True)
class _Row:
    number: int  # as the user sees it in the file; the header is row 1
    cells: list[str]


def _cell(row: int, column: str, zh: str, en: str) -> InputError:
    return InputError(f"第{row}行「{column}」列: {zh} (row {row}, column {column}: {en})")


# --------------------------------------------------------------------------- reading


def read_units(path: str | Path) -> list[UnitInput]:
    """The units in a CSV or XLSX file; raises InputError for anything it cannot use."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(
            f"无法识别的文件类型「{path.suffix or path.name}」，请使用 .csv 或 .xlsx "
            f"(unknown file type {path.suffix!r}: use .csv or .xlsx)"
        )
    if not path.is_file():
        raise InputError(f"找不到文件：{path} (file not found: {path})")
    if suffix == ".csv":
        return parse_rows(_read_csv(path))
    rows, unreadable = _read_xlsx(path)
    _refuse_unreadable(rows, unreadable)
    return parse_rows(rows)


def _read_csv(path: Path) -> list[_Row]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取文件：{path} (cannot read file: {exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in a Chinese locale saves "CSV" in GB18030 (GBK).
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(
                f"无法读取文件：{path}，编码既不是 UTF-8 也不是 GB18030 "
                "(cannot read file: encoding is neither UTF-8 nor GB18030)"
            ) from None
    if "\x00" in text:
        raise InputError(f"无法读取文件：{path} 不是文本文件 (cannot read file: not a text file)")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(f"无法读取文件：{path} (cannot read file: {exc})") from None
    return [_Row(number, record) for number, record in enumerate(records, start=1)]


def _read_xlsx(path: Path) -> tuple[list[_Row], list[UnreadableCell]]:
    """The first sheet's rows, and its cells that would read as blank although they are not
    (formulas without a cached result, merged cells: kaohe.lib.xlsx_reading.UnreadableCell).

    The file is bounded (unpacked bytes, rows, columns) before openpyxl parses it."""
    from kaohe.lib.xlsx_reading import WorkbookLimits, WorkbookRefused, open_workbook

    try:
        with open_workbook(path, WorkbookLimits.current()) as book:
            sheet = book.first()
            if sheet is None:
                return [], []
            rows = [_Row(number, [_text(value) for value in values])
                    for number, values in enumerate(sheet.rows(), start=1)]
            return rows, sheet.unreadable()
    except OSError as exc:
        raise InputError(f"无法读取文件：{path} (cannot read file: {exc.strerror})") from None
    except WorkbookRefused as exc:
        if exc.code == "damaged":
            raise InputError(
                f"无法读取文件：{path}，不是有效的 Excel (.xlsx) 文件 "
                f"(cannot read file: not a valid .xlsx workbook: {exc.english})"
            ) from None
        where = f"「{exc.sheet}」表：" if exc.sheet else ""
        in_sheet = f"sheet {exc.sheet!r}: " if exc.sheet else ""
        raise InputError(f"无法读取文件：{path}：{where}{exc.reason} "
                         f"(cannot read file: {in_sheet}{exc.english})") from None


def _refuse_unreadable(rows: list[_Row], unreadable: list[UnreadableCell]) -> None:
    """InputError naming every cell of a used column (below the header) that cannot be read."""
    filled = [row for row in rows if any(cell.strip() for cell in row.cells)]
    if not unreadable or not filled:
        return
    header = filled[0]
    try:
        columns = {index + 1: name for index, name in _columns(header).values()}
    except InputError:
        return  # parse_rows names the header's problem
    cells = [c for c in unreadable if c.column in columns and c.row > header.number]
    if cells:
        raise InputError("；".join(
            str(_cell(c.row, columns[c.column], c.reason, c.english)) for c in cells))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_rows(rows: list[_Row]) -> list[UnitInput]:
    rows = [row for row in rows if any(cell.strip() for cell in row.cells)]
    if not rows:
        raise InputError("文件为空 (empty file)")
    header, data = rows[0], rows[1:]
    columns = _columns(header)
    if not data:
        raise InputError("文件为空：只有表头，没有单位 (empty file: a header but no units)")

    units = []
    first_row: dict[str, int] = {}
    for row in data:
        unit = _unit(row, columns)
        if unit.unit in first_row:
            raise InputError(
                f"单位「{unit.unit}」重复：第{first_row[unit.unit]}行和第{row.number}行 "
                f"(duplicate unit {unit.unit!r}: rows {first_row[unit.unit]} and {row.number})"
            )
        first_row[unit.unit] = row.number
        units.append(unit)
    return units


def _columns(header: _Row) -> dict[str, tuple[int, str]]:
    """field -> (column index, the header as written)."""
    columns: dict[str, tuple[int, str]] = {}
    for index, raw in enumerate(header.cells):
        name = raw.strip()
        field = _HEADER_TO_FIELD.get(name.lower())
        if field is None:
            continue  # extra columns are allowed and ignored
        if field in columns:
            earlier = columns[field][1]
            raise InputError(
                f"第{header.number}行: 「{earlier}」与「{name}」是同一列，只能保留一个 "
                f"(row {header.number}: columns {earlier!r} and {name!r} are the same column)"
            )
        columns[field] = (index, name)
    missing = [FIELD_HEADERS[field][0] for field in REQUIRED_FIELDS if field not in columns]
    if missing:
        listed = "、".join(f"「{name}」" for name in missing)
        raise InputError(f"缺少列：{listed} (missing column(s): {', '.join(missing)})")
    return columns


def _unit(row: _Row, columns: dict[str, tuple[int, str]]) -> UnitInput:
    def value(field: str) -> tuple[str, str]:
        index, header = columns.get(field, (-1, FIELD_HEADERS[field][0]))
        raw = row.cells[index] if 0 <= index < len(row.cells) else ""
        return raw.strip(), header

    name, header = value("unit")
    if not name:
        raise _cell(row.number, header, "单位名称为空", "empty unit name")

    grades = {}
    for area in AREA_CODES:
        text, header = value(area)
        grades[area] = _grade(text, row.number, header, required=True)

    recommended_text, header = value("recommended_grade")
    recommended = _grade(recommended_text, row.number, header, required=False)

    incident_text, header = value("major_incident")
    if incident_text.lower() in _YES:
        incident = True
    elif incident_text.lower() in _NO:
        incident = False
    else:
        raise _cell(
            row.number,
            header,
            f"无法识别的值「{incident_text}」，应为 是 或 否",
            f"unknown value {incident_text!r}: use 是/否, yes/no, true/false or 1/0",
        )

    problems_text, _ = value("serious_problems")
    problems = tuple(
        part.strip()
        for part in _PROBLEM_SEPARATORS.split(problems_text)
        if part.strip() and part.strip().lower() not in _NO_PROBLEM
    )

    category, _ = value("category")
    return UnitInput(
        unit=name,
        grades=grades,
        serious_problems=problems,
        major_incident=incident,
        recommended_grade=recommended,
        category=category or None,
    )


@overload
def _grade(text: str, row: int, header: str, *, required: Literal[True]) -> Grade: ...
@overload
def _grade(text: str, row: int, header: str, *, required: bool) -> Grade | None: ...
def _grade(text: str, row: int, header: str, *, required: bool) -> Grade | None:
    if not text:
        if required:
            raise _cell(row, header, "等次为空", "missing grade")
        return None
    try:
        grade = Grade.parse(text)
    except ValueError:
        grade = None
    if grade not in AREA_GRADES:
        raise _cell(
            row,
            header,
            f"无法识别的等次「{text}」，应为 好、较好、一般 或 较差",
            f"unknown grade {text!r}",
        )
    return grade


# --------------------------------------------------------------------------- writing


def to_json(evaluation: Evaluation) -> str:
    return json.dumps(evaluation.to_dict(), ensure_ascii=False, indent=2)


def result_rows(evaluation: Evaluation) -> list[list[str | int | float]]:
    return [
        [
            result.unit,
            result.category or "",
            result.score,
            result.rank,
            result.grade.label,
            "；".join(reason.message for reason in result.reasons),
        ]
        for result in evaluation.results
    ]


def warning_rows(evaluation: Evaluation) -> list[list[str]]:
    return [[w.unit or "", w.code, w.message] for w in evaluation.warnings]


def to_csv(evaluation: Evaluation) -> str:
    # Unit and category names come from the input file: text that a spreadsheet would run
    # as a formula is neutralised (kaohe.lib.spreadsheets).
    from kaohe.lib.spreadsheets import csv_writer

    buffer = io.StringIO(newline="")
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(RESULT_HEADERS)
    writer.writerows(result_rows(evaluation))
    return buffer.getvalue()


def write_csv(evaluation: Evaluation, path: str | Path) -> None:
    # The BOM is what makes Excel read the file as UTF-8 rather than the local code page.
    Path(path).write_text(to_csv(evaluation), encoding="utf-8-sig", newline="")


def write_xlsx(evaluation: Evaluation, path: str | Path) -> None:
    import openpyxl
    from openpyxl.utils import get_column_letter

    from kaohe.lib.spreadsheets import save_workbook, write_row

    book = openpyxl.Workbook()
    results = book.active
    results.title = "结果"
    notes = book.create_sheet("提示")
    for sheet, headers, rows, widths in (
        (results, RESULT_HEADERS, result_rows(evaluation), (24, 12, 8, 6, 6, 120)),
        (notes, WARNING_HEADERS, warning_rows(evaluation), (24, 24, 100)),
    ):
        write_row(sheet, headers)
        for row in rows:
            write_row(sheet, row)
        for column, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.freeze_panes = "A2"
    save_workbook(book, path)  # unit names and messages stay text, never a formula
