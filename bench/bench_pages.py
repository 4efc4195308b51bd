"""P1: latency of every main page of every role against a light logged-in page, alone and
under 50 users, each response checked for the page's content.

    python bench/bench_pages.py [OUTPUT.json]
    BENCH_P1_STAGE=reviewed python bench/bench_pages.py   # the demo at another stage
    BENCH_P1_UNITS=40 BENCH_P1_ROUNDS=1 python bench/bench_pages.py   # a short trial

A fresh SQLite installation (production settings, DEBUG off) gets the demo of 310 units at
its "released" stage (default: every menu of every role has something to show) and
gunicorn serves it with 4 workers. Every role's demo account signs in through the login
form and the two-factor page; its main pages are the links of its navigation bar (the
menus and the notifications), collected from its rendered home page, and the home page.
The baseline is the office's password change form: the lightest logged-in page there is
(no trivial view exists); it renders the full layout and navigation.

Each page is asked for once to learn its content: its heading (the first <h1>) and its
size. Every measured response must be a 200 showing that heading and the site's footer,
at least half that size: a page that answers quickly with an error message, a
login form or an empty shell counts as an error, not as a fast page.

Sequential: the pages in turn, one request at a time. Under load: bursts of 50 threads,
each with a connection of its own, asking for one page at the same moment; the pages take
turns, ROUNDS bursts each, and the baseline has a burst of its own after every tenth (on
a shared 2-core machine one burst of the baseline, taken at a quiet or a busy moment, moved
every page's ratio by a quarter between two runs of the same code). Targets: median ≤ 2×
and p95 ≤ 3× the baseline's, under load (the plan's) and sequentially, for every page; no
errors.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Sampler, Site, heading, load_average, menu_links, percentile, sign_in

DEMO_PASSWORD = "Kaohe@2017demo"  # noqa: S105 - the demo's published password
STAGE = os.environ.get("BENCH_P1_STAGE", "released")
TODAY = {"reviewed": "2018-01-20", "released": "2018-02-20"}[STAGE]
UNITS = int(os.environ.get("BENCH_P1_UNITS", "310"))
SEQUENTIAL_ROUNDS = 20
USERS = 50
ROUNDS = int(os.environ.get("BENCH_P1_ROUNDS", "3"))  # bursts of 50 users per page
BASELINE_EVERY = 10  # under load, a burst of the baseline after every 10 pages' bursts
WORKERS = 4
CONTENT_SHARE = 0.5  # some pages change meanwhile (the audit log grows with every read)
FOOTER = "中央单位定点扶贫工作考核系统"
TARGETS = {"median_ratio": 2.0, "p95_ratio": 3.0}

SETUP = """
import json
from django.db.models import Count
from django_otp.plugins.otp_totp.models import TOTPDevice
from kaohe.accounts.models import Role, User
from kaohe.directory.models import LeadDepartment

keys = json.loads(%r)
lead = (LeadDepartment.objects.filter(categories__ranked=True)
        .annotate(n=Count("categories__units")).order_by("-n", "code").first())
first = {role: User.objects.filter(role=role).order_by("username")
         .values_list("username", flat=True).first() for role in (Role.UNIT, Role.PROVINCE)}
accounts = {
    "office": "office", "lead_department": f"lead-{lead.code}-1", "unit": first[Role.UNIT],
    "province": first[Role.PROVINCE], "leader": "leader", "working_group": "workgroup",
    "org_department": "orgdept", "military": "military", "sysadmin": "sysadmin",
    "secadmin": "secadmin", "auditor": "auditor",
}
for role, username in accounts.items():
    TOTPDevice.objects.filter(user__username=username).delete()
    TOTPDevice.objects.create(user=User.objects.get(username=username), name="bench",
                              key=keys[role], confirmed=True)
