"""Two app servers behind the deployment's nginx, on one database and one file store
(security.md 1, 2, 6 and 12; issue 19, items 2 and 3).

The stack is deploy/ as the guide sets it up for several hosts (tests/reliability/
deployment.py): nginx with TLS, two gunicorn servers in its upstream, the database of the
suite (PostgreSQL when it runs on it, else SQLite), the files and the staging directory of
unfinished uploads shared (the storage fixture). nginx's access log names the app server
that answered each request, so each test shows which server did what: nginx sends
consecutive requests to the servers in turn.
"""

import hashlib
import re
import threading
import time

import pytest

from tests.reliability.deployment import Client, accept_queue
from tests.reliability.harness import PASSWORD, csrf_token, mp4_bytes, tus_create

pytestmark = pytest.mark.reliability

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}

@pytest.fixture
def stack(deployment):
    deployment.ensure_running()
    return deployment


def _signed_in(stack, username: str, source: str = "127.0.0.5") -> Client:
    client = stack.client(source)
    answer = client.sign_in(username, PASSWORD)
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    return client


def _patch(client: Client, location: str, offset: int, data: bytes):
    return client.session.patch(client.url(location), data=data, timeout=120, headers={
        **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})


def _evidence(installation, location: str, columns: str = "sha256, size") -> list[tuple]:
    """Columns of the evidence an upload became (it takes the upload's id)."""
    upload_id = location.rstrip("/").rsplit("/", 1)[1].replace("-", "")
    return [tuple(row[1:]) for row in installation.sql(
        f"SELECT id, {columns} FROM evidence_evidence")  # noqa: S608 - the test's own columns
        if str(row[0]).replace("-", "") == upload_id]


def _served(stack, method: str, path: str, count: int) -> list[tuple[int, int | None]]:
    """(status, app server port) of the `count` requests with this method and path so far."""
    lines = stack.nginx.requests_to(method, path, count=count)
    assert len(lines) == count, lines
    return [(line.status, line.upstream_port) for line in lines]


def test_an_upload_spread_over_both_servers_downloads_whole_from_each(stack, storage):
    source = mp4_bytes(3 * MiB + 17, seed=2)
    client = _signed_in(stack, "unit-t1")
    location = tus_create(client.session, client, "双机上传.mp4", len(source))
    offsets = range(0, len(source), MiB)
    for offset in offsets:
        answer = _patch(client, location, offset, source[offset: offset + MiB])
        assert answer.status_code == 204, answer.text
    evidence_id = answer.headers["Kaohe-Evidence"]
    # The upload's state is shared, not per host: its PATCHes went to both servers.
    patches = _served(stack, "PATCH", location, len(offsets))
    assert {port for _status, port in patches} == {server.port for server in stack.servers}

    download = f"/evidence/{evidence_id}/download/"
    for _ in stack.servers:
        answer = client.session.get(client.url(download), timeout=30)
        assert answer.status_code == 200
        assert hashlib.sha256(answer.content).digest() == hashlib.sha256(source).digest()
    assert {port for _status, port in _served(stack, "GET", download, 2)} == {
        server.port for server in stack.servers}
    # Stored where the storage settings say, and only there.
    [(name,)] = _evidence(stack.installation, location, "storage_name")
    on_disk = stack.installation.files_dir / name
    if storage.bucket is None:
        assert on_disk.read_bytes() == source
    else:
        assert storage.bucket.get(name) == source
        assert not on_disk.exists()
        assert not [path for path in stack.installation.root.rglob("*")
                    if path.is_file() and path.stat().st_size == len(source)]
    # Another unit sees nothing of it, on either server.
    other = _signed_in(stack, "unit-t3")
    for _ in stack.servers:
        assert other.session.get(other.url(download), timeout=30).status_code == 404


