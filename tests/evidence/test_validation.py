"""Files are judged by their content, archives by their limits, and names stay labels."""

import re
import zipfile
from urllib.parse import unquote

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kaohe.audit.models import AuditEntry
from kaohe.evidence import filetypes, services
from kaohe.evidence.models import Evidence, EvidenceKind, Upload
from kaohe.evidence.services import evidence_add_link, partial_root
from kaohe.evidence.tus import parse_metadata
from kaohe.lib import storage
from tests.evidence.factories import (
    SAMPLES,
    exe_bytes,
    jpeg_bytes,
    media_bytes,
    ole_bytes,
    ooxml_bytes,
    pdf_bytes,
    png_bytes,
    tus_create,
    tus_patch,
    tus_upload,
    upload_id,
    zip_bytes,
)

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def unit_client(client, personas):
    client.force_login(personas["unit"])
    return client


def _files(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _assert_refused(created, last, *, reason_contains=""):
    assert last.status_code == 422
    message = last.content.decode()
    assert message and unquote(last["Kaohe-Error"]) == message
    assert reason_contains in message
    upload = Upload.objects.get(pk=upload_id(created["Location"]))
    assert upload.rejected_reason == message
    assert upload.completed_at is None
    assert not Evidence.objects.exists()
    assert list(storage.walk("evidence")) == []
    assert _files(partial_root()) == []
    entry = AuditEntry.objects.get(action="evidence.upload.refused")
    assert entry.success is False
    return upload


# Accepted types ---------------------------------------------------------------------------

@pytest.mark.parametrize("ext", sorted(SAMPLES))
def test_every_allowed_type_is_accepted_by_content(unit_client, ext):
    make, content_type = SAMPLES[ext]
    _created, last = tus_upload(unit_client, make(), name=f"材料.{ext.upper()}")
    assert last.status_code == 204, last.content.decode()
    evidence = Evidence.objects.get()
    assert evidence.content_type == content_type
    assert evidence.original_name == f"材料.{ext.upper()}"


@pytest.mark.parametrize("brand, ext", [
    (b"mp41", "mp4"), (b"mp42", "mp4"), (b"avc1", "mp4"), (b"iso5", "mp4"), (b"XAVC", "mp4"),
    (b"qt  ", "mov"),
])
def test_videos_are_told_apart_by_their_brand(unit_client, brand, ext):
    _created, last = tus_upload(unit_client, media_bytes(brand), name=f"视频.{ext}")
    assert last.status_code == 204, last.content.decode()


# Content that does not match the name -----------------------------------------------------

@pytest.mark.parametrize("name, data", [
    ("扫描件.pdf", png_bytes()),
    ("会议纪要.docx", "这是一份纯文本，不是 Word 文档。".encode() * 20),
    ("照片.jpg", exe_bytes()),
    ("照片.png", pdf_bytes()),
    ("表格.xlsx", ooxml_bytes("docx")),
    ("报告.docx", zip_bytes({"a.txt": b"plain zip"})),
    ("报告.docx", ooxml_bytes(
        "docx", main_type="application/vnd.ms-word.document.macroEnabled.main+xml")),
    ("表格.xls", ole_bytes("WordDocument")),
    ("报告.doc", ole_bytes("SummaryInformation")),  # an OLE file, but no Word document
    ("视频.mp4", media_bytes(b"qt  ")),
    ("视频.mp4", media_bytes(b"heic")),  # a HEIF picture
    ("材料.zip", b"PK\x03\x04" + b"\x00" * 100),  # a broken archive
    ("视频.mov", jpeg_bytes()),
])
def test_content_that_does_not_match_its_extension_is_refused(unit_client, name, data):
    created, last = tus_upload(unit_client, data, name=name)
    _assert_refused(created, last)


def test_the_refusal_names_what_was_found(unit_client):
    created, last = tus_upload(unit_client, png_bytes(), name="扫描件.pdf")
    _assert_refused(created, last, reason_contains="与扩展名“.pdf”不符")


def test_a_refused_upload_stays_refused(unit_client):
    created, _last = tus_upload(unit_client, exe_bytes(), name="照片.jpg")
    head = unit_client.head(created["Location"], headers={"Tus-Resumable": "1.0.0"})
    assert head.status_code == 410
    assert "无法识别" in unquote(head["Kaohe-Error"])
    assert tus_patch(unit_client, created["Location"], b"", len(exe_bytes())).status_code == 410


@pytest.mark.parametrize("name", ["病毒.exe", "页面.html", "脚本.svg", "无扩展名", "说明.txt",
                                  ".pdf", "报告.pdf.exe"])
def test_names_outside_the_list_are_refused_before_any_byte(unit_client, name):
    response = tus_create(unit_client, name=name, length=100)
    assert response.status_code == 415
    assert "允许的类型" in response.content.decode()
    assert not Upload.objects.exists()


# Archive limits ---------------------------------------------------------------------------

def test_a_zip_with_too_many_entries_is_refused(unit_client):
    data = zip_bytes({f"{i}.txt": b"" for i in range(10_001)}, compression=zipfile.ZIP_STORED)
    created, last = tus_upload(unit_client, data, name="材料.zip", chunk=len(data))
    _assert_refused(created, last, reason_contains="文件过多")


def test_a_zip_that_unpacks_to_far_more_than_it_weighs_is_refused(unit_client):
    data = zip_bytes({"zeros.bin": bytes(50 * 1024 * 1024)})
    assert len(data) < 100_000
    created, last = tus_upload(unit_client, data, name="材料.zip", chunk=len(data))
    _assert_refused(created, last, reason_contains="疑似压缩炸弹")


def test_a_zip_over_the_unpacked_size_limit_is_refused(unit_client, settings):
    settings.EVIDENCE_ZIP_MAX_UNPACKED_BYTES = 1024 * 1024
    data = zip_bytes({"a.bin": b"x" * 600_000, "b.bin": b"y" * 600_000},
                     compression=zipfile.ZIP_STORED)
    created, last = tus_upload(unit_client, data, name="材料.zip", chunk=len(data))
    _assert_refused(created, last, reason_contains="解压后过大")


def test_an_office_document_is_held_to_the_archive_limits_too(unit_client, settings):
    settings.EVIDENCE_ZIP_MAX_ENTRIES = 2
    created, last = tus_upload(unit_client, ooxml_bytes("docx"), name="报告.docx")
    _assert_refused(created, last, reason_contains="文件过多")


# Names are labels, never paths ------------------------------------------------------------

_TRICKY = st.sampled_from([
    "", "../", "../../../etc/", "/etc/passwd", "C:\\Windows\\", "..\\..\\", "\x00", "a\x00b",
    "\u202e", "\u202egpj.", "\u200f", "\r\n", "~", "%2e%2e%2f", "CON", " ", ".", "\ufeff",
])
_NAMES = st.one_of(
    st.text(max_size=300),
    st.builds(lambda a, b, c, ext: a + b + c + ext, _TRICKY, st.text(max_size=60), _TRICKY,
              st.sampled_from([".pdf", ".PDF", ".pdf ", ".pdf.", "", ".exe"])),
    st.builds(lambda n, ext: "名" * n + ext, st.integers(0, 3000), st.just(".pdf")),
)


@hypothesis_settings(max_examples=80, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAMES)
def test_any_file_name_completes_or_is_refused_cleanly(unit_client, data_dir, name):
    data = pdf_bytes(300)
    created = tus_create(unit_client, name=name, length=len(data))
    assert created.status_code in (201, 400, 415)
    if created.status_code == 201:
        last = tus_patch(unit_client, created["Location"], data, 0)
        assert last.status_code in (204, 422)
        upload = Upload.objects.get(pk=upload_id(created["Location"]))
        label = upload.original_name
        assert "/" not in label and "\\" not in label
        assert len(label) <= filetypes.LABEL_MAX
        assert not any(ch in label for ch in "\x00\r\n\u202e\u200f")
        if last.status_code == 204:
            evidence = Evidence.objects.get(pk=upload.pk)
            assert evidence.original_name == label
            assert re.fullmatch(rf"evidence/\d{{4}}/{_UUID}", evidence.storage_name)
            assert evidence.storage_name in storage.walk("evidence")
    # Whatever the name, nothing was written anywhere but the two folders, under our names.
    for path in data_dir.rglob("*"):
        if path.is_file():
            relative = path.relative_to(data_dir).as_posix()
            assert re.fullmatch(rf"files/evidence/\d{{4}}/{_UUID}|uploads/partial/{_UUID}\.part",
                                relative), relative


@pytest.mark.parametrize("name, label", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\张三\\Desktop\\总结.docx", "总结.docx"),
    ("报告\u202efdp.exe", "报告fdp.exe"),
    ("  扶贫\t\n材料 .pdf  ", "扶贫 材料 .pdf"),
    ("a\x00b.pdf", "ab.pdf"),
    ("x" * 500 + ".pdf", "x" * (filetypes.LABEL_MAX - 4) + ".pdf"),
])
def test_clean_label(name, label):
    assert filetypes.clean_label(name) == label