print(json.dumps({"accounts": accounts, "lead": lead.short_name}))
"""


class Page:
    def __init__(self, key: str, role: str, path: str, url: str, session: requests.Session):
        self.key, self.role, self.path, self.url = key, role, path, url
        self.session = session
        self.heading = ""
        self.size = 0

    def learn(self) -> None:
        answer = self.session.get(self.url, timeout=300, allow_redirects=False)
        if answer.status_code != 200:
            raise RuntimeError(f"{self.key} {self.path}: {answer.status_code}")
        self.heading = heading(answer.text)
        self.size = len(answer.text)

    def get(self, session: requests.Session | None = None) -> float:
        """Milliseconds for one request; RuntimeError unless it shows the page's content."""
        started = time.perf_counter()
        answer = (session or self.session).get(self.url, timeout=300, allow_redirects=False)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"{self.key}: status {answer.status_code}")
        text = answer.text
        if heading(text) != self.heading or FOOTER not in text:
            raise RuntimeError(f"{self.key}: the page's heading or footer is missing")
        if len(text) < CONTENT_SHARE * self.size:
            raise RuntimeError(f"{self.key}: {len(text)} characters, "
                               f"{self.size} when first asked for")
        return elapsed


def summarize(latencies: dict[str, list[float]], baseline: str) -> dict[str, dict]:
    base = latencies[baseline]
    base_median, base_p95 = percentile(base, 0.5), percentile(base, 0.95)
    summary = {}
    for page, values in latencies.items():
        if not values:
            summary[page] = {"n": 0}
            continue
        median, p95 = percentile(values, 0.5), percentile(values, 0.95)
        summary[page] = {"n": len(values), "median_ms": round(median, 1),
                         "p95_ms": round(p95, 1),
                         "median_ratio": round(median / base_median, 2),
                         "p95_ratio": round(p95 / base_p95, 2)}
    return summary


def discover(base: str, sessions: dict[str, requests.Session]) -> list[Page]:
    """The baseline, then every role's home page and the links of its navigation bar."""
    pages = [Page("baseline", "office", "/accounts/password/", f"{base}/accounts/password/",
                  sessions["office"])]
    for role, session in sessions.items():
        home = session.get(f"{base}/", timeout=300, allow_redirects=False)
        if home.status_code != 200:
            raise RuntimeError(f"{role}: home page {home.status_code}")
        for path in ["/", *menu_links(home.text)]:
            key = f"{role} {path}"
            if path == pages[0].path or any(p.key == key for p in pages):
                continue  # the password form is the baseline
            answer = session.get(f"{base}{path}", timeout=300, allow_redirects=False)
            if answer.status_code in (301, 302) and answer.headers["Location"].startswith("/"):
                path = answer.headers["Location"]  # a menu entry that redirects: its target
            pages.append(Page(key, role, path, f"{base}{path}", session))
    return pages


