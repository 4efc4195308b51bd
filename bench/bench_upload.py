"""P3: a 1 GiB resumable upload through the tus server under gunicorn, against the client's
own ceiling: worker memory and throughput, on local storage and on S3.

    python bench/bench_upload.py [OUTPUT.json]
    BENCH_P3_MIB=256 BENCH_P3_RUNS=3 BENCH_P3_STORAGES=local python bench/bench_upload.py

For each storage (BENCH_P3_STORAGES, default "local,s3": the local file system, or an S3
bucket of a moto server on the loopback through KAOHE_S3_BUCKET) a throwaway installation
(common.Site: production settings, DEBUG off; the 2017 round and one unit user) is served
by gunicorn with one worker. tuspy uploads a 1 GiB file in 64 MiB chunks
(BENCH_P3_CHUNK_MIB; the browser's client sends 8 MiB) while the worker's RSS is sampled
every 0.2 s. The yardstick is the same tuspy client, with the same file and chunk size,
sending to a server in a process of its own that speaks just enough tus to take the bytes
and drop them: what no server can beat on this machine with this client. A third server,
the same but writing the bytes to a file on the same file system and fsyncing it, shows
what storing them costs here whatever the server (`storing_server_ratio`), and so how much
of Kaohe's time is its own (`ratio_to_storing_server`).

The two alternate, RUNS times each, in this one process (so that a machine getting busier
or the page cache weighs on both alike), and the medians count: throughput ratio = median
time to the null server / median time to Kaohe (target ≥ 0.80); peak RSS growth of the
worker over its size after a warm-up upload (target ≤ 64 MiB). The CPU seconds each server
spends per GiB (all its threads) are reported beside the times: what the code costs, less
sensitive than the times to what else the machine runs. Every upload is checked:
the server's SHA-256 and the stored file's (or object's) must be the source's. Prints
{"P3": {...}} and, given a path, writes the same JSON there. Everything it made is
removed at the end.

Before the runs the machine's memory is touched once (`warm_memory`): on a virtual machine
the hypervisor backs a guest page only at its first use, and that first use is what a
fresh VM's page cache pays while Kaohe writes the upload (the null server writes nothing):
measured here, `dd` into a new file ran at 241 MB/s on untouched memory and 2.2 GB/s once
the memory had been used. A server that has run for a while has used its memory; the
figures report both the cold and the warm copy rate of the machine (`memory_copy`).
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import requests
from tusclient.client import TusClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, S3Bucket, Site, csrf_token, free_port, load_average

FILE_BYTES = int(os.environ.get("BENCH_P3_MIB", "1024")) * 1024**2
CHUNK_BYTES = int(os.environ.get("BENCH_P3_CHUNK_MIB", "64")) * 1024**2
RUNS = int(os.environ.get("BENCH_P3_RUNS", "5"))
WARMUP_BYTES = 40 * 1024**2  # five parts of a multipart upload
STORAGES = os.environ.get("BENCH_P3_STORAGES", "local,s3").split(",")
SAMPLE_SECONDS = 0.2
WRITEBACK_BYTES = 8 * 1024**2  # as kaohe.evidence.receiving
PASSWORD = "bench-password-2017"  # noqa: S105 - a throwaway account in a temporary database
TARGETS = {"peak_rss_growth_mib": 64.0, "throughput_ratio": 0.80}

SETUP = f"""
from kaohe.accounts.models import Role, User
from kaohe.directory.models import Category, Unit
from kaohe.directory.services import reference_data_load
from kaohe.rounds.services import load_plan_data, round_create_from_plan
plan = load_plan_data()
reference_data_load(plan=plan)
round_create_from_plan(data=plan)
unit = Unit.objects.create(code="BENCH", name="基准测试单位",
                           category=Category.objects.get(code="party_organs"))
