"""KAOHE_S3_* turn the default storage into an S3 bucket; without them nothing changes.

The settings are loaded in a subprocess with a production-like environment, as a real
installation loads them."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SHOW = """
import json
from django.conf import settings
from django.core.files.storage import storages
default = settings.STORAGES["default"]
options = {k: v for k, v in default["OPTIONS"].items() if k != "transfer_config"}
print(json.dumps({"backend": default["BACKEND"], "options": options,
                  "class": type(storages["default"]).__name__,
                  "staging": str(settings.KAOHE_UPLOAD_STAGING_DIR)}))
"""


def _settings(tmp_path, **extra):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("KAOHE_", "AWS_", "DJANGO_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "kaohe.settings", "SECRET_KEY": "x" * 50,
                "AUDIT_KEY": "y" * 48, "KAOHE_DATA_DIR": str(tmp_path / "data"), **extra})
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", "import django; django.setup()\n" + SHOW], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=60, check=False)
    return result


def test_without_a_bucket_files_stay_in_the_data_directory(tmp_path):
    result = _settings(tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["backend"] == "django.core.files.storage.FileSystemStorage"
    assert shown["options"] == {"location": str(tmp_path / "data" / "files"), "base_url": None}
    assert shown["staging"] == str(tmp_path / "data" / "uploads" / "partial")


def test_a_bucket_makes_the_default_storage_s3_with_private_objects(tmp_path):
    secret = tmp_path / "s3-secret"
    secret.write_text("from-a-file\n", encoding="utf-8")
    result = _settings(tmp_path, KAOHE_S3_BUCKET="kaohe-files",
                       KAOHE_S3_ENDPOINT_URL="https://minio.example.cn:9000",
                       KAOHE_S3_ACCESS_KEY_ID="kaohe", KAOHE_S3_SECRET_ACCESS_KEY_FILE=str(secret),
                       KAOHE_S3_REGION="cn-north-1", KAOHE_UPLOAD_STAGING_DIR="/srv/shared/staging")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["backend"] == "storages.backends.s3.S3Storage" and shown["class"] == "S3Storage"
    assert shown["options"] == {
        "bucket_name": "kaohe-files", "endpoint_url": "https://minio.example.cn:9000",
        "addressing_style": "path", "access_key": "kaohe", "secret_key": "from-a-file",
        "region_name": "cn-north-1", "default_acl": "private", "file_overwrite": False,
        "querystring_auth": True, "max_memory_size": 16 * 1024 * 1024}
    assert shown["staging"] == "/srv/shared/staging"


def test_an_unknown_addressing_style_stops_the_server(tmp_path):
    result = _settings(tmp_path, KAOHE_S3_BUCKET="b", KAOHE_S3_ADDRESSING_STYLE="dns")
    assert result.returncode != 0 and "KAOHE_S3_ADDRESSING_STYLE" in result.stderr
