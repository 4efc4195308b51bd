"""Import of central units and their pairings from an Excel workbook.

The whole workbook is read and checked first; only a workbook without a single error
is written, in one transaction. Every error names its sheet, row and column.
"""

from dataclasses import dataclass, field

from django.db import transaction
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from kaohe.audit.services import log_action
from kaohe.directory.models import Category, County, Pairing, Unit
from kaohe.lib.spreadsheets import workbook_bytes, write_row
from kaohe.lib.xlsx_reading import WorkbookLimits, WorkbookRefused, open_workbook
from kaohe.rounds.guards import ensure_round_writable

UNITS_SHEET = "单位"
PAIRINGS_SHEET = "结对关系"
UNIT_COLUMNS = ["单位编码", "单位名称", "类别", "承担定点扶贫任务"]
UNIT_REQUIRED = ["单位编码", "单位名称", "类别"]
PAIRING_COLUMNS = ["单位编码", "县代码", "县名称"]
PAIRING_REQUIRED = ["单位编码", "县代码"]
MAX_ROWS = 20_000
_YES = {"是", "yes", "true", "1", "y"}
_NO = {"否", "no", "false", "0", "n"}


@dataclass(frozen=True)
class ImportProblem:
    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self):
        where = []
        if self.sheet:
            where.append(f"「{self.sheet}」表")
        if self.row:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"「{self.column}」列")
        return f"{''.join(where)}：{self.message}" if where else self.message


@dataclass
class ImportResult:
    problems: list[ImportProblem] = field(default_factory=list)
    units_created: int = 0
    units_updated: int = 0
    pairings_created: int = 0
    pairings_removed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class _Sheet:
    """Rows of one sheet as dicts keyed by header, with the row numbers Excel shows."""

    def __init__(self, ws, name, columns, required, result):
        self.name = name
        self.rows: list[tuple[int, dict[str, str]]] = []
        iterator = ws.rows()
        header = next(iterator, None)
        if header is None:
            result.problems.append(ImportProblem(name, 1, None, "缺少表头行"))
            return
        header = [_text(h) for h in header]
        index = {h: i for i, h in enumerate(header) if h}
        for col in required:
            if col not in index:
                result.problems.append(ImportProblem(name, 1, col, "缺少此列"))
        if any(col not in index for col in required):
            return
        # Formula cells without a cached result and merged cells would read as blank.
        read = {index[col] + 1: col for col in columns if col in index}
        for cell in ws.unreadable(columns=set(read)):
            result.problems.append(ImportProblem(name, cell.row, read[cell.column], cell.reason))
        for number, values in enumerate(iterator, start=2):
            if number > MAX_ROWS + 1:
                result.problems.append(ImportProblem(name, number, None, f"超过{MAX_ROWS}行上限"))
                break
            row = {col: _text(values[i]) if i < len(values) else "" for col, i in index.items()
                   if col in columns}
            if any(row.values()):
                self.rows.append((number, row))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _refused(error: WorkbookRefused) -> ImportProblem:
    if error.code != "damaged":  # a limit, named
        return ImportProblem(error.sheet, None, None, error.reason)
    if error.sheet:
        # Read-only workbooks parse rows lazily: a damaged cell fails while reading.
        return ImportProblem(error.sheet, None, None,
                             "工作表内容已损坏，无法读取，请重新保存后上传")
    return ImportProblem(None, None, None, "无法读取该文件，请上传 Excel（.xlsx）格式的导入模板")


def import_units_and_pairings(*, data: bytes, round, actor, file_name: str = "") -> ImportResult:
    """Check the workbook; if it has no error, upsert its units and set their pairings.

    The workbook is bounded before it is parsed and streamed read-only
    (kaohe.lib.xlsx_reading): a file over a limit is refused at once, naming the limit."""
    ensure_round_writable(round)
    result = ImportResult()
    sheets = {}
    try:
        with open_workbook(data, WorkbookLimits.from_settings()) as wb:
            for name, cols, req in ((UNITS_SHEET, UNIT_COLUMNS, UNIT_REQUIRED),
                                    (PAIRINGS_SHEET, PAIRING_COLUMNS, PAIRING_REQUIRED)):
                if name not in wb.sheetnames:
                    result.problems.append(ImportProblem(name, None, None, "缺少此工作表"))
                    continue
                try:
                    sheets[name] = _Sheet(wb[name], name, cols, req, result)
                except WorkbookRefused as error:
                    result.problems.append(_refused(error))
    except WorkbookRefused as error:
        result.problems = [_refused(error)]
    if not result.ok:
        log_action("directory.import.rejected", actor=actor, success=False,
                   data={"file": file_name, "problems": len(result.problems)})
        return result
    units = _check_units(sheets[UNITS_SHEET], result)
    _check_category_moves(units, round, result)
    pairings = _check_pairings(sheets[PAIRINGS_SHEET], units, result)
    if not result.ok:
        log_action("directory.import.rejected", actor=actor, success=False,
                   data={"file": file_name, "problems": len(result.problems)})
        return result
    _write(units, pairings, round=round, result=result)
    log_action(
        "directory.import.completed", actor=actor, target=round,
        data={"file": file_name, "units_created": result.units_created,
              "units_updated": result.units_updated,
              "pairings_created": result.pairings_created,
              "pairings_removed": result.pairings_removed},
    )
    return result


