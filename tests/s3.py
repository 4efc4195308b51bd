"""A real S3 API for tests: moto in server mode, and Kaohe's default storage in a bucket of it.

Import the fixtures into a test module (`from tests.s3 import moto_server_fixture, s3_fixture`,
which pytest knows as moto_server and s3: the names do not shadow the arguments that use
them). `moto_server` runs one server for the session on a free port of 127.0.0.1; `s3` makes an
empty bucket per test, points STORAGES["default"] at it with the same options as
KAOHE_S3_BUCKET does in production (kaohe.lib.s3), and looks into it with boto3.
`s3.env()` is the environment that makes a `kaohe` process use the bucket.
"""

import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests
from storages.backends.s3 import S3File

from kaohe.lib.s3 import storage_settings

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
# moto takes any keys; real ones never reach a test.
ACCESS_KEY, SECRET_KEY, REGION = "kaohe-test-key", "kaohe-test-secret", "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", name="moto_server")
def moto_server_fixture(tmp_path_factory):
    """The endpoint URL of a moto S3 server, stopped at the end of the session."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    with open(log, "wb") as out:
        server = subprocess.Popen(  # noqa: S603 - moto's own console script
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=out,
            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                pytest.fail(f"moto_server exited ({server.returncode}):\n{log.read_text()}")
            try:
                if requests.get(endpoint, timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"moto_server did not answer on {endpoint}:\n{log.read_text()}")
            time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Bucket:
    """A bucket of the moto server, seen from outside Kaohe (boto3, as an operator would)."""

    name: str
    endpoint: str
    client: object

    def keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)

    def sha256(self, key: str) -> str:
        return hashlib.sha256(self.get(key)).hexdigest()

    def hashes(self) -> dict[str, str]:
        return {key: self.sha256(key) for key in self.keys()}

    def storage(self) -> dict:
        """STORAGES["default"] for this bucket, as kaohe.settings builds it."""
        return storage_settings(bucket=self.name, endpoint_url=self.endpoint,
                                access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION)

    def env(self) -> dict[str, str]:
        """The environment of a `kaohe` process that stores its files in this bucket."""
        return {"KAOHE_S3_BUCKET": self.name, "KAOHE_S3_ENDPOINT_URL": self.endpoint,
                "KAOHE_S3_ACCESS_KEY_ID": ACCESS_KEY, "KAOHE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
                "KAOHE_S3_REGION": REGION}


def new_bucket(endpoint: str) -> Bucket:
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=REGION)
    name = f"kaohe-test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    return Bucket(name, endpoint, client)


@pytest.fixture(name="s3")
def s3_fixture(settings, moto_server) -> Bucket:
    """An empty bucket that is the default storage for the test."""
    bucket = new_bucket(moto_server)
    settings.STORAGES = {**settings.STORAGES, "default": bucket.storage()}
    return bucket


@pytest.fixture(name="never_spooled")
def never_spooled_fixture(monkeypatch):
    """Fail if django-storages' S3File copies an object into its spooled temporary file (in
    memory up to max_memory_size): downloads must stream the object's body."""

    def spool(self):
        raise AssertionError(f"{self.name} was spooled whole")

    monkeypatch.setattr(S3File, "file", property(spool, S3File._set_file))
