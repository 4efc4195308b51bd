"""Who reads which evidence, how files are handed out, and the integrity check."""

from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.evidence.models import Evidence
from kaohe.evidence.selectors import evidence_visible_to
from kaohe.evidence.services import evidence_add_link, partial_root, verify_evidence_files
from tests.evidence.factories import evidence_file, pdf_bytes

OWNERS = ("unit_a", "unit_b", "army", "province_a", "province_b")
EVERYTHING = set(OWNERS)
# persona -> whose evidence it reads. Lead reviewers read their categories' units only.
VISIBLE = {
    "office": EVERYTHING, "working_group": EVERYTHING, "leading_group": EVERYTHING,
    "org_department": set(),  # it checks the cadres' list, no evidence
    "lead_reviewer": {"unit_a"}, "lead_reviewer_b": {"unit_b"},
    "military_inspector": {"army"},
    "unit": {"unit_a"}, "unit_b": {"unit_b"},
    "province": {"province_a"}, "province_b": {"province_b"},
    "system_admin": set(), "security_admin": set(), "auditor": set(),
}


def _download(client, evidence, view="download"):
    response = client.get(reverse(f"evidence:{view}", kwargs={"pk": evidence.pk}))
    body = b"".join(response.streaming_content) if response.streaming else b""
    return response, body


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_role_sees_exactly_its_scope(world_with_evidence, personas, persona):
    evidence = world_with_evidence["evidence"]
    expected = {evidence[owner].pk for owner in VISIBLE[persona]}
    assert set(evidence_visible_to(personas[persona]).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_downloads_answer_200_in_scope_and_404_outside(client, world_with_evidence, personas,
                                                       persona):
    client.force_login(personas[persona])
    for owner, evidence in world_with_evidence["evidence"].items():
        response, _body = _download(client, evidence)
        assert response.status_code == (200 if owner in VISIBLE[persona] else 404), owner


def test_download_is_an_attachment_that_is_never_sniffed_or_cached(client, world, personas):
    data = pdf_bytes(5000)
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                             unit=world["unit_a"], data=data, name="2017年 总结\"报告\".pdf",
                             content_type="application/pdf")
    client.force_login(personas["unit"])  # attached to nothing yet: its unit's own
    response, body = _download(client, evidence)
    assert body == data
    assert response["Content-Disposition"] == (
        "attachment; filename*=UTF-8''" + quote("2017年 总结\"报告\".pdf", safe=""))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == "5000"
    entry = AuditEntry.objects.get(action="evidence.downloaded")
    assert entry.actor == personas["unit"]
    assert entry.target_id == str(evidence.pk)


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "application/pdf"])
def test_preview_is_inline_and_sandboxed(client, world, personas, content_type):
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                             unit=world["unit_a"], content_type=content_type)
    client.force_login(personas["unit"])
    response, body = _download(client, evidence, "preview")
    assert response.status_code == 200
    with default_storage.open(evidence.storage_name) as stored:
        assert body == stored.read()
    assert response["Content-Disposition"].startswith("inline; filename*=UTF-8''")
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Type"] == content_type
    assert AuditEntry.objects.filter(action="evidence.previewed",
                                     target_id=str(evidence.pk)).count() == 1


@pytest.mark.parametrize("content_type", [
    "application/zip", "video/mp4", "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
])
def test_other_types_have_no_preview(client, world, personas, content_type):
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                             unit=world["unit_a"], content_type=content_type)
    client.force_login(personas["unit"])
    assert _download(client, evidence, "preview")[0].status_code == 404
    assert _download(client, evidence)[0].status_code == 200
    assert not AuditEntry.objects.filter(action="evidence.previewed").exists()


def test_a_preview_outside_the_scope_is_404(client, world_with_evidence, personas):
    client.force_login(personas["lead_reviewer"])
    evidence = world_with_evidence["evidence"]
    assert _download(client, evidence["unit_a"], "preview")[0].status_code == 200
    for owner in ("unit_b", "army", "province_a"):
        assert _download(client, evidence[owner], "preview")[0].status_code == 404, owner


def test_link_evidence_has_no_file_to_download(client, world, personas):
    link = evidence_add_link(round=world["round"], owner=world["unit_a"],
                             url="https://example.cn/news", title="报道", actor=personas["unit"])
    client.force_login(personas["unit"])
    assert _download(client, link)[0].status_code == 404
    assert _download(client, link, "preview")[0].status_code == 404


def test_a_missing_file_is_404_not_500(client, world, personas):
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                             unit=world["unit_a"])
    default_storage.delete(evidence.storage_name)
    client.force_login(personas["unit"])
    assert _download(client, evidence)[0].status_code == 404
    assert not AuditEntry.objects.filter(action="evidence.downloaded").exists()


def test_anonymous_users_are_sent_to_login(client, world, personas):
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                             unit=world["unit_a"])
    response = client.get(reverse("evidence:download", kwargs={"pk": evidence.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# The integrity check ----------------------------------------------------------------------

def test_verify_is_ok_when_every_file_matches(world_with_evidence):
    report = verify_evidence_files()
    assert report.ok
    assert report.checked == 5


def test_verify_reports_changed_missing_and_orphan_files(world_with_evidence):
    evidence = world_with_evidence["evidence"]
    changed = evidence["unit_a"].storage_name
    with default_storage.open(changed) as stored:
        content = bytearray(stored.read())
    content[20] ^= 0x01  # one bit
    default_storage.delete(changed)
    assert default_storage.save(changed, ContentFile(bytes(content))) == changed
    default_storage.delete(evidence["province_b"].storage_name)
    orphan = default_storage.save("evidence/2017/d3b07384-d113-4ec6-a5c4-1d8f3e2b6c9a",
                                  ContentFile(b"left behind"))
    partial_root().mkdir(parents=True, exist_ok=True)
    (partial_root() / "0b8a4c1e-9f7d-4a2b-8c3d-5e6f7a8b9c0d.part").write_bytes(b"x")

    report = verify_evidence_files()
    assert not report.ok
    assert report.checked == 5
    assert report.changed == [str(evidence["unit_a"].pk)]
    assert report.missing == [str(evidence["province_b"].pk)]
    assert report.orphans == [orphan]
    assert report.stray_partials == ["0b8a4c1e-9f7d-4a2b-8c3d-5e6f7a8b9c0d.part"]


def test_verify_ignores_links(world, personas):
    evidence_add_link(round=world["round"], owner=world["unit_a"], url="https://example.cn/a",
                      title="报道", actor=personas["unit"])
    report = verify_evidence_files()
    assert report.ok and report.checked == 0
    assert Evidence.objects.count() == 1
