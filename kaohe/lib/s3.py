"""The default storage on S3-compatible object storage (MinIO, Ceph, a cloud's OSS).

kaohe.settings uses it when KAOHE_S3_BUCKET is set; the tests point it at a moto server.
Files are private: served only through Kaohe's views, which check access, so objects are
written with a private ACL and the storage is never asked for a URL.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

MiB = 1024 * 1024


def storage_settings(*, bucket: str, endpoint_url: str = "", access_key: str = "",
                     secret_key: str = "", region: str = "",
                     addressing_style: str = "") -> dict[str, Any]:
    """STORAGES["default"] for django-storages' S3Storage; empty strings leave boto3's own
    defaults (its credential chain, its region, its addressing)."""
    if addressing_style not in ("", "auto", "path", "virtual"):
        raise ImproperlyConfigured(
            f"KAOHE_S3_ADDRESSING_STYLE must be auto, path or virtual, not {addressing_style!r}")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "default_acl": "private",
        # Names are chosen by Kaohe (ids); an existing object is never silently replaced.
        "file_overwrite": False,
        "querystring_auth": True,
        # S3File spools a file opened for reading; beyond this it goes to disk, not memory.
        # (Evidence downloads read the object's body as a stream: kaohe.lib.storage.)
        "max_memory_size": 16 * MiB,
        "transfer_config": _transfer_config(),
    }
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
        # MinIO, Ceph and most private installations answer bucket names in the path, not as
        # host names (which need wildcard DNS).
        options["addressing_style"] = addressing_style or "path"
    elif addressing_style:
        options["addressing_style"] = addressing_style
    if access_key:
        options["access_key"] = access_key
    if secret_key:
        options["secret_key"] = secret_key
    if region:
        options["region_name"] = region
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def _transfer_config() -> Any:
    """Parts of 5 MiB (S3's smallest), two sent at a time and two read ahead: measured with
    `make bench` (P3, a 1 GiB upload into a moto bucket, after a warm-up upload of 40 MiB),
    the worker's memory grew by 42 MiB at the peak, against 69 MiB with 8 MiB parts two at
    a time, at the same speed (the bucket's server sets it). A 4 GiB file takes 820 of the
    10,000 parts S3 allows; s3transfer widens the parts of a larger one."""
    from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]

    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=2)
    config.max_in_memory_upload_chunks = 2
    return config
