"""A request body over the limit is refused before anything reads it (security.md 19)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse


def test_an_oversized_form_is_refused_with_413_and_a_chinese_message(
        client, personas, login, settings, world):
    settings.REQUEST_MAX_BYTES = 1000
    login(personas["office"])
    response = client.post(reverse("directory:import"),
                           {"file": SimpleUploadedFile("单位.xlsx", b"x" * 5000)})
    assert response.status_code == 413
    assert "提交的内容超过" in response.content.decode()


def test_a_form_within_the_limit_passes_and_tus_is_left_to_its_own_limit(
        client, personas, login, settings, world):
    settings.REQUEST_MAX_BYTES = 1000
    login(personas["office"])
    response = client.post(reverse("directory:import"), {"file": SimpleUploadedFile(
        "单位.xlsx", b"x" * 10)})
    assert response.status_code != 413
    login(personas["unit"])
    response = client.generic("PATCH", "/evidence/uploads/00000000-0000-0000-0000-000000000000/",
                              b"y" * 5000, content_type="application/offset+octet-stream",
                              HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_OFFSET="0")
    assert response.status_code != 413
