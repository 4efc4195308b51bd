"""P6: the deadline rush, with locust against gunicorn (4 workers), on SQLite and PostgreSQL.

    python bench/bench_rush.py [OUTPUT.json]
    BENCH_RUSH_UNITS=20 python bench/bench_rush.py     # a short trial (default 310)

For each database a throwaway installation gets the 2017 round and the 310 demo units as
they stand before reports open (no reports yet), an account per unit, and each unit's
report texts written as a draft (the work of the weeks before, through the same services
the demo uses). On the deadline day (KAOHE_TODAY=2017-12-31) every unit signs in, opens its
report, uploads 3 files of 5 MiB through tus, attaches them and submits: locust spawns the
users at BENCH_RUSH_SPAWN_RATE per second (default 5, all 310 within about a minute).

Counted afterwards, from the server's side: failed requests, "database is locked" in the
server's log, server errors (500s and tracebacks), lost files (a file a client sent whose
SHA-256 is not an evidence row's, plus any file `kaohe verify` finds missing or changed),
reports not submitted; and the p95 latency of all requests. The target is the plan's:
none of those, within 10 minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Sampler, Site, load_average

UNITS = int(os.environ.get("BENCH_RUSH_UNITS", "310"))
SPAWN_RATE = float(os.environ.get("BENCH_RUSH_SPAWN_RATE", "5"))
FILES_PER_UNIT = 3
FILE_BYTES = 5 * 1024 * 1024
LIMIT_SECONDS = 600
HARD_LIMIT_SECONDS = 1800  # keep measuring past the target, to report how long it took
PASSWORD = "Rush-2017-deadline"  # noqa: S105 - throwaway accounts in a throwaway database
ENGINES = ("sqlite", "postgresql")

SETUP = """
import datetime, json
from django.contrib.auth.hashers import make_password
from kaohe.accounts.models import Role, User
from kaohe.demo.builder import build_demo
from kaohe.directory.models import Unit
from kaohe.rounds.models import Round, Source
from kaohe.submissions import services

build_demo(today=datetime.date(2017, 11, 20))  # units, pairings, launch; reports not open
round_ = Round.objects.get(year=2017)
password = make_password(%(password)r)
plan = []
for unit in Unit.objects.filter(category__ranked=True).order_by("code")[:%(units)d]:
    user = User.objects.create(username=f"rush-{unit.code.lower()}", role=Role.UNIT,
                               unit=unit, full_name=unit.name[:20], password=password)
    report = services.self_report_for(round=round_, unit=unit)
    slots = [s for s in services.self_report_slots(report) if s.indicator.source == Source.UNIT]
    services.self_report_save(report=report, actor=user, revision=report.revision, answers={
        s.key: f"指标{s.indicator.number}：全年工作情况（基准测试）" for s in slots})
    attach = []
    for slot in slots:
        for requirement in slot.indicator.evidence_requirements.all():
            if len(attach) < %(files)d:
                attach.append([slot.indicator.pk, requirement.pk,
                               slot.county.pk if slot.county else None])
    plan.append({"username": user.username, "report": report.pk, "attach": attach})
