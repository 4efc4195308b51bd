"""``kaohe evaluate INPUT``: grade a round from a CSV or XLSX table, outside the web application.

Parses arguments, reads the table and the method, runs the engine, writes the result. Bad
input ends with a CommandError (a message naming row and column, exit status 1), never a
traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaohe.grading import tabular
from kaohe.grading.engine import EngineInputError, evaluate, no_gc_pauses
from kaohe.grading.method import Method, MethodError, load_method_file
from kaohe.grading.tabular import InputError

FORMATS = ("json", "csv", "xlsx")


class Command(BaseCommand):
    help = (
        "按综合评价方法对考核表计算得分、名次和等次 (grade units from a CSV or XLSX table). "
        "Columns: 单位, 帮扶成效, 组织领导, 选派干部, 督促检查, 基层满意情况, 工作创新; optional "
        "类别, 突出问题, 重大涉贫事件, 省级推荐等次 (English headers also accepted)."
    )
    # Reads a file and writes a file: no database, so no need to check the project first.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", help="the table: .csv (UTF-8 or GB18030) or .xlsx")
        parser.add_argument(
            "--method",
            help="a JSON or TOML method file; keys it leaves out keep the 2017 defaults "
            "(see docs/method-format.md)",
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="output format (default: json, or taken from the --output file name)",
        )
        parser.add_argument("--output", help="write to this file instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"]) if options["output"] else None
        fmt = options["format"] or _format_from_name(output)
        if fmt == "xlsx" and output is None:
            raise CommandError("xlsx 格式须用 --output 指定输出文件 (--format xlsx needs --output)")

        try:
            method = load_method_file(options["method"]) if options["method"] else Method.default()
            units = tabular.read_units(options["input"])
        except (InputError, MethodError) as exc:
            raise CommandError(str(exc)) from None

        try:
            with no_gc_pauses():  # a one-shot process: the collector's scans only cost time
                evaluation = evaluate(units, method)
        except EngineInputError as exc:  # read_units checks the same things; kept as a guard
            raise CommandError(str(exc)) from None

        try:
            if fmt == "xlsx" and output is not None:  # refused above without --output
                tabular.write_xlsx(evaluation, output)
            elif fmt == "csv" and output is not None:
                tabular.write_csv(evaluation, output)
            else:
                text = tabular.to_csv(evaluation) if fmt == "csv" else tabular.to_json(evaluation)
                if output is None:
                    self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
                else:
                    output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"无法写入输出文件：{output} (cannot write output: {exc.strerror})"
            ) from None
        if output is not None:
            self.stderr.write(
                f"已写入 {output}：{evaluation.n} 个单位，{len(evaluation.warnings)} 条提示 "
                f"(wrote {evaluation.n} units, {len(evaluation.warnings)} warnings)"
            )


def _format_from_name(output: Path | None) -> str:
    if output is not None and output.suffix.lower().lstrip(".") in FORMATS:
        return output.suffix.lower().lstrip(".")
    return "json"
