"""The background machinery as it runs in production (issue 22 item 7): bulk exports queued
in the database task backend (django-tasks-db) and run by `kaohe worker`, and the feedback
letters rendered in parallel worker processes. settings_test uses the immediate backend and
one process; these tests switch to the real ones."""

import io
import zipfile

from django.core.management import call_command
from django.urls import reverse
from docx import Document

from kaohe.documents.base import get_exporter
from kaohe.documents.exporters import outcomes as letters
from kaohe.documents.models import Export, ExportStatus

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_a_bulk_export_waits_in_the_database_queue_until_kaohe_worker_runs_it(
        released, personas, login, settings, django_capture_on_commit_callbacks, tmp_path,
        monkeypatch):
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # The worker runs in this process, inside the test's transaction: Django would drop that
    # connection (its autocommit is off) where the worker checks its connections between
    # tasks, and on PostgreSQL the test's data would go with it. In its own process the worker
    # does check them.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    settings.TASKS = DB_TASKS
    # The worker anchors the audit log on start: in this test's own file, not the run's.
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
    client = login(personas["office"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents:make",
                                       args=["feedback_letters", "2017", "docx"]))
    assert response.status_code == 302
    export = Export.objects.get(identifier="feedback_letters")
    # Queued, not run: the request only wrote a row of the task queue.
    assert export.status == ExportStatus.QUEUED
    queued = DBTaskResult.objects.get(task_path="kaohe.documents.tasks.run_export_task")
    assert queued.args_kwargs["args"] == [export.pk]

    out = io.StringIO()
    call_command("worker", "--batch", stdout=out)

    assert "kaohe worker pid" in out.getvalue()
    assert settings.AUDIT_ANCHOR_FILE.exists()  # the start-up anchor, written here
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and (export.progress, export.total) == (2, 2)
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    download = client.get(reverse("documents:export_download", args=[export.pk]))
    names = sorted(zipfile.ZipFile(io.BytesIO(download.getvalue())).namelist())
    assert [n.split("-")[0] for n in names] == ["A001", "B001"]


def _letter_jobs(released, personas, fmt):
    """Twenty-two letter jobs (the two units' letters, eleven times each): enough for the
    exporter to use worker processes."""
    from kaohe.outcomes.models import Feedback

    exporter = get_exporter("feedback_letter")
    jobs = []
    for feedback in Feedback.objects.filter(round=released.round).order_by("unit__code"):
        doc = letters.feedback_letter(feedback, letters._rectification_due(feedback.round))
        jobs += [(f"{i:02d}-{feedback.unit.code}.{fmt}", fmt, doc, None) for i in range(11)]
    assert exporter is not None and len(jobs) == 22
    return sorted(jobs)


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_letters_are_rendered_in_worker_processes_like_in_one(released, personas, settings,
                                                              monkeypatch):
    jobs = _letter_jobs(released, personas, "docx")
    pools = []
    real_pool = letters.ProcessPoolExecutor

    def counting_pool(*args, **kwargs):
        pools.append(kwargs["max_workers"])
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(letters, "ProcessPoolExecutor", counting_pool)
    exporter = letters.FeedbackLettersExporter()
    settings.EXPORT_PROCESSES = 1
    # Each unit's letter made here, in one process (the other twenty are the same letters).
    alone = {name.split("-")[1]: _docx_text(data)
             for name, data in exporter._render_all(jobs[:2])}
    assert pools == [] and set(alone) == {"A001.docx", "B001.docx"}
    settings.EXPORT_PROCESSES = 2
    parallel = list(exporter._render_all(jobs))
    assert pools == [2]  # two spawned worker processes rendered them
    assert [name for name, _ in parallel] == [name for name, *_ in jobs]
    for name, data in parallel:
        assert _docx_text(data) == alone[name.split("-")[1]], name
