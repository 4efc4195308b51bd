"""P2: every menu page of every role, and the first detail page of each kind linked from
them, at two scales (310 and 3,100 units) and two stages ("reviewed", "released"): SQL
queries per page and time per page.

    python bench/bench_queries.py [OUTPUT.json]
    BENCH_P2_SCALES=40,400 python bench/bench_queries.py   # a short trial

One child process per scale holds a throwaway SQLite installation (DEBUG off, the
production settings) with the demo (`kaohe demo --units N`), first at its "reviewed" stage
(KAOHE_TODAY=2018-01-20), then carried on to "released" (2018-02-20). Each child signs in
every role's demo account with Django's test client (the second factor passed as
django_otp.login records it) and crawls: the home page, every link of its navigation bar
(the menus, the notifications, the password form) and, from each of those pages, the
first link to each other kind of page (URL name) of the site, as a user clicks through.
Downloads and pages answering anything but 200 HTML are listed as skipped.

The parent asks both children for the same page in turn (two requests with their queries
counted by CaptureQueriesContext, then REPEATS timed requests alternating between the
scales, so that a machine that gets busier meanwhile weighs on both alike; three times
REPEATS more when the ratio is near the target). Where the scales' first link of a kind
differs (the demo's data differ), both measure the same one where it is a page at both.
Targets:
the same number of queries at both scales, and the median time at the larger scale at
most 1.5× the smaller's (a page about one unit, or one bounded page of a list, does not
grow with the number of units). A page taking longer than PAGE_TIMEOUT seconds is cut off
and fails; a child runs with a memory limit, so that a page that eats memory fails
instead of taking the machine down.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AUDIT_KEY, SECRET_KEY, content_links, heading, load_average, menu_links

ROOT = Path(__file__).resolve().parents[1]
CPU = (os.cpu_count() or 1) - 1  # the core both scales are timed on
# A trial of some pages: BENCH_P2_ONLY="home|reviews:category" (a regex over "role kind").
ONLY = re.compile(os.environ.get("BENCH_P2_ONLY", ""))
SCALES = tuple(int(n) for n in os.environ.get("BENCH_P2_SCALES", "310,3100").split(","))
STAGES = {"reviewed": "2018-01-20", "released": "2018-02-20"}
REPEATS = 5  # timed requests per page and scale (fewer for a page slower than SLOW_MS)
SLOW_MS = 3000
PAGE_TIMEOUT = 120
MEMORY_LIMIT = 6 * 1024**3  # address space of a child
TIME_RATIO = 1.5
# Links that are not pages: files and documents made on request.
NOT_PAGES = {
    "logout", "set_language", "healthz", "evidence:download", "evidence:preview",
    "audit:export", "directory:import_template", "documents:export_download",
    "documents:template_download", "documents:make", "launch:plan_download",
    "launch:material_download", "accounts:credential_letters_download",
    "submissions:self_report_excel", "submissions:provincial_excel",
}


# The child: one installation at one scale, answering the parent's requests ---------------


class PageTimeout(BaseException):
    """Raised by the alarm inside a request (a BaseException, so the view's and Django's
    handlers do not turn it into a 500 that looks like an answer)."""


def _alarm(_signum, _frame):
    raise PageTimeout


class Child:
    def __init__(self, units: int, work: Path):
        self.units = units
        self.work = work
        self.clients: dict = {}
        self.pages: dict[str, dict] = {}
        self.migrated = False

    def setup(self, stage: str) -> dict:
        from django.conf import settings
        from django.core.management import call_command

        settings.KAOHE_TODAY = STAGES[stage]
        started = time.perf_counter()
        if not self.migrated:
            call_command("migrate", verbosity=0)
            self.migrated = True
        # In a process of its own, as an installation's demo is made: this process then
        # serves the pages holding nothing the demo left behind.
        subprocess.run(  # noqa: S603 - Kaohe's own command from this virtualenv
            [str(Path(sys.executable).with_name("kaohe")), "demo", "--stage", stage,
             "--units", str(self.units)], check=True, stdout=subprocess.DEVNULL,
            env={**os.environ, "KAOHE_TODAY": STAGES[stage]})
        self.clients = self._sign_in()
        return {"seconds": round(time.perf_counter() - started, 1)}

    def _sign_in(self) -> dict:
        from django.db.models import Count
        from django.test import Client
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from kaohe.accounts.models import Role, User
        from kaohe.directory.models import LeadDepartment

        lead = (LeadDepartment.objects.filter(categories__ranked=True)
                .annotate(n=Count("categories__units")).order_by("-n", "code").first())
        first = {role: User.objects.filter(role=role).order_by("username")
                 .values_list("username", flat=True).first()
                 for role in (Role.UNIT, Role.PROVINCE)}
        accounts = {
            "office": "office", "lead_department": f"lead-{lead.code}-1",
            "unit": first[Role.UNIT], "province": first[Role.PROVINCE], "leader": "leader",
            "working_group": "workgroup", "org_department": "orgdept",
            "military": "military", "sysadmin": "sysadmin", "secadmin": "secadmin",
            "auditor": "auditor",
        }
        clients = {}
        for role, username in accounts.items():
            user = User.objects.get(username=username)
            client = Client(raise_request_exception=False)
            client.force_login(user, backend="kaohe.accounts.backends.ScopedModelBackend")
            device, _created = TOTPDevice.objects.get_or_create(
                user=user, name="bench", defaults={"confirmed": True})
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
            clients[role] = (username, client)
        return clients

    def _get(self, role: str, path: str):
        client = self.clients[role][1]
        signal.alarm(PAGE_TIMEOUT)
        try:
            return client.get(path)
        finally:
            signal.alarm(0)

    def _try(self, role: str, path: str):
        """The page's answer, or None when it took longer than PAGE_TIMEOUT."""
        try:
            return self._get(role, path)
        except PageTimeout:
            return None

    def discover(self) -> dict:
        """Every role's menu pages and the first detail page of each kind they link to."""
        from django.urls import Resolver404, resolve

        def kind(path: str) -> str | None:
            try:
                return resolve(path.split("?", 1)[0]).view_name
            except Resolver404:
                return None

        self.pages, skipped = {}, {}
        for role, (username, _client) in self.clients.items():
            home = self._try(role, "/")
            if home is None or home.status_code != 200:
                raise RuntimeError(f"{role} ({username}): home page {home.status_code}")
            menu = ["/", *[p for p in menu_links(home.content.decode()) if p != "/"]]
            menu_kinds = {kind(p) for p in menu}
            seen = set(menu_kinds)
            for path in menu:
                page_kind = kind(path)
                key = f"{role} {page_kind}"
                answer = self._try(role, path)
                if (answer is not None and answer.status_code in (301, 302)
                        and answer["Location"].startswith("/")):
                    path = answer["Location"]  # a menu entry that redirects: its target
                    answer = self._try(role, path)
                if not _is_page(answer):
                    skipped[key] = f"{path}: {_what(answer)}"
                    continue
                self.pages[key] = {"role": role, "account": username, "kind": page_kind,
                                   "path": path, "menu": True}
                for link in content_links(answer.content.decode()):
                    link_kind = kind(link)
                    if link_kind is None or link_kind in seen or link_kind in NOT_PAGES:
                        continue
                    seen.add(link_kind)
                    detail = self._try(role, link)
                    detail_key = f"{role} {link_kind}"
                    if not _is_page(detail):
                        skipped[detail_key] = f"{link}: {_what(detail)}"
                        continue
                    self.pages[detail_key] = {"role": role, "account": username,
                                              "kind": link_kind, "path": link,
                                              "menu": False, "from": path}
        return {"pages": self.pages, "skipped": skipped}

    def count(self, key: str) -> dict:
        """Ask for the page (already asked for once by discover) twice with its queries
        counted: the fewer counts, since a request may also do the occasional write that
        is no part of the page (a session's expiry moved on)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        page = self.pages[key]
        counts, elapsed = [], []
        for _ in range(2):
            try:
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    answer = self._get(page["role"], page["path"])
                    elapsed.append((time.perf_counter() - began) * 1000)
            except PageTimeout:
                return {"error": f"over {PAGE_TIMEOUT} s"}
            if not _is_page(answer):
                return {"error": _what(answer)}
            counts.append(len(queries))
        text = answer.content.decode()
        return {"queries": min(counts), "queries_max": max(counts), "ms": round(min(elapsed), 1),
                "bytes": len(text), "heading": heading(text)}

    def pin(self, cpus: list[int] | None) -> dict:
        """Run on these CPUs only (None: on all of them again)."""
        os.sched_setaffinity(0, cpus if cpus is not None else range(os.cpu_count() or 1))
        return {}

    def align(self, key: str, path: str) -> dict:
        """Measure `key` at `path` (the other scale's first link of that kind) when it is a
        page here too: the first link differs when the demo's data do (a lead department
        with units to summon at one scale and none at the other), and two different pages
        cannot be compared."""
        answer = self._try(self.pages[key]["role"], path)
        if not _is_page(answer):
            return {"aligned": False}
        self.pages[key]["path"] = path
        return {"aligned": True}

    def time(self, key: str) -> dict:
        """The page's wall time and this process's CPU time for it (SQLite runs in the
        process: its reads and sorts are in the CPU time; waiting for a core is not)."""
        page = self.pages[key]
        began, began_cpu = time.perf_counter(), time.process_time()
        try:
            answer = self._get(page["role"], page["path"])
        except PageTimeout:
            return {"error": f"over {PAGE_TIMEOUT} s"}
        elapsed = (time.perf_counter() - began) * 1000
        cpu = (time.process_time() - began_cpu) * 1000
        if not _is_page(answer):
            return {"error": _what(answer)}
        return {"ms": round(elapsed, 2), "cpu_ms": round(cpu, 2)}


def _is_page(answer) -> bool:
    return (answer is not None and answer.status_code == 200
            and answer.get("Content-Type", "").startswith("text/html"))


def _what(answer) -> str:
    if answer is None:
        return f"over {PAGE_TIMEOUT} s"
    if answer.status_code in (301, 302):
        return f"{answer.status_code} to {answer['Location']}"
    if answer.status_code != 200:
        return f"status {answer.status_code}"
    return f"not a page ({answer.get('Content-Type', '')})"


def child_main(units: int) -> None:
    """Answer the parent's JSON requests, one a line, on a pipe of its own (stdout stays
    free for what Django and the commands print)."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _alarm)
    work = Path(tempfile.mkdtemp(prefix=f"kaohe-bench-queries-{units}-"))
    try:
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "kaohe.settings",
            "SECRET_KEY": SECRET_KEY,
            "AUDIT_KEY": AUDIT_KEY,
            "KAOHE_DATA_DIR": str(work / "data"),
            "DATABASE_URL": f"sqlite:///{work / 'data' / 'kaohe.sqlite3'}",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
        })
        for name in ("KAOHE_DEBUG", "KAOHE_TODAY", "DATABASE_URL_TEST"):
            os.environ.pop(name, None)
        (work / "data" / "static").mkdir(parents=True)  # WhiteNoise expects STATIC_ROOT
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings
        from django.test.utils import setup_test_environment

        if settings.DEBUG:
            raise RuntimeError("P2 must not run with DEBUG on")
        setup_test_environment()
        child = Child(units, work)
        for line in sys.stdin:
            request = json.loads(line)
            command = request.pop("cmd")
            if command == "quit":
                break
            try:
                answer = getattr(child, command)(**request)
            except (Exception, PageTimeout) as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            channel.write(json.dumps(answer, ensure_ascii=False) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# The parent: both scales side by side ----------------------------------------------------


class Scale:
    def __init__(self, units: int):
        self.units = units
        # What the child's Django logs (a page's traceback) is kept for the report.
        self.log = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - this script, in a fresh interpreter
            [sys.executable, __file__, "--child", str(units)], cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def send(self, cmd: str, **args) -> None:
        self.process.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.units}-unit child died "
                               f"(exit {self.process.wait()}):\n{self.log_tail()}")
        return json.loads(line)

    def ask(self, cmd: str, **args) -> dict:
        self.send(cmd, **args)
        return self.receive()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("quit")
                self.process.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.log.close()


