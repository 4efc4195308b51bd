"""P2: SQL queries per page with 310 and with 3,100 units; the target is identical counts.

    python bench/bench_queries.py [OUTPUT.json]

For each scale a child process sets up a throwaway SQLite installation, loads the demo at
its "reviewed" stage with `kaohe demo --units N`, and requests each page twice with
Django's test client, signed in as the account that uses it (the second factor passed as
django_otp.login records it). The second request's queries are counted with
CaptureQueriesContext: a count that grows with the number of units is an N+1 query.

Pages: the office's home (progress), a lead department's unit list (review queue), the
working group's ranking (result set), a unit's home, the review desk of one unit, the
password change form as the floor every page shares, and (issue 19) the documents page, the
result set versions, the lists of self reports, provincial reports, cadres and letters.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCALES = (310, 3100)


def measure(units: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"kaohe-bench-queries-{units}-"))
    try:
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "kaohe.settings",
            "SECRET_KEY": "bench-only-secret-key-not-for-any-installation-0123456789",
            "AUDIT_KEY": "bench-only-audit-key-not-for-any-installation-0123456789",
            "KAOHE_DATA_DIR": str(work / "data"),
            "DATABASE_URL": f"sqlite:///{work / 'data' / 'kaohe.sqlite3'}",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "KAOHE_TODAY": "2018-01-20",
        })
        (work / "data" / "static").mkdir(parents=True)  # WhiteNoise expects STATIC_ROOT
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Count
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, setup_test_environment
        from django.urls import reverse
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from kaohe.accounts.models import User
        from kaohe.directory.models import LeadDepartment
        from kaohe.grading.models import ResultSet
        from kaohe.reviews.services import category_units
        from kaohe.rounds.models import Round

        setup_test_environment()
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("demo", "--stage", "reviewed", "--units", str(units), stdout=io.StringIO())
        setup_seconds = time.perf_counter() - started

        lead = (LeadDepartment.objects.filter(categories__ranked=True)
                .annotate(n=Count("categories__units")).order_by("-n").first())
        round_ = Round.objects.get(year=2017)
        desk_unit = category_units(round_, lead).first()
        accounts = {"office": "office", "workgroup": "workgroup",
                    "lead": f"lead-{lead.code}-1", "unit": "u0001"}
        pages = {
            "password_form": ("office", reverse("accounts:password_change")),
            "office_home": ("office", reverse("home")),
            "lead_units": ("lead", reverse("reviews:queue")),
            "ranking": ("workgroup", reverse("grading:detail",
                                             kwargs={"pk": ResultSet.objects.get().pk})),
            "unit_home": ("unit", reverse("home")),
            "review_desk": ("lead", reverse("reviews:desk", kwargs={"unit_pk": desk_unit.pk})),
            # Issue 19: the pages measured slow beyond these (the documents page decoded the
            # result set once per letter; the lists were not paginated).
            "documents": ("office", reverse("documents:index")),
            "grading_index": ("workgroup", reverse("grading:index")),
            "self_reports": ("office", reverse("submissions:self_reports")),
            "provincial_reports": ("office", reverse("submissions:provincial_reports")),
            "cadres": ("office", reverse("submissions:cadres")),
            "feedback_list": ("office", reverse("outcomes:feedback_list")),
        }
        clients = {}
        for key, username in accounts.items():
            user = User.objects.get(username=username)
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            device, _created = TOTPDevice.objects.get_or_create(
                user=user, name="bench", defaults={"confirmed": True})
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
            clients[key] = client
        result = {"units": units, "setup_seconds": round(setup_seconds, 1), "pages": {}}
        for page, (account, path) in pages.items():
            client = clients[account]
            first = client.get(path)
            if first.status_code != 200:
                raise RuntimeError(f"{page} {path}: {first.status_code}")
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                second = client.get(path)
                elapsed = (time.perf_counter() - began) * 1000
            if second.status_code != 200:
                raise RuntimeError(f"{page} {path}: {second.status_code}")
            result["pages"][page] = {"path": path, "queries": len(queries),
                                     "ms": round(elapsed, 1)}
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    runs = {}
    for units in SCALES:
        child = subprocess.run(  # noqa: S603 - this script, in a fresh interpreter
            [sys.executable, __file__, "--child", str(units)], cwd=ROOT, capture_output=True,
            text=True, check=False)
        if child.returncode != 0:
            raise SystemExit(f"scale {units} failed:\n{child.stderr[-3000:]}")
        runs[units] = json.loads(child.stdout.strip().splitlines()[-1])
    small, large = (runs[n]["pages"] for n in SCALES)
    figures = {"scales": list(SCALES), "pages": {}}
    for page in small:
        figures["pages"][page] = {"path_310": small[page]["path"],
                                  "queries_310": small[page]["queries"],
                                  "queries_3100": large[page]["queries"],
                                  "ms_310": small[page]["ms"], "ms_3100": large[page]["ms"]}
        figures[f"{page}_queries"] = f"{small[page]['queries']}/{large[page]['queries']}"
    figures["setup_seconds"] = {n: runs[n]["setup_seconds"] for n in SCALES}
    figures["targets"] = {"queries": "identical at 310 and 3,100 units"}
    figures["met"] = {page: small[page]["queries"] == large[page]["queries"] for page in small}
    text = json.dumps({"P2": figures}, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
