"""Run every benchmark that exists and write one report (Markdown and JSON).

    python bench/run.py [REPORT_DIR]        # default bench/report

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
}
SCRIPTS = {"P3": "bench_upload.py", "P4": "bench_grading.py"}


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


def main() -> int:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    for key, script in SCRIPTS.items():
        target = out_dir / f"{key.lower()}.json"
        proc = subprocess.run(  # noqa: S603 - our own scripts
            [sys.executable, str(ROOT / "bench" / script), str(target)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not target.exists():
            results[key] = {"error": (proc.stderr or proc.stdout)[-2000:]}
        else:
            results[key] = json.loads(target.read_text(encoding="utf-8"))[key]
    report = {"when": datetime.datetime.now().isoformat(timespec="seconds"),
              "machine": machine(), "results": results}
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                         encoding="utf-8")
    lines = ["# Kaohe benchmark report", "", f"Run {report['when']} on "
             f"{report['machine']['cpu']} ({report['machine']['cores']} cores, "
             f"{report['machine']['memory']}), Python {report['machine']['python']}.", "",
             "| | benchmark | result | targets met |", "|---|---|---|---|"]
    for key, what in PLAN.items():
        result = results.get(key)
        if result is None:
            lines.append(f"| {key} | {what} | not measured yet | — |")
        elif "error" in result:
            lines.append(f"| {key} | {what} | failed to run | no |")
        else:
            figures = ", ".join(f"{k}={v}" for k, v in result.items()
                                if k not in {"targets", "met"} and not isinstance(v, dict))
            met = result.get("met", {})
            lines.append(f"| {key} | {what} | {figures} | "
                         f"{'yes' if met and all(met.values()) else 'NO: ' + str(met)} |")
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