def test_metadata_parsing_follows_the_tus_format():
    assert parse_metadata("filename 5oql5ZGKLnBkZg==,filetype YXBwbGljYXRpb24vcGRm,flag") == {
        "filename": "报告.pdf", "filetype": "application/pdf", "flag": ""}
    for bad in ["filename a b", "filename !!!", "filename /w==", "a eA==,a eA==",
                "k " + "eA==" * 3000]:
        with pytest.raises(ValueError):
            parse_metadata(bad)


# Links ------------------------------------------------------------------------------------

def test_a_link_to_a_news_report_becomes_evidence(world, personas):
    evidence = evidence_add_link(round=world["round"], owner=world["unit_a"],
                                 url="https://www.example.cn/news/2017/1.html",
                                 title=" 人民日报：\u202e定点扶贫纪实 ", actor=personas["unit"])
    evidence.refresh_from_db()
    assert evidence.kind == EvidenceKind.LINK
    assert evidence.original_name == "人民日报：定点扶贫纪实"
    assert (evidence.unit, evidence.province) == (world["unit_a"], None)
    assert AuditEntry.objects.filter(action="evidence.link.added",
                                     target_id=str(evidence.pk)).exists()
    province_link = evidence_add_link(round=world["round"], owner=world["province_a"],
                                      url="http://example.cn/a", title="",
                                      actor=personas["province"])
    assert province_link.province == world["province_a"]
    assert province_link.original_name == "http://example.cn/a"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.cn/a", "file:///etc/passwd",
                                 "data:text/html,x", "example.cn", "https://" + "a" * 1000 + ".cn"])
def test_only_http_and_https_links_are_accepted(world, personas, url):
    with pytest.raises(ValidationError):
        evidence_add_link(round=world["round"], owner=world["unit_a"], url=url, title="新闻",
                          actor=personas["unit"])
    assert not Evidence.objects.exists()


def test_every_allowed_extension_has_a_sample():
    exts = set(filetypes.ALLOWED_EXTENSIONS)
    assert exts == set(SAMPLES)
    assert not exts & {"exe", "html", "svg", "txt", "js"}


def test_a_nul_in_the_file_name_or_metadata_is_dropped_not_stored(personas):
    """PostgreSQL cannot store NUL in text or JSON: the name and metadata are cleaned first
    (found by the property test on PostgreSQL)."""
    upload = services.upload_create(user=personas["unit"], length=10, filename="\x00a.pdf",
                                    metadata={"filename": "\x00a.pdf", "note\x00": "x\x00y"})
    upload.refresh_from_db()
    assert "\x00" not in upload.original_name
    assert upload.metadata == {"filename": "a.pdf", "note": "xy"}