def test_a_submission_replayed_to_both_servers_at_once_makes_one_record(stack):
    installation = stack.installation
    client = _signed_in(stack, "unit-t2")
    opened = client.session.get(client.url("/reports/self/"), timeout=30)
    assert opened.status_code == 200
    report_path = opened.url.removeprefix(stack.nginx.base)
    # A second browser tab of the same session.
    twin = stack.client()
    twin.session.cookies.update(client.session.cookies)
    twin.session.headers["X-CSRFToken"] = client.session.headers["X-CSRFToken"]
    token = client.session.cookies["csrftoken"]

    answers, start = [], threading.Barrier(2)

    def submit(tab: Client):
        start.wait()
        answers.append(tab.session.post(tab.url(f"{report_path}submit/"), timeout=60,
                                        allow_redirects=False,
                                        data={"confirm_gaps": "1", "csrfmiddlewaretoken": token}))

    threads = [threading.Thread(target=submit, args=(tab,)) for tab in (client, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [302, 302]
    assert {port for _status, port in _served(stack, "POST", f"{report_path}submit/", 2)} == {
        server.port for server in stack.servers}

    report_id = int(report_path.strip("/").rsplit("/", 1)[1])
    assert installation.sql("SELECT status FROM submissions_selfreport WHERE id = ?",
                            (report_id,)) == [("submitted",)]
    assert installation.count("submissions_reportversion", "WHERE self_report_id = ?",
                              (report_id,)) == 1
    assert installation.count("audit_auditentry", "WHERE action = ? AND target_id = ?",
                              ("self_report.submitted", str(report_id))) == 1


def test_a_lockout_made_through_one_server_holds_on_the_other(stack):
    attacker = stack.client("127.0.0.6")
    page = attacker.session.get(attacker.url("/accounts/login/"), timeout=30)
    token = csrf_token(page.text)

    def sign_in(password: str) -> int:
        return attacker.session.post(
            attacker.url("/accounts/login/"), allow_redirects=False, timeout=30,
            data={"username": "unit-t3", "password": password,
                  "csrfmiddlewaretoken": token}).status_code

    # Five wrong passwords for one username from one address, to both servers in turn.
    before = len(stack.nginx.requests_to("POST", "/accounts/login/", count=0))
    assert [sign_in("wrong-password-1") for _ in range(5)].count(302) == 0
    failures = _served(stack, "POST", "/accounts/login/", before + 5)[before:]
    assert {port for _status, port in failures} == {server.port for server in stack.servers}
    # Both servers refuse the right password for the same username and address.
    assert [sign_in(PASSWORD) for _ in stack.servers] == [429] * len(stack.servers)
    refused = _served(stack, "POST", "/accounts/login/", before + 5 + len(stack.servers))[
        before + 5:]
    assert {port for _status, port in refused} == {server.port for server in stack.servers}
    # The lock is per username and address: the same user signs in from elsewhere.
    _signed_in(stack, "unit-t3", source="127.0.0.7")


def test_a_server_killed_mid_patch_leaves_the_upload_to_resume_through_the_other(stack):
    installation, nginx = stack.installation, stack.nginx
    source = mp4_bytes(12 * MiB, seed=3)
    client = _signed_in(stack, "unit-t4")
    location = tus_create(client.session, client, "断开后续传.mp4", len(source))
    assert _patch(client, location, 0, source[: 4 * MiB]).status_code == 204

    # nginx sends the next request to the server that did not answer the last one: that
    # server hangs (SIGSTOP), takes the PATCH into its socket, and is killed with it.
    [(_status, last)] = _served(stack, "PATCH", location, 1)
    assert nginx.access_log()[-1].path == location
    victim = next(server for server in stack.servers if server.port != last)
    survivor = stack.server_on(last)
    victim.pause()
    answers = []
    sender = threading.Thread(target=lambda: answers.append(
        _patch(client, location, 4 * MiB, source[4 * MiB: 12 * MiB])))
    sender.start()
    deadline = time.monotonic() + 30
    while accept_queue(victim.port) == 0:
        assert time.monotonic() < deadline, "nginx never passed the PATCH to the hung server"
        time.sleep(0.02)
    time.sleep(0.3)  # nginx writes the body into the connection
    victim.kill()
    sender.join(timeout=60)
    # The PATCH had reached that server: nginx does not send it again elsewhere (it is not
    # idempotent), it answers 502, and the client asks where to resume.
    assert answers[0].status_code == 502
    assert _served(stack, "PATCH", location, 2)[-1] == (502, victim.port)

    status = client.session.head(client.url(location), headers=TUS, timeout=30)
    assert status.status_code == 200
    offset = int(status.headers["Upload-Offset"])
    assert offset == 4 * MiB
    assert _evidence(installation, location) == []
    resumed = 0
    while offset < len(source):
        answer = _patch(client, location, offset, source[offset: offset + 4 * MiB])
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
        resumed += 1
    evidence_id = answer.headers["Kaohe-Evidence"]
    download = client.session.get(client.url(f"/evidence/{evidence_id}/download/"), timeout=30)
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(source).digest()
    # Everything after the crash was answered by the other server.
    assert {port for _status, port in _served(stack, "PATCH", location, 2 + resumed)[2:]} == {
        survivor.port}

    assert _evidence(installation, location) == [(hashlib.sha256(source).hexdigest(),
                                                  len(source))]
    assert re.search(r"evidence files OK: \d+ files verified",
                     installation.kaohe("verify").stdout)


def test_connections_the_database_dropped_cost_no_request(stack):
    """The app servers keep their database connections between requests (DB_CONN_MAX_AGE of
    deploy/kaohe.env.example). When PostgreSQL drops them (a restart, a failover, an
    operator's pg_terminate_backend), the next requests open new ones: none fails."""
    installation = stack.installation
    if installation.is_sqlite:
        pytest.skip("a SQLite file has no server to drop connections")
    client = _signed_in(stack, "unit-t5")
    for _ in range(8):  # every worker of both servers has answered and kept its connection
        assert client.session.get(client.url("/"), timeout=30).status_code == 200
    dropped = installation.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert dropped and all(ok for (ok,) in dropped)
    answers = [client.session.get(client.url("/"), timeout=30) for _ in range(8)]
    assert [answer.status_code for answer in answers] == [200] * 8
    assert all("部署测试单位t5" in answer.text for answer in answers)