def both(scales: list[Scale], cmd: str, **args) -> list[dict]:
    """The same request to every child at once (setting up runs in parallel)."""
    for scale in scales:
        scale.send(cmd, **args)
    answers = [scale.receive() for scale in scales]
    for scale, answer in zip(scales, answers, strict=True):
        if "error" in answer:
            raise RuntimeError(f"{cmd} at {scale.units} units: {answer['error']}")
    return answers


def align(scales: list[Scale], found: list[dict]) -> None:
    """Where the scales found different first links of a kind, both measure the smaller
    scale's (or else the larger's) where it is a page at both."""
    small, large = found
    for key in small["pages"].keys() & large["pages"].keys():
        paths = small["pages"][key]["path"], large["pages"][key]["path"]
        if paths[0] == paths[1]:
            continue
        for scale, f, path in ((scales[1], large, paths[0]), (scales[0], small, paths[1])):
            if scale.ask("align", key=key, path=path).get("aligned"):
                f["pages"][key]["path"] = path
                break


def measure_page(scales: list[Scale], key: str, present: list[bool]) -> dict:
    row: dict = {}
    counted = {}
    for scale, here in zip(scales, present, strict=True):
        counted[scale.units] = (scale.ask("count", key=key) if here
                                else {"error": "no such page at this scale"})
    samples: dict[int, list[float]] = {s.units: [] for s in scales}
    cpu_samples: dict[int, list[float]] = {s.units: [] for s in scales}
    errors = {n: c["error"] for n, c in counted.items() if "error" in c}

    def sample(repeats: int) -> None:
        for _ in range(repeats):
            for scale in scales:
                answer = scale.ask("time", key=key)
                if "error" in answer:
                    errors[scale.units] = answer["error"]
                    return
                samples[scale.units].append(answer["ms"])
                cpu_samples[scale.units].append(answer["cpu_ms"])

    if not errors:
        slow = max(c["ms"] for c in counted.values()) >= SLOW_MS
        sample(2 if slow else REPEATS)
        if not slow and not errors:
            small, large = (statistics.median(samples[s.units]) for s in scales)
            if 0.8 * TIME_RATIO < large / small < 2 * TIME_RATIO:
                sample(3 * REPEATS)  # close to the target: more samples before a verdict
    for n, c in counted.items():
        row[f"queries_{n}"] = c.get("queries")
        if c.get("queries_max", c.get("queries")) != c.get("queries"):
            row[f"queries_max_{n}"] = c["queries_max"]
        row[f"ms_{n}"] = round(statistics.median(samples[n]), 1) if samples[n] else None
        row[f"cpu_ms_{n}"] = (round(statistics.median(cpu_samples[n]), 1) if cpu_samples[n]
                              else None)
        row[f"bytes_{n}"] = c.get("bytes")
    row["n"] = min(len(v) for v in samples.values())
    if errors:
        row["errors"] = {str(n): e for n, e in errors.items()}
    return row


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(int(sys.argv[2]))
        return
    small, large = SCALES
    started = time.perf_counter()
    load_before = load_average()
    scales = [Scale(n) for n in SCALES]
    figures: dict = {"scales": list(SCALES), "repeats": REPEATS, "time_ratio": TIME_RATIO,
                     "stages": {}, "setup_seconds": {}, "skipped": {}}
    pages: dict[str, dict] = {}
    try:
        for stage in STAGES:
            setups = both(scales, "setup", stage=stage)
            figures["setup_seconds"][stage] = {str(s.units): a["seconds"]
                                               for s, a in zip(scales, setups, strict=True)}
            found = both(scales, "discover")
            keys = list(dict.fromkeys(k for f in found for k in f["pages"]))
            for f, scale in zip(found, scales, strict=True):
                for key, why in f["skipped"].items():
                    figures["skipped"][f"{stage} {key} ({scale.units})"] = why
            align(scales, found)
            # Both scales on the same core while they are timed (they take turns, never
            # running at once). Left to the scheduler, pages that do the same work at both
            # scales (the password form) measured 0.60-1.56 in one run; pinned, 0.94-1.04.
            both(scales, "pin", cpus=[CPU])
            for key in [k for k in keys if ONLY.search(k)]:
                present = [key in f["pages"] for f in found]
                info = next(f["pages"][key] for f in found if key in f["pages"])
                row = measure_page(scales, key, present)
                row.update({"stage": stage, "role": info["role"], "account": info["account"],
                            "kind": info["kind"], "menu": info["menu"],
                            **{f"path_{s.units}": f["pages"].get(key, {}).get("path")
                               for s, f in zip(scales, found, strict=True)}})
                q_small, q_large = row[f"queries_{small}"], row[f"queries_{large}"]
                ms_small, ms_large = row[f"ms_{small}"], row[f"ms_{large}"]
                row["ratio"] = (round(ms_large / ms_small, 2)
                                if ms_small and ms_large is not None else None)
                cpu_small, cpu_large = row[f"cpu_ms_{small}"], row[f"cpu_ms_{large}"]
                row["cpu_ratio"] = (round(cpu_large / cpu_small, 2)
                                    if cpu_small and cpu_large is not None else None)
                row["queries_met"] = "errors" not in row and q_small == q_large
                row["time_met"] = ("errors" not in row and row["ratio"] is not None
                                   and row["ratio"] <= TIME_RATIO)
                pages[f"{stage} {key}"] = row
                print(f"{stage} {key}: {q_small}/{q_large} queries, {ms_small}/{ms_large} ms,"
                      f" CPU {cpu_small}/{cpu_large} ms", file=sys.stderr, flush=True)
            figures["stages"][stage] = len(keys)
            both(scales, "pin", cpus=None)  # the next stage's set-up on every core
    finally:
        for scale in scales:
            scale.close()
    # A page found at one scale only (the demo's data differ: its first unit has a report
    # version at one scale and none at the other) cannot be compared: listed apart.
    one_scale = [k for k, r in pages.items()
                 if any("no such page" in e for e in r.get("errors", {}).values())]
    failing_queries = [k for k, r in pages.items() if not r["queries_met"] and k not in one_scale]
    failing_time = [k for k, r in pages.items() if not r["time_met"] and k not in one_scale]
    figures.update({
        "pages_measured": len(pages),
        "pages_queries_met": len(pages) - len(failing_queries) - len(one_scale),
        "pages_time_met": len(pages) - len(failing_time) - len(one_scale),
        "pages_at_one_scale_only": len(one_scale),
        "failing_queries": failing_queries,
        "failing_time": failing_time,
        "at_one_scale_only": one_scale,
        "pages": pages,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "targets": {"queries": f"identical at {small} and {large:,} units",
                    "time": f"median at {large:,} units ≤ {TIME_RATIO}× the median at "
                            f"{small} units, every page"},
        "met": {"queries_identical_every_page": not failing_queries,
                "time_every_page": not failing_time,
                "every_page_at_both_scales": not one_scale,
                "plan_scales": SCALES == (310, 3100)},
    })
    text = json.dumps({"P2": figures}, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
