"""The working group (考核工作组): the office manages it; the leader comes from the office."""

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.launch import services
from kaohe.launch.models import Body, Position, WorkingGroupMember

pytestmark = pytest.mark.django_db


def _add(world, personas, **fields):
    data = {"name": "王明", "organization": "国务院扶贫办", "post": "副主任",
            "position": Position.LEADER, "body": Body.OFFICE, **fields}
    return services.working_group_member_add(round=world["round"], actor=personas["office"],
                                             **data)


def test_the_office_forms_the_working_group_and_the_working_group_sees_it(
        client, world, personas):
    client.force_login(personas["office"])
    response = client.post(reverse("launch:member_add"), {
        "name": "王明", "organization": "国务院扶贫办", "post": "副主任",
        "position": "leader", "body": "office"})
    assert response.status_code == 302
    client.post(reverse("launch:member_add"), {
        "name": "赵丽", "organization": "中央组织部组织二局", "post": "副局长",
        "position": "member", "body": "org_department"})
    assert WorkingGroupMember.objects.count() == 2
    assert AuditEntry.objects.filter(action="launch.working_group.member_added").count() == 2

    client.force_login(personas["working_group"])
    html = client.get(reverse("launch:working_group")).content.decode()
    assert "王明" in html and "组长" in html and "中央组织部组织二局" in html
    assert reverse("launch:member_add") not in html  # read-only for the working group
    assert client.post(reverse("launch:member_add"), {
        "name": "x", "organization": "x", "post": "x", "position": "member",
        "body": "pboc"}).status_code == 404


def test_there_is_one_leader_and_the_leader_comes_from_the_office(world, personas):
    with pytest.raises(services.LaunchError, match="国务院扶贫办"):
        _add(world, personas, body=Body.EDUCATION)
    _add(world, personas)
    with pytest.raises(services.LaunchError, match="已有组长"):
        _add(world, personas, name="李强", body=Body.OFFICE_SOCIAL)
    member = _add(world, personas, name="李强", position=Position.MEMBER,
                  body=Body.OFFICE_SOCIAL)
    with pytest.raises(services.LaunchError, match="已有组长"):
        services.working_group_member_update(member=member, actor=personas["office"],
                                             position=Position.LEADER)


def test_editing_and_removing_a_member_are_logged(client, world, personas):
    member = _add(world, personas, position=Position.MEMBER, body=Body.PBOC,
                  organization="中国人民银行")
    client.force_login(personas["office"])
    response = client.post(reverse("launch:member_edit", kwargs={"pk": member.pk}), {
        "name": "王明", "organization": "中国人民银行金融市场司", "post": "司长",
        "position": "member", "body": "pboc"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.organization == "中国人民银行金融市场司"
    changed = AuditEntry.objects.get(action="launch.working_group.member_changed")
    assert changed.data["post"] == {"old": "副主任", "new": "司长"}
    client.post(reverse("launch:member_remove", kwargs={"pk": member.pk}))
    assert not WorkingGroupMember.objects.exists()
    assert AuditEntry.objects.filter(action="launch.working_group.member_removed").exists()
