"""A real worker killed with SIGKILL half-way through a bulk export (issue 17, item 7):
the export does not stay "running 190/310" for ever; the next worker start marks it failed,
and the export's page says so and stops polling."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.harness import ROOT

pytestmark = pytest.mark.reliability

SETUP = """
from kaohe.accounts.models import Role, User
from kaohe.documents.models import Export
from kaohe.documents.tasks import run_export_task
from kaohe.rounds.models import Round
user = User.objects.create(username="office-k", role=Role.OFFICE, full_name="办公室")
export = Export.objects.create(identifier="feedback_letters", fmt="docx", title="全部反馈函",
                               object_key="2017", made_by=user,
                               round=Round.objects.get(year=2017))
run_export_task.enqueue(export.pk)
print("export", export.pk)
"""

# The real `kaohe worker`, with the letters made slowly (310 of them, one per 50 ms) so that
# the test can kill it half-way.
SLOW_WORKER = """
import time
import django
django.setup()
from django.core.management import call_command
from kaohe.documents.base import get_exporter

exporter = type(get_exporter("feedback_letters"))

def slow_render(self, fmt, obj, mark, template=None, progress=None):
    for done in range(1, 311):
        time.sleep(0.05)
        progress(done, 310)
    raise RuntimeError("never reached in this test")

exporter.get_object = lambda self, user, round_, key: None
exporter.render = slow_render
call_command("worker")
"""


def _status(installation):
    return installation.sql("SELECT status, progress, total, error FROM documents_export")[0]


def test_a_worker_killed_mid_export_is_detected_by_the_next_start(new_installation, tmp_path):
    installation = new_installation()
    installation.shell(SETUP)
    env = installation.env(KAOHE_EXPORT_LEASE_SECONDS="2", KAOHE_DEBUG="true")
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", SLOW_WORKER], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, progress, total, _ = _status(installation)
            if status == "running" and progress >= 20:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.1)
        else:
            pytest.fail("the worker never started the export:\n"
                        + (tmp_path / "worker.log").read_text())
    finally:
        # The process we started is the worker itself (no autoreloader in between, even in
        # debug): killing it stops the export.
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    # The PID the worker prints is its own (no autoreloader parent in between).
    assert f"kaohe worker pid {worker.pid}" in (tmp_path / "worker.log").read_text()
    status, progress, total, _ = _status(installation)
    assert status == "running" and 20 <= progress < 310 and total == 310
    time.sleep(3)  # the lease (2 s) runs out
    assert _status(installation)[1] == progress  # nobody is working on it

    result = installation.kaohe("worker", "--batch", env=env, timeout=120)
    assert "1 interrupted export(s) marked failed." in result.stdout
    status, after, total, error = _status(installation)
    assert (status, after, total) == ("failed", progress, 310)
    assert error.startswith("interrupted")
    assert installation.count("audit_auditentry", "WHERE action = ?",
                              ("document.export_interrupted",)) == 1
    installation.kaohe("verify")
