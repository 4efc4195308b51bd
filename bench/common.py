"""What the server benchmarks share: a throwaway installation, gunicorn, signing in, sampling.

A Site is a temporary data directory with its own database (a SQLite file, or a PostgreSQL
database created for the run and dropped after it) and the production settings (DEBUG
off; plain HTTP on the loopback). Its `kaohe` commands and gunicorn run as processes of
their own, so that what is measured is what an installation runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the process helpers the reliability tests use too

from tests.processes import stop_group  # noqa: E402

SECRET_KEY = "bench-only-secret-key-not-for-any-installation-0123456789"  # noqa: S105
AUDIT_KEY = "bench-only-audit-key-not-for-any-installation-0123456789"
# The PostgreSQL server whose maintenance database the benchmarks connect to, to create and
# drop their own databases.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.5 = median, 0.95 = p95)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(max(1, math.ceil(share * len(ordered))), len(ordered))
    return ordered[rank - 1]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def totp(key_hex: str, at: float | None = None) -> str:
    """RFC 6238 as django-otp's TOTPDevice computes it (SHA-1, 30 s, 6 digits, t0 = 0)."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


_NAV = re.compile(r"<nav\b.*?</nav>", re.S)
_MAIN = re.compile(r"<main\b.*?</main>", re.S)
_HREF = re.compile(r'<a\b[^>]*?\bhref="([^"]*)"', re.S)
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_TAG = re.compile(r"<[^>]+>")
_ASSET = re.compile(
    r'<(?:link\b[^>]*?\brel="stylesheet"[^>]*?\bhref|script\b[^>]*?\bsrc)="(/[^"]+)"', re.S)


def menu_links(page: str) -> list[str]:
    """The navigation links a signed-in page shows, in order: the navbar's menus, the
    notifications and the password form (not the year selector's ``?year=`` links, not the
    logout form)."""
    nav = _NAV.search(page)
    links: list[str] = []
    for href in _HREF.findall(nav.group(0) if nav else ""):
        href = html.unescape(href)
        if href.startswith("/") and "?" not in href and href not in links:
            links.append(href)
    return links


def content_links(page: str) -> list[str]:
    """The site's links in the page's main content, in order, without fragments."""
    main = _MAIN.search(page)
    links: list[str] = []
    for href in _HREF.findall(main.group(0) if main else ""):
        href = html.unescape(href).split("#", 1)[0]
        if href.startswith("/") and not href.startswith("//") and href not in links:
            links.append(href)
    return links


def heading(page: str) -> str:
    """The page's own heading (its first <h1>, else its <title>), as plain text: what shows
    that a response is the page asked for and not an error or an empty shell."""
    main = _MAIN.search(page)
    found = _H1.search(main.group(0) if main else page) or _TITLE.search(page)
    return " ".join(html.unescape(_TAG.sub(" ", found.group(1))).split()) if found else ""


def assets(page: str) -> list[str]:
    """The style sheets and scripts a browser loads for the page (same site only)."""
    return list(dict.fromkeys(html.unescape(a) for a in _ASSET.findall(page)))


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


def sign_in(base: str, username: str, password: str, totp_key: str | None = None
            ) -> requests.Session:
    """Sign in through the login form (and the two-factor page when the role has one)."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=60)
    answer = session.post(f"{base}/accounts/login/", timeout=60, allow_redirects=False, data={
        "username": username, "password": password, "csrfmiddlewaretoken": csrf_token(page.text)})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in of {username} failed: {answer.status_code}")
    location = answer.headers["Location"]
    if location.startswith("/accounts/two-factor/"):
        if totp_key is None:
            raise RuntimeError(f"{username} needs a second factor")
        page = session.get(f"{base}{location}", timeout=60)
        answer = session.post(f"{base}{location}", timeout=60, allow_redirects=False, data={
            "code": totp(totp_key), "csrfmiddlewaretoken": csrf_token(page.text)})
        if answer.status_code != 302 or answer.headers["Location"].startswith("/accounts/"):
            raise RuntimeError(f"second factor of {username} refused: {answer.status_code}")
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


class Site:
    """A throwaway installation; close() removes everything it made."""

    def __init__(self, name: str, engine: str = "sqlite", **env: str):
        self.engine = engine
        self.work = Path(tempfile.mkdtemp(prefix=f"kaohe-bench-{name}-"))
        self.data_dir = self.work / "data"
        self.extra_env = env
        self.servers: list[Server] = []
        self.pg_database = None
        if engine == "sqlite":
            self.database_url = f"sqlite:///{self.data_dir / 'kaohe.sqlite3'}"
        elif engine == "postgresql":
            self.pg_database = f"kaohe_bench_{name.replace('-', '_')}_{os.getpid()}"
            self._admin(f"DROP DATABASE IF EXISTS {self.pg_database} WITH (FORCE)")
            self._admin(f"CREATE DATABASE {self.pg_database}")
            parts = urlsplit(POSTGRES_URL)
            self.database_url = urlunsplit((parts.scheme, parts.netloc,
                                            f"/{self.pg_database}", parts.query, ""))
        else:
            raise ValueError(engine)

    @staticmethod
    def _admin(statement: str) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(statement)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KAOHE_", "DJANGO_", "DATABASE_URL", "SECURE_"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "kaohe.settings",
            "SECRET_KEY": SECRET_KEY,
            "AUDIT_KEY": AUDIT_KEY,
            "KAOHE_DATA_DIR": str(self.data_dir),
            "DATABASE_URL": self.database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
        })
        env.update(self.extra_env)
        env.update(extra)
        return env

    def kaohe(self, *args: str, timeout: float = 3600) -> str:
        result = subprocess.run(  # noqa: S603 - our own console script
            [str(BIN / "kaohe"), *args], cwd=ROOT, env=self.env(), capture_output=True,
            text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"kaohe {' '.join(args[:2])} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.kaohe("shell", "--no-imports", "-c", code)

    def start_server(self, workers: int = 4, *, deployed: dict[str, str] | None = None
                     ) -> Server:
        """gunicorn with `workers` sync workers; deployed: with deploy/gunicorn.conf.py (as
        deploy/systemd/kaohe-web.service runs it) and these settings added to the site's."""
        server = Server(self, workers, deployed)
        self.servers.append(server)
        server.start()
        return server

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        if self.pg_database:
            with contextlib.suppress(Exception):
                self._admin(f"DROP DATABASE IF EXISTS {self.pg_database} WITH (FORCE)")
        shutil.rmtree(self.work, ignore_errors=True)