def main() -> None:
    site = Site("pages", KAOHE_TODAY=TODAY)
    try:
        site.kaohe("migrate", "--noinput", "-v0")
        site.kaohe("demo", "--stage", STAGE, "--units", str(UNITS))
        roles = ("office", "lead_department", "unit", "province", "leader", "working_group",
                 "org_department", "military", "sysadmin", "secadmin", "auditor")
        keys = {role: secrets.token_hex(20) for role in roles}
        setup = json.loads(site.shell(SETUP % json.dumps(keys)).strip().splitlines()[-1])
        server = site.start_server(workers=WORKERS)
        base = server.base
        sessions = {role: sign_in(base, setup["accounts"][role], DEMO_PASSWORD, keys[role])
                    for role in roles}
        pages = discover(base, sessions)
        by_key = {page.key: page for page in pages}
        errors: list[str] = []
        for page in pages:
            page.learn()
        for page in pages:  # warm up every worker's caches
            for _ in range(WORKERS):
                try:
                    page.get()
                except (RuntimeError, requests.RequestException) as exc:
                    errors.append(f"warm-up {str(exc)[:200]}")

        load_before = load_average()
        sampler = Sampler(server)
        sampler.start()
        sequential: dict[str, list[float]] = {page.key: [] for page in pages}
        for _ in range(SEQUENTIAL_ROUNDS):
            for page in pages:
                try:
                    sequential[page.key].append(page.get())
                except (RuntimeError, requests.RequestException) as exc:
                    errors.append(f"sequential {str(exc)[:200]}")
        sequential_resources = sampler.stop()

        # Under load: bursts of 50 users asking for the same page at the same moment, so
        # that each page's latency includes the queue its own cost makes (a mixed load would
        # give every page the same queue and hide the differences). The pages take turns,
        # burst by burst, so that a machine that gets busier or quieter meanwhile (it may be
        # shared) weighs on every page alike.
        concurrent: dict[str, list[float]] = {page.key: [] for page in pages}
        lock = threading.Lock()
        clients = [requests.Session() for _ in range(USERS)]  # a connection of its own each

        def user(page: Page, client: requests.Session, start: threading.Barrier) -> None:
            client.cookies.clear()
            client.cookies.update(page.session.cookies)
            start.wait()
            try:
                elapsed = page.get(client)
            except (RuntimeError, requests.RequestException) as exc:
                with lock:
                    errors.append(f"50 users {str(exc)[:200]}")
                return
            with lock:
                concurrent[page.key].append(elapsed)

        def burst(page: Page) -> None:
            start = threading.Barrier(USERS)
            threads = [threading.Thread(target=user, args=(page, client, start))
                       for client in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        sampler = Sampler(server)
        sampler.start()
        started = time.perf_counter()
        done = 0
        for turn in range(ROUNDS):
            for step in range(len(pages)):
                burst(pages[(turn + step) % len(pages)])
                done += 1
                # The baseline again every few pages: every page's ratio is to the
                # baseline's figures over the whole run, not to the one moment of its turn.
                if done % BASELINE_EVERY == 0:
                    burst(by_key["baseline"])
        concurrent_seconds = time.perf_counter() - started
        concurrent_resources = sampler.stop()

        seq, conc = summarize(sequential, "baseline"), summarize(concurrent, "baseline")
        table = {}
        met = {}
        failing = []
        for page in pages:
            table[page.key] = {"role": page.role, "path": page.path, "heading": page.heading,
                               "sequential": seq[page.key], "concurrent": conc[page.key]}
            if page.key == "baseline":
                continue
            s, c = seq[page.key], conc[page.key]
            ok = (s["n"] == SEQUENTIAL_ROUNDS and c["n"] == USERS * ROUNDS
                  and c["median_ratio"] <= TARGETS["median_ratio"]
                  and c["p95_ratio"] <= TARGETS["p95_ratio"]
                  and s["median_ratio"] <= TARGETS["median_ratio"]
                  and s["p95_ratio"] <= TARGETS["p95_ratio"])
            table[page.key]["met"] = ok
            if not ok:
                failing.append(page.key)
        met["every_page_c50_median"] = all(
            conc[k].get("median_ratio", 99) <= TARGETS["median_ratio"] for k in by_key)
        met["every_page_c50_p95"] = all(
            conc[k].get("p95_ratio", 99) <= TARGETS["p95_ratio"] for k in by_key)
        met["every_page_seq_median"] = all(
            seq[k].get("median_ratio", 99) <= TARGETS["median_ratio"] for k in by_key)
        met["every_page_seq_p95"] = all(
            seq[k].get("p95_ratio", 99) <= TARGETS["p95_ratio"] for k in by_key)
        met["no_errors"] = not errors
        met["plan_scale"] = UNITS == 310
        figures = {
            "stage": STAGE,
            "units": UNITS,
            "baseline_page": "/accounts/password/ (the office's password change form; no "
                             "trivial logged-in view exists)",
            "lead_department": setup["lead"],
            "accounts": setup["accounts"],
            "workers": WORKERS,
            "users": USERS,
            "pages_measured": len(pages) - 1,
            "pages_failing": len(failing),
            "failing": failing,
            "requests_sequential": sum(len(v) for v in sequential.values()),
            "requests_concurrent": sum(len(v) for v in concurrent.values()),
            "errors": len(errors),
            "concurrent_requests_per_s": round(
                sum(len(v) for v in concurrent.values()) / concurrent_seconds, 1),
            "baseline_seq_median_ms": seq["baseline"]["median_ms"],
            "baseline_c50_median_ms": conc["baseline"]["median_ms"],
            "baseline_c50_p95_ms": conc["baseline"]["p95_ms"],
            "pages": table,
            "resources_sequential": sequential_resources,
            "resources_concurrent": concurrent_resources,
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "targets": TARGETS,
            "met": met,
        }
        figures.update(concurrent_resources)
        if errors:
            figures["error_samples"] = sorted(set(errors))[:10]
        text = json.dumps({"P1": figures}, ensure_ascii=False, indent=2)
        print(text)
        if len(sys.argv) > 1:
            Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")
    finally:
        site.close()


if __name__ == "__main__":
    main()