print(json.dumps(plan))
"""

CHECK = """
import json
from kaohe.evidence.models import Evidence, EvidenceKind
from kaohe.submissions.models import ReportStatus, ReportVersion, SelfReport
print(json.dumps({
    "evidence": list(Evidence.objects.filter(kind=EvidenceKind.FILE)
                     .values_list("sha256", flat=True)),
    "submitted": SelfReport.objects.filter(status=ReportStatus.SUBMITTED).count(),
    "versions": ReportVersion.objects.count(),
    "attachments": SelfReport.objects.filter(attachments__isnull=False).count(),
}))
"""


def rush(engine: str) -> dict:
    site = Site(f"rush-{engine}", engine, KAOHE_TODAY="2017-12-31")
    try:
        site.kaohe("migrate", "--noinput", "-v0")
        units = json.loads(site.shell(SETUP % {"password": PASSWORD, "units": UNITS,
                                               "files": FILES_PER_UNIT}).splitlines()[-1])
        if any(len(u["attach"]) < FILES_PER_UNIT for u in units):
            raise RuntimeError("a unit has fewer evidence requirements than files to attach")
        server = site.start_server(workers=4)
        plan = {"host": server.base, "password": PASSWORD, "spawn_rate": SPAWN_RATE,
                "file_bytes": FILE_BYTES, "limit_seconds": HARD_LIMIT_SECONDS, "units": units}
        with tempfile.TemporaryDirectory(prefix="kaohe-rush-") as work:
            plan_path, out_path = Path(work) / "plan.json", Path(work) / "out.json"
            plan_path.write_text(json.dumps(plan), encoding="utf-8")
            load_before = load_average()
            sampler = Sampler(server, every=1.0)
            sampler.start()
            child = subprocess.run(  # noqa: S603 - our locust script
                [sys.executable, str(ROOT / "bench" / "rush_locust.py"), str(plan_path),
                 str(out_path)], cwd=ROOT, capture_output=True, text=True, check=False,
                timeout=HARD_LIMIT_SECONDS + 300)
            resources = sampler.stop()
            if child.returncode != 0 or not out_path.exists():
                raise RuntimeError(f"locust failed:\n{child.stderr[-3000:]}")
            run = json.loads(out_path.read_text(encoding="utf-8"))
        server_log = server.log.read_text(encoding="utf-8", errors="replace")
        server.stop()

        stored = json.loads(site.shell(CHECK).splitlines()[-1])
        sent = [f["sha256"] for outcome in run["outcomes"] for f in outcome["files"]]
        stored_hashes = set(stored["evidence"])
        verify = subprocess.run(  # noqa: S603 - our own console script
            [str(ROOT / ".venv" / "bin" / "kaohe"), "verify"], cwd=ROOT, env=site.env(),
            capture_output=True, text=True, check=False)
        bad_files = sum(1 for line in verify.stderr.splitlines()
                        if "file missing" in line or "does not match" in line)
        lost = sum(1 for sha in sent if sha not in stored_hashes) + bad_files
        expected_files = UNITS * FILES_PER_UNIT
        figures = {
            "engine": engine,
            "units": UNITS,
            "files_per_unit": FILES_PER_UNIT,
            "file_mib": FILE_BYTES / 1024**2,
            "spawn_rate_per_s": SPAWN_RATE,
            "workers": 4,
            "seconds": run["seconds"],
            "units_finished": sum(1 for o in run["outcomes"] if o["submitted"]),
            "requests": run["requests"],
            "failed_requests": run["failures"],
            "lock_errors": server_log.count("database is locked"),
            "server_errors": server_log.count("Internal Server Error")
            + server_log.count("Traceback"),
            "files_sent": len(sent),
            "files_expected": expected_files,
            "evidence_rows": len(stored["evidence"]),
            "lost_files": lost,
            "verify_ok": verify.returncode == 0,
            "reports_submitted": stored["submitted"],
            "report_versions": stored["versions"],
            "median_ms": run["median_ms"],
            "p95_ms": run["p95_ms"],
            "by_request": run["by_request"],
            "errors": run["errors"],
            "unit_errors": sorted({o["error"] for o in run["outcomes"] if o["error"]})[:10],
            "load_average_before": load_before,
            "load_average_after": load_average(),
            **resources,
        }
        if verify.returncode != 0:
            figures["verify_output"] = verify.stderr[-2000:]
        return figures
    finally:
        site.close()


def main() -> None:
    figures: dict = {"units": UNITS, "targets": {
        "seconds": LIMIT_SECONDS, "failed_requests": 0, "lock_errors": 0, "server_errors": 0,
        "lost_files": 0, "all_submitted": True}}
    met = {}
    for engine in ENGINES:
        started = time.perf_counter()
        try:
            result = rush(engine)
        except Exception as exc:  # one engine failing must not hide the other
            result = {"error": f"{type(exc).__name__}: {exc}"[-3000:]}
        result["wall_seconds_with_setup"] = round(time.perf_counter() - started, 1)
        figures[engine] = result
        if "error" in result:
            met[f"{engine}_ran"] = False
            continue
        figures[f"{engine}_seconds"] = result["seconds"]
        figures[f"{engine}_p95_ms"] = result["p95_ms"]
        figures[f"{engine}_failed_requests"] = result["failed_requests"]
        figures[f"{engine}_lock_errors"] = result["lock_errors"]
        figures[f"{engine}_lost_files"] = result["lost_files"]
        figures[f"{engine}_server_cpu_percent_mean"] = result["server_cpu_percent_mean"]
        figures[f"{engine}_server_rss_mib_peak"] = result["server_rss_mib_peak"]
        met[f"{engine}_within_10_min"] = result["seconds"] <= LIMIT_SECONDS
        met[f"{engine}_no_failed_requests"] = result["failed_requests"] == 0
        met[f"{engine}_no_lock_errors"] = result["lock_errors"] == 0
        met[f"{engine}_no_server_errors"] = result["server_errors"] == 0
        met[f"{engine}_no_lost_files"] = (result["lost_files"] == 0 and result["verify_ok"]
                                          and result["evidence_rows"] == result["files_expected"])
        met[f"{engine}_all_submitted"] = (result["reports_submitted"] == UNITS
                                          and result["report_versions"] == UNITS)
    # A shortened trial (BENCH_RUSH_UNITS) does not count as the plan's rush.
    met["all_310_units"] = UNITS >= 310
    figures["met"] = met
    text = json.dumps({"P6": figures}, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
