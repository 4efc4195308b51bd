"""The deployment's nginx in front of two app servers (security.md 12, 15, 22 and 31).

The stack is the one deploy/README.md describes, from its own files (the deployment
fixture, tests/reliability/deployment.py): nginx ends TLS with a certificate made for the test and
passes X-Forwarded-For and X-Forwarded-Proto to two gunicorn servers, which trust
127.0.0.1, the proxy, through KAOHE_TRUSTED_PROXIES. Clients reach nginx from other
loopback addresses: the attacker binds 127.0.0.2, the real user 127.0.0.3, so nginx sees
them apart, as it would two hosts.
"""

from __future__ import annotations

import http.client
import ssl
import time

import pytest
import requests

from tests.reliability.deployment import (
    PROXY,
    Client,
    loopback_aliases_work,
)
from tests.reliability.harness import PASSWORD, ROOT, TUS, mp4_bytes, tus_create

# The proxy's work does not depend on where files are stored: local files only.
pytestmark = [pytest.mark.reliability,
              pytest.mark.parametrize("storage", ["local"], indirect=True)]

ATTACKER = "127.0.0.2"
USER = "127.0.0.3"
MiB = 1024 * 1024

@pytest.fixture
def proxied(deployment):
    loopback_aliases_work(ATTACKER, USER)
    deployment.ensure_running()
    return deployment


def test_a_lockout_through_the_proxy_is_for_the_client_not_the_proxy(proxied):
    installation, nginx = proxied.installation, proxied.nginx
    [(audit_before,)] = installation.sql("SELECT COALESCE(MAX(id), 0) FROM audit_auditentry")
    attacker = Client(nginx, ATTACKER)
    # Five wrong passwords, each with a forged X-Forwarded-For: the user's own address
    # (to lock the user out) and made-up ones (to slip past the lock).
    for forged in (USER, "198.51.100.1", f"{USER}, 10.0.0.1", "127.0.0.1", "unknown"):
        answer = attacker.sign_in("unit-p1", "wrong-password-1", forged=forged)
        assert answer.status_code in (200, 429), answer.status_code
    # The attacker is locked, whatever address they claim next, on either app server.
    assert attacker.sign_in("unit-p1", PASSWORD, forged="203.0.113.77").status_code == 429
    assert Client(nginx, ATTACKER).sign_in("unit-p1", PASSWORD).status_code == 429

    # The user, from another address behind the same proxy, signs in as usual.
    user = Client(nginx, USER)
    answer = user.sign_in("unit-p1", PASSWORD)
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    assert "/accounts/login/" not in answer.headers["Location"]
    assert user.session.get(user.url("/"), timeout=30).status_code == 200

    # The lock and the audit log name the clients' real addresses, never the proxy's.
    attempts = installation.sql("SELECT ip_address, failures_since_start "
                                "FROM axes_accessattempt WHERE username = ?", ("unit-p1",))
    # str(): PostgreSQL hands back its inet columns as ipaddress objects.
    assert [str(ip) for ip, _failures in attempts] == [ATTACKER]
    assert attempts[0][1] >= 5
    entries = installation.sql(
        "SELECT DISTINCT action, ip FROM audit_auditentry WHERE id > ? AND action IN (?, ?, ?)",
        (audit_before, "auth.login_failed", "auth.locked_out", "auth.login"))
    assert {(action, str(ip)) for action, ip in entries} == {
        ("auth.login_failed", ATTACKER), ("auth.locked_out", ATTACKER), ("auth.login", USER)}


def test_plain_http_is_sent_to_https_and_the_app_knows_it_is_behind_tls(proxied):
    nginx = proxied.nginx
    plain = requests.get(f"http://{PROXY}:{nginx.http_port}/accounts/login/?next=/",
                         allow_redirects=False, timeout=30)
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://{PROXY}/accounts/login/?next=/"

    client = Client(nginx, USER)
    page = client.session.get(client.url("/accounts/login/"), timeout=30)
    assert page.status_code == 200
    # Django sends HSTS and Secure cookies only over what it believes is HTTPS: it read
    # nginx's X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER of the environment file).
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert all(cookie.secure for cookie in client.session.cookies)
    # A client cannot claim HTTPS over plain HTTP: nginx sets the header itself.
    forged = requests.get(f"http://{PROXY}:{nginx.http_port}/accounts/login/",
                          headers={"X-Forwarded-Proto": "https"}, allow_redirects=False,
                          timeout=30)
    assert forged.status_code == 301


def test_static_files_come_from_nginx_not_from_an_app_server(proxied):
    nginx = proxied.nginx
    client = Client(nginx, USER)
    answer = client.session.get(client.url("/static/kaohe/kaohe.css"), timeout=30)
    assert answer.status_code == 200
    assert answer.content == (ROOT / "kaohe" / "static" / "kaohe" / "kaohe.css").read_bytes()
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    [line] = nginx.requests_to("GET", "/static/kaohe/kaohe.css", count=1)
    assert (line.status, line.upstream) == (200, "-")


def test_nginx_takes_a_slow_patch_whole_before_an_app_server_sees_it(proxied):
    """Request buffering: a client that stalls mid-PATCH holds no app server worker."""
    installation, nginx = proxied.installation, proxied.nginx
    client = Client(nginx, USER)
    assert client.sign_in("unit-p2", PASSWORD).status_code == 302
    source = mp4_bytes(8 * MiB, seed=7)
    location = tus_create(client.session, client, "慢速上传.mp4", len(source))
    before = proxied.bytes_on_disk()

    context = ssl.create_default_context(cafile=str(nginx.cert))
    conn = http.client.HTTPSConnection(PROXY, nginx.port, timeout=60, context=context,
                                       source_address=(USER, 0))
    conn.putrequest("PATCH", location)
    cookies = "; ".join(f"{c.name}={c.value}" for c in client.session.cookies)
    for name, value in {**TUS, "Upload-Offset": "0", "Content-Length": str(len(source)),
                        "Content-Type": "application/offset+octet-stream", "Cookie": cookies,
                        "Origin": nginx.base,
                        "X-CSRFToken": client.session.headers["X-CSRFToken"]}.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(source[: 6 * MiB])
    time.sleep(1.0)
    # Six MiB have reached nginx; no app server has received any of them.
    assert proxied.bytes_on_disk() - before < 1 * MiB
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    assert [offset for (pk, offset) in installation.sql('SELECT id, "offset" FROM evidence_upload')
            if str(pk).replace("-", "") == upload_id.replace("-", "")] == [0]
    assert not [line for line in nginx.access_log() if line.path == location]

    conn.send(source[6 * MiB:])
    answer = conn.getresponse()
    assert answer.status == 204, answer.read()[:300]
    assert answer.getheader("Upload-Offset") == str(len(source))
    conn.close()

