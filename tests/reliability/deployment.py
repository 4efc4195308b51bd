"""The deployment of deploy/, running: nginx (Debian's) ending TLS in front of gunicorn servers.

Nothing here writes a configuration of its own. The nginx site is deploy/nginx/kaohe.conf,
rendered with deploy/render.py (ports, paths and a certificate made by openssl for the
test); each app server is the ExecStart of deploy/systemd/kaohe-web.service, which reads
deploy/gunicorn.conf.py, with the active settings of deploy/kaohe.env.example. The only file
written here is the one Debian's package provides, /etc/nginx/nginx.conf, cut down to what
an unprivileged nginx in a temporary directory needs; it includes the rendered site.

Without nginx or openssl the tests are skipped locally, but fail under CI (CI=true), where
.ci/run installs both.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.processes import stop_group
from tests.reliability.harness import (
    DEPLOY,
    PASSWORD,
    ROOT,
    Installation,
    Server,
    csrf_token,
    env_file,
    free_port,
    render,
)

SITE = DEPLOY / "nginx" / "kaohe.conf"

# nginx listens here; clients connect from other loopback addresses (all of 127.0.0.0/8 is
# local on Linux), so that nginx sees them apart, as it would two hosts.
PROXY = "127.0.0.1"

# The users of the deployment tests: unit-p1, unit-p2 (test_proxy), unit-t1 to unit-t5
# (test_two_servers), each of a unit of its own in a county of the 2017 round.
SETUP = f"""
from kaohe.accounts.models import Role, User
from kaohe.directory.models import Category, County, Pairing, Unit
from kaohe.rounds.models import Round
round_ = Round.objects.get(year=2017)
county = County.objects.order_by("code").first()
for name in ("p1", "p2", "t1", "t2", "t3", "t4", "t5"):
    unit = Unit.objects.create(code=f"D{{name.upper()}}", name=f"部署测试单位{{name}}",
                               category=Category.objects.get(code="party_organs"))
    Pairing.objects.create(round=round_, unit=unit, county=county)
    user = User(username=f"unit-{{name}}", role=Role.UNIT, unit=unit, full_name="部署测试")
    user.set_password({PASSWORD!r})
    user.save()
"""

# Debian's /etc/nginx/nginx.conf, with its paths moved into the test's directory (and one
# worker process; its 768 connections a worker, which the deadline rush of `make bench`, P6,
# needs: 310 browsers, each request also a connection to an app server).
MAIN_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log info;
{user}
events {{ worker_connections 768; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    gzip on;
    include {root}/sites-enabled/kaohe;
}}
"""


def program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        message = f"{name} not found (apt-get install {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def deployed_settings(*, proxies: str, host: str) -> dict[str, str]:
    """The environment of an app server behind the proxy: the example's active settings,
    with what names this installation (database, data, secrets, addresses) replaced."""
    settings = env_file()
    # The installation (harness.Installation.env) gives the database, data dir and keys;
    # the server its own address.
    for name in ("DATABASE_URL", "KAOHE_DATA_DIR", "KAOHE_BIND", "SECRET_KEY_FILE",
                 "AUDIT_KEY_FILE"):
        settings.pop(name, None)
    settings.update(ALLOWED_HOSTS=host, KAOHE_BASE_URL=f"https://{host}",
                    KAOHE_TRUSTED_PROXIES=proxies)
    return settings


