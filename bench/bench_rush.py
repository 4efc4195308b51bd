"""P6: the deadline rush, with locust, at two arrival rates.

    python bench/bench_rush.py [OUTPUT.json]
    BENCH_RUSH_UNITS=20 BENCH_RUSH_RUNS=sqlite:overload python bench/bench_rush.py  # a trial

Each run is a database engine and an arrival rate (BENCH_RUSH_RUNS, default
"postgresql:realistic,postgresql:overload,sqlite:overload"):

- realistic: the 310 units arrive within 10 minutes (BENCH_RUSH_REALISTIC_S); target: the
  p95 latency of page requests (the HTML pages a browser shows) ≤ 1 s, and nothing lost;
- overload: all arrive within a minute (BENCH_RUSH_OVERLOAD_S), today's benchmark; target:
  0 failed requests, 0 server errors, every upload finished and every report submitted;
  the throughput (units and MiB per minute) is reported.

For each run a throwaway installation (production settings, DEBUG off, collected static
files) gets the 2017 round and the demo units as they stand before reports open, an
account per unit, and each unit's report texts written as a draft (the work of the weeks
before, through the same services the demo uses). On the deadline day
(KAOHE_TODAY=2017-12-31) every unit does what a browser does: opens the login page, signs
in and follows the redirect to its home page, opens its report, uploads 3 files of 5 MiB
through tus, attaches each (following the redirect back to the report) and submits
(following the redirect), loading each page's style sheets and scripts as a browser with
a cache does (again once their max-age has passed, conditionally). The units arrive evenly
spread over the window (unit i at i × window / units), however slowly the server answers.

start_deployment() is the one function that starts what is measured: by default issue 19's
deployment (nginx ending TLS in front of two app servers of deploy/, the database of the
run and an S3 bucket on a moto server; BENCH_RUSH_DEPLOYMENT=single: one gunicorn with 4
sync workers and WhiteNoise, the earlier benchmark). Counted afterwards, from the server's
side: failed requests, "database is locked" in the servers' logs, server errors (500s and
tracebacks), lost files (a file a client sent whose SHA-256 is not an evidence row's, plus
any file `kaohe verify` finds missing or changed), reports not submitted.
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
import psutil
from common import ROOT, S3Bucket, Sampler, Server, Site, load_average

UNITS = int(os.environ.get("BENCH_RUSH_UNITS", "310"))
RATES = {"realistic": float(os.environ.get("BENCH_RUSH_REALISTIC_S", "600")),
         "overload": float(os.environ.get("BENCH_RUSH_OVERLOAD_S", "60"))}
RUNS = [tuple(run.split(":")) for run in os.environ.get(
    "BENCH_RUSH_RUNS", "postgresql:realistic,postgresql:overload,sqlite:overload").split(",")]
FILES_PER_UNIT = 3
FILE_BYTES = 5 * 1024 * 1024
WORKERS = 4  # of the single server
APP_SERVERS = 2
DEPLOYMENT = os.environ.get("BENCH_RUSH_DEPLOYMENT", "proxy")
PAGE_P95_MS = 1000
HARD_LIMIT_SECONDS = 1800  # keep measuring past the arrival window, to report how long
PASSWORD = "Rush-2017-deadline"  # noqa: S105 - throwaway accounts in a throwaway database


def start_deployment(site: Site, bucket: S3Bucket | None):
    """Start what the rush runs against and return it (.base, .log_text(), .processes(),
    .stop(), .ca: the certificate clients trust, or None).

    BENCH_RUSH_DEPLOYMENT=proxy (the default): issue 19's deployment, ProxyDeployment, on
    the bucket the site was set up with (rush()).
    single: one gunicorn with WORKERS sync workers on the loopback, serving the static files
    through WhiteNoise (the earlier benchmark)."""
    site.kaohe("collectstatic", "--noinput", "-v0")
    if DEPLOYMENT == "single":
        return SingleServer(site.start_server(workers=WORKERS))
    return ProxyDeployment(site, bucket)


class SingleServer:
    def __init__(self, server: Server):
        self.server = server
        self.base = server.base
        self.ca = None
        self.description = f"gunicorn, {server.workers} sync workers, WhiteNoise"

    def processes(self) -> list:
        return self.server.processes()

    def log_text(self) -> str:
        return self.server.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.server.stop()


class ProxyDeployment:
    """nginx (deploy/nginx/kaohe.conf: TLS, request buffering, static files) in front of
    APP_SERVERS app servers (deploy/gunicorn.conf.py with the settings of
    deploy/kaohe.env.example, as the reliability tests run them), sharing the site's database
    and its S3 bucket (a moto server). Workers and threads per server: BENCH_RUSH_WORKERS,
    BENCH_RUSH_THREADS (deploy/gunicorn.conf.py's defaults when unset)."""

    def __init__(self, site: Site, bucket: S3Bucket | None):
        from tests.reliability.deployment import (
            Nginx,
            certificate,
            deployed_settings,
            program,
        )

        if bucket is None or site.extra_env.get("KAOHE_S3_BUCKET") != bucket.bucket:
            raise ValueError("the site was not set up with the bucket")
        self.servers: list[Server] = []
        self.nginx = None
        try:
            settings = deployed_settings(proxies="127.0.0.1", host="127.0.0.1")
            settings.update({name: value for name, value in (
                ("KAOHE_WEB_WORKERS", os.environ.get("BENCH_RUSH_WORKERS", "")),
                ("KAOHE_WEB_THREADS", os.environ.get("BENCH_RUSH_THREADS", ""))) if value})
            for _ in range(APP_SERVERS):
                self.servers.append(site.start_server(deployed=settings))
            root = site.work / "nginx"
            root.mkdir()
            cert, key = certificate(root, program("openssl"))
            self.nginx = Nginx(root, [server.port for server in self.servers],
                               site.data_dir / "static", cert, key)
            self.nginx.start(program("nginx"))
        except BaseException:
            self.stop()
            raise
        self.base = self.nginx.base
        self.ca = str(cert)
        self.description = (f"nginx + {APP_SERVERS} app servers (deploy/gunicorn.conf.py, "
                            f"workers={settings.get('KAOHE_WEB_WORKERS', 'default')}, "
                            f"threads={settings.get('KAOHE_WEB_THREADS', 'default')}) + S3")

    def processes(self) -> list:
        found = [process for server in self.servers if server.process is not None
                 for process in server.processes()]
        if self.nginx is not None and self.nginx.process is not None:
            master = psutil.Process(self.nginx.process.pid)
            found += [master, *master.children(recursive=True)]
        return found

    def log_text(self) -> str:
        text = "".join(server.log.read_text(encoding="utf-8", errors="replace")
                       for server in self.servers)
        return text + (self.nginx.log() if self.nginx is not None else "")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.nginx is not None:
            self.nginx.stop()


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


def rush(engine: str, rate: str) -> dict:
    window = RATES[rate]
    arrival_rate = UNITS / window
    site = Site(f"rush-{engine}-{rate}", engine, KAOHE_TODAY="2017-12-31")
    server = bucket = None
    try:
        if DEPLOYMENT == "proxy":  # every file in the bucket, from the demo's launch files on
            bucket = S3Bucket(site)
            site.extra_env.update(bucket.env)
        site.kaohe("migrate", "--noinput", "-v0")
        units = json.loads(site.shell(SETUP % {"password": PASSWORD, "units": UNITS,
                                               "files": FILES_PER_UNIT}).splitlines()[-1])
        if any(len(u["attach"]) < FILES_PER_UNIT for u in units):
            raise RuntimeError("a unit has fewer evidence requirements than files to attach")
        server = start_deployment(site, bucket)
        plan = {"host": server.base, "ca": server.ca, "password": PASSWORD,
                "window_seconds": window, "file_bytes": FILE_BYTES,
                "limit_seconds": HARD_LIMIT_SECONDS, "units": units}
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
        server_log = server.log_text()
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
        finished = sum(1 for o in run["outcomes"] if o["submitted"])
        minutes = run["seconds"] / 60
        figures = {
            "engine": engine,
            "rate": rate,
            "arrival_window_s": window,
            "units": UNITS,
            "files_per_unit": FILES_PER_UNIT,
            "file_mib": FILE_BYTES / 1024**2,
            "arrivals_per_s": round(arrival_rate, 3),
            "deployment": server.description,
            "seconds": run["seconds"],
            "units_finished": finished,
            "units_per_minute": round(finished / minutes, 1) if minutes else None,
            "upload_mib_per_minute": round(len(stored["evidence"]) * FILE_BYTES / 1024**2
                                           / minutes, 1) if minutes else None,
            "requests": run["requests"],
            "requests_per_s": round(run["requests"] / run["seconds"], 1),
            "failed_requests": run["failures"],
            "lock_errors": server_log.count("database is locked"),
            "server_errors": server_log.count("Internal Server Error")
            + server_log.count("Traceback"),
            "files_sent": len(sent),
            "files_expected": UNITS * FILES_PER_UNIT,
            "evidence_rows": len(stored["evidence"]),
            "lost_files": lost,
            "verify_ok": verify.returncode == 0,
            "reports_submitted": stored["submitted"],
            "report_versions": stored["versions"],
            "median_ms": run["median_ms"],
            "p95_ms": run["p95_ms"],
            "page_requests": run["pages"]["requests"],
            "page_median_ms": run["pages"]["median_ms"],
            "page_p95_ms": run["pages"]["p95_ms"],
            "static_requests": run["static"]["requests"],
            "static_p95_ms": run["static"]["p95_ms"],
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
        if server is not None:
            server.stop()
        if bucket is not None:
            bucket.close()
        site.close()


def main() -> None:
    figures: dict = {"units": UNITS, "runs": [f"{e}:{r}" for e, r in RUNS], "targets": {
        "realistic": f"{UNITS} units within {RATES['realistic']:.0f} s: p95 of page requests "
                     f"≤ {PAGE_P95_MS} ms, 0 failed requests, 0 lost files",
        "overload": f"{UNITS} units within {RATES['overload']:.0f} s: 0 failed requests, 0 "
                    "server or lock errors, every upload finished, every report submitted; "
                    "throughput reported"}}
    met = {}
    for engine, rate in RUNS:
        key = f"{engine}_{rate}"
        started = time.perf_counter()
        try:
            result = rush(engine, rate)
        except Exception as exc:  # one run failing must not hide the others
            result = {"error": f"{type(exc).__name__}: {exc}"[-3000:]}
        result["wall_seconds_with_setup"] = round(time.perf_counter() - started, 1)
        figures[key] = result
        if "error" in result:
            met[f"{key}_ran"] = False
            continue
        figures[f"{key}_page_p95_ms"] = result["page_p95_ms"]
        figures[f"{key}_failed_requests"] = result["failed_requests"]
        figures[f"{key}_units_per_minute"] = result["units_per_minute"]
        nothing_lost = (result["lost_files"] == 0 and result["verify_ok"]
                        and result["evidence_rows"] == result["files_expected"])
        all_submitted = (result["reports_submitted"] == UNITS
                         and result["report_versions"] == UNITS)
        met[f"{key}_no_failed_requests"] = result["failed_requests"] == 0
        met[f"{key}_no_server_errors"] = (result["server_errors"] == 0
                                          and result["lock_errors"] == 0)
        met[f"{key}_every_upload_finished"] = nothing_lost
        met[f"{key}_all_submitted"] = all_submitted
        if rate == "realistic":
            met[f"{key}_page_p95"] = result["page_p95_ms"] <= PAGE_P95_MS
    # A shortened trial (BENCH_RUSH_UNITS) does not count as the plan's rush.
    met["all_310_units"] = UNITS >= 310
    figures["met"] = met
    text = json.dumps({"P6": figures}, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
