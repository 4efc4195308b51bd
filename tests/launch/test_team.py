"""A lead department files its team (考核工作小组): scoped accounts, one liaison, lateness."""

import pytest
from django.urls import reverse

from kaohe.accounts.models import Role, User
from kaohe.audit.models import AuditEntry
from kaohe.launch import services
from kaohe.launch.models import TeamFiling
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _entry(n, level="division", email=None):
    return services.MemberEntry(name=f"成员{n}", post="处长", level=level,
                                phone=f"010-6600{n:04d}", email=email or f"m{n}@example.org")


def _team(size=10):
    return [_entry(n, level="bureau" if n == 0 else "division") for n in range(size)]


def _post_data(entries, liaison):
    data = {"rows": str(len(entries) + 2), "liaison": str(liaison)}
    for i, e in enumerate(entries):
        data.update({f"m{i}-name": e.name, f"m{i}-post": e.post, f"m{i}-level": e.level,
                     f"m{i}-phone": e.phone, f"m{i}-email": e.email})
    return data


def test_filing_creates_accounts_in_the_lead_departments_scope_with_one_liaison(
        client, world, personas, settings):
    settings.KAOHE_TODAY = "2017-11-10"
    lead = world["lead_a"]
    client.force_login(personas["lead_reviewer"])
    response = client.post(reverse("launch:team_file", kwargs={"lead_pk": lead.pk}),
                           _post_data(_team(10), liaison=3))
    assert response.status_code == 302

    filing = TeamFiling.objects.get(round=world["round"], lead_department=lead)
    assert filing.filed_on.isoformat() == "2017-11-10"
    members = list(filing.members.select_related("user"))
    assert len(members) == 10
    assert [m.name for m in members if m.is_liaison] == ["成员3"]
    code = lead.code
    for n, member in enumerate(members):
        user = member.user
        assert user.role == Role.LEAD_REVIEWER
        assert user.lead_department_id == lead.pk
        assert user.email == f"m{n}@example.org"
        assert user.username == f"lead-{code}-{n + 1}"
        assert not user.has_usable_password()
        assert user.full_name == f"成员{n}" and user.post == "处长"
    # Exactly one liaison in the lead department: the persona that was liaison is reset.
    liaisons = User.objects.filter(lead_department=lead, is_liaison=True)
    assert list(liaisons.values_list("email", flat=True)) == ["m3@example.org"]
    personas["lead_reviewer"].refresh_from_db()
    assert not personas["lead_reviewer"].is_liaison
    # The other lead department's accounts are untouched.
    assert not User.objects.filter(lead_department=world["lead_b"], email__endswith="example.org")
    entry = AuditEntry.objects.get(action="launch.team.filed")
    assert entry.data["members"] == 10 and entry.data["liaison"] == f"lead-{code}-4"
    assert entry.data["late"] is False


def test_refiling_changes_the_liaison_and_links_the_same_accounts(world, personas, settings):
    settings.KAOHE_TODAY = "2017-11-10"
    lead, actor = world["lead_a"], personas["lead_reviewer"]
    services.team_file(round=world["round"], lead_department=lead, members=_team(10),
                       liaison=3, actor=actor)
    users_before = User.objects.filter(lead_department=lead).count()
    settings.KAOHE_TODAY = "2017-11-25"
    filing = services.team_file(round=world["round"], lead_department=lead,
                                members=_team(10), liaison=5, actor=actor)
    assert User.objects.filter(lead_department=lead).count() == users_before
    assert list(User.objects.filter(lead_department=lead, is_liaison=True)
                .values_list("email", flat=True)) == ["m5@example.org"]
    assert [m.name for m in filing.members.all() if m.is_liaison] == ["成员5"]
    # Lateness is judged on the first filing; the refiling date is kept beside it.
    assert filing.filed_on.isoformat() == "2017-11-10"
    assert filing.updated_on.isoformat() == "2017-11-25"
    refiled = AuditEntry.objects.filter(action="launch.team.filed").order_by("-id").first()
    assert refiled.data["refiled"] is True and refiled.data["created"] == []
    assert refiled.data["previous_liaison"] == [f"lead-{lead.code}-4"]


def test_an_existing_account_of_the_lead_department_is_linked_by_email(world, personas):
    lead = world["lead_a"]
    existing = make_user("zhang", Role.LEAD_REVIEWER, lead_department=lead)
    existing.email = "Zhang.San@Example.org"
    existing.save()
    members = [_entry(1), _entry(2, email="zhang.san@example.org")]
    filing = services.team_file(round=world["round"], lead_department=lead, members=members,
                                liaison=1, actor=personas["lead_reviewer"])
    linked = filing.members.get(order=2)
    assert linked.user == existing
    existing.refresh_from_db()
    assert existing.is_liaison and existing.has_usable_password()
    assert existing.phone == "010-66000002"
    assert User.objects.filter(email__iexact="zhang.san@example.org").count() == 1


