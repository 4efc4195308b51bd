"""P1: latency of the heavy pages against a trivial logged-in page, alone and under 50 users.

    python bench/bench_pages.py [OUTPUT.json]

A fresh SQLite installation gets the demo at its "reviewed" stage (310 units, every
category reviewed, the first result set computed); gunicorn serves it with 4 workers. The
pages, each with the account that uses it, signed in through the login form and the
two-factor page:

    baseline       the password change form: the lightest logged-in page there is (no
                   trivial view exists); it renders the full layout and navigation
    office_home    the office's home page: progress of the round by step, category and unit
    lead_units     a lead department's unit list (the review queue of 国资委, 105 units)
    ranking        the working group's result set: ranking, grades, charts (audited view)

Sequential: the pages in turn, one request at a time. Concurrent: bursts of 50 threads,
each with a connection of its own, asking for one page at the same moment; the pages take
turns, 5 bursts each (250 requests per page). The targets are the plan's: median ≤ 2×
and p95 ≤ 3× the baseline's under 50 users; the same ratios sequentially are reported and
checked too.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Sampler, Site, load_average, percentile, sign_in

DEMO_PASSWORD = "Kaohe@2017demo"  # noqa: S105 - the demo's published password
TODAY = "2018-01-20"
SEQUENTIAL_ROUNDS = 40
USERS = 50
CONCURRENT_ROUNDS = 5  # bursts of 50 users per page: 250 requests per page
TARGETS = {"median_ratio": 2.0, "p95_ratio": 3.0}

SETUP = """
import json
from django.db.models import Count
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from kaohe.accounts.models import User
from kaohe.directory.models import LeadDepartment
from kaohe.grading.models import ResultSet

keys = json.loads(%r)
lead = (LeadDepartment.objects.filter(categories__ranked=True)
        .annotate(n=Count("categories__units")).order_by("-n").first())
users = {"office": "office", "ranking": "workgroup", "lead_units": f"lead-{lead.code}-1"}
for page, username in users.items():
    TOTPDevice.objects.filter(user__username=username).delete()
    TOTPDevice.objects.create(user=User.objects.get(username=username), name="bench",
                              key=keys[page], confirmed=True)
