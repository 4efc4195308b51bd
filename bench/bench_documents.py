"""P5: 310 feedback letters as DOCX and as PDF, through the bulk exporter's rendering path.

    python bench/bench_documents.py [OUTPUT.json]

The letters are built from unsaved model objects with realistic text (the database read of a
real export is a few queries and is left out); rendering uses the same worker processes as
`FeedbackLettersExporter` (one per core, at most 4) and writes the ZIP in memory.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaohe.settings")
os.environ.setdefault("KAOHE_DEBUG", "true")
os.environ.setdefault("KAOHE_DATA_DIR", tempfile.mkdtemp(prefix="kaohe-bench-docs-"))

import django

django.setup()

from django.utils import timezone  # noqa: E402

from kaohe.directory.models import Category, LeadDepartment, Unit  # noqa: E402
from kaohe.documents.exporters.outcomes import (  # noqa: E402
    FeedbackLettersExporter,
    _processes,
    feedback_letter,
)
from kaohe.documents.officialdoc import Mark  # noqa: E402
from kaohe.grading.models import ResultSet  # noqa: E402
from kaohe.outcomes.models import Feedback  # noqa: E402
from kaohe.rounds.models import Round  # noqa: E402

TARGETS = {"docx_s": 30.0, "pdf_s": 120.0}
N = 310


def letters():
    round_ = Round(year=2017, document_number="国开办发〔2017〕59号")
    lead = LeadDepartment(name="中央和国家机关工作委员会")
    category = Category(name="中央国家机关", lead_department=lead)
    result_set = ResultSet(round=round_, version=1,
                           released_at=timezone.make_aware(datetime(2018, 2, 1, 10)))
    mark = Mark("国务院扶贫办工作人员", "office", timezone.now(), "K0000001")
    grades = ["good", "fairly_good", "average", "average", "poor"]
    for index in range(N):
        unit = Unit(code=f"U{index:04d}", name=f"示例中央单位{index:03d}", category=category)
        feedback = Feedback(
            round=round_, unit=unit, result_set=result_set, grade=grades[index % 5],
            problems="\n".join(f"问题{k}：帮扶资金到位不及时，部分项目进度滞后，"
                               "对贫困村产业发展的带动作用有待加强。" for k in range(1, 4)),
            suggestions="\n".join(f"建议{k}：进一步加大帮扶力度，完善精准帮扶机制。"
                                  for k in range(1, 3)),
        )
        doc = feedback_letter(feedback, rectification_due=None)
        doc.mark = mark
        yield unit.code, doc


def run(fmt: str) -> tuple[float, int]:
    start = time.perf_counter()
    jobs = [(f"{code}.{fmt}", fmt, doc, None) for code, doc in letters()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in FeedbackLettersExporter()._render_all(jobs):
            archive.writestr(name, data)
    return time.perf_counter() - start, len(buffer.getvalue())


def main() -> int:
    docx_s, docx_bytes = run("docx")
    pdf_s, pdf_bytes = run("pdf")
    result = {"P5": {
        "letters": N, "processes": _processes(),
        "docx_s": round(docx_s, 1), "pdf_s": round(pdf_s, 1),
        "docx_zip_mb": round(docx_bytes / 2**20, 1), "pdf_zip_mb": round(pdf_bytes / 2**20, 1),
        "targets": TARGETS,
        "met": {"docx_s": docx_s < TARGETS["docx_s"], "pdf_s": pdf_s < TARGETS["pdf_s"]},
    }}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
