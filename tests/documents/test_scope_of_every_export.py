"""No export hands anyone a foreign unit: every exporter, every object it offers to a scoped
role, every format, opened and searched for the other side's name (security.md 10)."""

import io
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from kaohe.documents import services
from kaohe.documents.base import REGISTRY
from tests.submissions.conftest import matrix_provincial_report

# persona -> the unit whose name must never appear in what it exports
FOREIGN = {
    "unit": "unit_b", "unit_b": "unit_a",
    "lead_reviewer": "unit_b", "lead_reviewer_b": "unit_a",
    "province": "unit_b", "province_b": "unit_a",
}


def _text(data: bytes, fmt: str) -> str:
    if fmt == "docx":
        document = Document(io.BytesIO(data))
        parts = [p.text for p in document.paragraphs]
        parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
        return "\n".join(parts)
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(data))
        return "\n".join(str(v) for ws in workbook for row in ws.values for v in row if v)
    if fmt == "pdf":
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    if fmt == "zip":
        archive = zipfile.ZipFile(io.BytesIO(data))
        return "\n".join(_text(archive.read(n), n.rsplit(".", 1)[1]) for n in archive.namelist())
    raise AssertionError(fmt)


@pytest.mark.parametrize("persona", sorted(FOREIGN))
def test_no_export_of_a_scoped_role_names_a_foreign_unit(released, personas, world, persona):
    user = personas[persona]
    foreign = world[FOREIGN[persona]]
    for unit in ("unit_a", "unit_b"):  # each province's report on its own unit, in progress
        matrix_provincial_report(world, world[unit], submitted=False)
    round_ = world["round"]
    offered = 0
    for identifier, cls in sorted(REGISTRY.items()):
        exporter = cls()
        for obj in exporter.objects_for(user, round_):
            # The object is reachable by its key for this user, and only then exported.
            assert exporter.get_object(user, round_, exporter.object_key(obj)) is not None
            for fmt in exporter.formats:
                _, rendered = services.export_now(user, exporter, obj, fmt, round_=round_)
                text = _text(rendered.data, rendered.file_name.rsplit(".", 1)[1])
                assert text.strip(), (persona, identifier, fmt)  # really read, not empty
                assert foreign.name not in text, (persona, identifier, fmt)
                assert foreign.code not in text, (persona, identifier, fmt)
                offered += 1
    # Each scoped role exports something (else the test would pass vacuously) ...
    assert offered > 0, persona


def test_a_unit_is_offered_only_its_own_papers(released, personas, world):
    from kaohe.documents.views import _offered

    offered = {item["exporter"].identifier: item["objects"]
               for item in _offered(personas["unit_b"], world["round"])}
    assert "feedback_letter" in offered
    assert not {"review_report", "ranking_table", "sub_report", "category_report",
                "feedback_letters", "circular", "org_department_list", "progress_table",
                "rectification_tracker"} & set(offered)
    for objects in offered.values():
        assert all(world["unit_a"].name not in label for _, label in objects)
