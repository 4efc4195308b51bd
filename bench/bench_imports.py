"""P7: memory and time of workbook imports at their limits (issue 15, item 5).

    python bench/bench_imports.py [OUTPUT.json]

A 1 MB workbook of 400,000 rows once took 102 s and 1.6 GB that stayed allocated. Uploaded
workbooks are now bounded before they are parsed (kaohe.lib.xlsx_reading) and streamed
read-only. This measures, each in a fresh process (python bench/bench_imports.py --child
CASE WORKDIR), the growth of the process's peak resident memory (VmHWM, reset through
/proc/self/clear_refs just before the import, with a 2 ms RSS sampler as a fallback) and the
time of:

- offline_largest: the unit's offline self-report import of the largest workbook the
  pre-check accepts (KAOHE_IMPORT_MAX_ROWS rows, KAOHE_IMPORT_MAX_UNPACKED_BYTES unpacked,
  its text in the shared-string table that openpyxl keeps whole, as Excel writes it): every
  answer at its longest, the other rows carrying notes in a column the import ignores, so
  the whole file is read and the import succeeds;
- offline_largest_refused: the same size, but every row a wrong indicator, so that every
  row is kept and named in a problem (a refused import);
- directory_largest: the office's directory import of as many units as the row limit
  allows (imported and written);
- refuse_400k_rows: the 1 MB, 400,000-row workbook of the issue (refused by the pre-check);
- refuse_zip_bomb: a workbook with a member declaring 1,000 bytes that inflates to 500 MB.

The target is a peak growth under 100 MiB for every case; retained_mib is what the process
still holds after the import and a garbage collection. Prints {"P7": {...}} and, given a
path, writes the same JSON there.
"""

from __future__ import annotations

import gc
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
TARGET_MIB = 100.0
TARGET_REFUSE_S = 5.0
CASES = ("offline_largest", "offline_largest_refused", "directory_largest",
         "refuse_400k_rows", "refuse_zip_bomb")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


# Workbooks written by hand (shared strings, as Excel writes them) --------------------------


def _letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SharedStringBook:
    """One sheet of rows (lists of str/int/None) written with a shared-string table."""

    def __init__(self, sheet_name: str):
        self.sheet_name = sheet_name
        self.rows: list[str] = []
        self.strings: list[str] = []
        self.strings_bytes = 0
        self.sheet_bytes = 0

    def add(self, values: list) -> None:
        number = len(self.rows) + 1
        cells = []
        for column, value in enumerate(values, start=1):
            ref = f"{_letter(column)}{number}"
            if value is None or value == "":
                continue
            if isinstance(value, int):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                self.strings.append(value)
                self.strings_bytes += len(_esc(value).encode()) + 16  # <si><t></t></si>
                cells.append(f'<c r="{ref}" t="s"><v>{len(self.strings) - 1}</v></c>')
        row = f'<row r="{number}">{"".join(cells)}</row>'
        self.sheet_bytes += len(row.encode())
        self.rows.append(row)

    def unpacked_estimate(self) -> int:
        return self.strings_bytes + self.sheet_bytes + 4096

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/><Override PartName='
                '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument'
                '.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml"'
                ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="'
                'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"'
                "/></Types>"))
            z.writestr("_rels/.rels", (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
                f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                "</Relationships>"))
            z.writestr("xl/workbook.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
                f'xmlns:r="{REL}"><sheets><sheet name="{self.sheet_name}" sheetId="1" '
                'r:id="rId1"/></sheets></workbook>'))
            z.writestr("xl/_rels/workbook.xml.rels", (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
                f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                "</Relationships>"))
            with z.open("xl/sharedStrings.xml", "w") as member:
                member.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" '
                             f'count="{len(self.strings)}">'.encode())
                for text in self.strings:
                    member.write(f"<si><t>{_esc(text)}</t></si>".encode())
                member.write(b"</sst>")
            with z.open("xl/worksheets/sheet1.xml", "w") as member:
                member.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
                             "<sheetData>".encode())
                for row in self.rows:
                    member.write(row.encode())
                member.write(b"</sheetData></worksheet>")
        return buffer.getvalue()


