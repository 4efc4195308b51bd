"""The documents framework: GB/T 9704 layout, the maker's mark, scope, audit, bulk exports,
and the office's own Word templates."""

import io
import zipfile
from datetime import datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from docx import Document
from docx.shared import Mm
from openpyxl import load_workbook
from pypdf import PdfReader

from kaohe.audit.models import AuditEntry
from kaohe.documents import services
from kaohe.documents.base import get_exporter
from kaohe.documents.docx_render import render_docx
from kaohe.documents.models import DocumentTemplate, Export, ExportStatus
from kaohe.documents.officialdoc import (
    Heading,
    Mark,
    OfficialDocument,
    Paragraph,
    Table,
    chinese_number,
)
from kaohe.documents.pdf_render import render_pdf
from kaohe.documents.starter import starter_template
from kaohe.lib import clock
from kaohe.outcomes.models import Feedback

MARK = Mark("张三", "office", timezone.make_aware(datetime(2018, 1, 30, 10, 5)), "K0000042")


def _doc(**kwargs):
    blocks = [Heading(1, "基本情况"), Paragraph("正文第一段。"), Heading(2, "组织"),
              Heading(3, "材料"), Heading(4, "细项"), Heading(2, "评议"), Heading(1, "建议"),
              Table(["序号", "单位"], [["1", "示例单位甲"]], caption="表1")]
    return OfficialDocument(title="关于考核情况的报告", recipient="国务院扶贫开发领导小组",
                            blocks=blocks, issuer="考核工作组", copy_to="中央组织部",
                            printed_by="国务院扶贫办", **kwargs)


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_chinese_numbers_for_headings():
    assert [chinese_number(n) for n in (1, 9, 10, 12, 20, 35)] == [
        "一", "九", "十", "十二", "二十", "三十五"]


def test_word_follows_gb_t_9704_page_setup_and_numbers_headings():
    data = render_docx(_doc(mark=MARK))
    document = Document(io.BytesIO(data))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [round(getattr(section, f"{side}_margin").mm) for side in
            ("top", "bottom", "left", "right")] == [37, 35, 28, 26]
    text = _docx_text(data)
    for numbered in ("一、基本情况", "（一）组织", "1.材料", "（1）细项", "（二）评议", "二、建议"):
        assert numbered in text
    title = next(p for p in document.paragraphs if p.text == "关于考核情况的报告")
    assert title.style.font.size.pt == 22
    east_asian = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    assert title.style.element.rPr.rFonts.get(east_asian) == "方正小标宋简体"
    body = next(p for p in document.paragraphs if p.text == "正文第一段。")
    assert body.style.font.size.pt == 16
    assert body.style.element.rPr.rFonts.get(east_asian) == "仿宋_GB2312"
    assert body.style.paragraph_format.line_spacing.pt == pytest.approx(28.95, abs=0.05)
    assert body.style.paragraph_format.first_line_indent.pt == 32  # two characters
    heading = next(p for p in document.paragraphs if p.text == "一、基本情况")
    assert heading.style.element.rPr.rFonts.get(east_asian) == "黑体"
    assert next(p for p in document.paragraphs if p.text == "（一）组织").style.name == (
        "KH Heading 2")
    # Page numbers in the footers of odd and even pages, copy-to and issuing lines.
    assert "PAGE" in section.footer._element.xml and "PAGE" in section.even_page_footer._element.xml
    assert "抄送：中央组织部。" in text and "国务院扶贫办" in text
    assert section.page_width > Mm(200)


def test_the_mark_is_in_every_header_and_the_properties_of_word():
    document = Document(io.BytesIO(render_docx(_doc(mark=MARK))))
    section = document.sections[0]
    for header in (section.header, section.even_page_header):
        assert "张三（office）" in header.paragraphs[0].text
        assert "K0000042" in header.paragraphs[0].text
    props = document.core_properties
    assert props.author == "张三" and props.identifier == "K0000042"
    assert "office" in props.keywords and "K0000042" in props.comments


def test_pdf_carries_the_mark_and_real_chinese_text():
    data = render_pdf(_doc(mark=MARK))
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.author == "张三"
    assert "K0000042" in reader.metadata.subject or "K0000042" in str(reader.metadata)
    text = _pdf_text(data)
    assert "关于考核情况的报告" in text and "一、基本情况" in text
    assert "K0000042" in text  # the running head on every page
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (
        210, 297)
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    # The Chinese is set in an installed CJK font, not a fallback box (tofu): a face of
    # kaohe.documents.fonts (named by its role) or Noto CJK.
    assert any("CJK" in name or "KH-Fangsong" in name for name in fonts), fonts


