"""A server or a process killed with SIGKILL at the worst moment (security.md 1 and 4).

Mid-upload: gunicorn is killed while a PATCH is half received. No evidence lists the half
file; after a restart the upload resumes from the offset the server reports, completes,
and `kaohe verify` re-hashes it. Mid-computation: the process computing a result set is
killed inside its transaction, after the row and its audit entry were written. Nothing of
it remains, and the next computation is version 1 with an intact audit chain.
"""

import hashlib
import http.client
import io
import time
from pathlib import Path

import pytest
from tusclient.client import TusClient

from tests.reliability.harness import PASSWORD, TUS, mp4_bytes, tus_create, tus_patch

pytestmark = pytest.mark.reliability

MiB = 1024 * 1024

UNIT_SETUP = f"""
from kaohe.accounts.models import Role, User
from kaohe.directory.models import Category, County, Pairing, Unit
from kaohe.rounds.models import Round
round_ = Round.objects.get(year=2017)
unit = Unit.objects.create(code="K001", name="断电测试单位",
                           category=Category.objects.get(code="party_organs"))
Pairing.objects.create(round=round_, unit=unit, county=County.objects.order_by("code").first())
user = User(username="unit-k", role=Role.UNIT, unit=unit, full_name="断电测试")
user.set_password({PASSWORD!r})
user.save()
"""


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _half_patch(server, session, location: str, offset: int, announced: int,
                data: bytes) -> http.client.HTTPConnection:
    """Start a PATCH announcing `announced` bytes and send only `data`; leave it hanging."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("PATCH", location)
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    for name, value in {**TUS, "Upload-Offset": str(offset), "Content-Length": str(announced),
                        "Content-Type": "application/offset+octet-stream", "Cookie": cookies,
                        "X-CSRFToken": session.headers["X-CSRFToken"]}.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(data)
    return conn


def test_a_server_killed_mid_upload_lists_no_half_file_and_the_upload_resumes(
        new_installation):
    installation = new_installation()
    installation.shell(UNIT_SETUP)
    server = installation.start_server()
    session = server.sign_in("unit-k")
    source = mp4_bytes(12 * MiB, seed=1)

    location = tus_create(session, server, "断电前上传的视频.mp4", len(source))
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    answer = tus_patch(session, server, location, 0, source[: 4 * MiB])
    assert answer.status_code == 204 and answer.headers["Upload-Offset"] == str(4 * MiB)

    # The second chunk announces 8 MiB and stops after 3: the worker is writing when killed.
    partial = installation.data_dir / "uploads" / "partial" / f"{upload_id}.part"
    hanging = _half_patch(server, session, location, 4 * MiB, 8 * MiB,
                          source[4 * MiB: 7 * MiB])
    _wait_for(lambda: partial.stat().st_size >= 7 * MiB, 30, "the server to write the bytes")
    server.kill()
    hanging.close()

    # Nothing lists the half file; the recorded offset is the last acknowledged one.
    assert installation.count("evidence_evidence") == 0
    assert installation.sql("SELECT \"offset\", completed_at FROM evidence_upload") == [
        (4 * MiB, None)]
    evidence_dir = installation.files_dir / "evidence"
    assert not evidence_dir.exists() or not any(evidence_dir.rglob("*"))

    server = installation.start_server()
    # The session lives in the database: the same browser carries on after the restart.
    client = TusClient(server.url("/evidence/uploads/"), headers={
        "Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies),
        "X-CSRFToken": session.headers["X-CSRFToken"]})
    uploader = client.uploader(file_stream=io.BytesIO(source), url=server.url(location),
                               chunk_size=4 * MiB)
    assert uploader.offset == 4 * MiB  # asked the server (HEAD), not the bytes it had on disk
    uploader.upload()
    evidence_id = uploader.request.response_headers["kaohe-evidence"]
    assert evidence_id.replace("-", "") == upload_id.replace("-", "")

    rows = installation.sql("SELECT sha256, size, storage_name FROM evidence_evidence")
    assert rows[0][:2] == (hashlib.sha256(source).hexdigest(), len(source)) and len(rows) == 1
    assert (installation.files_dir / rows[0][2]).read_bytes() == source
    assert not partial.exists()
    verified = installation.kaohe("verify")
    assert "evidence files OK: 1 files verified" in verified.stdout


GRADING_SETUP = """
from kaohe.accounts.models import Role, User
from kaohe.directory.models import Category, Unit
from kaohe.reviews import services as reviews
from kaohe.rounds.models import Round

