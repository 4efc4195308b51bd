"""Zip bombs that lie about their size (issue 15, item 6).

A .docx whose headers declare 1,000 bytes but that unpacks to 500 MB passed the evidence type
check, which added up the declared sizes. The check now counts the bytes it really
decompresses and stops at the limit.
"""

import functools
import io
import zipfile

import pytest

from kaohe.evidence import filetypes
from kaohe.evidence.models import Evidence
from tests.evidence.factories import ooxml_bytes, tus_upload
from tests.lib.archive_samples import MiB, declare_size, zeros, zip_with


@functools.cache
def _lying(kind: str, real_bytes: int) -> bytes:
    """A valid document (or plain ZIP) plus a member declaring 1,000 bytes."""
    if kind == "zip":
        members = {"说明.txt": "照片见附件".encode()}
    else:
        with zipfile.ZipFile(io.BytesIO(ooxml_bytes(kind))) as sample:
            members = {info.filename: sample.read(info) for info in sample.infolist()}
    members["media/image1.png"] = zeros(real_bytes)
    return declare_size(zip_with(members), "media/image1.png", 1000)


@pytest.fixture
def unit_client(client, personas):
    client.force_login(personas["unit"])
    return client


def test_a_docx_declaring_1000_bytes_that_unpacks_to_500_mb_is_refused(unit_client):
    data = _lying("docx", 500 * MiB)
    assert len(data) < 1 * MiB
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sum(i.file_size for i in archive.infolist()) < 10_000  # the lie
    _created, last = tus_upload(unit_client, data, name="会议纪要.docx", chunk=len(data))
    assert last.status_code == 422
    message = last.content.decode()
    assert "media/image1.png" in message and "1000" in message
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx", "zip"])
def test_every_zip_based_type_counts_what_it_really_unpacks(tmp_path, kind):
    path = tmp_path / f"材料.{kind}"
    path.write_bytes(_lying(kind, 64 * MiB))
    with pytest.raises(filetypes.Refused, match="声明"):
        filetypes.detect(path, label=path.name)


def test_an_honest_archive_over_the_real_unpacked_limit_is_refused(tmp_path, settings):
    settings.EVIDENCE_ZIP_MAX_UNPACKED_BYTES = 8 * MiB
    settings.EVIDENCE_ZIP_MAX_RATIO = 10_000
    path = tmp_path / "材料.zip"
    path.write_bytes(zip_with({f"{i}.bin": zeros(3 * MiB) for i in range(4)}))
    with pytest.raises(filetypes.Refused, match=r"解压后过大.*8 MB"):
        filetypes.detect(path, label=path.name)


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx", "zip"])
def test_honest_documents_still_pass(tmp_path, kind):
    path = tmp_path / f"材料.{kind}"
    data = ooxml_bytes(kind) if kind != "zip" else zip_with({"a.txt": b"hello"})
    path.write_bytes(data)
    assert filetypes.detect(path, label=path.name).key == kind