def _check_category_moves(units: dict[str, dict], round, result: ImportResult) -> None:
    """A unit's category decides which lead department reads its records in every round
    (kaohe.accounts.scope), so a unit that took part in another started round keeps its
    category: moving it would hand that year's reports and grades to another lead
    department. Refused, naming the row and the years."""
    from kaohe.rounds.models import RoundStatus

    moved = {unit.code: unit for unit in Unit.objects.filter(code__in=units)
             .select_related("category")
             if units[unit.code].get("category") is not None
             and unit.category_id != units[unit.code]["category"].pk}
    if not moved:
        return
    years: dict[str, set[int]] = {}
    for code, year in (Pairing.objects.filter(unit__code__in=moved).exclude(round=round)
                       .exclude(round__status=RoundStatus.PREPARING)
                       .values_list("unit__code", "round__year")):
        years.setdefault(code, set()).add(year)
    for code in sorted(years, key=lambda c: units[c]["row"]):
        item, unit = units[code], moved[code]
        result.problems.append(ImportProblem(
            UNITS_SHEET, item["row"], "类别",
            f"单位「{code}」已参加{'、'.join(f'{y}年度' for y in sorted(years[code]))}考核，"
            f"类别不能由「{unit.category.name}」改为「{item['category'].name}」："
            "往年的报告和等次由原类别的牵头部门审阅",
        ))


def _check_units(sheet: _Sheet, result: ImportResult) -> dict[str, dict]:
    categories = {}
    for cat in Category.objects.all():
        categories[cat.name] = cat
        categories[cat.code] = cat
    category_names = "、".join(Category.objects.values_list("name", flat=True))
    by_code: dict[str, dict] = {}
    seen_names: dict[str, int] = {}
    for number, row in sheet.rows:
        code, name, category = row["单位编码"], row["单位名称"], row["类别"]
        for col in UNIT_REQUIRED:
            if not row[col]:
                result.problems.append(ImportProblem(sheet.name, number, col, "不能为空"))
        if code and len(code) > 20:
            result.problems.append(
                ImportProblem(sheet.name, number, "单位编码", "不能超过20个字符")
            )
        if name and len(name) > 100:
            result.problems.append(ImportProblem(sheet.name, number, "单位名称",
                                                 "不能超过100个字符"))
        if category and category not in categories:
            result.problems.append(ImportProblem(
                sheet.name, number, "类别",
                f"未知类别「{category}」，应为：{category_names}",
            ))
        active_text = row.get("承担定点扶贫任务", "")
        active = True
        if active_text:
            if active_text.lower() in _YES:
                active = True
            elif active_text.lower() in _NO:
                active = False
            else:
                result.problems.append(ImportProblem(
                    sheet.name, number, "承担定点扶贫任务",
                    f"应填「是」或「否」，不是「{active_text}」",
                ))
        if code in by_code:
            result.problems.append(ImportProblem(
                sheet.name, number, "单位编码",
                f"单位编码「{code}」与第{by_code[code]['row']}行重复",
            ))
            continue
        if name in seen_names:
            result.problems.append(ImportProblem(
                sheet.name, number, "单位名称", f"单位名称「{name}」与第{seen_names[name]}行重复"
            ))
            continue
        if code and name:
            by_code[code] = {"row": number, "name": name, "category": categories.get(category),
                             "active": active}
            seen_names[name] = number
    # A name may not move to another code that already exists under another name.
    taken = dict(Unit.objects.filter(name__in=seen_names).values_list("name", "code"))
    for code, item in by_code.items():
        other = taken.get(item["name"])
        if other is not None and other != code:
            result.problems.append(ImportProblem(
                sheet.name, item["row"], "单位名称",
                f"单位名称「{item['name']}」已被编码为「{other}」的单位使用",
            ))
    return by_code