user = User(username="bench", role=Role.UNIT, unit=unit, must_change_password=False)
user.set_password({PASSWORD!r})
user.save()
"""

EVIDENCE = """
import json
from kaohe.evidence.models import Evidence
e = Evidence.objects.get(pk=%r)
print(json.dumps({"sha256": e.sha256, "size": e.size}))
"""


def make_source(path: Path, size: int) -> str:
    """An MP4 (the server checks content) of random bytes; returns its SHA-256."""
    digest = hashlib.sha256()
    header = (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
              + (size - 24).to_bytes(4, "big") + b"mdat")
    with open(path, "wb") as f:
        f.write(header)
        digest.update(header)
        left = size - len(header)
        while left:
            block = os.urandom(min(64 * 1024**2, left))
            f.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def sign_in(base: str) -> dict:
    """Sign in like a browser; return the headers tuspy sends (session cookie, CSRF token)."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    answer = session.post(f"{base}/accounts/login/", timeout=60, allow_redirects=False, data={
        "username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page.text)})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    cookies = session.cookies.get_dict()
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "X-CSRFToken": cookies["csrftoken"]}


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(SAMPLE_SECONDS)


def tus_upload(endpoint: str, headers: dict, path: Path, name: str) -> tuple[str, float]:
    """Upload with tuspy; returns (the evidence id the server answers, seconds)."""
    with open(path, "rb") as stream:
        uploader = TusClient(endpoint, headers=headers).uploader(
            file_stream=stream, chunk_size=CHUNK_BYTES, metadata={"filename": name})
        started = time.perf_counter()
        uploader.upload()
        seconds = time.perf_counter() - started
    response = uploader.request
    if response.status_code != 204:
        raise RuntimeError(f"upload failed: {response.status_code} {response.response_content}")
    return response.response_headers.get("kaohe-evidence", ""), seconds


class NullTusHandler(BaseHTTPRequestHandler):
    """Just enough tus to take tuspy's bytes and drop them: the client's own ceiling.

    With `store` set (a directory), it writes them to a file there instead and fsyncs it
    on the last byte, as any server that keeps an upload must at least do: what this
    machine's file system costs, against which Kaohe's own share is seen. Like Kaohe
    (kaohe.evidence.receiving) it writes whole blocks with O_DIRECT from an aligned buffer
    where the file system allows it, else through the page cache handing every 8 MiB to
    the disk: the best a storing server does here."""

    protocol_version = "HTTP/1.1"
    offset = 0
    length = 0
    store: Path | None = None
    fd = -1
    direct = -1
    buffer = memoryview(mmap.mmap(-1, 1024 * 1024))

    def do_POST(self):
        cls = NullTusHandler
        cls.offset = 0
        cls.length = int(self.headers["Upload-Length"])
        if self.store is not None:
            path = self.store / "upload.part"
            cls.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                cls.direct = os.open(path, os.O_WRONLY | os.O_DIRECT)
            except OSError:
                cls.direct = -1
        self._answer(201, Location="/null/upload")

    def do_PATCH(self):
        cls = NullTusHandler
        left = int(self.headers["Content-Length"])
        while left:
            view = self.buffer[:min(left, len(self.buffer))]
            got = self.rfile.readinto(view)
            if not got:
                break
            if self.store is not None:
                self._store(view[:got])
            left -= got
            cls.offset += got
        if self.store is not None and cls.offset == cls.length:
            os.fsync(cls.fd)
            for fd in (cls.fd, cls.direct):
                if fd >= 0:
                    os.close(fd)
            (self.store / "upload.part").unlink()
        self._answer(204, **{"Upload-Offset": str(NullTusHandler.offset)})

    def _store(self, data: memoryview) -> None:
        cls = NullTusHandler
        whole = len(data) // 4096 * 4096 if cls.direct >= 0 and cls.offset % 4096 == 0 else 0
        if whole:
            os.pwrite(cls.direct, data[:whole], cls.offset)
        if whole < len(data):
            os.pwrite(cls.fd, data[whole:], cls.offset + whole)
            end = cls.offset + len(data)
            if end // WRITEBACK_BYTES > cls.offset // WRITEBACK_BYTES:
                os.posix_fadvise(cls.fd, 0, end, os.POSIX_FADV_DONTNEED)

    def _answer(self, status, **headers):
        self.send_response(status)
        for name, value in {"Tus-Resumable": "1.0.0", "Content-Length": "0", **headers}.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, *args):
        pass


def null_server_main(port: int, store: str | None) -> None:
    NullTusHandler.store = Path(store) if store else None
    ThreadingHTTPServer(("127.0.0.1", port), NullTusHandler).serve_forever()


