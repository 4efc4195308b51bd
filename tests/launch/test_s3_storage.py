"""Launch files (category plans, training materials) in S3-compatible object storage."""

import datetime
import hashlib

import pytest
from django.urls import reverse

from kaohe.launch import services
from kaohe.launch.models import CategoryPlan, TrainingMaterial
from tests.launch.conftest import PDF, Upload
from tests.s3 import moto_server_fixture, never_spooled_fixture, s3_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_plan_lands_in_the_bucket_and_is_streamed_to_its_readers_only(
        client, world, personas, settings, s3, never_spooled):
    settings.KAOHE_TODAY = "2017-11-16"
    lead = world["lead_a"]
    client.force_login(personas["lead_reviewer"])
    response = client.post(reverse("launch:plan_file", kwargs={"lead_pk": lead.pk}),
                           {"document": Upload("分类考核方案.pdf"), "key_points": "要点"})
    assert response.status_code == 302
    plan = CategoryPlan.objects.get()
    assert s3.keys() == [plan.storage_name]
    assert s3.sha256(plan.storage_name) == plan.sha256 == hashlib.sha256(PDF).hexdigest()

    url = reverse("launch:plan_download", kwargs={"lead_pk": lead.pk})
    client.force_login(personas["working_group"])
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Length"] == str(len(PDF))
    client.force_login(personas["unit"])
    assert client.get(url).status_code == 404


def test_a_training_material_lands_in_the_bucket(client, world, personas, s3, never_spooled):
    session = services.session_add(round=world["round"], held_on=datetime.date(2017, 11, 24),
                                   place="会议室", topic="考核培训", actor=personas["office"])
    client.force_login(personas["office"])
    response = client.post(reverse("launch:material_add", kwargs={"pk": session.pk}),
                           {"file": Upload("培训课件.pdf")})
    assert response.status_code == 302
    material = TrainingMaterial.objects.get()
    assert s3.keys() == [material.storage_name]
    download = client.get(reverse("launch:material_download", kwargs={"pk": material.pk}))
    assert b"".join(download.streaming_content) == PDF
