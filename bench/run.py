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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAN = {
    "P1": "every main page of every role against a light logged-in page, each response "
          "checked for the page's content (median ≤ 2×, p95 ≤ 3× under 50 users)",
    "P2": "every menu page and the first detail page of each kind, every role, at the "
          "reviewed and released stages, 310 and 3,100 units: queries identical, time ≤ 1.5×",
    "P3": "1 GiB resumable upload against the same tus client sending to a null server "
          "(median of 5): ≥ 0.80 of it, memory growth ≤ 64 MiB",
    "P4": "grading 310 units < 20 ms and 100,000 units < 3 s",
    "P5": "310 feedback letters as the bulk export makes them, reading them from the "
          "database: DOCX < 30 s and PDF < 120 s",
    "P6": "deadline rush as browsers: realistic arrivals p95 of pages ≤ 1 s; overload 0 "
          "errors, every upload finished, throughput",
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
    lines = _pages_details(results.get("P1", {}))
    lines += _queries_details(results.get("P2", {}))
    lines += _upload_details(results.get("P3", {}))
    lines += _rush_details(results.get("P6", {}))
    lines += _imports_details(results.get("P7", {}))
    return lines


def _pages_details(p1: dict) -> list[str]:
    if "pages" not in p1:
        return []
    lines = ["", "## P1: page latency (ms) against the baseline", "",
             f"Demo at the {p1['stage']} stage, {p1['units']} units. Baseline: "
             f"{p1['baseline_page']}. gunicorn with {p1['workers']} workers; under load, "
             f"bursts of {p1['users']} users ask for the same page at once, the pages taking "
             f"turns. Every response must show the page's heading, the footer and at least "
             f"half of the page's size. {p1['pages_measured']} pages, {p1['pages_failing']} "
             f"failing; {p1['errors']} errors. Load average before/after: "
             f"{p1['load_average_before']} / {p1['load_average_after']}.", "",
             "| role | path | heading | seq. median / p95 | ratio | 50 users median / p95 "
             "| ratio | met |", "|---|---|---|---|---|---|---|---|"]
    for row in p1["pages"].values():
        seq, conc = row["sequential"], row["concurrent"]
        lines.append(
            f"| {row['role']} | `{row['path']}` | {row['heading'][:30]} | "
            f"{seq.get('median_ms')} / {seq.get('p95_ms')} | {seq.get('median_ratio')} / "
            f"{seq.get('p95_ratio')} | {conc.get('median_ms')} / {conc.get('p95_ms')} | "
            f"{conc.get('median_ratio')} / {conc.get('p95_ratio')} | "
            f"{_yes(row.get('met', True))} |")
    lines += ["", f"Sequential: {_cpu_memory(p1['resources_sequential'])}. "
              f"50 users: {_cpu_memory(p1['resources_concurrent'])}; "
              f"{p1['concurrent_requests_per_s']} requests/s."]
    if p1.get("error_samples"):
        lines += ["", "Errors: " + "; ".join(f"`{e}`" for e in p1["error_samples"])]
    return lines


def _queries_details(p2: dict) -> list[str]:
    if "pages" not in p2:
        return []
    small, large = p2["scales"]
    lines = ["", f"## P2: queries and time per page, {small} and {large:,} units", "",
             f"Every role's menu pages and the first detail page of each kind they link to, "
             f"crawled at each stage; queries of one request (the fewer of two), time the "
             f"median of {p2['repeats']}+ requests alternating between the scales, both "
             f"on one core (the process's CPU time beside it). Target: "
             f"queries identical, time at {large:,} ≤ {p2['time_ratio']}× time at {small}. "
             f"{p2['pages_measured']} pages: queries met {p2['pages_queries_met']}, time met "
             f"{p2['pages_time_met']}, found at one scale only {p2['pages_at_one_scale_only']}"
             f". Setup seconds: {p2['setup_seconds']}.", "",
             f"| stage | role | page | path ({small}) | queries {small} / {large} | "
             f"ms {small} / {large} | CPU ms {small} / {large} | ratio | queries | time |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in p2["pages"].values():
        note = "; ".join(f"{n}: {e}" for n, e in row.get("errors", {}).items())
        lines.append(
            f"| {row['stage']} | {row['role']} | {row['kind']}{'' if row['menu'] else ' (detail)'}"
            f" | `{row.get(f'path_{small}') or row.get(f'path_{large}')}` | "
            f"{row[f'queries_{small}']} / {row[f'queries_{large}']} | "
            f"{row[f'ms_{small}']} / {row[f'ms_{large}']} | "
            f"{row.get(f'cpu_ms_{small}')} / {row.get(f'cpu_ms_{large}')} | {row['ratio']} | "
            f"{_yes(row['queries_met'])} | {_yes(row['time_met'])}{f' ({note})' if note else ''} |")
    if p2.get("skipped"):
        lines += ["", "Links not measured (not pages): " + "; ".join(
            f"{k}: {v}" for k, v in sorted(p2["skipped"].items()))]
    return lines


def _upload_details(p3: dict) -> list[str]:
    if "storages" not in p3:
        return []
    lines = ["", "## P3: resumable upload", "",
             f"{p3['file_mib']} MiB in {p3['chunk_mib']} MiB chunks, {p3['runs']} runs each, "
             "alternating with the same client sending to a null server.", ""]
    for storage in p3["storages"]:
        run = p3.get(storage, {})
        if "error" in run:
            lines.append(f"- {storage}: failed to run: `{run['error'][-500:]}`")
            continue
        lines.append(
            f"- {storage}: Kaohe {run['kaohe_seconds']} s, null server "
            f"{run['null_server_seconds']} s; medians {run['kaohe_mib_per_s']} / "
            f"{run['tuspy_to_null_server_mib_per_s']} MiB/s = {run['throughput_ratio']}; "
            f"a server that only stores the bytes {run.get('storing_server_seconds')} s "
            f"({run.get('storing_server_ratio')} of the null server; Kaohe "
            f"{run.get('ratio_to_storing_server')} of it); Kaohe's CPU "
            f"{run.get('kaohe_cpu_seconds_per_gib')} s/GiB; "
            + (f"the bucket's server takes a PUT of the file in {run['bucket_put_seconds']} s "
               f"({run['bucket_put_ratio']} of the null server: no server storing into this "
               f"bucket can do better); " if "bucket_put_seconds" in run else "")
            + f"worker RSS {run['baseline_rss_mib']} → {run['peak_rss_mib']} MiB "
            f"(+{run['peak_rss_growth_mib']}).")
    return lines


def _rush_details(p6: dict) -> list[str]:
    runs = [r for r in p6.get("runs", []) if r.replace(":", "_") in p6]
    if not runs:
        return []
    lines = ["", f"## P6: the deadline rush ({p6['units']} units × 3 files of 5 MiB)", ""]
    for name in runs:
        run = p6[name.replace(":", "_")]
        if "error" in run:
            lines += [f"**{name}**: failed to run: `{run['error'][-500:]}`", ""]
            continue
        lines += [f"**{name}** (arrivals within {run['arrival_window_s']:.0f} s): "
                  f"{run['units_finished']}/{run['units']} units submitted in {run['seconds']} s"
                  f" ({run['units_per_minute']} units/min, {run['upload_mib_per_minute']} MiB/"
                  f"min uploaded, {run['requests_per_s']} requests/s; "
                  f"{run['deployment']}); {run['requests']} requests, "
                  f"{run['failed_requests']} failed, {run['lock_errors']} lock errors, "
                  f"{run['server_errors']} server errors; {run['evidence_rows']}/"
                  f"{run['files_expected']} files stored, {run['lost_files']} lost, "
                  f"`kaohe verify` {'OK' if run['verify_ok'] else 'FAILED'}; pages: "
                  f"{run['page_requests']} requests, median {run['page_median_ms']} ms, p95 "
                  f"{run['page_p95_ms']} ms; static files: {run['static_requests']}, p95 "
                  f"{run['static_p95_ms']} ms; all requests p95 {run['p95_ms']} ms; "
                  f"{_cpu_memory(run)}. Load average before/after: "
                  f"{run['load_average_before']} / {run['load_average_after']}.", "",
                  "| request | count | failures | median ms | p95 ms | max ms |",
                  "|---|---|---|---|---|---|"]
        for request, row in run["by_request"].items():
            lines.append(f"| {request} | {row['requests']} | {row['failures']} | "
                         f"{row['median_ms']} | {row['p95_ms']} | {row['max_ms']} |")
        if run["unit_errors"]:
            lines += ["", "Errors: " + "; ".join(f"`{e}`" for e in run["unit_errors"])]
        lines.append("")
    return lines


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def unmet(results: dict) -> list[str]:
    """Every target not met, by benchmark, with the pages that miss it."""
    lines = []
    for key in PLAN:
        result = results.get(key)
        if result is None:
            lines.append(f"- {key}: not measured")
            continue
        if "error" in result:
            lines.append(f"- {key}: failed to run")
            continue
        missed = [k for k, ok in result.get("met", {}).items() if not ok]
        if missed:
            lines.append(f"- {key}: " + ", ".join(missed))
        for label, pages in (("queries differ", result.get("failing_queries")),
                             ("time grows", result.get("failing_time")),
                             ("found at one scale only", result.get("at_one_scale_only")),
                             ("slow pages", result.get("failing"))):
            if pages:
                lines.append(f"  - {label} ({len(pages)}): " + ", ".join(pages))
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
    seconds: dict[str, float] = {}
    for key, script in SCRIPTS.items():
        target = out_dir / f"{key.lower()}.json"
        if key not in only:  # a partial run keeps the figures of the last full one
            if target.exists():
                results[key] = json.loads(target.read_text(encoding="utf-8"))[key]
            continue
        if not (ROOT / "bench" / script).exists():
            continue
        started = time.perf_counter()
        proc = subprocess.run(  # noqa: S603 - our own scripts
            [sys.executable, str(ROOT / "bench" / script), str(target)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )
        seconds[key] = round(time.perf_counter() - started)
        print(f"{key}: {seconds[key]} s", file=sys.stderr)
        if proc.returncode != 0 or not target.exists():
            results[key] = {"error": (proc.stderr or proc.stdout)[-2000:]}
        else:
            results[key] = json.loads(target.read_text(encoding="utf-8"))[key]
    report = {"when": datetime.datetime.now().isoformat(timespec="seconds"),
              "machine": machine(), "results": results, "seconds": seconds,
              # The machine may be shared: a busy one slows every figure down.
              "load_average": {"start": load_before,
                               "end": [round(x, 2) for x in os.getloadavg()]}}
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                         encoding="utf-8")
    lines = ["# Kaohe benchmark report", "", f"Run {report['when']} on "
             f"{report['machine']['cpu']} ({report['machine']['cores']} cores, "
             f"{report['machine']['memory']}), Python {report['machine']['python']}; load "
             f"average (1, 5, 15 min) {report['load_average']['start']} at the start, "
             f"{report['load_average']['end']} at the end; seconds per benchmark "
             f"{seconds} ({sum(seconds.values())} in all). The machine may be shared: "
             "ratios within one run are what count.", "",
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
    missed = unmet(results)
    lines += ["", "## Unmet targets", "", *(missed or ["None."])]
    for key, result in results.items():
        if "error" in result:
            lines += ["", f"{key} failed to run:", "", "```", result["error"][-1500:], "```"]
    lines += details(results)
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
