"""``kaohe evaluate``: tables in, grades out, and a clear message (no traceback) for bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kaohe.grading import tabular

ZH_HEADER = [
    "单位",
    "类别",
    "帮扶成效",
    "组织领导",
    "选派干部",
    "督促检查",
    "基层满意情况",
    "工作创新",
    "突出问题",
    "重大涉贫事件",
    "省级推荐等次",
]
EN_HEADER = [
    "unit",
    "category",
    "effectiveness",
    "leadership",
    "cadres",
    "supervision",
    "satisfaction",
    "innovation",
    "serious_problems",
    "major_incident",
    "recommended_grade",
]

# Ten units in a clear order (scores 24, 23, ..., 15): 1 好, 2 较好, 6 一般, and the last one,
# in the poor band with a serious problem, 较差. 单位B has a problem outside the poor band.
ROWS = [
    ["单位A", "高校", "好", "好", "好", "好", "好", "好", "", "否", "好"],
    ["单位B", "高校", "好", "好", "好", "好", "好", "较好", "挂职干部挂名无实", "", ""],
    ["单位C", "企业", "好", "好", "好", "好", "较好", "较好", "", "否", ""],
    ["单位D", "企业", "好", "好", "好", "较好", "较好", "较好", "", "否", ""],
    ["单位E", "企业", "好", "好", "较好", "较好", "较好", "较好", "", "否", ""],
    ["单位F", "机关", "好", "较好", "较好", "较好", "较好", "较好", "", "否", ""],
    ["单位G", "机关", "较好", "较好", "较好", "较好", "较好", "较好", "", "否", ""],
    ["单位H", "机关", "较好", "较好", "较好", "较好", "较好", "一般", "", "否", ""],
    ["单位I", "机关", "较好", "较好", "较好", "较好", "一般", "一般", "", "否", ""],
    [
        "单位J",
        "",
        "较好",
        "较好",
        "较好",
        "一般",
        "一般",
        "一般",
        "县未完成脱贫任务；被约谈",
        "否",
        "",
    ],
]


def write_csv(path: Path, rows: list[list[str]], header=ZH_HEADER, encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header=ZH_HEADER) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.create_sheet("其他").append(["忽略"])
    book.save(path)
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_json(*args: str) -> dict:
    return json.loads(run(*args)[0])


def grades_of(data: dict) -> dict[str, str]:
    return {r["unit"]: r["grade"] for r in data["results"]}


EXPECTED = {
    "单位A": "好",
    "单位B": "较好",
    "单位C": "较好",
    "单位D": "一般",
    "单位E": "一般",
    "单位F": "一般",
    "单位G": "一般",
    "单位H": "一般",
    "单位I": "一般",
    "单位J": "较差",
}


# --------------------------------------------------------------------------- reading


def test_csv_with_chinese_headers_prints_json_results(tmp_path):
    data = run_json(write_csv(tmp_path / "round.csv", ROWS))
    assert data["n"] == 10
    assert grades_of(data) == EXPECTED
    assert [r["unit"] for r in data["results"]] == sorted(EXPECTED)
    assert data["counts"] == {"好": 1, "较好": 2, "一般": 6, "较差": 1, "待定": 0}
    assert data["bands"]["fairly_good"] == {"size": 2, "first": 2, "last": 3}
    first = data["results"][0]
    assert (first["score"], first["rank"], first["band"], first["category"]) == (
        24,
        1,
        "good",
        "高校",
    )
    assert first["reasons"][0].startswith("得分24")
    last = data["results"][-1]
    assert any("县未完成脱贫任务；被约谈" in reason for reason in last["reasons"])
    assert data["warnings"] == [
        {
            "unit": "单位B",
            "code": "problem.outside_bottom",
            "message": data["warnings"][0]["message"],
        }
    ]


def test_english_headers_are_accepted(tmp_path):
    data = run_json(write_csv(tmp_path / "round.csv", ROWS, header=EN_HEADER))
    assert grades_of(data) == EXPECTED


def test_xlsx_first_sheet_is_read(tmp_path):
    data = run_json(write_xlsx(tmp_path / "round.xlsx", ROWS))
    assert grades_of(data) == EXPECTED


def test_xlsx_numbers_and_booleans_are_read_as_text(tmp_path):
    rows = [[*row[:9], 0, row[10]] for row in ROWS]  # a number 0 in the incident column
    rows[0][0] = 1001  # a numeric unit name
    rows[0][9] = True  # Excel TRUE
    data = run_json(write_xlsx(tmp_path / "round.xlsx", rows))
    assert grades_of(data)["1001"] == "较好"  # capped by the incident
    assert data["counts"]["好"] == 0


def test_gb18030_csv_from_chinese_excel_is_read(tmp_path):
    path = write_csv(tmp_path / "round.csv", ROWS, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the test file really is not UTF-8
    assert grades_of(run_json(path)) == EXPECTED


def test_csv_with_utf8_bom_is_read(tmp_path):
    path = write_csv(tmp_path / "round.csv", ROWS, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert grades_of(run_json(path)) == EXPECTED


def test_blank_rows_extra_columns_and_spaces_are_tolerated(tmp_path):
    header = [*ZH_HEADER, "备注"]
    rows = [[f" {cell} " if cell else cell for cell in row] + ["随便写"] for row in ROWS]
    rows.insert(3, [""] * len(header))
    data = run_json(write_csv(tmp_path / "round.csv", rows, header=header))
    assert grades_of(data) == EXPECTED


def test_problem_cells_are_split_and_none_markers_are_not_problems(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[0][8] = "无"
    rows[1][8] = "甲；乙;丙、丁"
    units = {u.unit: u for u in tabular.read_units(write_csv(tmp_path / "r.csv", rows))}
    assert units["单位A"].serious_problems == ()
    assert units["单位B"].serious_problems == ("甲", "乙", "丙", "丁")
    assert units["单位A"].recommended_grade == "good"
    assert units["单位J"].category is None


@pytest.mark.parametrize("value", ["是", "yes", "TRUE", "1", "有"])
def test_incident_column_accepts_yes_values(tmp_path, value):
    rows = [list(row) for row in ROWS]
    rows[0][9] = value
    data = run_json(write_csv(tmp_path / "round.csv", rows))
    # 单位A is first but has an incident: capped to 较好, nobody moves up by default.
    assert grades_of(data)["单位A"] == "较好"
    assert data["counts"]["好"] == 0


# --------------------------------------------------------------------------- bad input


def test_unknown_grade_names_row_and_column(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[1][3] = "很好"
    with pytest.raises(CommandError, match=r"第3行「组织领导」列: 无法识别的等次「很好」"):
        run(write_csv(tmp_path / "round.csv", rows))


def test_unknown_grade_with_english_header_names_that_header(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[4][6] = "excellent"
    with pytest.raises(
        CommandError, match=r"row 6, column satisfaction: unknown grade 'excellent'"
    ):
        run(write_csv(tmp_path / "round.csv", rows, header=EN_HEADER))


def test_unknown_grade_in_xlsx_names_the_sheet_row(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[8][7] = "差"
    with pytest.raises(CommandError, match=r"第10行「工作创新」列"):
        run(write_xlsx(tmp_path / "round.xlsx", rows))


def test_row_numbers_count_blank_rows_as_the_user_sees_them(tmp_path):
    rows = [list(row) for row in ROWS]
    rows.insert(0, [""] * len(ZH_HEADER))
    rows[2][2] = "良"  # ROWS[1] is now file row 4
    with pytest.raises(CommandError, match=r"第4行「帮扶成效」列"):
        run(write_csv(tmp_path / "round.csv", rows))


def test_empty_grade_is_refused(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[0][5] = " "
    with pytest.raises(CommandError, match=r"第2行「督促检查」列: 等次为空"):
        run(write_csv(tmp_path / "round.csv", rows))


def test_bad_incident_value_names_row_and_column(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[2][9] = "可能"
    with pytest.raises(CommandError, match=r"第4行「重大涉贫事件」列: 无法识别的值「可能」"):
        run(write_csv(tmp_path / "round.csv", rows))


def test_pending_is_not_a_recommended_grade(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[0][10] = "待定"
    with pytest.raises(CommandError, match=r"第2行「省级推荐等次」列"):
        run(write_csv(tmp_path / "round.csv", rows))


def test_missing_columns_are_named(tmp_path):
    header = [h for h in ZH_HEADER if h not in ("组织领导", "工作创新")]
    rows = [[c for h, c in zip(ZH_HEADER, row, strict=True) if h in header] for row in ROWS]
    with pytest.raises(CommandError, match=r"缺少列：「组织领导」、「工作创新」"):
        run(write_csv(tmp_path / "round.csv", rows, header=header))


def test_missing_unit_column_is_named(tmp_path):
    header = ["名称", *ZH_HEADER[1:]]
    with pytest.raises(CommandError, match=r"missing column\(s\): 单位"):
        run(write_csv(tmp_path / "round.csv", ROWS, header=header))


def test_same_column_twice_is_refused(tmp_path):
    header = [*ZH_HEADER, "unit"]
    rows = [[*row, row[0]] for row in ROWS]
    with pytest.raises(CommandError, match=r"「单位」与「unit」是同一列"):
        run(write_csv(tmp_path / "round.csv", rows, header=header))


def test_duplicate_unit_names_both_rows(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[5][0] = "单位B"
    with pytest.raises(CommandError, match=r"单位「单位B」重复：第3行和第7行"):
        run(write_csv(tmp_path / "round.csv", rows))


def test_empty_unit_name_is_refused(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[3][0] = ""
    with pytest.raises(CommandError, match=r"第5行「单位」列: 单位名称为空"):
        run(write_csv(tmp_path / "round.csv", rows))


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "round.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match=r"empty file"):
        run(path)


def test_header_without_units_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"empty file"):
        run(write_csv(tmp_path / "round.csv", []))


def test_empty_xlsx_is_refused(tmp_path):
    path = tmp_path / "round.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(CommandError, match=r"empty file"):
        run(path)


def test_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "round.xlsx"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(CommandError, match=r"cannot read file"):
        run(path)


def test_binary_csv_is_refused(tmp_path):
    path = tmp_path / "round.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CommandError, match=r"cannot read file"):
        run(path)


def test_unknown_extension_is_refused(tmp_path):
    path = tmp_path / "round.txt"
    path.write_text("单位\n")
    with pytest.raises(CommandError, match=r"unknown file type '\.txt'"):
        run(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"file not found"):
        run(tmp_path / "nowhere.csv")


def test_bad_input_from_the_command_line_gives_a_message_not_a_traceback(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[1][3] = "很好"
    path = write_csv(tmp_path / "round.csv", rows)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "kaohe.settings"),
    }
    env.setdefault("SECRET_KEY", "test-only-secret-key")
    env.setdefault("KAOHE_DATA_DIR", str(tmp_path / "data"))
    completed = subprocess.run(  # noqa: S603 - a fixed command line, no shell
        [sys.executable, "-m", "django", "evaluate", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    assert "第3行「组织领导」列" in completed.stderr
    assert completed.stdout == ""


# --------------------------------------------------------------------------- method


def test_method_file_in_json_changes_the_bands(tmp_path):
    method = tmp_path / "method.json"
    method.write_text(json.dumps({"shares": {"good": "0.2"}}), encoding="utf-8")
    data = run_json(write_csv(tmp_path / "round.csv", ROWS), "--method", method)
    assert data["counts"]["好"] == 2 and data["counts"]["较好"] == 1


def test_method_file_in_toml_changes_the_rounding(tmp_path):
    method = tmp_path / "method.toml"
    method.write_text('rounding = "ceil"\n[shares]\ngood = 0.15\n', encoding="utf-8")
    data = run_json(write_csv(tmp_path / "round.csv", ROWS), "--method", method)
    assert data["bands"]["good"]["size"] == 2  # ceil(1.5)


def test_bad_method_file_names_the_key(tmp_path):
    method = tmp_path / "method.json"
    method.write_text('{"weights": {"leadership": -1}}', encoding="utf-8")
    with pytest.raises(CommandError, match=r"weights\.leadership"):
        run(write_csv(tmp_path / "round.csv", ROWS), "--method", method)


def test_missing_method_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"method file not found"):
        run(write_csv(tmp_path / "round.csv", ROWS), "--method", tmp_path / "none.toml")


# --------------------------------------------------------------------------- output


def test_csv_output_has_a_bom_and_one_row_per_unit(tmp_path):
    out = tmp_path / "out.csv"
    stdout, stderr = run(
        write_csv(tmp_path / "round.csv", ROWS), "--format", "csv", "--output", out
    )
    assert stdout == "" and "out.csv" in stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["单位", "类别", "得分", "名次", "等次", "说明"]
    assert len(rows) == 11
    assert rows[1][:5] == ["单位A", "高校", "24", "1", "好"]
    assert rows[10][:5] == ["单位J", "", "15", "10", "较差"]
    assert "；" in rows[10][5] and "得分15" in rows[10][5]


def test_csv_to_stdout(tmp_path):
    stdout, _ = run(write_csv(tmp_path / "round.csv", ROWS), "--format", "csv")
    rows = list(csv.reader(io.StringIO(stdout)))
    assert rows[0][0] == "单位" and len(rows) == 11


def test_xlsx_output_has_results_and_warnings_sheets(tmp_path):
    out = tmp_path / "out.xlsx"
    run(write_csv(tmp_path / "round.csv", ROWS), "--format", "xlsx", "--output", out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["结果", "提示"]
    results = [list(row) for row in book["结果"].iter_rows(values_only=True)]
    assert results[0] == ["单位", "类别", "得分", "名次", "等次", "说明"]
    assert results[1][:5] == ["单位A", "高校", 24, 1, "好"]
    assert [row[4] for row in results[1:]] == list(EXPECTED.values())
    notes = [list(row) for row in book["提示"].iter_rows(values_only=True)]
    assert notes[0] == ["单位", "代码", "提示"]
    assert notes[1][:2] == ["单位B", "problem.outside_bottom"]


def test_output_format_follows_the_output_file_name(tmp_path):
    out = tmp_path / "out.xlsx"
    run(write_csv(tmp_path / "round.csv", ROWS), "--output", out)
    assert openpyxl.load_workbook(out).sheetnames == ["结果", "提示"]


def test_json_output_to_a_file(tmp_path):
    out = tmp_path / "out.json"
    run(write_csv(tmp_path / "round.csv", ROWS), "--output", out)
    assert grades_of(json.loads(out.read_text(encoding="utf-8"))) == EXPECTED


def test_xlsx_needs_an_output_file(tmp_path):
    with pytest.raises(CommandError, match=r"--format xlsx needs --output"):
        run(write_csv(tmp_path / "round.csv", ROWS), "--format", "xlsx")


def test_unit_names_never_become_formulas_in_the_output(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[0][0] = '=HYPERLINK("http://x")'
    source = write_csv(tmp_path / "round.csv", rows)
    run(source, "--output", tmp_path / "out.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "out.xlsx")["结果"]["A2"]
    assert cell.data_type == "s" and cell.value == rows[0][0]
    run(source, "--output", tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1][0] == "'" + rows[0][0]


def test_the_command_pauses_the_garbage_collector_while_it_grades(tmp_path, monkeypatch):
    import gc

    from kaohe.grading.management.commands import evaluate as command

    seen = []
    real = command.evaluate
    monkeypatch.setattr(command, "evaluate", lambda *a: seen.append(gc.isenabled()) or real(*a))
    assert gc.isenabled()
    run_json(write_csv(tmp_path / "round.csv", ROWS))
    assert seen == [False]
    assert gc.isenabled()