def _check_pairings(sheet: _Sheet, units: dict[str, dict], result: ImportResult):
    counties = {c.code: c for c in County.objects.all()}
    known_units = set(units) | set(Unit.objects.values_list("code", flat=True))
    pairs: dict[tuple[str, str], int] = {}
    for number, row in sheet.rows:
        unit_code, county_code, county_name = row["单位编码"], row["县代码"], row.get("县名称", "")
        for col in PAIRING_REQUIRED:
            if not row[col]:
                result.problems.append(ImportProblem(sheet.name, number, col, "不能为空"))
        if unit_code and unit_code not in known_units:
            result.problems.append(ImportProblem(
                sheet.name, number, "单位编码",
                f"单位编码「{unit_code}」不在「单位」表中，也不是已有单位",
            ))
        county = counties.get(county_code)
        if county_code and county is None:
            result.problems.append(ImportProblem(
                sheet.name, number, "县代码", f"县代码「{county_code}」不在贫困县名录中"
            ))
        elif county is not None and county_name and county_name != county.name:
            result.problems.append(ImportProblem(
                sheet.name, number, "县名称",
                f"县代码「{county_code}」对应「{county.name}」，与填写的「{county_name}」不符",
            ))
        key = (unit_code, county_code)
        if unit_code and county_code:
            if key in pairs:
                result.problems.append(ImportProblem(
                    sheet.name, number, "县代码", f"与第{pairs[key]}行重复"
                ))
            else:
                pairs[key] = number
    return [(unit_code, counties[county_code]) for unit_code, county_code in pairs
            if county_code in counties]


@transaction.atomic
def _write(units: dict[str, dict], pairings, *, round, result: ImportResult) -> None:
    existing = {u.code: u for u in Unit.objects.filter(code__in=units)}
    for code, item in units.items():
        unit = existing.get(code)
        if unit is None:
            existing[code] = Unit.objects.create(
                code=code, name=item["name"], category=item["category"], active=item["active"]
            )
            result.units_created += 1
        elif (unit.name, unit.category_id, unit.active) != (
            item["name"], item["category"].pk, item["active"]
        ):
            unit.name, unit.category, unit.active = item["name"], item["category"], item["active"]
            unit.save(update_fields=["name", "category", "active"])
            result.units_updated += 1
    # The sheet states each listed unit's full set of counties for this round.
    listed = {code for code, _ in pairings}
    unit_ids = {u.code: u.pk for u in Unit.objects.filter(code__in=listed | set(units))}
    wanted = {(unit_ids[code], county.pk) for code, county in pairings}
    current = set(
        Pairing.objects.filter(round=round, unit_id__in=[unit_ids[c] for c in listed])
        .values_list("unit_id", "county_id")
    )
    stale = current - wanted
    for unit_id, county_id in stale:
        Pairing.objects.filter(round=round, unit_id=unit_id, county_id=county_id).delete()
    Pairing.objects.bulk_create(
        Pairing(round=round, unit_id=unit_id, county_id=county_id)
        for unit_id, county_id in sorted(wanted - current)
    )
    result.pairings_created = len(wanted - current)
    result.pairings_removed = len(stale)


def import_template() -> bytes:
    """An empty workbook with the two sheets, their headers and a sheet of instructions."""
    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    ws = wb.active
    ws.title = UNITS_SHEET
    write_row(ws, UNIT_COLUMNS)
    first = Category.objects.first()
    write_row(ws, ["U0001", "示例单位（请替换）", first.name if first else "中央国家机关", "是"])
    ws2 = wb.create_sheet(PAIRINGS_SHEET)
    write_row(ws2, PAIRING_COLUMNS)
    write_row(ws2, ["U0001", "130125", "行唐县"])
    for sheet in (ws, ws2):
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
        for col in "ABCD":
            sheet.column_dimensions[col].width = 24
    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 100
    for line in [
        "中央单位及结对关系导入模板",
        "1.「单位」表：每行一个中央单位。单位编码、单位名称、类别必填；单位编码与单位名称不得重复。",
        "   类别应为：" + "、".join(Category.objects.values_list("name", flat=True)),
        "   承担定点扶贫任务：填「是」或「否」，空白视为「是」。",
        "2.「结对关系」表：每行一个单位与一个定点扶贫县的结对。一个单位可结对多个县。",
        "   县代码为贫困县名录中的行政区划代码；填写县名称时须与代码一致。",
        "   表中列出的单位，其本年度结对关系以本表为准（未列出的县将被移除）。",
        "3. 任一行有错误时整个文件不导入，系统会指出错误所在的工作表、行和列。",
    ]:
        write_row(notes, [line])
    return workbook_bytes(wb)  # category names are text, never a formula
