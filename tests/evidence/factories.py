"""Sample files of every allowed type, a tus client over Django's test client, and evidence
made directly (file and row) for tests that are not about uploading.
"""

import base64
import hashlib
import io
import struct
import uuid
import zipfile
import zlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from kaohe.accounts.models import Role, User
from kaohe.evidence.models import Evidence, EvidenceKind, Upload
from tests.conftest import make_user

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"


# Sample files -------------------------------------------------------------------------------

def pdf_bytes(size: int = 2000) -> bytes:
    body = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    return body + b"%" + b"x" * max(0, size - len(body) - 8) + b"\n%%EOF\n"


def png_bytes() -> bytes:
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\xff\x00" * 2)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 \
        + b"\xff\xd9"


def exe_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"PE\x00\x00"


def media_bytes(brand: bytes = b"isom") -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"mp41"
    return ftyp + struct.pack(">I", 1008) + b"mdat" + bytes(range(250)) * 4


def zip_bytes(files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_OOXML_PARTS = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}


def ooxml_bytes(kind: str, *, main_type: str | None = None) -> bytes:
    part, suffix = _OOXML_PARTS[kind]
    main_type = main_type or f"application/vnd.openxmlformats-officedocument.{suffix}"
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_type}"/></Types>'
    ).encode()
    return zip_bytes({"[Content_Types].xml": content_types, "_rels/.rels": b"<Relationships/>",
                      part: b"<root/>"})


def ole_bytes(stream_name: str = "WordDocument") -> bytes:
    """A minimal compound file: header, one FAT sector, one directory sector."""
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 44, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int) -> bytes:
        raw = (name + "\x00").encode("utf-16-le")
        data = bytearray(128)
        data[: len(raw)] = raw
        struct.pack_into("<HBB", data, 64, len(raw), kind, 1)
        struct.pack_into("<III", data, 68, free, free, 1 if kind == 5 else free)
        struct.pack_into("<I", data, 116, end)
        return bytes(data)

    directory = entry("Root Entry", 5) + entry(stream_name, 2) + bytes(256)
    return bytes(header) + fat + directory


SAMPLES = {
    "pdf": (pdf_bytes, "application/pdf"),
    "png": (png_bytes, "image/png"),
    "jpg": (jpeg_bytes, "image/jpeg"),
    "jpeg": (jpeg_bytes, "image/jpeg"),
    "doc": (ole_bytes, "application/msword"),
    "xls": (lambda: ole_bytes("Workbook"), "application/vnd.ms-excel"),
    "docx": (lambda: ooxml_bytes("docx"),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (lambda: ooxml_bytes("xlsx"),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (lambda: ooxml_bytes("pptx"),
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "mp4": (media_bytes, "video/mp4"),
    "mov": (lambda: media_bytes(b"qt  "), "video/quicktime"),
    "zip": (lambda: zip_bytes({"照片/一.txt": b"hello", "b.txt": b"world"}), "application/zip"),
}


# tus over Django's test client ------------------------------------------------------------

def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}"
                    for key, value in metadata.items())


def tus_create(client, *, name: str, length: int, **headers):
    return client.post(reverse("evidence:uploads"), headers={
        **TUS, "Upload-Length": str(length),
        "Upload-Metadata": encode_metadata({"filename": name, "filetype": "image/png"}),
        **headers,
    })


def tus_patch(client, location: str, data: bytes, offset: int, **headers):
    # As a real client does, even for an empty body (the test client would leave them out).
    return client.patch(location, data=data, content_type=OFFSET_STREAM, headers={
        **TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM,
        "Content-Length": str(len(data)), **headers,
    })


def tus_upload(client, data: bytes, *, name: str, chunk: int = 1000):
    """Create and send in chunks; returns (creation response, last PATCH response)."""
    created = tus_create(client, name=name, length=len(data))
    assert created.status_code == 201, created.content.decode()
    location = created["Location"]
    response = None
    for offset in range(0, len(data), chunk):
        response = tus_patch(client, location, data[offset:offset + chunk], offset)
        if response.status_code != 204:
            break
    return created, response


def upload_id(location: str) -> uuid.UUID:
    return uuid.UUID(location.rstrip("/").rsplit("/", 1)[-1])


# A data directory of the test's own -------------------------------------------------------

def use_data_dir(settings, data_dir):
    """Use data_dir as the installation's data directory for the test, laid out as
    kaohe.settings does: the default storage in files/, uploads in progress in
    uploads/partial/ (they do not follow a changed DATA_DIR by themselves)."""
    settings.DATA_DIR = data_dir
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(data_dir / "files"), "base_url": None}}}
    settings.KAOHE_UPLOAD_STAGING_DIR = data_dir / "uploads" / "partial"
    return data_dir


