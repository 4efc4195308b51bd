"""Real installations for tests that start, kill and restart processes.

An Installation is a data directory with a database of its own: a SQLite file, or, when
the suite runs with DATABASE_URL on PostgreSQL, a fresh PostgreSQL database created for
the test and dropped after it. Its `kaohe` commands and its gunicorn servers run as
separate processes with the production settings (kaohe.settings, DEBUG off), so that a
SIGKILL is a real crash and two servers really share only the database and the files.

A migrated template (the 2017 round loaded) is made once per session and cloned for each
installation: SQLite through the backup API, PostgreSQL with CREATE DATABASE ... TEMPLATE.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import itertools
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
# The deployment's files (deploy/README.md): every server here runs from them.
DEPLOY = ROOT / "deploy"
WEB_UNIT = DEPLOY / "systemd" / "kaohe-web.service"
ENV_EXAMPLE = DEPLOY / "kaohe.env.example"
PASSWORD = "Reliable-2017-pass"
SECRET_KEY = "reliability-tests-only-not-a-real-secret-key-0123456789"
# One key for every installation of the session: a restored backup verifies with it.
AUDIT_KEY = "reliability-tests-only-audit-key-0123456789"
TUS = {"Tus-Resumable": "1.0.0"}
BASE_SETUP = """
from kaohe.directory.services import reference_data_load
from kaohe.rounds.services import load_plan_data, round_create_from_plan
plan = load_plan_data()
reference_data_load(plan=plan)
round_create_from_plan(data=plan)
"""
_names = itertools.count(1)
# What a server reached over plain HTTP on the loopback needs: no HTTPS redirect, cookies
# without Secure. A server behind the proxy (proxied=True) runs without these.
PLAIN_HTTP = {"SECURE_COOKIES": "false", "SECURE_SSL_REDIRECT": "false",
              "SECURE_HSTS_SECONDS": "0"}


def _load_render():
    spec = importlib.util.spec_from_file_location("kaohe_deploy_render", DEPLOY / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# deploy/render.py, the renderer of the deployment's templates.
render = _load_render()


def env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """The active NAME=value lines of a systemd environment file."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sign, value = line.partition("=")
            assert sign, f"{path.name}: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def unit_command(unit: Path, **values: str) -> list[str]:
    """The ExecStart of a unit of deploy/systemd, rendered, as an argument list."""
    defaults = {"KAOHE_HOME": str(ROOT), "KAOHE_USER": "kaohe",
                "KAOHE_ENV_FILE": "/etc/kaohe/kaohe.env"}
    wanted = render.placeholders(unit.read_text(encoding="utf-8"))
    text = render.render_file(unit, {name: value for name, value in {**defaults, **values}.items()
                                     if name in wanted})
    [line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def postgres_url() -> str | None:
    """The suite's PostgreSQL server, when it runs on one (DATABASE_URL), else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mp4_bytes(size: int, seed: int) -> bytes:
    """An MP4 (the server checks content) of pseudo-random bytes, different for each seed."""
    header = (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
              + (size - 24).to_bytes(4, "big") + b"mdat")
    body = bytearray()
    block = hashlib.sha256(f"kaohe-{seed}".encode()).digest()
    while len(body) < size - len(header):
        block = hashlib.sha256(block).digest()
        body += block * 64
    return header + bytes(body[: size - len(header)])


class Databases:
    """The databases of a test session: SQLite files, or PostgreSQL databases dropped at the end."""

    def __init__(self):
        self.server_url = postgres_url()
        self.created: list[str] = []

    @property
    def engine(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    def _admin(self):
        import psycopg

        return psycopg.connect(self._url_for("postgres"), autocommit=True)

    def _url_for(self, name: str) -> str:
        parts = urlsplit(self.server_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def create(self, *, template: str | None = None) -> str:
        """A new, empty (or cloned) PostgreSQL database; returns its URL."""
        name = f"kaohe_rel_{os.getpid()}_{next(_names)}"
        with self._admin() as admin:
            clause = f" TEMPLATE {template}" if template else ""
            admin.execute(f"CREATE DATABASE {name}{clause}")
        self.created.append(name)
        return self._url_for(name)

    def drop_all(self) -> None:
        if not self.created:
            return
        with self._admin() as admin:
            for name in reversed(self.created):
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.created.clear()


class Installation:
    """storage: the settings of where files go (fixtures.storage), given to every command
    and server of the installation."""

    def __init__(self, root: Path, database_url: str, storage: dict[str, str] | None = None):
        self.root = root
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.storage = dict(storage or {})
        self.servers: list[Server] = []

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "kaohe.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def env(self, *, plain_http: bool = True, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("KAOHE_", "DJANGO_", "DATABASE_URL", "SECURE_"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "kaohe.settings",
            "SECRET_KEY": SECRET_KEY,
            "AUDIT_KEY": AUDIT_KEY,
            "KAOHE_DATA_DIR": str(self.data_dir),
            "DATABASE_URL": self.database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            **(PLAIN_HTTP if plain_http else {}),
            # Self-reports of the 2017 round are open on this day.
            "KAOHE_TODAY": "2017-12-15",
            "PYTHONUNBUFFERED": "1",
            **self.storage,
        })
        env.update(extra)
        return env

    def kaohe(self, *args: str, check: bool = True, timeout: float = 300,
              env: dict | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - our own console script
            [str(BIN / "kaohe"), *args], cwd=ROOT, env=env or self.env(), capture_output=True,
            text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            pytest.fail(f"kaohe {' '.join(args)} failed ({result.returncode}):\n"
                        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def shell(self, code: str) -> str:
        return self.kaohe("shell", "--no-imports", "-c", code).stdout

    def python(self, code: str, *args: str, log: Path) -> subprocess.Popen:
        """Start `python -c code args` with Django's settings; the caller ends it."""
        with open(log, "wb") as out:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [sys.executable, "-c", code, *args], cwd=ROOT, env=self.env(),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    # Looking into the database from outside, as an operator would ----------------------

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Run one query (placeholders written as ?) on a connection of its own."""
        if self.is_sqlite:
            db = sqlite3.connect(self.sqlite_path, timeout=30)
            try:
                return db.execute(query, params).fetchall()
            finally:
                db.close()
        import psycopg

        with psycopg.connect(self.database_url) as db:
            return db.execute(query.replace("?", "%s"), params).fetchall()

    def count(self, table: str, where: str = "", params: tuple = ()) -> int:
        return self.sql(f"SELECT COUNT(*) FROM {table} {where}", params)[0][0]  # noqa: S608

    def tables(self) -> dict[str, int]:
        if self.is_sqlite:
            names = [n for (n,) in self.sql("SELECT name FROM sqlite_master WHERE type='table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        else:
            names = [n for (n,) in self.sql("SELECT tablename FROM pg_tables "
                                            "WHERE schemaname = 'public'")]
        return {name: self.count(f'"{name}"') for name in sorted(names)}

    def stored_files(self) -> dict[str, str]:
        """Relative path -> SHA-256 of every stored file."""
        result = {}
        for path in sorted(self.files_dir.rglob("*")):
            if path.is_file():
                with open(path, "rb") as handle:
                    result[path.relative_to(self.files_dir).as_posix()] = hashlib.file_digest(
                        handle, "sha256").hexdigest()
        return result

    # Servers --------------------------------------------------------------------------

    def start_server(self, workers: int = 2, *, proxied: bool = False, wait: bool = True,
                     **env: str) -> Server:
        """A gunicorn server; env adds to or overrides the installation's environment.

        proxied: it sits behind the TLS proxy (tests/reliability/deployment.py), with the
        production defaults for HTTPS. wait=False: call server.wait_until_ready().
        """
        server = Server(self, workers, env, proxied=proxied)
        self.servers.append(server)
        server.start(wait=wait)
        return server

    def close(self) -> None:
        # All at once: each takes a moment to let its workers go.
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            server.stop()


class Server:
    """An app server on a free port of 127.0.0.1, in a process group of its own: the command
    of deploy/systemd/kaohe-web.service (gunicorn with deploy/gunicorn.conf.py)."""

    def __init__(self, installation: Installation, workers: int,
                 env: dict[str, str] | None = None, *, proxied: bool = False):
        self.installation = installation
        self.workers = workers
        self.env = env or {}
        self.proxied = proxied
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.log = installation.root / f"gunicorn-{next(_names)}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def start(self, *, wait: bool = True) -> None:
        """Start on a new port, or on the same one when it is started again."""
        self.port = self.port or free_port()
        env = self.installation.env(plain_http=not self.proxied, **{
            "KAOHE_BIND": f"127.0.0.1:{self.port}", "KAOHE_WEB_WORKERS": str(self.workers),
            # Errors and the start in the log, for the failure messages below.
            "GUNICORN_CMD_ARGS": "--log-level info", **self.env})
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - gunicorn from the venv
                unit_command(WEB_UNIT), cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_until_ready()

    def wait_until_ready(self, timeout: float = 60) -> None:
        # Behind the proxy Django redirects plain HTTP to HTTPS unless the proxy says so.
        headers = {"X-Forwarded-Proto": "https"} if self.proxied else {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.log_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url("/healthz"), headers=headers, timeout=5).ok:
                    return
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"gunicorn did not answer within {timeout} s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def pause(self) -> None:
        """SIGSTOP the master and its workers: the socket still takes connections, nobody
        reads them (a host that hangs)."""
        self._signal_group(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: a crash, nothing is cleaned up."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def terminate(self) -> None:
        """Ask the server to stop (SIGTERM); stop() waits for it."""
        if self.process is not None:
            self._signal_group(signal.SIGTERM)

    def stop(self) -> None:
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=20)
        self.process = None

    # Clients --------------------------------------------------------------------------

    def login_page(self, session: requests.Session) -> str:
        page = session.get(self.url("/accounts/login/"), timeout=30)
        assert page.status_code == 200, page.status_code
        return csrf_token(page.text)

    def post_login(self, session: requests.Session, username: str,
                   password: str) -> requests.Response:
        token = self.login_page(session)
        return session.post(self.url("/accounts/login/"), allow_redirects=False, timeout=30,
                            data={"username": username, "password": password,
                                  "csrfmiddlewaretoken": token})

    def sign_in(self, username: str, password: str = PASSWORD) -> requests.Session:
        """A signed-in requests session that sends the CSRF token as X-CSRFToken."""
        session = requests.Session()
        answer = self.post_login(session, username, password)
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])
        assert "/accounts/login/" not in answer.headers["Location"]
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
        return session


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def tus_create(session: requests.Session, server: Server, name: str, length: int) -> str:
    """Create a tus upload; returns its path (/evidence/uploads/<id>/)."""
    answer = session.post(server.url("/evidence/uploads/"), timeout=30, headers={
        **TUS, "Upload-Length": str(length),
        "Upload-Metadata": f"filename {base64.b64encode(name.encode()).decode()}"})
    assert answer.status_code == 201, (answer.status_code, answer.text)
    return answer.headers["Location"]


def tus_patch(session: requests.Session, server: Server, location: str, offset: int,
              data: bytes) -> requests.Response:
    return session.patch(server.url(location), data=data, timeout=120, headers={
        **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
