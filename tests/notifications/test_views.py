"""The notification list, the navbar's unread count and the home page's panel: each user
sees and marks only their own."""

from django.urls import reverse
from django.utils import timezone

from kaohe.notifications.models import Kind, Notification


def _notice(user, n=0, **fields):
    defaults = {"kind": Kind.RETURNED, "text": f"测试通知{n}：{user.username}",
                "link": reverse("home"), "key": f"test:{n}"}
    return Notification.objects.create(recipient=user, **{**defaults, **fields})


def test_the_list_shows_only_the_users_own(client, personas):
    _notice(personas["unit"], 1)
    _notice(personas["unit_b"], 2)
    client.force_login(personas["unit"])
    page = client.get(reverse("notifications:list")).content.decode()
    assert "测试通知1：unit_a" in page and "unit_b" not in page


def test_reading_opens_the_link_and_marks_only_the_own_notice(client, personas):
    mine = _notice(personas["unit"], 1, link=reverse("outcomes:my_result"))
    theirs = _notice(personas["unit_b"], 2)
    client.force_login(personas["unit"])
    response = client.post(reverse("notifications:read", kwargs={"pk": mine.pk}))
    assert response.status_code == 302 and response["Location"] == reverse("outcomes:my_result")
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.post(reverse("notifications:read",
                               kwargs={"pk": theirs.pk})).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_the_users_own(client, personas):
    for n in range(3):
        _notice(personas["unit"], n)
    theirs = _notice(personas["unit_b"], 9)
    client.force_login(personas["unit"])
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=personas["unit"], read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_navbar_counts_the_unread(client, personas):
    for n in range(3):
        _notice(personas["unit"], n)
    _notice(personas["unit"], 7, read_at=timezone.now())
    _notice(personas["unit_b"], 8)
    client.force_login(personas["unit"])
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'id="unread-notifications"' in page
    assert "3 条未读通知" in page


def test_the_navbar_query_count_does_not_grow_with_notifications(client, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(personas["office"])
    url = reverse("rounds:list") if _has("rounds:list") else reverse("home")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(20):
        _notice(personas["office"], n)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def _has(name):
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def test_the_panel_shows_the_five_latest_unread_with_a_link_to_the_list(personas, rf):
    from django.template.loader import render_to_string

    for n in range(7):
        _notice(personas["unit"], n)
    _notice(personas["unit"], 8, read_at=timezone.now())
    _notice(personas["unit_b"], 9)
    request = rf.get("/")
    request.user = personas["unit"]
    html = render_to_string("notifications/_panel.html", {"user": personas["unit"]},
                            request=request)
    shown = [n for n in range(10) if f"测试通知{n}：" in html]
    assert shown == [2, 3, 4, 5, 6]
    assert reverse("notifications:list") in html
    assert "unit_b" not in html


def test_every_home_page_shows_the_users_unread_notices(client, personas):
    for persona in ("unit", "province", "lead_reviewer", "office", "system_admin"):
        user = personas[persona]
        _notice(user, 1, link=reverse("notifications:list"))
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        assert 'id="notification-panel"' in page, persona
        assert f"测试通知1：{user.username}" in page, persona
        assert reverse("notifications:read", kwargs={"pk": user.notifications.get().pk}) in page
    client.force_login(personas["unit_b"])
    page = client.get(reverse("home")).content.decode()
    assert "没有未读通知" in page and "测试通知1" not in page


def test_the_home_page_counts_and_lists_the_unread_in_one_query(client, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(7):
        _notice(personas["unit"], n)
    _notice(personas["unit"], 8, read_at=timezone.now())
    _notice(personas["unit_b"], 9)
    client.force_login(personas["unit"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("home")).content.decode()
    assert "7 条未读通知" in page
    # The panel lists the newest five of the user's own unread.
    assert "测试通知6：unit_a" in page and "测试通知2：unit_a" in page
    assert "测试通知1：unit_a" not in page and "测试通知8" not in page and "unit_b" not in page
    assert sum("notifications_notification" in q["sql"] for q in queries) == 1