class Server:
    def __init__(self, site: Site, workers: int, deployed: dict[str, str] | None = None):
        self.site = site
        self.workers = workers
        self.deployed = deployed
        self.port = free_port()
        self.log = site.work / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.deployed is None:
            command = [str(BIN / "gunicorn"), "kaohe.wsgi", "-b", f"127.0.0.1:{self.port}",
                       "-w", str(self.workers), "--timeout", "300", "--backlog", "2048"]
            env = self.site.env()
        else:
            command = [str(BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
            env = self.site.env(**self.deployed, KAOHE_BIND=f"127.0.0.1:{self.port}")
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - gunicorn from the venv
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=10).ok:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def processes(self) -> list[psutil.Process]:
        master = psutil.Process(self.process.pid)
        return [master, *master.children(recursive=True)]

    def stop(self) -> None:
        if self.process is None:
            return
        stop_group(self.process, timeout=30)
        self.process = None


class Sampler(threading.Thread):
    """CPU (per cent of one core, summed) and memory (RSS, summed) of the server's processes."""

    def __init__(self, server: Server, every: float = 0.5):
        super().__init__(daemon=True)
        self.server = server
        self.every = every
        self.cpu: list[float] = []
        self.rss: list[float] = []
        self.running = True

    def run(self) -> None:
        tracked: dict[int, psutil.Process] = {}
        while self.running:
            cpu = rss = 0.0
            with contextlib.suppress(psutil.Error):
                for process in self.server.processes():
                    known = tracked.setdefault(process.pid, process)
                    with contextlib.suppress(psutil.Error):
                        cpu += known.cpu_percent(None)
                        rss += known.memory_info().rss
            self.cpu.append(cpu)
            self.rss.append(rss / 1024**2)
            time.sleep(self.every)

    def stop(self) -> dict:
        self.running = False
        self.join()
        busy = self.cpu[1:] or [0.0]  # the first reading of each process is 0 by definition
        return {"server_cpu_percent_mean": round(sum(busy) / len(busy), 1),
                "server_cpu_percent_peak": round(max(busy), 1),
                "server_rss_mib_peak": round(max(self.rss or [0.0]), 1)}


class S3Bucket:
    """A moto server in S3 mode on the loopback, and the bucket Kaohe stores into."""

    def __init__(self, site: Site):
        import boto3

        port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 - moto's server from the venv
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(endpoint, timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("moto did not start") from None
                time.sleep(0.2)
        self.bucket = "kaohe-bench"
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                   aws_access_key_id="bench",
                                   aws_secret_access_key="bench")  # noqa: S106 - moto's
        self.client.create_bucket(Bucket=self.bucket)
        self.env = {"KAOHE_S3_BUCKET": self.bucket, "KAOHE_S3_ENDPOINT_URL": endpoint,
                    "KAOHE_S3_REGION": "us-east-1", "KAOHE_S3_ACCESS_KEY_ID": "bench",
                    "KAOHE_S3_SECRET_ACCESS_KEY": "bench"}

    def take(self, size: int) -> str:
        """The SHA-256 of the one object of `size` bytes, which is then removed."""
        listed = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        found = [o["Key"] for o in listed if o["Size"] == size]
        if len(found) != 1:
            raise RuntimeError(f"expected one object of {size} bytes, found {found}")
        digest = hashlib.sha256()
        body = self.client.get_object(Bucket=self.bucket, Key=found[0])["Body"]
        for piece in iter(lambda: body.read(8 * 1024**2), b""):
            digest.update(piece)
        self.client.delete_object(Bucket=self.bucket, Key=found[0])
        return digest.hexdigest()

    def put(self, path: Path) -> float:
        """Seconds to PUT the file at path into the bucket (the object is then removed)."""
        started = time.perf_counter()
        with open(path, "rb") as body:
            self.client.put_object(Bucket=self.bucket, Key="bench-put", Body=body)
        seconds = time.perf_counter() - started
        self.client.delete_object(Bucket=self.bucket, Key="bench-put")
        return seconds

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
