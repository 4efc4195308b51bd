"""Issue 17 item 4: evidence uploads close with the step they serve.

A unit's evidence serves its self-report (or its rectification, tus metadata step); a
province's its provincial report. After the owner's deadline (with its extension) creating
an upload is refused, and so is finishing one that was started in time.
"""

import datetime

import pytest
from django.urls import reverse

from kaohe.evidence.models import Evidence, Upload
from kaohe.submissions import services as submissions
from tests.evidence.factories import (
    TUS,
    encode_metadata,
    pdf_bytes,
    tus_create,
    tus_patch,
)

CLOSED = "“单位自评”已于2017-12-31截止，不能再上传材料；如需延期，请联系国务院扶贫办。"


def _post(client, metadata):
    """A hand-made tus creation request, as any HTTP client can send it."""
    return client.post(reverse("evidence:uploads"), headers={
        **TUS, "Upload-Length": "2000", "Upload-Metadata": encode_metadata(metadata)})


def test_a_hand_made_tus_creation_after_the_deadline_is_refused(settings, client, personas):
    settings.KAOHE_TODAY = "2018-01-01"
    client.force_login(personas["unit"])
    response = _post(client, {"filename": "迟交材料.pdf"})
    assert response.status_code == 400
    assert response.content.decode() == CLOSED
    assert not Upload.objects.exists()


def test_a_province_is_refused_after_its_deadline(settings, client, personas):
    settings.KAOHE_TODAY = "2018-01-01"
    client.force_login(personas["province"])
    response = tus_create(client, name="报告.pdf", length=2000)
    assert response.status_code == 400
    assert "“省级总结”已于2017-12-31截止" in response.content.decode()


def test_the_last_day_is_still_open(settings, client, personas):
    settings.KAOHE_TODAY = "2017-12-31"
    client.force_login(personas["unit"])
    assert tus_create(client, name="材料.pdf", length=2000).status_code == 201


def test_an_extension_of_the_owner_opens_uploads_again(settings, client, personas, world):
    step = world["round"].steps.get(code="self_report")
    submissions.extension_grant(step=step, actor=personas["office"], unit=world["unit_a"],
                                until=datetime.date(2018, 1, 10), reason="补充材料")
    settings.KAOHE_TODAY = "2018-01-05"
    client.force_login(personas["unit"])
    assert tus_create(client, name="材料.pdf", length=2000).status_code == 201
    client.force_login(personas["unit_b"])
    assert tus_create(client, name="材料.pdf", length=2000).status_code == 400


def test_finishing_an_upload_after_the_deadline_is_refused(settings, client, personas):
    client.force_login(personas["unit"])
    data = pdf_bytes(2000)
    settings.KAOHE_TODAY = "2017-12-31"
    location = tus_create(client, name="材料.pdf", length=len(data))["Location"]
    assert tus_patch(client, location, data[:1000], 0).status_code == 204
    settings.KAOHE_TODAY = "2018-01-01"
    response = tus_patch(client, location, data[1000:], 1000)
    assert response.status_code == 422
    assert response.content.decode() == CLOSED
    assert not Evidence.objects.exists()
    upload = Upload.objects.get()
    assert upload.rejected_reason == CLOSED and upload.completed_at is None


@pytest.mark.parametrize("step", ["self_report", "provincial_report", "launch", ""])
def test_a_unit_cannot_name_another_step_to_get_past_its_deadline(settings, client, personas,
                                                                  step):
    """A step that is not one of the unit's evidence steps counts as its self-report.
    (Rectification evidence follows its own rules, kaohe.outcomes.)"""
    settings.KAOHE_TODAY = "2018-01-01"
    client.force_login(personas["unit"])
    response = _post(client, {"filename": "材料.pdf", "step": step})
    assert response.status_code == 400 and response.content.decode() == CLOSED
