"""Work that survives a crash (issue 17, item 7): a running export renews a lease; one
whose worker died is marked failed (by the next worker start or by its page), the page
stops polling and offers to start it again; `kaohe worker` runs without the autoreloader."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kaohe.audit.models import AuditEntry
from kaohe.documents import services
from kaohe.documents.models import Export, ExportStatus

INTERRUPTED = "后台任务中断，请重新生成"


def _running(user, *, beat_ago=None, **fields):
    export = Export.objects.create(identifier="feedback_letters", fmt="docx", title="全部反馈函",
                                   object_key="2017", made_by=user, status=ExportStatus.RUNNING,
                                   progress=190, total=310, **fields)
    if beat_ago is not None:
        Export.objects.filter(pk=export.pk).update(heartbeat_at=timezone.now() - beat_ago)
    return export


@pytest.mark.django_db
def test_a_running_export_without_heartbeat_is_marked_failed(personas, settings):
    settings.EXPORT_LEASE_SECONDS = 60
    office = personas["office"]
    stale = _running(office, beat_ago=timedelta(minutes=5))
    alive = _running(office, beat_ago=timedelta(seconds=5))
    done = Export.objects.create(identifier="feedback_letters", fmt="docx", title="x",
                                 made_by=office, status=ExportStatus.DONE)
    assert services.recover_stale_exports() == 1
    stale.refresh_from_db(), alive.refresh_from_db(), done.refresh_from_db()
    assert stale.status == ExportStatus.FAILED and stale.interrupted and stale.finished_at
    assert (stale.progress, stale.total) == (190, 310)  # how far it got stays on record
    assert alive.status == ExportStatus.RUNNING and done.status == ExportStatus.DONE
    assert AuditEntry.objects.filter(action="document.export_interrupted",
                                     target_id=str(stale.pk), success=False).exists()
    assert services.recover_stale_exports() == 0  # once


@pytest.mark.django_db
def test_the_status_endpoint_reports_the_interruption_stops_polling_and_offers_a_restart(
        personas, login, world):
    stale = _running(personas["office"], round=world["round"], beat_ago=timedelta(hours=1))
    client = login(personas["office"])
    row = client.get(reverse("documents:export_status", args=[stale.pk])).content.decode()
    assert INTERRUPTED in row and "190/310" in row
    assert "hx-trigger" not in row  # the page stops polling
    restart = reverse("documents:make", args=["feedback_letters", "2017", "docx"])
    assert f'action="{restart}?year=2017"' in row and 'name="once_token"' in row
    stale.refresh_from_db()
    assert stale.status == ExportStatus.FAILED


@pytest.mark.django_db
def test_a_live_export_keeps_polling(personas, login):
    alive = _running(personas["office"], beat_ago=timedelta(seconds=1))
    row = login(personas["office"]).get(
        reverse("documents:export_status", args=[alive.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in row and INTERRUPTED not in row


@pytest.mark.django_db
def test_the_worker_recovers_at_start_and_never_runs_under_the_autoreloader(
        personas, monkeypatch, settings):
    from django.core.management import call_command

    from kaohe.documents.management.commands import worker

    settings.DEBUG = True  # db_worker's --reload defaults to DEBUG
    stale = _running(personas["office"], beat_ago=timedelta(hours=1))
    calls = []
    monkeypatch.setattr(worker, "call_command", lambda *args: calls.append(args))
    monkeypatch.setattr(worker, "start_daily_anchors", lambda: None)
    call_command("worker", "--batch")
    assert calls == [("db_worker", "--no-reload", "--batch")]
    stale.refresh_from_db()
    assert stale.interrupted


@pytest.mark.django_db(transaction=True)
def test_a_running_export_renews_its_lease(personas, world, settings, monkeypatch):
    """The heartbeat runs beside the rendering, even when no progress is reported."""
    import time

    from kaohe.documents.base import get_exporter

    settings.EXPORT_LEASE_SECONDS = 1  # a beat every 0.25 s
    export = Export.objects.create(identifier="feedback_letters", fmt="docx", title="x",
                                   object_key="2017", made_by=personas["office"],
                                   round=world["round"], status=ExportStatus.QUEUED)
    beats = []
    exporter = type(get_exporter("feedback_letters"))

    def slow_render(self, fmt, obj, mark, template=None, progress=None):
        for _ in range(6):
            time.sleep(0.25)
            beats.append(Export.objects.get(pk=export.pk).heartbeat_at)
        raise RuntimeError("stop here")

    monkeypatch.setattr(exporter, "get_object", lambda self, user, round_, key: None)
    monkeypatch.setattr(exporter, "render", slow_render)
    services.run_export(export.pk)
    assert len(set(beats)) >= 3  # renewed while rendering
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and not export.interrupted
