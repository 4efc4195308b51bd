"""The audit chain is anchored outside the database (security.md 28): `kaohe audit_anchor`
(and the task worker, daily) appends the head of the log to an append-only file in the data
directory and prints it for the auditor's paper record; `kaohe verify` compares the log with
every anchor, so that cutting off the newest entries, or recomputing the chain even with the
key, is named."""

import datetime
import io
import os
import stat

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from kaohe.audit import anchors
from kaohe.audit.models import AuditEntry
from kaohe.audit.services import log_action, verify_chain
from tests.audit import forgery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    """Each test anchors into a file of its own (the session's data directory is shared)."""
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
    return settings.AUDIT_ANCHOR_FILE


def _log(n: int) -> list[AuditEntry]:
    return [log_action(f"test.anchor.{i}", data={"n": i}) for i in range(n)]


def _anchor() -> str:
    out = io.StringIO()
    call_command("audit_anchor", stdout=out)
    return out.getvalue()


def test_audit_anchor_appends_the_head_to_the_file_and_prints_it(anchor_file):
    _log(5)
    printed = _anchor()
    head = AuditEntry.objects.order_by("-id").first()
    # The anchoring itself is recorded, and the anchor covers that record.
    assert head.action == "audit.anchor.written"
    assert AuditEntry.objects.count() == 6
    assert "6" in printed and head.hash in printed.replace(" ", "")
    lines = anchor_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    when, count, last_id, digest, mac = lines[0].split("\t")
    assert (int(count), int(last_id), digest) == (6, head.id, head.hash)
    assert datetime.datetime.fromisoformat(when).tzinfo is not None
    assert len(mac) == 64
    # Owner-only, and appended to, never rewritten.
    assert stat.S_IMODE(os.stat(anchor_file).st_mode) == 0o600
    _log(2)
    _anchor()
    again = anchor_file.read_text(encoding="utf-8").splitlines()
    assert again[0] == lines[0] and len(again) == 2
    assert [a.count for a in anchors.read_anchors()] == [6, 9]


def test_verify_checks_the_anchors_of_an_untouched_log(anchor_file):
    _log(3)
    _anchor()
    _log(3)
    _anchor()
    report = verify_chain()
    assert report.ok
    assert report.anchors_checked == 2
    out = io.StringIO()
    call_command("verify", stdout=out)
    assert "anchors OK: 2" in out.getvalue()


def test_deleting_the_newest_entries_after_an_anchor_is_named_as_a_truncation(anchor_file):
    # The attack of issue 15: the newest 20 entries deleted, with the triggers lifted.
    _log(30)
    _anchor()
    forgery.delete_newest(20)
    assert AuditEntry.objects.count() == 11
    report = verify_chain()
    assert not report.ok
    assert report.first_broken_id is None  # what is left is a valid chain...
    (problem,) = report.anchor_problems  # ...but shorter than the anchor says
    assert problem.kind == "truncated"
    assert (problem.anchor.count, problem.held) == (31, 11)
    with pytest.raises(CommandError,
                       match=r"audit log truncated: anchor of .+ records 31 entries, "
                             r"the database holds 11"):
        call_command("verify")


def test_a_chain_recomputed_with_the_key_still_disagrees_with_its_anchor(anchor_file, settings):
    # Even someone who has the key (an insider) cannot rewrite what an anchor covers.
    entries = _log(5)
    _anchor()
    forgery.rewrite(entries[1].id, change=lambda e: setattr(e, "action", "test.rewritten"),
                    digest=forgery.hmac_with(settings.AUDIT_KEY.encode()))
    report = verify_chain()
    assert report.first_broken_id is None
    assert [p.kind for p in report.anchor_problems] == ["mismatch"]
    with pytest.raises(CommandError, match=r"does not match the anchor of"):
        call_command("verify")


def test_an_altered_anchor_line_is_named(anchor_file):
    _log(3)
    _anchor()
    when, _count, last_id, digest, mac = anchor_file.read_text(encoding="utf-8").split("\t")
    anchor_file.write_text("\t".join([when, "1", last_id, digest, mac]), encoding="utf-8")
    report = verify_chain()
    assert [p.kind for p in report.anchor_problems] == ["altered"]
    with pytest.raises(CommandError, match=r"anchor line 1 .*altered"):
        call_command("verify")


def test_the_paper_anchor_names_a_truncation_when_the_file_is_gone(anchor_file):
    _log(30)
    printed = _anchor()
    paper = next(line for line in printed.splitlines() if line.startswith("kaohe verify"))
    anchor_file.unlink()
    forgery.delete_newest(20)
    verify_chain()  # without the file and the paper, the shorter log looks whole
    with pytest.raises(CommandError, match=r"records 31 entries, the database holds 11"):
        call_command(*paper.split()[1:])


def test_the_worker_anchors_once_a_day(anchor_file):
    _log(2)
    now = timezone.now()
    assert anchors.anchor_if_due(now=now, actor_repr="kaohe worker") is not None
    assert anchors.anchor_if_due(now=now + datetime.timedelta(hours=23),
                                 actor_repr="kaohe worker") is None
    assert anchors.anchor_if_due(now=now + datetime.timedelta(hours=24, minutes=1),
                                 actor_repr="kaohe worker") is not None
    assert len(anchors.read_anchors()) == 2


def test_the_daily_task_anchors_and_verify_accepts_it(anchor_file):
    from kaohe.audit.tasks import anchor_audit_log

    _log(2)
    anchor_audit_log.call()
    assert len(anchors.read_anchors()) == 1
    assert AuditEntry.objects.order_by("-id").first().actor_repr == "kaohe worker"
    assert verify_chain().ok


def test_the_audit_page_names_a_truncation(anchor_file, personas, login):
    _log(30)
    _anchor()
    forgery.delete_newest(20)
    page = login(personas["auditor"]).get(reverse("audit:list"), {"verify": "1"})
    content = page.content.decode()
    assert "审计日志被截断" in content
    assert "31" in content
    assert "日志链完整" not in content


def test_the_worker_queues_one_daily_anchor_at_a_time(anchor_file, settings):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from kaohe.audit.tasks import anchor_audit_log, start_daily_anchors

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _log(1)
    start_daily_anchors()  # a worker starts: anchors now, queues tomorrow's
    start_daily_anchors()  # a second worker: the anchor is fresh, tomorrow's is queued
    assert len(anchors.read_anchors()) == 1
    (queued,) = DBTaskResult.objects.filter(task_path=anchor_audit_log.module_path)
    assert queued.status == TaskResultStatus.READY
    latest = anchors.latest_anchor()
    assert queued.run_after == latest.written_at + datetime.timedelta(hours=24)
