"""Run every benchmark that exists and write one report (Markdown and JSON).

    python bench/run.py [REPORT_DIR]        # default bench/report
    python bench/run.py bench/report P1,P2  # only these; the others keep their last figures

Each benchmark is a script printing {"P<n>": {..., "targets": {...}, "met": {...}}}. A
benchmark of the plan (issue 9: P1-P6) that is not written yet is listed as "not measured",
so that a missing figure is visible in the report, never silently absent.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAN = {
    "P1": "page latency against a trivial view (median ≤ 2×, p95 ≤ 3× under 50 users)",
    "P2": "SQL queries per page with 310 and 3,100 units (identical)",
    "P3": "1 GiB resumable upload: memory growth ≤ 64 MiB, throughput ≥ 60% of loopback",
    "P4": "grading 310 units < 20 ms and 100,000 units < 3 s",
    "P5": "310 feedback letters as DOCX < 30 s and PDF < 120 s",
    "P6": "deadline rush with locust: 0 errors, 0 lock errors, 0 lost files, p95 latency",
    "P7": "workbook imports at their limits: peak memory growth < 100 MiB; the 1 MB "
          "400,000-row workbook and a lying zip bomb refused in < 5 s",
}
SCRIPTS = {"P1": "bench_pages.py", "P2": "bench_queries.py", "P3": "bench_upload.py",
           "P4": "bench_grading.py", "P5": "bench_documents.py", "P6": "bench_rush.py",
           "P7": "bench_imports.py"}


def machine() -> dict:
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            memory = handle.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "platform": platform.platform()}


def _cpu_memory(figures: dict) -> str:
    keys = ("server_cpu_percent_mean", "server_cpu_percent_peak", "server_rss_mib_peak")
    if not all(k in figures for k in keys):
        return ""
    return (f"server CPU {figures['server_cpu_percent_mean']}% of a core on average "
            f"(peak {figures['server_cpu_percent_peak']}%), memory {figures['server_rss_mib_peak']}"
            f" MiB at most (all gunicorn processes)")


def details(results: dict) -> list[str]:
    """A section per server benchmark: what the one-line summary cannot hold."""
    lines = []
    p1 = results.get("P1", {})
    if "sequential" in p1:
        lines += ["", "## P1: page latency (ms) against the baseline", "",
                  f"Baseline: {p1['baseline_page']}. Lead department: {p1['lead_department']}. "
                  f"gunicorn with {p1['workers']} workers; under load, bursts of {p1['users']} "
                  f"users ask for the same page at once, the pages taking turns. Load "
                  f"average before/after: {p1['load_average_before']} / "
                  f"{p1['load_average_after']}.", "",
                  "| page | path | seq. median | seq. p95 | ratio median / p95 | "
                  "50 users median | 50 users p95 | ratio median / p95 |",
                  "|---|---|---|---|---|---|---|---|"]
        for page, seq in p1["sequential"].items():
            conc = p1["concurrent"][page]
            lines.append(f"| {page} | `{p1['paths'][page]}` | {seq['median_ms']} | "
                         f"{seq['p95_ms']} | {seq['median_ratio']} / {seq['p95_ratio']} | "
                         f"{conc['median_ms']} | {conc['p95_ms']} | "
                         f"{conc['median_ratio']} / {conc['p95_ratio']} |")
        lines += ["", f"Sequential: {_cpu_memory(p1['resources_sequential'])}. "
                  f"50 users: {_cpu_memory(p1['resources_concurrent'])}; "
                  f"{p1['concurrent_requests_per_s']} requests/s, "
                  f"{p1['errors_concurrent']} errors."]
    p2 = results.get("P2", {})
    if "pages" in p2:
        lines += ["", "## P2: SQL queries per page", "",
                  "| page | path | 310 units | 3,100 units | identical | ms (310 / 3,100) |",
                  "|---|---|---|---|---|---|"]
        for page, row in p2["pages"].items():
            lines.append(f"| {page} | `{row['path_310']}` | {row['queries_310']} | "
                         f"{row['queries_3100']} | {'yes' if p2['met'][page] else 'NO'} | "
                         f"{row['ms_310']} / {row['ms_3100']} |")
    p6 = results.get("P6", {})
    engines = [e for e in ("sqlite", "postgresql") if e in p6]
    if engines:
        lines += ["", f"## P6: the deadline rush ({p6['units']} units × 3 files of 5 MiB)", ""]
        for engine in engines:
            run = p6[engine]
            if "error" in run:
                lines += [f"**{engine}**: failed to run: `{run['error'][-500:]}`", ""]
                continue
            lines += [f"**{engine}**: {run['units_finished']}/{run['units']} units submitted in "
                      f"{run['seconds']} s (locust, {run['spawn_rate_per_s']} users/s spawned, "
                      f"gunicorn {run['workers']} workers); {run['requests']} requests, "
                      f"{run['failed_requests']} failed, {run['lock_errors']} lock errors, "
                      f"{run['server_errors']} server errors; {run['evidence_rows']}/"
                      f"{run['files_expected']} files stored, {run['lost_files']} lost, "
                      f"`kaohe verify` {'OK' if run['verify_ok'] else 'FAILED'}; median "
                      f"{run['median_ms']} ms, p95 {run['p95_ms']} ms; "
                      f"{_cpu_memory(run)}. Load average before/after: "
                      f"{run['load_average_before']} / {run['load_average_after']}.", "",
                      "| request | count | failures | median ms | p95 ms | max ms |",
                      "|---|---|---|---|---|---|"]
            for name, row in run["by_request"].items():
                lines.append(f"| {name} | {row['requests']} | {row['failures']} | "
                             f"{row['median_ms']} | {row['p95_ms']} | {row['max_ms']} |")
            if run["unit_errors"]:
                lines += ["", "Errors: " + "; ".join(f"`{e}`" for e in run["unit_errors"])]
            lines.append("")
    lines += _imports_details(results.get("P7", {}))
    return lines


def _imports_details(p7: dict) -> list[str]:
    if "cases" not in p7:
        return []
    limits = p7["limits"]
    lines = ["", "## P7: workbook imports at their limits", "",
             f"Limits: {limits['max_unpacked_bytes'] // 1024**2} MiB unpacked, "
             f"{limits['max_rows']} rows, {limits['max_columns']} columns per sheet. Each case "
             "runs in a fresh process; peak = growth of the peak resident memory during the "
             "import (target < 100 MiB); retained = resident growth after it; held = the same "
             "after malloc_trim; Python = live objects (tracemalloc) at the peak and after.", "",
             "| case | file | unpacked | seconds | peak MiB | retained / held MiB | "
             "Python peak / after MiB | outcome |", "|---|---|---|---|---|---|---|---|"]
    for case, row in p7["cases"].items():
        unpacked = row.get("unpacked_bytes")
        lines.append(
            f"| {case} | {row.get('file_bytes', 0) / 1024**2:.2f} MiB | "
            f"{f'{unpacked / 1024**2:.1f} MiB' if unpacked else '—'} | {row['seconds']} | "
            f"{row['peak_growth_mib']} | {row['retained_mib']} / {row['held_mib']} | "
            f"{row['python_peak_mib']} / {row['python_retained_mib']} | "
            f"{row['outcome'][:80].replace('|', '/')} |")
    return lines


def main() -> int:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    only = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else set(SCRIPTS)
    load_before = [round(x, 2) for x in os.getloadavg()]
    for key, script in SCRIPTS.items():
        target = out_dir / f"{key.lower()}.json"
        if key not in only:  # a partial run keeps the figures of the last full one
            if target.exists():
                results[key] = json.loads(target.read_text(encoding="utf-8"))[key]
            continue
        if not (ROOT / "bench" / script).exists():
            continue
        proc = subprocess.run(  # noqa: S603 - our own scripts
            [sys.executable, str(ROOT / "bench" / script), str(target)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not target.exists():
            results[key] = {"error": (proc.stderr or proc.stdout)[-2000:]}
        else:
            results[key] = json.loads(target.read_text(encoding="utf-8"))[key]
    report = {"when": datetime.datetime.now().isoformat(timespec="seconds"),
              "machine": machine(), "results": results,
              # The machine may be shared: a busy one slows every figure down.
              "load_average": {"start": load_before,
                               "end": [round(x, 2) for x in os.getloadavg()]}}
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                         encoding="utf-8")
    lines = ["# Kaohe benchmark report", "", f"Run {report['when']} on "
             f"{report['machine']['cpu']} ({report['machine']['cores']} cores, "
             f"{report['machine']['memory']}), Python {report['machine']['python']}; load "
             f"average (1, 5, 15 min) {report['load_average']['start']} at the start, "
             f"{report['load_average']['end']} at the end.", "",
             "| | benchmark | result | targets met |", "|---|---|---|---|"]
    for key, what in PLAN.items():
        result = results.get(key)
        if result is None:
            lines.append(f"| {key} | {what} | not measured yet | — |")
        elif "error" in result:
            lines.append(f"| {key} | {what} | failed to run | no |")
        else:
            figures = ", ".join(f"{k}={v}" for k, v in result.items()
                                if k not in {"targets", "met"}
                                and isinstance(v, str | int | float))
            met = result.get("met", {})
            missed = [k for k, ok in met.items() if not ok]
            verdict = ("target met" if met and not missed
                       else "NOT met: " + ", ".join(missed) if missed else "no target")
            lines.append(f"| {key} | {what} | {figures} | {verdict} |")
    lines += details(results)
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