round_ = Round.objects.get(year=2017)
category = Category.objects.get(code="party_organs")
lead = category.lead_department
reviewer = User.objects.create(username="lead-k", role=Role.LEAD_REVIEWER, lead_department=lead)
User.objects.create(username="wg-k", role=Role.WORKING_GROUP)
grades = ["good", "fairly_good", "average", "poor"]
for i in range(24):
    unit = Unit.objects.create(code=f"G{i:03d}", name=f"评议测试单位{i}", category=category)
    review = reviews.review_for(round=round_, unit=unit)
    reviews.area_grades_save(review=review, actor=reviewer, revision=review.revision, grades={
        area.code: (grades[(i * 7 + n) % 5 % 4], "依据材料评定")
        for n, area in enumerate(round_.areas.order_by("number"))})
    review.refresh_from_db()
    reviews.sub_report_save(review=review, actor=reviewer, revision=review.revision,
                            basic_situation="基本情况", problems="问题", suggestions="建议")
submission = reviews.category_submission_for(round=round_, lead_department=lead)
reviews.category_report_save(submission=submission, actor=reviewer, overview="概述",
                             problems="问题", suggestions="建议")
reviews.category_submit(submission=submission, actor=reviewer)
"""

# Computes a result set with the audit entry patched to stall after it is written: the
# ResultSet row and its audit entry exist, the transaction is open, and the test kills us.
COMPUTE_AND_STALL = """
import pathlib, sys, time
import django
django.setup()
from kaohe.accounts.models import User
from kaohe.grading import services
from kaohe.grading.services import workflow
from kaohe.rounds.models import Round

marker = pathlib.Path(sys.argv[1])
write_audit_entry = workflow.log_action

def write_then_stall(*args, **kwargs):
    entry = write_audit_entry(*args, **kwargs)
    marker.write_text(str(args[0]))
    time.sleep(300)
    return entry

workflow.log_action = write_then_stall
services.result_set_compute(round=Round.objects.get(year=2017),
                            actor=User.objects.get(username="wg-k"))
"""

COMPUTE = """
from kaohe.accounts.models import User
from kaohe.grading import services
from kaohe.rounds.models import Round
result_set = services.result_set_compute(round=Round.objects.get(year=2017),
                                         actor=User.objects.get(username="wg-k"))
print("version", result_set.version, "units", len(result_set.inputs))
"""


def test_a_process_killed_mid_computation_leaves_no_result_set(new_installation, tmp_path):
    installation = new_installation()
    installation.shell(GRADING_SETUP)
    audit_before = installation.count("audit_auditentry")
    marker = tmp_path / "inside-transaction"

    process = installation.python(COMPUTE_AND_STALL, str(marker), log=tmp_path / "compute.log")
    try:
        _wait_for(marker.exists, 120, "the computation to reach its audit entry")
        assert marker.read_text() == "grading.result_set.computed"
        # Written but not committed: nobody else sees the row while the process stalls.
        assert installation.count("grading_resultset") == 0
    finally:
        process.kill()  # SIGKILL
        process.wait(timeout=30)
    assert process.returncode == -9, Path(tmp_path / "compute.log").read_text()

    assert installation.count("grading_resultset") == 0
    assert installation.count("audit_auditentry") == audit_before
    assert installation.count("audit_auditentry", "WHERE action = ?",
                              ("grading.result_set.computed",)) == 0

    # The database is usable at once (no lock left behind) and numbering starts again at 1.
    assert "version 1 units 24" in installation.shell(COMPUTE)
    assert installation.count("grading_resultset") == 1
    installation.kaohe("verify")
