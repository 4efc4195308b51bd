"""Documents through the pages: the office makes all letters in the background and downloads
the ZIP; a unit downloads its own letter; each file carries its maker's mark."""

import io
import zipfile

import pytest
from docx import Document

from kaohe.documents.models import Export
from kaohe.outcomes import services as outcomes
from tests.browser.conftest import follow, sign_in
from tests.conftest import PASSWORD
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_makes_all_letters_and_a_unit_downloads_its_own(
    approved, personas, world, live_server, page, screenshot  # noqa: F811
):
    outcomes.feedback_prepare(result_set=approved, actor=personas["office"])
    outcomes.release(result_set=approved, actor=personas["office"])

    sign_in(page, live_server.url, "office", PASSWORD)
    follow(page, page.get_by_role("link", name="文书导出"))
    assert "考核结果反馈函（全部）" in page.content() and "综合评议报告" in page.content()
    page.locator("#doc-feedback_letters").get_by_role("button", name="生成Word").click()
    page.wait_for_selector("text=已开始生成")
    export = Export.objects.get(identifier="feedback_letters")
    row = page.locator(f"#export-{export.pk}")
    row.get_by_role("link", name="下载").wait_for()
    screenshot("documents-1-office")
    with page.expect_download() as info:
        row.get_by_role("link", name="下载").click()
    archive = zipfile.ZipFile(info.value.path())
    assert len(archive.namelist()) == 2
    letter = Document(io.BytesIO(archive.read(sorted(archive.namelist())[0])))
    assert export.code in letter.sections[0].header.paragraphs[0].text

    page.context.clear_cookies()
    sign_in(page, live_server.url, "unit_b", PASSWORD)
    follow(page, page.get_by_role("link", name="文书导出"))
    content = page.content()
    assert "考核结果反馈函" in content and "（全部）" not in content
    assert "综合评议报告" not in content
    screenshot("documents-2-unit")
    with page.expect_download() as info:
        page.locator("#doc-feedback_letter").get_by_role("link", name="PDF").click()
    assert info.value.suggested_filename.endswith(".pdf")
    with open(info.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
