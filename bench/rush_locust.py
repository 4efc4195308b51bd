"""The units of the deadline rush, as locust users (run by bench_rush.py, in its own process,
because locust patches the standard library with gevent).

    python bench/rush_locust.py PLAN.json OUTPUT.json

PLAN.json: {"host", "ca" (the proxy's certificate, or null), "password", "window_seconds",
"file_bytes", "limit_seconds", "units": [{"username", "report", "attach": [[indicator,
requirement, county or null], ...]}, ...]}.

Each user takes one unit and does what a unit does on the last day, in a browser: opens
the login page, signs in (and loads the home page it is sent to), opens its report,
uploads three files through tus (create, then one PATCH, as the page's client does for a
file under its 8 MiB chunk), attaches each to an evidence requirement of an indicator
(loading the report page it is sent back to), and submits (confirming the requirements
still without a file, and loading the page it is sent to). Every page's style sheets and
scripts are loaded as a browser with a cache does: once, then again (conditionally) when
their max-age has passed. Then it stops. OUTPUT.json gets the request statistics (page
requests, the HTML pages, apart), what each unit achieved, and the SHA-256 of every file
sent, to be compared with what the server stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import gevent
from locust import HttpUser, constant, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import assets, percentile

PLAN = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
TODO = list(reversed(list(enumerate(PLAN["units"]))))
# Unit i arrives at ARRIVALS["start"] + i × window / units, whatever the others are doing:
# locust's own spawn rate would not do (it replaces every user that stops, so units would
# arrive as fast as others finish). Every user is spawned at once and waits for its time.
ARRIVALS = {"start": 0.0, "every": PLAN["window_seconds"] / max(1, len(PLAN["units"]))}
IDLE_SECONDS = 24 * 3600
RESULTS: list[dict] = []
FILE_BYTES = PLAN["file_bytes"]
HEADER = (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
          + (FILE_BYTES - 24).to_bytes(4, "big") + b"mdat")
# One random body shared by all files; a 64-byte tag after the header makes each unique.
BODY = os.urandom(FILE_BYTES - len(HEADER) - 64)
TUS = {"Tus-Resumable": "1.0.0"}
PAGE = "page: "  # the names of the requests for HTML pages start so
TIMES: dict[str, list[float]] = {"pages": [], "static": []}
MAX_AGE = re.compile(r"max-age=(\d+)")


def evidence_file(tag: str) -> bytes:
    return HEADER + tag.encode().ljust(64, b" ") + BODY


class RushUnit(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        if PLAN.get("ca"):  # behind the TLS proxy: trust its certificate, and send the
            # Origin Django checks on forms over HTTPS, as a browser does
            self.client.verify = PLAN["ca"]
            self.client.trust_env = False
            self.client.headers["Origin"] = PLAN["host"]
            self.client.headers["Referer"] = f"{PLAN['host']}/accounts/login/"

    @task
    def rush(self):
        if not TODO:
            gevent.sleep(IDLE_SECONDS)
            return
        index, unit = TODO.pop()
        gevent.sleep(max(0.0, ARRIVALS["start"] + index * ARRIVALS["every"]
                         - time.perf_counter()))
        outcome = {"username": unit["username"], "files": [], "submitted": False, "error": ""}
        started = time.perf_counter()
        try:
            self.flow(unit, outcome)
        except Exception as exc:  # recorded for the report
            outcome["error"] = f"{type(exc).__name__}: {exc}"[:300]
        outcome["seconds"] = round(time.perf_counter() - started, 2)
        RESULTS.append(outcome)
        # One unit per user: idle until the run ends (a stopped user would be replaced).
        gevent.sleep(IDLE_SECONDS)

    def expect(self, method, url, status, name, **kwargs):
        with self.client.request(method, url, name=name, catch_response=True,
                                 allow_redirects=False, **kwargs) as answer:
            if answer.status_code != status:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                raise RuntimeError(f"{name}: {answer.status_code}")
            if status == 302 and answer.headers.get("Location", "").startswith(
                    "/accounts/login/"):
                answer.failure("sent back to the login page")
                raise RuntimeError(f"{name}: signed out")
            answer.success()
            return answer

    def page(self, url, name):
        """An HTML page, then what a browser loads for it that its cache does not hold."""
        answer = self.expect("GET", url, 200, PAGE + name)
        for asset in assets(answer.text):
            cached = self.cache.get(asset)
            if cached and cached["until"] > time.monotonic():
                continue
            headers = {}
            if cached and cached["etag"]:
                headers["If-None-Match"] = cached["etag"]
            if cached and cached["modified"]:
                headers["If-Modified-Since"] = cached["modified"]
            with self.client.get(asset, name="static file", headers=headers,
                                 catch_response=True) as loaded:
                if loaded.status_code not in (200, 304):
                    loaded.failure(f"{loaded.status_code}")
                    raise RuntimeError(f"{asset}: {loaded.status_code}")
                loaded.success()
                age = MAX_AGE.search(loaded.headers.get("Cache-Control", ""))
                self.cache[asset] = {
                    "until": time.monotonic() + (int(age.group(1)) if age else 0),
                    "etag": loaded.headers.get("ETag", cached and cached["etag"]),
                    "modified": loaded.headers.get("Last-Modified",
                                                   cached and cached["modified"])}
        return answer

    def follow(self, answer, name):
        """The page a redirect sends the browser to."""
        return self.page(answer.headers["Location"], name)

    def flow(self, unit, outcome):
        self.client.cookies.clear()
        self.cache = {}
        page = self.page("/accounts/login/", "login")
        token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        signed_in = self.expect("POST", "/accounts/login/", 302, "sign in", data={
            "username": unit["username"], "password": PLAN["password"],
            "csrfmiddlewaretoken": token})
        self.follow(signed_in, "home (after sign-in)")
        csrf = self.client.cookies["csrftoken"]
        report = f"/reports/self/{unit['report']}/"
        self.page(report, "report")
        for index, (indicator, requirement, county) in enumerate(unit["attach"]):
            data = evidence_file(f"{unit['username']}/{index}")
            sha256 = hashlib.sha256(data).hexdigest()
            name = base64.b64encode(f"{unit['username']}-证明材料{index + 1}.mp4".encode())
            created = self.expect("POST", "/evidence/uploads/", 201, "tus create", headers={
                **TUS, "X-CSRFToken": csrf, "Upload-Length": str(len(data)),
                "Upload-Metadata": f"filename {name.decode()},filetype dmlkZW8vbXA0"})
            done = self.expect("PATCH", created.headers["Location"], 204, "tus patch 5 MiB",
                               data=data, headers={
                                   **TUS, "X-CSRFToken": csrf, "Upload-Offset": "0",
                                   "Content-Type": "application/offset+octet-stream"})
            evidence = done.headers.get("Kaohe-Evidence")
            if not evidence:
                raise RuntimeError("upload finished without evidence")
            outcome["files"].append({"evidence": evidence, "sha256": sha256})
            form = {"indicator": indicator, "requirement": requirement, "evidence": evidence,
                    "csrfmiddlewaretoken": csrf}
            if county:
                form["county"] = county
            attached = self.expect("POST", f"{report}attach/", 302, "attach", data=form)
            if "?confirm" in attached.headers["Location"]:
                raise RuntimeError("attach was not accepted")
            self.follow(attached, "report (after attach)")
        submitted = self.expect("POST", f"{report}submit/", 302, "submit", data={
            "confirm_gaps": "1", "csrfmiddlewaretoken": csrf})
        if "confirm=1" in submitted.headers["Location"]:
            raise RuntimeError("submission asked for a confirmation")
        self.follow(submitted, "report (after submit)")
        outcome["submitted"] = True


def main() -> None:
    expected = len(TODO)
    env = Environment(user_classes=[RushUnit], host=PLAN["host"])

    @env.events.request.add_listener
    def _record(name, response_time, **_kwargs):
        if name.startswith(PAGE):
            TIMES["pages"].append(response_time)
        elif name == "static file":
            TIMES["static"].append(response_time)
    runner = env.create_local_runner()
    started = ARRIVALS["start"] = time.perf_counter()
    runner.start(user_count=expected, spawn_rate=min(expected, 100))
    deadline = started + PLAN["limit_seconds"]
    while len(RESULTS) < expected and time.perf_counter() < deadline:
        gevent.sleep(0.5)
    elapsed = time.perf_counter() - started
    runner.quit()
    stats = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        stats[f"{method} {name}"] = {
            "requests": entry.num_requests, "failures": entry.num_failures,
            "median_ms": entry.median_response_time,
            "p95_ms": entry.get_response_time_percentile(0.95),
            "max_ms": round(entry.max_response_time or 0),
        }
    total = env.stats.total
    out = {
        "units": expected, "finished": len(RESULTS), "seconds": round(elapsed, 1),
        "timed_out": len(RESULTS) < expected,
        "requests": total.num_requests, "failures": total.num_failures,
        "p95_ms": total.get_response_time_percentile(0.95),
        "median_ms": total.median_response_time,
        "by_request": stats,
        **{kind: {"requests": len(times), "median_ms": round(percentile(times, 0.5)),
                  "p95_ms": round(percentile(times, 0.95))} if times else
           {"requests": 0, "median_ms": None, "p95_ms": None}
           for kind, times in TIMES.items()},
        "errors": {str(e.error)[:200]: e.occurrences for e in env.stats.errors.values()},
        "outcomes": RESULTS,
    }
    Path(sys.argv[2]).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