def _note(index: int, size: int) -> str:
    """ASCII text (one byte per character in memory too: the worst case), compressible."""
    unit = f"Row {index}: notes on the pairing work of this county. "
    return (unit * (size // len(unit) + 1))[:size]


def _fill(book: SharedStringBook, *, limits, first_rows: int, row_for) -> None:
    """Rows up to the row limit, their text sized to reach the unpacked limit."""
    rows_left = limits.max_rows - first_rows
    budget = (limits.max_unpacked_bytes - 64 * 1024 - book.unpacked_estimate()) * 0.99
    probe = SharedStringBook("probe")
    probe.rows.extend([""] * (limits.max_rows - 1))  # cell references as long as the last
    probe.add(row_for(limits.max_rows, 1))  # one character of text
    per_row = max(1, int(budget // rows_left) - (probe.unpacked_estimate() - 4096) + 1)
    for index in range(rows_left):
        book.add(row_for(index, per_row))


def _accepted(data: bytes, limits) -> dict:
    from kaohe.lib.xlsx_reading import scan_workbook

    scan = scan_workbook(data, limits)  # raises if over a limit: the bench would be wrong
    return {"file_bytes": len(data), "unpacked_bytes": scan.unpacked_bytes,
            "rows": max(s.max_row for s in scan.parts.values())}


def prepare(work: Path) -> dict:
    """Database, unit, report and the workbooks of every case."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from openpyxl import Workbook

    from kaohe.accounts.models import Role, User
    from kaohe.directory.importing import (
        PAIRING_COLUMNS,
        PAIRINGS_SHEET,
        UNIT_COLUMNS,
        UNITS_SHEET,
    )
    from kaohe.directory.models import Category, County, Pairing, Unit
    from kaohe.directory.services import reference_data_load
    from kaohe.lib.xlsx_reading import WorkbookLimits
    from kaohe.rounds.services import load_plan_data, round_create_from_plan
    from kaohe.submissions import offline, services

    plan = load_plan_data()
    reference_data_load(plan=plan)
    round_ = round_create_from_plan(data=plan)
    unit = Unit.objects.create(code="BENCH", name="基准测试单位",
                               category=Category.objects.get(code="party_organs"))
    for code in ("533301", County.objects.filter(province__name="贵州省").order_by("code")
                 .first().code):
        Pairing.objects.create(round=round_, unit=unit, county=County.objects.get(code=code))
    User.objects.create(username="bench_unit", role=Role.UNIT, unit=unit)
    User.objects.create(username="bench_office", role=Role.OFFICE)
    report = services.self_report_for(round=round_, unit=unit)
    slots = services.self_report_slots(report)
    limits = WorkbookLimits.from_settings()
    info = {"limits": {"max_unpacked_bytes": limits.max_unpacked_bytes,
                       "max_rows": limits.max_rows, "max_columns": limits.max_columns},
            "slots": len(slots)}

    # Every answer at its longest; the other rows carry notes in column H, which the
    # import does not read but openpyxl parses and keeps in its shared-string table.
    book = SharedStringBook(offline.SELF_SHEET)
    book.add([*offline.SELF_COLUMNS, "备注"])
    answer = "A" * services.MAX_ANSWER_CHARS
    for slot in slots:
        book.add([slot.indicator.area.name, slot.indicator.number, slot.indicator.name,
                  slot.county.code if slot.county else "", slot.county.name if slot.county
                  else "", "", answer, ""])
    _fill(book, limits=limits, first_rows=len(book.rows),
          row_for=lambda i, size: [None] * 7 + [_note(i, size)])
    data = book.bytes()
    info["offline_largest"] = _accepted(data, limits)
    (work / "offline_largest.xlsx").write_bytes(data)

    # The same size, every row a wrong indicator with a long 工作情况: all kept and named.
    book = SharedStringBook(offline.SELF_SHEET)
    book.add(list(offline.SELF_COLUMNS))
    _fill(book, limits=limits, first_rows=1,
          row_for=lambda i, size: ["帮扶成效", 1000 + i, "", "", "", "", _note(i, size)])
    data = book.bytes()
    info["offline_largest_refused"] = _accepted(data, limits)
    (work / "offline_largest_refused.xlsx").write_bytes(data)

    # As many new units as the row limit allows; one of them paired with a county.
    wb = Workbook(write_only=True)
    units = wb.create_sheet(UNITS_SHEET)
    units.append(UNIT_COLUMNS)
    category = Category.objects.get(code="enterprises").name
    for index in range(limits.max_rows - 1):
        units.append([f"B{index:06d}", f"基准测试导入单位{index:06d}（{'名' * 60}）",
                      category, "是"])
    pairings = wb.create_sheet(PAIRINGS_SHEET)
    pairings.append(PAIRING_COLUMNS)
    pairings.append(["B000000", "533301", ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    info["directory_largest"] = _accepted(buffer.getvalue(), limits)
    (work / "directory_largest.xlsx").write_bytes(buffer.getvalue())

    # The file: about 1 MB, 400,000 rows.
    row = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in
                  ["帮扶成效", "3", "帮扶资金", "", "", "评价依据", "工作情况" * 10])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(offline.self_report_workbook(report))) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with target.open(item.filename, "w") as member:
                    member.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
                    member.write(("<row>" + "".join(
                        f'<c t="inlineStr"><is><t>{h}</t></is></c>'
                        for h in offline.SELF_COLUMNS) + "</row>").encode())
                    block = (f"<row>{row}</row>" * 1000).encode()
                    for _ in range(400):
                        member.write(block)
                    member.write(b"</sheetData></worksheet>")
            else:
                target.writestr(item, source.read(item))
    (work / "refuse_400k_rows.xlsx").write_bytes(buffer.getvalue())
    info["refuse_400k_rows"] = {"file_bytes": len(buffer.getvalue())}

    # A member that declares 1,000 bytes and inflates to 500 MB.
    (work / "refuse_zip_bomb.xlsx").write_bytes(_bomb(offline.self_report_workbook(report)))
    info["refuse_zip_bomb"] = {"file_bytes": (work / "refuse_zip_bomb.xlsx").stat().st_size}
    return info


def _bomb(workbook: bytes) -> bytes:
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        with target.open("xl/media/image1.png", "w") as member:
            block = bytes(MiB)
            for _ in range(500):
                member.write(block)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/media/image1.png")
        start = archive.start_dir
    struct.pack_into("<I", data, info.header_offset + 22, 1000)
    position = start
    while data[position:position + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        if bytes(data[position + 46:position + 46 + name_len]) == b"xl/media/image1.png":
            struct.pack_into("<I", data, position + 24, 1000)
        position += 46 + name_len + extra_len + comment_len
    return bytes(data)


# Measuring ------------------------------------------------------------------------------


def _status(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        return int(re.search(rf"{key}:\s+(\d+)", handle.read()).group(1)) * 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, _status("VmRSS"))
            time.sleep(0.002)


def measure(run) -> dict:
    gc.collect()
    base = _status("VmRSS")
    exact = _reset_peak()
    sampler = Sampler()
    sampler.start()
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    peak = max(sampler.peak, _status("VmHWM") if exact else 0)
    gc.collect()
    retained = _status("VmRSS") - base
    # What is still resident once the C allocator hands its free lists back: the memory
    # really held after the import, as opposed to free heap kept for reuse.
    _malloc_trim()
    held = _status("VmRSS") - base
    return {"peak_growth_mib": round((peak - base) / MiB, 1),
            "retained_mib": round(retained / MiB, 1), "held_mib": round(held / MiB, 1),
            "seconds": round(seconds, 2), "outcome": outcome,
            "peak_from": "VmHWM" if exact else "sampled RSS"}


def _malloc_trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure_python(run) -> dict:
    """Python's own view (tracemalloc): the peak of live objects during the import and what
    is still alive after it: a leak shows here, free heap kept by the allocator does not."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    gc.collect()
    alive = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"python_peak_mib": round((peak - base) / MiB, 1),
            "python_retained_mib": round((alive - base) / MiB, 2)}


def child(case: str, mode: str, files: Path) -> dict:
    from kaohe.accounts.models import User
    from kaohe.directory.importing import import_units_and_pairings
    from kaohe.rounds.models import Round
    from kaohe.submissions import offline
    from kaohe.submissions.models import SelfReport

    report = SelfReport.objects.get(unit__code="BENCH")
    unit_user = User.objects.get(username="bench_unit")
    office = User.objects.get(username="bench_office")
    round_ = Round.objects.get()
    # Warm up: the modules, translations and queries of an import, on the small download.
    small = offline.self_report_workbook(report)
    offline.self_report_import(report=report, data=small, actor=unit_user,
                               revision=report.revision)
    data = (files / f"{case}.xlsx").read_bytes()

    if case == "directory_largest":
        def run():
            result = import_units_and_pairings(data=data, round=round_, actor=office)
            if result.ok:
                return f"imported {result.units_created} units"
            return "refused: " + str(result.problems[0])[:200]
    else:
        def run():
            report.refresh_from_db()
            try:
                offline.self_report_import(report=report, data=data, actor=unit_user,
                                           revision=report.revision)
            except offline.OfflineImportError as error:
                return f"refused ({len(error.problems)} problems): {str(error)[:200]}"
            return "imported"
    return measure(run) if mode == "rss" else measure_python(run)


def _environment(database: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KAOHE_DEBUG"}
    # The production settings (DEBUG off: it would also keep every query in memory), with
    # throwaway keys. The 2017 round takes self-reports until 2017-12-31.
    env.update({"DJANGO_SETTINGS_MODULE": "kaohe.settings",
                "SECRET_KEY": "bench-only-secret-key-not-for-any-installation-0123456789",
                "AUDIT_KEY": "bench-only-audit-key-not-for-any-installation-0123456789",
                "ALLOWED_HOSTS": "testserver",
                "KAOHE_TODAY": "2017-12-15",
                "KAOHE_DATA_DIR": str(database / "data"),
                "DATABASE_URL": f"sqlite:///{database / 'kaohe.sqlite3'}",
                "PYTHONPATH": str(ROOT)})
    return env


def _run_child(args: list[str], database: Path, files: Path) -> dict:
    proc = subprocess.run(  # noqa: S603 - this very script
        [sys.executable, str(Path(__file__).resolve()), "--child", *args, str(files)],
        cwd=ROOT, env=_environment(database), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fresh_copy(base: Path, target: Path) -> Path:
    """A copy of the prepared database, so that every measurement starts from the same."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    for path in base.glob("kaohe.sqlite3*"):
        shutil.copy2(path, target / path.name)
    return target


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="kaohe-bench-imports-"))
    base = work / "base"
    base.mkdir()
    try:
        info = _run_child(["prepare", "-"], base, base)
        cases = {}
        for case in CASES:
            cases[case] = {
                **_run_child([case, "rss"], _fresh_copy(base, work / "run"), base),
                **_run_child([case, "python"], _fresh_copy(base, work / "run"), base),
                **info.get(case, {}),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peaks = {f"{case}_mib": cases[case]["peak_growth_mib"] for case in CASES}
    seconds = {f"{case}_s": cases[case]["seconds"] for case in CASES}
    targets = {**{key: TARGET_MIB for key in peaks},
               "refuse_400k_rows_s": TARGET_REFUSE_S, "refuse_zip_bomb_s": TARGET_REFUSE_S}
    figures = {**peaks, **seconds}
    report = {"P7": {
        **figures,
        "retained_mib_max": max(c["retained_mib"] for c in cases.values()),
        "held_mib_max": max(c["held_mib"] for c in cases.values()),
        "python_retained_mib_max": max(c["python_retained_mib"] for c in cases.values()),
        "limits": info["limits"], "cases": cases,
        "targets": targets,
        "met": {key: figures[key] < target for key, target in targets.items()},
    }}
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings

        if settings.DEBUG:
            raise RuntimeError("P7 must not run with DEBUG on")
        what, mode, files = sys.argv[2], sys.argv[3], Path(sys.argv[4])
        result = prepare(files) if what == "prepare" else child(what, mode, files)
        print(json.dumps(result, ensure_ascii=False))
    else:
        main()
