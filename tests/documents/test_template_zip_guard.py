"""The office's Word template is a ZIP too: it is held to the real unpacked size (item 6)."""

import html
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kaohe.documents import base
from kaohe.documents.base import get_exporter
from kaohe.documents.models import DocumentTemplate
from kaohe.documents.starter import starter_template
from tests.lib.archive_samples import MiB, declare_size, zeros, zip_with


def _starter_with(extra: dict) -> bytes:
    with zipfile.ZipFile(io.BytesIO(starter_template(get_exporter("circular")))) as starter:
        members = {info.filename: starter.read(info) for info in starter.infolist()}
    members.update(extra)
    return zip_with(members)


@pytest.fixture
def never_rendered(monkeypatch):
    def render(*args, **kwargs):
        raise AssertionError("the template was opened for filling")

    monkeypatch.setattr(base, "render_with_template", render)


def _upload(client, data: bytes, name: str = "通报模板.docx"):
    response = client.post(reverse("documents:template_upload", args=["circular"]),
                           {"file": SimpleUploadedFile(name, data)}, follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_template_that_lies_about_its_size_is_refused_before_it_is_opened(
        personas, login, never_rendered):
    data = declare_size(_starter_with({"word/media/image9.png": zeros(300 * MiB)}),
                        "word/media/image9.png", 1000)
    assert len(data) < 2 * MiB
    page = _upload(login(personas["office"]), data)
    assert "通报模板.docx" in page and "word/media/image9.png" in page and "声明" in page
    assert not DocumentTemplate.objects.exists()


def test_a_template_over_the_real_unpacked_limit_is_refused(personas, login, never_rendered,
                                                            settings):
    data = _starter_with({f"word/media/{i}.bin": zeros(30 * MiB) for i in range(4)})
    page = _upload(login(personas["office"]), data)
    assert "通报模板.docx" in page and "100 MB" in page
    assert not DocumentTemplate.objects.exists()


def test_an_honest_template_is_still_accepted(personas, login):
    data = starter_template(get_exporter("circular"))
    _upload(login(personas["office"]), data)
    assert DocumentTemplate.objects.get().original_name == "通报模板.docx"


def test_a_lying_template_already_stored_is_refused_when_filled(monkeypatch):
    # Stored before uploads counted their real size: filling counts it again, never inflates it.
    from docxtpl import DocxTemplate

    def opened(*args, **kwargs):
        raise AssertionError("docxtpl opened the template")

    monkeypatch.setattr(DocxTemplate, "__init__", opened)
    data = declare_size(_starter_with({"word/media/image9.png": zeros(300 * MiB)}),
                        "word/media/image9.png", 1000)
    from kaohe.documents.officialdoc import OfficialDocument, Paragraph

    with pytest.raises(base.TemplateFillError, match=r"image9\.png"):
        base.render_with_template(data, OfficialDocument(title="标题", blocks=[Paragraph("正文")]))