def test_a_public_document_has_no_mark():
    data = render_docx(_doc(classification=""))
    document = Document(io.BytesIO(data))
    assert document.sections[0].header.paragraphs[0].text == ""
    assert "内部资料" not in _docx_text(data)


# Feedback letters ----------------------------------------------------------------------


def test_a_unit_downloads_its_own_letter_after_release_with_mark_and_audit(
        released, personas, login):
    client = login(personas["unit_b"])
    feedback = Feedback.objects.get(unit__code="B001")
    url = reverse("documents:make", args=["feedback_letter", feedback.pk, "docx"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    text = _docx_text(response.content)
    assert "较差" in text and "帮扶资金到位慢" in text and feedback.unit.name in text
    export = Export.objects.get(identifier="feedback_letter")
    header = Document(io.BytesIO(response.content)).sections[0].header.paragraphs[0].text
    assert "unit_b" in header and export.code in header
    entry = AuditEntry.objects.filter(action="document.export").latest("pk")
    assert entry.actor_id == personas["unit_b"].pk
    assert entry.data["code"] == export.code and entry.data["sha256"] == export.sha256


def test_a_unit_gets_404_for_another_units_letter_and_before_release(
        approved, personas, login):
    from kaohe.outcomes import services as outcomes

    outcomes.feedback_prepare(result_set=approved, actor=personas["office"])
    own = Feedback.objects.get(unit__code="B001")
    client = login(personas["unit_b"])
    url = reverse("documents:make", args=["feedback_letter", own.pk, "pdf"])
    assert client.get(url).status_code == 404  # not released yet
    outcomes.release(result_set=approved, actor=personas["office"])
    assert client.get(url).status_code == 200
    other = Feedback.objects.get(unit__code="A001")
    assert client.get(reverse("documents:make", args=["feedback_letter", other.pk, "pdf"])
                      ).status_code == 404
    assert client.get(reverse("documents:make", args=["circular", "2017", "docx"])
                      ).status_code == 404
    assert Export.objects.filter(made_by=personas["unit_b"], status="done").count() == 1


def test_the_documents_page_offers_each_role_only_its_own(released, personas, login):
    page = login(personas["unit_b"]).get(reverse("documents:index")).content.decode()
    assert "考核结果反馈函" in page and "考核结果通报" not in page and "综合评议报告" not in page
    office = login(personas["office"]).get(reverse("documents:index")).content.decode()
    for name in ("考核结果反馈函（全部）", "考核结果通报", "综合评议报告", "考核结果名单"):
        assert name in office
    assert login(personas["auditor"]).get(reverse("documents:index")).status_code == 404


def test_the_circular_is_public_and_names_the_units_by_grade(released, personas, login, world):
    response = login(personas["office"]).get(
        reverse("documents:make", args=["circular", "2017", "pdf"]))
    text = _pdf_text(response.content)
    # With two ranked units none reaches the top 10%: unit_b is 较差, unit_a 一般.
    assert "通报" in text and "考核结果为“较差”的单位\n测试单位乙。" in text
    assert world["unit_a"].name not in text and "其余单位考核结果为“一般”" in text
    assert "内部资料" not in text and "office" not in text
    assert PdfReader(io.BytesIO(response.content)).metadata.author in (None, "")


def test_the_list_for_the_organization_department_in_excel(released, personas, login, world):
    response = login(personas["office"]).get(
        reverse("documents:make", args=["org_department_list", "2017", "xlsx"]))
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook.active.values)
    assert rows[0] == ("序号", "单位编码", "单位名称", "类别", "考核等次")
    assert {(r[1], r[4]) for r in rows[1:]} == {("A001", "一般"), ("B001", "较差")}
    export = Export.objects.get(identifier="org_department_list")
    assert workbook.properties.identifier == export.code
    assert "office" in workbook.active.oddHeader.center.text


# Bulk exports ----------------------------------------------------------------------------


def test_all_letters_as_one_zip_in_the_background(released, personas, login, world,
                                                  django_capture_on_commit_callbacks):
    client = login(personas["office"])
    url = reverse("documents:make", args=["feedback_letters", "2017", "docx"])
    assert client.get(url).status_code == 404  # a bulk export is started by POST only
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    export = Export.objects.get(identifier="feedback_letters")
    assert export.status == ExportStatus.DONE and (export.progress, export.total) == (2, 2)
    assert export.expires_at > clock.now()
    page = client.get(reverse("documents:index")).content.decode()
    assert export.code in page and reverse("documents:export_download", args=[export.pk]) in page
    download = client.get(reverse("documents:export_download", args=[export.pk]))
    archive = zipfile.ZipFile(io.BytesIO(download.getvalue()))
    names = sorted(archive.namelist())
    assert [n.split("-")[0] for n in names] == ["A001", "B001"]
    letter = Document(io.BytesIO(archive.read(names[1])))
    assert "office" in letter.sections[0].header.paragraphs[0].text
    assert AuditEntry.objects.filter(action="document.downloaded", target_id=str(export.pk)
                                     ).exists()
    # Another office user cannot fetch someone else's export.
    from tests.conftest import make_user

    other = make_user("office2", "office")
    assert login(other).get(reverse("documents:export_download", args=[export.pk])
                            ).status_code == 404
    assert login(personas["unit_b"]).post(url).status_code == 404


def test_expired_exports_are_purged_and_no_longer_downloadable(
        released, personas, login, django_capture_on_commit_callbacks):
    client = login(personas["office"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("documents:make", args=["feedback_letters", "2017", "pdf"]))
    export = Export.objects.get(identifier="feedback_letters")
    assert default_storage.exists(export.storage_name)
    name = export.storage_name
    Export.objects.filter(pk=export.pk).update(expires_at=clock.now() - timedelta(minutes=1))
    assert client.get(reverse("documents:export_download", args=[export.pk])).status_code == 404
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED and not default_storage.exists(name)


def test_progress_row_polls_while_running(released, personas, login):
    export = Export.objects.create(identifier="feedback_letters", fmt="docx", title="x",
                                   made_by=personas["office"], status=ExportStatus.RUNNING,
                                   progress=3, total=10)
    row = login(personas["office"]).get(
        reverse("documents:export_status", args=[export.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in row and "3/10" in row


# The office's Word templates ------------------------------------------------------------


def test_the_office_replaces_the_letter_template_and_the_mark_stays(released, personas, login):
    client = login(personas["office"])
    starter = client.get(reverse("documents:template_download", args=["feedback_letter"]))
    assert starter.status_code == 200
    document = Document(io.BytesIO(starter.content))
    document.add_paragraph("本函由办公室自定义模板生成")
    buffer = io.BytesIO()
    document.save(buffer)
    upload = SimpleUploadedFile("我们的反馈函.docx", buffer.getvalue())
    response = client.post(reverse("documents:template_upload", args=["feedback_letter"]),
                           {"file": upload})
    assert response.status_code == 302
    assert DocumentTemplate.objects.get().original_name == "我们的反馈函.docx"
    feedback = Feedback.objects.get(unit__code="B001")
    letter = client.get(reverse("documents:make",
                                args=["feedback_letter", feedback.pk, "docx"])).content
    text = _docx_text(letter)
    assert "本函由办公室自定义模板生成" in text and "帮扶资金到位慢" in text
    assert "一、考核结果" in text
    header = Document(io.BytesIO(letter)).sections[0].header.paragraphs
    assert any("office" in p.text for p in header)


@pytest.mark.parametrize("content,message", [
    (b"not a word file", "不是Word文档"),
    (None, "无法填充"),
])
def test_a_bad_template_is_refused_with_a_clear_message(released, personas, login, content,
                                                        message):
    if content is None:
        document = Document(io.BytesIO(starter_template(get_exporter("feedback_letter"))))
        document.add_paragraph("{{ title ")
        buffer = io.BytesIO()
        document.save(buffer)
        content = buffer.getvalue()
    client = login(personas["office"])
    response = client.post(reverse("documents:template_upload", args=["feedback_letter"]),
                           {"file": SimpleUploadedFile("坏模板.docx", content)}, follow=True)
    page = response.content.decode()
    assert message in page and "坏模板.docx" in page
    assert not DocumentTemplate.objects.exists()


def test_only_the_office_manages_templates(personas, login, world):
    for role in ("working_group", "unit", "lead_reviewer", "system_admin"):
        client = login(personas[role])
        assert client.get(reverse("documents:templates")).status_code == 404
        assert client.post(reverse("documents:template_upload", args=["feedback_letter"])
                           ).status_code == 404


def test_export_failure_is_recorded_and_audited(released, personas, monkeypatch):
    exporter = get_exporter("circular")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(exporter), "build", broken)
    with pytest.raises(RuntimeError):
        services.export_now(personas["office"], exporter, released.round, "docx",
                            round_=released.round)
    export = Export.objects.get(identifier="circular")
    assert export.status == ExportStatus.FAILED and "boom" in export.error
    assert AuditEntry.objects.filter(action="document.export", success=False).exists()


def test_a_task_that_breaks_marks_its_export_failed_not_queued_forever(
        released, personas, monkeypatch):
    from kaohe.documents.tasks import run_export_task

    export = Export.objects.create(identifier="feedback_letters", fmt="docx", title="x",
                                   made_by=personas["office"], status=ExportStatus.QUEUED)

    def broken(export_id):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "run_export", broken)
    run_export_task.enqueue(export.pk)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