# Evidence made directly -------------------------------------------------------------------

def evidence_file(*, round, uploaded_by, unit=None, province=None, data: bytes | None = None,
                  name: str = "现场照片.png", content_type: str = "image/png") -> Evidence:
    """An evidence row with its file in place, as a finished upload leaves it."""
    data = png_bytes() if data is None else data
    evidence_id = uuid.uuid4()
    storage_name = default_storage.save(f"evidence/{timezone.localdate().year}/{evidence_id}",
                                        ContentFile(data))
    return Evidence.objects.create(
        id=evidence_id, round=round, unit=unit, province=province, kind=EvidenceKind.FILE,
        original_name=name, storage_name=storage_name, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), content_type=content_type,
        uploaded_by=uploaded_by,
    )


# The usernames tests/conftest.py gives each persona.
USERNAMES = {
    "office": "office", "working_group": "wg", "leading_group": "leader", "org_department": "org",
    "military_inspector": "mil", "lead_reviewer": "lead_a", "lead_reviewer_b": "lead_b",
    "unit": "unit_a", "unit_b": "unit_b", "province": "prov_a", "province_b": "prov_b",
    "system_admin": "sys", "security_admin": "sec", "auditor": "aud",
}
# Whose evidence each persona can read (for the matrix); admins read none, so any will do.
_OWNER_OF_VISIBLE = {
    "military_inspector": "army", "lead_reviewer_b": "unit_b", "unit_b": "unit_b",
    "province": "province_a", "province_b": "province_b",
}


def _uploader(world, owner: str) -> User:
    """A user of world[owner] (a unit or a province): a persona if there is one."""
    target = world[owner]
    scope = {"province": target} if owner.startswith("province") else {"unit": target}
    role = Role.PROVINCE if owner.startswith("province") else Role.UNIT
    return (User.objects.filter(role=role, **scope).order_by("pk").first()
            or make_user(f"uploader_{owner}", role, **scope))


def evidence_of(world, owner: str) -> Evidence:
    """A PNG evidence file of world[owner], uploaded by one of its users."""
    user = _uploader(world, owner)
    return evidence_file(round=world["round"], uploaded_by=user, unit=user.unit,
                         province=user.province)


def submitted_evidence_of(world, owner: str) -> Evidence:
    """An evidence file of world[owner] as reviewers receive it: a unit's attached to the
    unit's self-report, which stands submitted; a province's attached to its (draft)
    summary report on a unit working there, which the office, the working group and the
    leading group read. A file attached to nothing, or a unit's attached to a draft only,
    is its owner's own (kaohe.evidence.selectors)."""
    from kaohe.directory.models import Pairing
    from kaohe.submissions.models import (
        EvidenceAttachment,
        ProvincialAttachment,
        ProvincialAttachmentKind,
        ReportStatus,
        SelfReport,
    )
    from kaohe.submissions.services import provincial_report_for

    evidence = evidence_of(world, owner)
    if evidence.unit is None:
        pairing = Pairing.objects.filter(round=world["round"],
                                         county__province=evidence.province).first()
        report = provincial_report_for(round=world["round"], province=evidence.province,
                                       unit=pairing.unit)
        ProvincialAttachment.objects.create(report=report, kind=ProvincialAttachmentKind.EVIDENCE,
                                            evidence=evidence)
        return evidence
    report, _created = SelfReport.objects.get_or_create(round=world["round"], unit=evidence.unit)
    SelfReport.objects.filter(pk=report.pk).update(
        status=ReportStatus.SUBMITTED, submitted_at=timezone.now(),
        submitted_by=evidence.uploaded_by)
    EvidenceAttachment.objects.create(report=report,
                                      indicator=world["round"].indicators.get(number=4),
                                      evidence=evidence)
    return evidence


def visible_evidence_pk(world, persona: str):
    return submitted_evidence_of(world, _OWNER_OF_VISIBLE.get(persona, "unit_a")).pk


def own_upload_pk(world, persona: str):
    """An upload made by the persona if it can upload (unit, province), else by unit_a's user."""
    owner = User.objects.filter(username=USERNAMES[persona]).first()
    if owner is None or owner.role not in {Role.UNIT, Role.PROVINCE}:
        owner = _uploader(world, "unit_a")
    return Upload.objects.create(
        round=world["round"], created_by=owner, unit_id=owner.unit_id,
        province_id=owner.province_id, original_name="a.pdf", length=10,
    ).pk