def start_null_server(store: Path | None = None) -> tuple[subprocess.Popen, str]:
    """The null server in a process of its own, as gunicorn's worker is: the client does
    not share its interpreter (and lock) with the server it is measured against."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - this script
        [sys.executable, __file__, "--null-server", str(port), str(store or "")], cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.options(f"http://127.0.0.1:{port}/", timeout=5)
            return process, f"http://127.0.0.1:{port}/null/"
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the null server did not start")


class LocalFiles:
    """Where the stored evidence is on the local file system (the default storage)."""

    env: dict[str, str] = {}

    def __init__(self, site: Site):
        self.data_dir = site.data_dir

    def take(self, size: int) -> str:
        """The SHA-256 of the one stored file of `size` bytes, which is then removed."""
        found = [p for p in self.data_dir.rglob("*")
                 if p.is_file() and p.stat().st_size == size]
        if len(found) != 1:
            raise RuntimeError(f"expected one stored file of {size} bytes, found {found}")
        with open(found[0], "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        found[0].unlink()
        return digest

    def close(self) -> None:
        pass


STORES = {"local": LocalFiles, "s3": S3Bucket}


def measure(storage: str, null_endpoint: str, null_pid: int, storing_endpoint: str) -> dict:
    site = Site(f"upload-{storage}", KAOHE_TODAY="2017-12-15")  # self-reports are open
    store = None
    try:
        store = STORES[storage](site)
        site.extra_env.update(store.env)
        site.kaohe("migrate", "--noinput", "-v0")
        site.shell(SETUP)
        source = site.work / "source.mp4"
        source_sha = make_source(source, FILE_BYTES)
        os.sync()  # no dirty pages of the source left to write during the runs

        server = site.start_server(workers=1)
        worker = server.processes()[1]
        endpoint = f"{server.base}/evidence/uploads/"
        headers = sign_in(server.base)

        # Warm up: the first upload imports what the upload path needs, and makes what it
        # keeps (on S3: the transfer manager's threads and the client's models, which only a
        # file over the multipart threshold of 8 MiB starts; kaohe.lib.s3).
        small = site.work / "warmup.mp4"
        make_source(small, WARMUP_BYTES)
        tus_upload(endpoint, headers, small, "warmup.mp4")
        store.take(WARMUP_BYTES)
        baseline = worker.memory_info().rss

        load_before = load_average()
        kaohe_times, null_times, storing_times, bucket_times = [], [], [], []
        kaohe_cpu, null_cpu = [], []
        sampler = RssSampler(worker.pid)
        sampler.start()
        for _run in range(RUNS):
            before = _cpu_seconds(null_pid)
            null_times.append(tus_upload(null_endpoint, {}, source, "x")[1])
            null_cpu.append(_cpu_seconds(null_pid) - before)
            storing_times.append(tus_upload(storing_endpoint, {}, source, "x")[1])
            if hasattr(store, "put"):
                bucket_times.append(store.put(source))
            before = _cpu_seconds(worker.pid)
            evidence_id, seconds = tus_upload(endpoint, headers, source, "1GiB.mp4")
            kaohe_times.append(seconds)
            kaohe_cpu.append(_cpu_seconds(worker.pid) - before)
            recorded = json.loads(site.shell(EVIDENCE % evidence_id).strip().splitlines()[-1])
            if recorded["sha256"] != source_sha or store.take(FILE_BYTES) != source_sha:
                raise RuntimeError("the stored file or its recorded SHA-256 differs")
            os.sync()
        sampler.running = False
        sampler.join()
    finally:
        if store is not None:
            store.close()
        site.close()
    kaohe_s, null_s = statistics.median(kaohe_times), statistics.median(null_times)
    growth = (sampler.peak - baseline) / 1024**2
    ratio = null_s / kaohe_s
    storing_s = statistics.median(storing_times)
    bucket = {}
    if bucket_times:
        # What the bucket's server itself allows: one PUT of the file from this process
        # (boto3 with its multipart transfers was no faster), against the null server.
        # Kaohe cannot finish before the bucket has the bytes.
        bucket = {"bucket_put_seconds": [round(t, 2) for t in bucket_times],
                  "bucket_put_ratio": round(null_s / statistics.median(bucket_times), 3)}
    return {**bucket,
        "kaohe_seconds": [round(t, 2) for t in kaohe_times],
        "null_server_seconds": [round(t, 2) for t in null_times],
        "storing_server_seconds": [round(t, 2) for t in storing_times],
        "kaohe_mib_per_s": round(FILE_BYTES / kaohe_s / 1024**2, 1),
        "tuspy_to_null_server_mib_per_s": round(FILE_BYTES / null_s / 1024**2, 1),
        "throughput_ratio": round(ratio, 3),
        # What the machine's file system leaves: a server that only writes and fsyncs the
        # bytes, to the null server; and Kaohe to that server (its own share of the time).
        "storing_server_ratio": round(null_s / storing_s, 3),
        "ratio_to_storing_server": round(storing_s / kaohe_s, 3),
        # CPU seconds the server spent per GiB (all its threads): what the code costs,
        # whatever else the machine runs meanwhile.
        "kaohe_cpu_seconds_per_gib": round(statistics.median(kaohe_cpu) * 1024**3
                                           / FILE_BYTES, 2),
        "null_server_cpu_seconds_per_gib": round(statistics.median(null_cpu) * 1024**3
                                                 / FILE_BYTES, 2),
        "baseline_rss_mib": round(baseline / 1024**2, 1),
        "peak_rss_mib": round(sampler.peak / 1024**2, 1),
        "peak_rss_growth_mib": round(growth, 1),
        "sha256_matches": True,  # checked after every run
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def warm_memory(size: int) -> dict:
    """Touch `size` bytes of fresh anonymous memory page by page, then free it (see the
    module's docstring); returns the write rate into a new file before and after, MB/s."""
    def copy_rate() -> float:
        handle, name = tempfile.mkstemp(prefix="kaohe-bench-")
        path = Path(name)
        block = b"\0" * (1 << 20)
        started = time.perf_counter()
        with os.fdopen(handle, "wb") as out:
            for _ in range(256):
                out.write(block)
        seconds = time.perf_counter() - started
        path.unlink()
        return round(256 * 1024**2 / seconds / 1e6)

    before = copy_rate()
    available = psutil.virtual_memory().available
    memory = bytearray(min(size, max(0, available - 2 * 1024**3)))
    for offset in range(0, len(memory), 4096):
        memory[offset] = 1
    del memory
    return {"touched_mib": size // 1024**2, "new_file_mb_per_s_cold": before,
            "new_file_mb_per_s_warm": copy_rate()}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--null-server":
        null_server_main(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
        return
    figures: dict = {"file_mib": FILE_BYTES // 1024**2, "chunk_mib": CHUNK_BYTES // 1024**2,
                     "runs": RUNS, "storages": list(STORAGES)}
    met = {}
    figures["memory_copy"] = warm_memory(4 * FILE_BYTES + 1024**3)
    null_server, null_endpoint = start_null_server()
    # Written where the sites' uploads are staged (the same file system).
    storing_dir = Path(tempfile.mkdtemp(prefix="kaohe-bench-storing-"))
    storing_server, storing_endpoint = start_null_server(storing_dir)
    try:
        for storage in STORAGES:
            try:
                result = measure(storage, null_endpoint, null_server.pid, storing_endpoint)
            except Exception as exc:  # one storage failing must not hide the other
                result = {"error": f"{type(exc).__name__}: {exc}"[-2000:]}
                met[f"{storage}_ran"] = False
            figures[storage] = result
            if "error" in result:
                continue
            for key in ("throughput_ratio", "kaohe_mib_per_s", "tuspy_to_null_server_mib_per_s",
                        "peak_rss_growth_mib"):
                figures[f"{storage}_{key}"] = result[key]
            met[f"{storage}_throughput_ratio"] = (result["throughput_ratio"]
                                                  >= TARGETS["throughput_ratio"])
            met[f"{storage}_peak_rss_growth_mib"] = (result["peak_rss_growth_mib"]
                                                     <= TARGETS["peak_rss_growth_mib"])
    finally:
        for server in (null_server, storing_server):
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(storing_dir, ignore_errors=True)
    met["plan_size"] = FILE_BYTES == 1024**3 and RUNS >= 5
    figures["targets"] = TARGETS
    figures["met"] = met
    text = json.dumps({"P3": figures}, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