def test_an_email_of_another_scope_is_refused_not_taken_over(world, personas):
    other = make_user("qian", Role.LEAD_REVIEWER, lead_department=world["lead_b"])
    other.email = "qian@example.org"
    other.save()
    with pytest.raises(services.LaunchError, match="其他部门或角色"):
        services.team_file(round=world["round"], lead_department=world["lead_a"],
                           members=[_entry(1, email="qian@example.org")], liaison=0,
                           actor=personas["lead_reviewer"])
    other.refresh_from_db()
    assert other.lead_department == world["lead_b"]
    assert not TeamFiling.objects.exists()


def test_usernames_continue_after_the_highest_in_use(world, personas):
    lead = world["lead_a"]
    make_user(f"lead-{lead.code}-7", Role.LEAD_REVIEWER, lead_department=lead)
    filing = services.team_file(round=world["round"], lead_department=lead,
                                members=[_entry(1), _entry(2)], liaison=0,
                                actor=personas["lead_reviewer"])
    assert [m.user.username for m in filing.members.all()] == [
        f"lead-{lead.code}-8", f"lead-{lead.code}-9"]


@pytest.mark.parametrize("liaison, members, message", [
    (-1, [_entry(1)], "联络员"),
    (0, [_entry(1, level="bureau")], "处级"),
    (0, [_entry(1), _entry(2, email="m1@example.org")], "重复"),
    (0, [], "至少"),
])
def test_a_filing_without_exactly_one_division_level_liaison_or_with_duplicates_is_refused(
        world, personas, liaison, members, message):
    with pytest.raises(services.LaunchError, match=message):
        services.team_file(round=world["round"], lead_department=world["lead_a"],
                           members=members, liaison=liaison, actor=personas["lead_reviewer"])
    assert not TeamFiling.objects.exists()
    assert not User.objects.filter(email__endswith="example.org").exists()


def test_the_page_refuses_a_form_without_liaison_and_keeps_the_input(client, world, personas):
    client.force_login(personas["lead_reviewer"])
    data = _post_data(_team(3), liaison=0)
    del data["liaison"]
    response = client.post(reverse("launch:team_file", kwargs={"lead_pk": world["lead_a"].pk}),
                           data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "请指定一名联络员" in html and 'value="成员2"' in html
    assert not TeamFiling.objects.exists()


def test_the_army_lead_department_files_no_team(world, personas):
    army_lead = world["army"].category.lead_department
    with pytest.raises(services.LaunchError):
        services.team_file(round=world["round"], lead_department=army_lead,
                           members=[_entry(1)], liaison=0, actor=personas["office"])


def test_the_office_sees_who_filed_on_time_who_late_and_who_not(client, world, personas,
                                                                 settings):
    settings.KAOHE_TODAY = "2017-11-18"
    services.team_file(round=world["round"], lead_department=world["lead_a"],
                       members=_team(2), liaison=1, actor=personas["lead_reviewer"])
    settings.KAOHE_TODAY = "2017-11-22"
    services.team_file(round=world["round"], lead_department=world["lead_b"],
                       members=[_entry(20), _entry(21)], liaison=0,
                       actor=personas["lead_reviewer_b"])
    client.force_login(personas["office"])
    response = client.get(reverse("launch:index"))
    rows = {r.lead_department.code: r for r in response.context["rows"]}
    assert len(rows) == 6
    assert rows[world["lead_a"].code].team_state == "on_time"
    assert rows[world["lead_b"].code].team_state == "late"
    others = [r.team_state for code, r in rows.items()
              if code not in {world["lead_a"].code, world["lead_b"].code}]
    assert others == ["overdue"] * 4
    html = response.content.decode()
    assert "逾期报送" in html and "逾期未报" in html and "按时报送" in html
    assert "成员1" in html  # lead A's liaison


def test_a_lead_department_opens_only_its_own_team(client, world, personas):
    client.force_login(personas["lead_reviewer"])
    assert client.get(reverse("launch:index")).url == reverse(
        "launch:lead", kwargs={"lead_pk": world["lead_a"].pk})
    assert client.get(reverse("launch:lead", kwargs={"lead_pk": world["lead_b"].pk})
                      ).status_code == 404
    response = client.post(reverse("launch:team_file", kwargs={"lead_pk": world["lead_b"].pk}),
                           _post_data(_team(2), liaison=1))
    assert response.status_code == 404
    assert not TeamFiling.objects.exists()