print(json.dumps({
    "users": users,
    "paths": {
        "baseline": reverse("accounts:password_change"),
        "office_home": reverse("home"),
        "lead_units": reverse("reviews:queue"),
        "ranking": reverse("grading:detail", kwargs={"pk": ResultSet.objects.get().pk}),
    },
    "lead": lead.short_name,
}))
"""


def timed_get(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    answer = session.get(url, timeout=300, allow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{url}: {answer.status_code}")
    return elapsed


def summarize(latencies: dict[str, list[float]]) -> dict[str, dict]:
    base = latencies["baseline"]
    base_median, base_p95 = percentile(base, 0.5), percentile(base, 0.95)
    summary = {}
    for page, values in latencies.items():
        median, p95 = percentile(values, 0.5), percentile(values, 0.95)
        summary[page] = {"n": len(values), "median_ms": round(median, 1),
                         "p95_ms": round(p95, 1),
                         "median_ratio": round(median / base_median, 2),
                         "p95_ratio": round(p95 / base_p95, 2)}
    return summary


def main() -> None:
    site = Site("pages", KAOHE_TODAY=TODAY)
    try:
        site.kaohe("migrate", "--noinput", "-v0")
        site.kaohe("demo", "--stage", "reviewed")
        keys = {page: secrets.token_hex(20) for page in ("office", "lead_units", "ranking")}
        setup = json.loads(site.shell(SETUP % json.dumps(keys)).strip().splitlines()[-1])
        server = site.start_server(workers=4)
        base = server.base
        users = setup["users"]
        sessions = {
            "baseline": sign_in(base, users["office"], DEMO_PASSWORD, keys["office"]),
            "lead_units": sign_in(base, users["lead_units"], DEMO_PASSWORD, keys["lead_units"]),
            "ranking": sign_in(base, users["ranking"], DEMO_PASSWORD, keys["ranking"]),
        }
        sessions["office_home"] = sessions["baseline"]
        pages = list(setup["paths"])
        urls = {page: base + path for page, path in setup["paths"].items()}
        for page in pages:  # warm up every worker's caches
            for _ in range(8):
                timed_get(sessions[page], urls[page])

        load_before = load_average()
        sampler = Sampler(server)
        sampler.start()
        sequential = {page: [] for page in pages}
        for _ in range(SEQUENTIAL_ROUNDS):
            for page in pages:
                sequential[page].append(timed_get(sessions[page], urls[page]))
        sequential_resources = sampler.stop()

        # Under load: bursts of 50 users asking for the same page at the same moment, so
        # that each page's latency includes the queue its own cost makes (a mixed load would
        # give every page the same queue and hide the differences). The pages take turns,
        # burst by burst, so that a machine that gets busier or quieter meanwhile (it may be
        # shared) weighs on every page alike.
        concurrent = {page: [] for page in pages}
        errors = []
        lock = threading.Lock()
        clients = {page: [requests.Session() for _ in range(USERS)] for page in pages}
        for page in pages:  # a connection of its own per user, the role's signed-in session
            for client in clients[page]:
                client.cookies.update(sessions[page].cookies)

        def user(page: str, client: requests.Session, start: threading.Barrier) -> None:
            start.wait()
            try:
                elapsed = timed_get(client, urls[page])
            except (RuntimeError, requests.RequestException) as exc:
                with lock:
                    errors.append(f"{page}: {str(exc)[:200]}")
                return
            with lock:
                concurrent[page].append(elapsed)

        sampler = Sampler(server)
        sampler.start()
        started = time.perf_counter()
        for burst in range(CONCURRENT_ROUNDS):
            for step in range(len(pages)):
                page = pages[(burst + step) % len(pages)]
                start = threading.Barrier(USERS)
                threads = [threading.Thread(target=user, args=(page, client, start))
                           for client in clients[page]]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
        concurrent_seconds = time.perf_counter() - started
        concurrent_resources = sampler.stop()

        seq, conc = summarize(sequential), summarize(concurrent)
        heavy = [page for page in pages if page != "baseline"]
        figures = {
            "baseline_page": f"{setup['paths']['baseline']} (password change form; no trivial "
                             "logged-in view exists)",
            "lead_department": setup["lead"],
            "paths": setup["paths"],
            "workers": 4,
            "users": USERS,
            "requests_sequential": sum(len(v) for v in sequential.values()),
            "requests_concurrent": sum(len(v) for v in concurrent.values()),
            "errors_concurrent": len(errors),
            "concurrent_requests_per_s": round(
                sum(len(v) for v in concurrent.values()) / concurrent_seconds, 1),
            "sequential": seq,
            "concurrent": conc,
            "resources_sequential": sequential_resources,
            "resources_concurrent": concurrent_resources,
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "targets": TARGETS,
        }
        for page in heavy:
            figures[f"{page}_c50_median_ratio"] = conc[page]["median_ratio"]
            figures[f"{page}_c50_p95_ratio"] = conc[page]["p95_ratio"]
            figures[f"{page}_seq_median_ms"] = seq[page]["median_ms"]
        figures["baseline_seq_median_ms"] = seq["baseline"]["median_ms"]
        figures["baseline_c50_median_ms"] = conc["baseline"]["median_ms"]
        figures.update(concurrent_resources)
        met = {}
        for page in heavy:
            met[f"{page}_c50_median"] = conc[page]["median_ratio"] <= TARGETS["median_ratio"]
            met[f"{page}_c50_p95"] = conc[page]["p95_ratio"] <= TARGETS["p95_ratio"]
            met[f"{page}_seq_median"] = seq[page]["median_ratio"] <= TARGETS["median_ratio"]
            met[f"{page}_seq_p95"] = seq[page]["p95_ratio"] <= TARGETS["p95_ratio"]
        met["no_errors"] = not errors
        figures["met"] = met
        if errors:
            figures["error_samples"] = errors[:5]
        text = json.dumps({"P1": figures}, ensure_ascii=False, indent=2)
        print(text)
        if len(sys.argv) > 1:
            Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")
    finally:
        site.close()


if __name__ == "__main__":
    main()
