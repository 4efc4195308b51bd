"""A real nginx ending TLS in front of a real gunicorn (security.md 12, 15 and 31).

nginx (Debian's package) listens with a self-signed certificate made for the test and
passes X-Forwarded-For ($proxy_add_x_forwarded_for) and X-Forwarded-Proto to gunicorn,
which trusts 127.0.0.1, the proxy, through KAOHE_TRUSTED_PROXIES. Two clients reach nginx
from two loopback addresses (the whole of 127.0.0.0/8 is local on Linux): the attacker
binds 127.0.0.2, the real user 127.0.0.3, so nginx sees them apart, as it would two hosts.

Without nginx or openssl the test is skipped locally, but fails under CI (CI=true), where
.ci/run installs both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.reliability.harness import PASSWORD, csrf_token, free_port

pytestmark = pytest.mark.reliability

PROXY = "127.0.0.1"
ATTACKER = "127.0.0.2"
USER = "127.0.0.3"

SETUP = f"""
from kaohe.accounts.models import Role, User
from kaohe.directory.models import Category, Unit
unit = Unit.objects.create(code="P001", name="代理测试单位",
                           category=Category.objects.get(code="party_organs"))
user = User(username="unit-p1", role=Role.UNIT, unit=unit, full_name="代理测试")
user.set_password({PASSWORD!r})
user.save()
"""

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log info;
{user}
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen {proxy}:{port} ssl;
        ssl_certificate {root}/cert.pem;
        ssl_certificate_key {root}/key.pem;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def _program(name: str) -> str | None:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        message = f"{name} not found (apt-get install {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _certificate(root: Path, openssl: str) -> Path:
    """A self-signed certificate for 127.0.0.1, valid for a day; the client verifies it."""
    subprocess.run(  # noqa: S603 - Debian's openssl
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True, timeout=60)
    return root / "cert.pem"


class Nginx:
    def __init__(self, root: Path, upstream: int):
        self.root = root
        self.port = free_port()
        self.conf = root / "nginx.conf"
        # As root, nginx would hand its workers to "nobody", who cannot enter the test's
        # private temporary directory.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf.write_text(NGINX_CONF.format(root=root, user=user, proxy=PROXY,
                                               port=self.port, upstream=upstream))
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"https://{PROXY}:{self.port}"

    def start(self, nginx: str, cert: Path, timeout: float = 30) -> None:
        with open(self.root / "nginx.out", "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - Debian's nginx
                [nginx, "-p", str(self.root), "-c", str(self.conf), "-e", str(
                    self.root / "error.log")],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        probe = requests.Session()
        probe.trust_env = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"nginx exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                if probe.get(f"{self.base}/healthz", verify=str(cert), timeout=5).ok:
                    return
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"nginx did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self.process = None


class _FromAddress(HTTPAdapter):
    """Connections that leave from one local address, as another host's would."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Client:
    """A browser at one loopback address that may forge X-Forwarded-For."""

    def __init__(self, nginx: Nginx, cert: Path, source: str):
        self.nginx = nginx
        self.session = requests.Session()
        # Not the environment's CA bundle or proxies: this certificate, straight to nginx.
        self.session.trust_env = False
        self.session.verify = str(cert)
        self.session.mount("https://", _FromAddress(source))
        # Over HTTPS Django checks that the form comes from the same origin.
        self.session.headers["Origin"] = nginx.base
        self.session.headers["Referer"] = f"{nginx.base}/accounts/login/"

    def sign_in(self, username: str, password: str, *,
                forged: str | None = None) -> requests.Response:
        headers = {"X-Forwarded-For": forged} if forged else {}
        page = self.session.get(f"{self.nginx.base}/accounts/login/", headers=headers,
                                timeout=30)
        assert page.status_code == 200, (page.status_code, page.text[:300])
        return self.session.post(
            f"{self.nginx.base}/accounts/login/", headers=headers, allow_redirects=False,
            timeout=30, data={"username": username, "password": password,
                              "csrfmiddlewaretoken": csrf_token(page.text)})


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, installation_databases, installation_template):
    from tests.reliability.fixtures import make_installation

    nginx_program, openssl = _program("nginx"), _program("openssl")
    _loopback_aliases_work()
    installation = make_installation(tmp_path_factory.mktemp("proxy"),
                                     installation_databases, installation_template)
    installation.shell(SETUP)
    nginx = None
    try:
        server = installation.start_server(
            workers=2, KAOHE_TRUSTED_PROXIES=PROXY, SECURE_COOKIES="true",
            SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")
        root = tmp_path_factory.mktemp("nginx")
        cert = _certificate(root, openssl)
        nginx = Nginx(root, server.port)
        nginx.start(nginx_program, cert)
        yield installation, nginx, cert
    finally:
        if nginx is not None:
            nginx.stop()
        installation.close()


def _loopback_aliases_work() -> None:
    with socket.socket() as sock:
        try:
            sock.bind((ATTACKER, 0))
        except OSError as exc:
            pytest.fail(f"cannot bind {ATTACKER} (the loopback range): {exc}")


def test_a_lockout_through_the_proxy_is_for_the_client_not_the_proxy(proxied):
    installation, nginx, cert = proxied
    attacker = Client(nginx, cert, ATTACKER)
    # Five wrong passwords, each with a forged X-Forwarded-For: the user's own address
    # (to lock the user out) and made-up ones (to slip past the lock).
    for forged in (USER, "198.51.100.1", f"{USER}, 10.0.0.1", "127.0.0.1", "unknown"):
        answer = attacker.sign_in("unit-p1", "wrong-password-1", forged=forged)
        assert answer.status_code in (200, 429), answer.status_code
    # The attacker is locked, whatever address they claim next.
    assert attacker.sign_in("unit-p1", PASSWORD, forged="203.0.113.77").status_code == 429
    assert Client(nginx, cert, ATTACKER).sign_in("unit-p1", PASSWORD).status_code == 429

    # The user, from another address behind the same proxy, signs in as usual.
    user = Client(nginx, cert, USER)
    answer = user.sign_in("unit-p1", PASSWORD)
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    assert "/accounts/login/" not in answer.headers["Location"]
    assert user.session.get(f"{nginx.base}/", timeout=30).status_code == 200

    # The lock and the audit log name the clients' real addresses, never the proxy's.
    attempts = installation.sql("SELECT ip_address, failures_since_start "
                                "FROM axes_accessattempt WHERE username = ?", ("unit-p1",))
    # str(): PostgreSQL hands back its inet columns as ipaddress objects.
    assert [str(ip) for ip, _failures in attempts] == [ATTACKER]
    assert attempts[0][1] >= 5
    entries = installation.sql(
        "SELECT DISTINCT action, ip FROM audit_auditentry WHERE action IN (?, ?, ?)",
        ("auth.login_failed", "auth.locked_out", "auth.login"))
    assert {(action, str(ip)) for action, ip in entries} == {
        ("auth.login_failed", ATTACKER), ("auth.locked_out", ATTACKER), ("auth.login", USER)}