def certificate(root: Path, openssl: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day; the clients verify it."""
    subprocess.run(  # noqa: S603 - Debian's openssl
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={PROXY}",
         "-addext", f"subjectAltName=IP:{PROXY}",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True, timeout=60)
    return root / "cert.pem", root / "key.pem"


@dataclass
class LogLine:
    client: str
    method: str
    path: str
    status: int
    upstream: str

    @property
    def upstream_port(self) -> int | None:
        """The port of the app server that answered last (after failing over), or None."""
        found = re.findall(r":(\d+)", self.upstream)
        return int(found[-1]) if found else None


_LOG_LINE = re.compile(r'^(?P<client>\S+) \[[^\]]+\] "(?P<method>\S+) (?P<path>\S+) [^"]*" '
                       r"(?P<status>\d+) \d+ upstream=(?P<upstream>.*?) upstream_status=")


class Nginx:
    """Debian's nginx with the rendered site, in a directory of its own."""

    def __init__(self, root: Path, app_ports: list[int], static_root: Path,
                 cert: Path, key: Path):
        self.root = root
        self.port = free_port()
        self.http_port = free_port()
        self.cert = cert
        (root / "sites-enabled").mkdir()
        (root / "logs").mkdir()
        self.site = root / "sites-enabled" / "kaohe"
        self.site.write_text(render.render_file(SITE, {
            "SERVER_NAME": PROXY,
            "HTTPS_LISTEN": f"{PROXY}:{self.port}",
            "HTTP_LISTEN": f"{PROXY}:{self.http_port}",
            "TLS_CERTIFICATE": str(cert),
            "TLS_CERTIFICATE_KEY": str(key),
            "APP_SERVER": [f"127.0.0.1:{port}" for port in app_ports],
            "STATIC_ROOT": str(static_root),
            "LOG_DIR": str(root / "logs"),
        }))
        self.conf = root / "nginx.conf"
        # As root, nginx would hand its workers to "nobody", who cannot enter the test's
        # private temporary directory.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf.write_text(MAIN_CONF.format(root=root, user=user))
        self.process: subprocess.Popen | None = None
        self.program = ""

    @property
    def base(self) -> str:
        return f"https://{PROXY}:{self.port}"

    def start(self, program: str, timeout: float = 30) -> None:
        self.program = program
        checked = subprocess.run(  # noqa: S603 - Debian's nginx
            [program, "-t", "-p", str(self.root), "-c", str(self.conf)],
            capture_output=True, text=True, timeout=30, check=False)
        if checked.returncode != 0:
            pytest.fail(f"nginx -t refused the rendered site:\n{checked.stderr}")
        with open(self.root / "nginx.out", "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - Debian's nginx
                [program, "-p", str(self.root), "-c", str(self.conf)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        probe = requests.Session()
        probe.trust_env = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"nginx exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                if probe.get(f"{self.base}/healthz", verify=str(self.cert), timeout=5).ok:
                    return
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"nginx did not answer within {timeout} s:\n{self.log()}")

    def reload(self) -> None:
        """Re-read the site: new workers, with the app servers' failure counts forgotten."""
        old = self._worker_pids()
        os.kill(self.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            current = self._worker_pids()
            if current and not current & old:
                return
            time.sleep(0.05)
        pytest.fail(f"nginx did not reload:\n{self.log()}")

    def _worker_pids(self) -> set[int]:
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)],  # noqa: S603, S607
                               capture_output=True, text=True, check=False)
        return {int(pid) for pid in found.stdout.split()}

    def access_log(self) -> list[LogLine]:
        path = self.root / "logs" / "kaohe.access.log"
        lines = []
        for text in path.read_text(encoding="utf-8").splitlines():
            match = _LOG_LINE.match(text)
            assert match, f"unexpected access log line: {text!r}"
            lines.append(LogLine(match["client"], match["method"], match["path"],
                                 int(match["status"]), match["upstream"]))
        return lines

    def requests_to(self, method: str, path: str, *, count: int,
                    timeout: float = 10) -> list[LogLine]:
        """The access log's lines of these requests, once there are `count` of them: nginx
        writes a line after the response has gone, so a client may be a moment ahead."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.access_log()
                     if line.method == method and line.path == path]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def log(self) -> str:
        text = ""
        for path in (self.root / "error.log", self.root / "logs" / "kaohe.error.log"):
            if path.exists():
                text += path.read_text(errors="replace")[-3000:]
        return text

    def stop(self) -> None:
        if self.process is None:
            return
        stop_group(self.process)
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
    """A browser at one loopback address, talking to nginx over TLS."""

    def __init__(self, nginx: Nginx, source: str):
        self.nginx = nginx
        self.session = requests.Session()
        # Not the environment's CA bundle or proxies: this certificate, straight to nginx.
        self.session.trust_env = False
        self.session.verify = str(nginx.cert)
        self.session.mount("https://", _FromAddress(source))
        # Over HTTPS Django checks that a form comes from the same origin.
        self.session.headers["Origin"] = nginx.base
        self.session.headers["Referer"] = f"{nginx.base}/accounts/login/"

    def url(self, path: str) -> str:
        return f"{self.nginx.base}{path}"

    def sign_in(self, username: str, password: str, *,
                forged: str | None = None) -> requests.Response:
        headers = {"X-Forwarded-For": forged} if forged else {}
        page = self.session.get(self.url("/accounts/login/"), headers=headers, timeout=30)
        assert page.status_code == 200, (page.status_code, page.text[:300])
        answer = self.session.post(
            self.url("/accounts/login/"), headers=headers, allow_redirects=False,
            timeout=30, data={"username": username, "password": password,
                              "csrfmiddlewaretoken": csrf_token(page.text)})
        if answer.status_code == 302:
            self.session.headers["X-CSRFToken"] = self.session.cookies["csrftoken"]
        return answer


def loopback_aliases_work(*addresses: str) -> None:
    for address in addresses:
        with socket.socket() as sock:
            try:
                sock.bind((address, 0))
            except OSError as exc:
                pytest.fail(f"cannot bind {address} (the loopback range): {exc}")


@dataclass
class Deployment:
    installation: Installation
    servers: list[Server]
    nginx: Nginx

    def client(self, source: str = "127.0.0.5") -> Client:
        return Client(self.nginx, source)

    def server_on(self, port: int | None) -> Server:
        [server] = [server for server in self.servers if server.port == port]
        return server

    def ensure_running(self) -> None:
        """Both app servers up, and nginx with no memory of one that was down."""
        stopped = [server for server in self.servers if server.process is None]
        for server in stopped:
            server.start()
        if stopped:
            self.nginx.reload()

    def bytes_on_disk(self) -> int:
        """Bytes in the installation's directory and its storage's (the staging directory)."""
        roots = [self.installation.root] + [
            Path(value) for value in self.installation.storage.values()
            if value.startswith("/") and Path(value).is_dir()]
        return bytes_on_disk(*roots)


def deploy(installation: Installation, root: Path, *, app_servers: int = 2,
           workers: int = 2, own_data_dirs: bool = False) -> Deployment:
    """Start app_servers gunicorns (deploy/) and nginx (deploy/) in front of them; the
    caller stops them (installation.close(), deployment.nginx.stop()). own_data_dirs: each
    server has a KAOHE_DATA_DIR of its own (its database and files are elsewhere)."""
    nginx_program, openssl = program("nginx"), program("openssl")
    settings = deployed_settings(proxies=PROXY, host=PROXY)
    servers = []
    for number in range(1, app_servers + 1):
        if own_data_dirs:
            settings["KAOHE_DATA_DIR"] = str(installation.root / f"host-{number}")
        servers.append(installation.start_server(workers=workers, proxied=True, wait=False,
                                                 **settings))
    for server in servers:
        server.wait_until_ready()
    cert, key = certificate(root, openssl)
    # The checkout's static folder stands in for `kaohe collectstatic`'s STATIC_ROOT.
    nginx = Nginx(root, [server.port for server in servers], ROOT / "kaohe" / "static",
                  cert, key)
    nginx.start(nginx_program)
    return Deployment(installation, servers, nginx)


@contextlib.contextmanager
def deployed(installation: Installation, root: Path, **options):
    """deploy(), stopped at the end (servers, then nginx) whatever happens in between."""
    stack = None
    try:
        stack = deploy(installation, root, **options)
        yield stack
    finally:
        if stack is not None:
            stack.nginx.stop()
        installation.close()


def accept_queue(port: int) -> int:
    """Connections waiting in the accept queue of the socket listening on 127.0.0.1:port."""
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A":  # LISTEN: rx_queue is the backlog
            return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def bytes_on_disk(*roots: Path) -> int:
    return sum(path.stat().st_size for root in roots for path in root.rglob("*")
               if path.is_file())
