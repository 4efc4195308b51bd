"""Training (组织培训): sessions, materials, attendance and who is still untrained."""

import datetime

import pytest
from django.urls import reverse

from kaohe.accounts.models import Role
from kaohe.audit.models import AuditEntry
from kaohe.launch import selectors, services
from kaohe.launch.models import Attendance, TrainingMaterial
from tests.conftest import make_user
from tests.launch.conftest import PDF, Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(world, personas):
    """Five lead department staff: lead_a, lead_b and three more of lead A."""
    extra = [make_user(f"lead-extra-{n}", Role.LEAD_REVIEWER, lead_department=world["lead_a"])
             for n in range(3)]
    return [personas["lead_reviewer"], personas["lead_reviewer_b"], *extra]


@pytest.fixture
def session(world, personas):
    return services.session_add(round=world["round"], held_on=datetime.date(2017, 11, 24),
                                place="国务院扶贫办会议室", topic="中央单位定点扶贫考核培训",
                                actor=personas["office"])


def test_attendance_is_recorded_and_the_untrained_are_listed_after_the_deadline(
        client, world, personas, staff, session, settings):
    settings.KAOHE_TODAY = "2017-11-24"
    client.force_login(personas["office"])
    attendees = [staff[0].pk, staff[2].pk, staff[3].pk]
    response = client.post(reverse("launch:attendance_save", kwargs={"pk": session.pk}),
                           {"attendees": [str(pk) for pk in attendees]})
    assert response.status_code == 302
    assert set(Attendance.objects.values_list("user_id", flat=True)) == set(attendees)
    entry = AuditEntry.objects.get(action="launch.training.attendance_recorded")
    assert entry.data["added"] == sorted(u.username for u in (staff[0], staff[2], staff[3]))

    assert selectors.training_progress(world["round"]) == (3, 5)
    assert set(selectors.untrained_staff(world["round"])) == {staff[1], staff[4]}

    # Before the deadline the list is shown without the warning; after it, with it.
    page = client.get(reverse("launch:training"))
    assert not page.context["overdue"]
    settings.KAOHE_TODAY = "2017-12-01"
    page = client.get(reverse("launch:training"))
    html = page.content.decode()
    assert page.context["overdue"]
    assert "培训时限前未参加培训" in html
    assert staff[4].username in html and staff[1].username in html
    untrained = html[html.index('id="untrained"'):]
    assert staff[0].username not in untrained


def test_attendance_can_be_corrected(world, personas, staff, session, settings):
    settings.KAOHE_TODAY = "2017-11-25"
    services.attendance_set(session=session, user_ids={staff[0].pk, staff[1].pk},
                            actor=personas["office"])
    services.attendance_set(session=session, user_ids={staff[1].pk}, actor=personas["office"])
    assert list(session.attendances.values_list("user_id", flat=True)) == [staff[1].pk]
    last = AuditEntry.objects.filter(action="launch.training.attendance_recorded").last()
    assert last.data["removed"] == [staff[0].username]


def test_attendance_is_refused_before_the_session_and_for_other_roles(
        world, personas, staff, session, settings):
    settings.KAOHE_TODAY = "2017-11-20"
    with pytest.raises(services.LaunchError, match="尚未举行"):
        services.attendance_set(session=session, user_ids={staff[0].pk},
                                actor=personas["office"])
    settings.KAOHE_TODAY = "2017-11-24"
    with pytest.raises(services.LaunchError):
        services.attendance_set(session=session, user_ids={personas["unit"].pk},
                                actor=personas["office"])
    assert not Attendance.objects.exists()


def test_materials_are_downloadable_by_every_team_member_and_nobody_else(
        client, world, personas, session):
    client.force_login(personas["office"])
    response = client.post(reverse("launch:material_add", kwargs={"pk": session.pk}),
                           {"file": Upload("考核培训课件.pdf")})
    assert response.status_code == 302
    material = TrainingMaterial.objects.get()
    url = reverse("launch:material_download", kwargs={"pk": material.pk})
    for persona in ("lead_reviewer", "lead_reviewer_b", "working_group", "office"):
        client.force_login(personas[persona])
        assert "考核培训课件.pdf" in client.get(reverse("launch:training")).content.decode()
        response = client.get(url)
        assert response.status_code == 200, persona
        assert b"".join(response.streaming_content) == PDF
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
    for persona in ("unit", "province", "org_department", "leading_group", "auditor"):
        client.force_login(personas[persona])
        assert client.get(url).status_code == 404, persona


def test_a_material_of_a_refused_type_is_not_kept(client, world, personas, session):
    client.force_login(personas["office"])
    client.post(reverse("launch:material_add", kwargs={"pk": session.pk}),
                {"file": Upload("setup.exe", b"MZ" + b"\0" * 64)})
    assert not TrainingMaterial.objects.exists()


def test_lead_reviewers_see_their_own_attendance_not_the_list(client, world, personas, staff,
                                                             session, settings):
    settings.KAOHE_TODAY = "2017-11-24"
    services.attendance_set(session=session, user_ids={staff[0].pk}, actor=personas["office"])
    client.force_login(personas["lead_reviewer"])
    response = client.get(reverse("launch:training"))
    assert list(response.context["mine"]) == [session]
    assert response.context["untrained"] == []
    assert client.get(reverse("launch:session", kwargs={"pk": session.pk})).status_code == 404
