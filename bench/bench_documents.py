"""P5: every unit's feedback letter as DOCX and as PDF, as the bulk export makes them.

    python bench/bench_documents.py [OUTPUT.json]
    BENCH_P5_UNITS=40 python bench/bench_documents.py   # a short trial

A throwaway SQLite installation (production settings, DEBUG off) gets the demo of 310
units at its "released" stage (KAOHE_TODAY=2018-02-20: every letter drafted, signed off and
released). The office then asks for the ZIP of all letters the way the documents page does
(services.request_export, which records and audits the request) and the export is run the
way the worker runs it (services.run_export): the access check, the database read of every
letter with its unit, category and result set, the rendering in the exporter's worker
processes, the ZIP, storing it and the audit entry. Timed from the request to the stored
file; the targets are the plan's.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AUDIT_KEY, ROOT, SECRET_KEY

UNITS = int(os.environ.get("BENCH_P5_UNITS", "310"))
TARGETS = {"docx_s": 30.0, "pdf_s": 120.0}


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="kaohe-bench-docs-"))
    try:
        for name in ("KAOHE_DEBUG", "DATABASE_URL_TEST"):
            os.environ.pop(name, None)
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "kaohe.settings",
            "SECRET_KEY": SECRET_KEY,
            "AUDIT_KEY": AUDIT_KEY,
            "KAOHE_DATA_DIR": str(work / "data"),
            "DATABASE_URL": f"sqlite:///{work / 'data' / 'kaohe.sqlite3'}",
            "ALLOWED_HOSTS": "testserver",
            "KAOHE_TODAY": "2018-02-20",
        })
        (work / "data" / "static").mkdir(parents=True)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from kaohe.accounts.models import User
        from kaohe.documents import selectors, services
        from kaohe.documents.exporters.outcomes import _processes
        from kaohe.documents.models import Export, ExportStatus
        from kaohe.outcomes.models import Feedback
        from kaohe.rounds.models import Round

        if settings.DEBUG:
            raise RuntimeError("P5 must not run with DEBUG on")
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("demo", "--stage", "released", "--units", str(UNITS),
                     stdout=io.StringIO())
        setup_seconds = time.perf_counter() - started
        office = User.objects.get(username="office")
        round_ = Round.objects.get(year=2017)
        letters = Feedback.objects.filter(round=round_).count()

        figures: dict = {"units": UNITS, "letters": letters, "processes": _processes(),
                         "setup_seconds": round(setup_seconds, 1)}
        for fmt in ("docx", "pdf"):
            began = time.perf_counter()
            exporter, obj = selectors.document_for(office, round_, "feedback_letters",
                                                  str(round_.year), fmt)
            export = services.request_export(office, exporter, obj, fmt, round_=round_)
            services.run_export(export.pk)
            seconds = time.perf_counter() - began
            export = Export.objects.get(pk=export.pk)
            if export.status != ExportStatus.DONE:
                raise RuntimeError(f"the {fmt} export failed: {export.error}")
            figures[f"{fmt}_s"] = round(seconds, 1)
            figures[f"{fmt}_zip_mb"] = round(export.size / 2**20, 1)
        figures["targets"] = TARGETS
        figures["met"] = {"docx_s": figures["docx_s"] < TARGETS["docx_s"],
                          "pdf_s": figures["pdf_s"] < TARGETS["pdf_s"],
                          "plan_scale": UNITS == 310}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps({"P5": figures}, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
