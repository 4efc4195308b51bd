"""Notifications (issue 20, item 2): deadlines, returns, release and rectification, in the
application and by e-mail through a real SMTP server; each sent once, each to its own."""

from django.core.management import call_command
from django.urls import reverse

from kaohe.notifications.models import Kind, Notification
from kaohe.outcomes import services as outcomes
from kaohe.reviews import services as reviews
from kaohe.rounds.models import RoundStatus
from kaohe.submissions import services as submissions
from tests.notifications.conftest import BASE_URL, assert_no_grade
from tests.outcomes.test_outcomes import approved  # noqa: F401 - fixture
from tests.reviews.conftest import matrix_submitted_category
from tests.submissions.conftest import matrix_self_report


def _remind(settings, day, callbacks):
    settings.KAOHE_TODAY = day
    with callbacks(execute=True):
        call_command("remind")


def _texts(user):
    return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))


def test_a_unit_is_told_7_days_and_1_day_before_its_deadline_and_when_overdue(
        world, mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    unit = mailboxes["unit"]
    _remind(settings, "2017-12-24", django_capture_on_commit_callbacks)
    [week] = Notification.objects.filter(recipient=unit)
    assert week.kind == Kind.DEADLINE_WEEK
    assert "测试单位甲" in week.text and "2017年12月31日" in week.text and "7天" in week.text
    [message] = smtp.to("unit_a@example.org")
    assert message["to"] == ["unit_a@example.org"]
    assert "测试单位甲" in message["subject"] and "测试单位甲" in message["body"]
    assert f"{BASE_URL}{reverse('submissions:self_reports')}?year=2017" in message["body"]
    assert_no_grade(message["subject"] + message["body"])
    # The other unit is told about its own report, never about unit A.
    [other] = smtp.to("unit_b@example.org")
    assert "测试单位乙" in other["body"] and "测试单位甲" not in other["body"]

    _remind(settings, "2017-12-30", django_capture_on_commit_callbacks)
    _remind(settings, "2018-01-02", django_capture_on_commit_callbacks)
    kinds = list(Notification.objects.filter(recipient=unit).values_list("kind", flat=True))
    assert sorted(kinds) == sorted([Kind.DEADLINE_WEEK, Kind.DEADLINE_DAY, Kind.OVERDUE])
    assert len(smtp.to("unit_a@example.org")) == 3
    assert "已于2017年12月31日截止" in smtp.to("unit_a@example.org")[-1]["body"]


def test_reminders_are_sent_once_however_often_remind_runs(
        world, mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    for _ in range(3):
        _remind(settings, "2017-12-25", django_capture_on_commit_callbacks)
    assert len(_texts(mailboxes["unit"])) == 1
    assert len(smtp.to("unit_a@example.org")) == 1


def test_nothing_is_sent_to_who_has_submitted_nor_too_early(
        world, mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    matrix_self_report(world, world["unit_a"])
    _remind(settings, "2017-12-30", django_capture_on_commit_callbacks)
    assert _texts(mailboxes["unit"]) == []
    assert _texts(mailboxes["unit_b"])
    _remind(settings, "2017-12-01", django_capture_on_commit_callbacks)
    assert smtp.to("unit_a@example.org") == []


def test_an_extension_moves_the_reminder(
        world, mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    import datetime

    settings.KAOHE_TODAY = "2017-12-28"
    step = world["round"].steps.get(code="self_report")
    submissions.extension_grant(step=step, actor=mailboxes["office"], unit=world["unit_a"],
                                until=datetime.date(2018, 1, 20), reason="网络故障")
    _remind(settings, "2017-12-30", django_capture_on_commit_callbacks)
    assert _texts(mailboxes["unit"]) == []
    _remind(settings, "2018-01-19", django_capture_on_commit_callbacks)
    [text] = _texts(mailboxes["unit"])
    assert "2018年1月20日" in text


def test_a_province_is_told_without_any_count(
        world, mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    _remind(settings, "2017-12-24", django_capture_on_commit_callbacks)
    [message] = smtp.to("prov_a@example.org")
    assert "贵州省" in message["subject"] and "省级总结报告" in message["body"]
    assert "云南省" not in message["body"]
    assert "份" not in message["body"] and "/" not in message["body"].split("http")[0]
    assert f"{BASE_URL}{reverse('submissions:provincial_reports')}?year=2017" in message["body"]


def test_step_four_reminds_the_lead_department_that_has_not_submitted(
        world, mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    matrix_submitted_category(world, world["lead_b"])
    _remind(settings, "2018-01-14", django_capture_on_commit_callbacks)
    [message] = smtp.to("lead_a@example.org")
    assert str(world["lead_a"]) in message["subject"]
    assert reverse("reviews:category", kwargs={"lead_pk": world["lead_a"].pk}) in message["body"]
    assert smtp.to("lead_b@example.org") == []
    assert Notification.objects.get(recipient=mailboxes["lead_reviewer"]).kind == \
        Kind.DEADLINE_DAY


def test_a_closed_round_sends_nothing(
        world, mailboxes, smtp, settings, django_capture_on_commit_callbacks):
    world["round"].status = RoundStatus.CLOSED
    world["round"].save(update_fields=["status"])
    _remind(settings, "2017-12-30", django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 0
    assert smtp.messages == []


def test_users_without_e_mail_are_told_in_the_application_only_and_inactive_not_at_all(
        world, personas, smtp, settings, django_capture_on_commit_callbacks):
    personas["unit_b"].is_active = False
    personas["unit_b"].email = "unit_b@example.org"
    personas["unit_b"].save()
    _remind(settings, "2017-12-30", django_capture_on_commit_callbacks)
    assert len(_texts(personas["unit"])) == 1
    assert _texts(personas["unit_b"]) == []
    assert smtp.messages == []


def test_a_returned_self_report_is_told_to_its_unit(
        world, mailboxes, smtp, django_capture_on_commit_callbacks):
    report = matrix_self_report(world, world["unit_a"])
    with django_capture_on_commit_callbacks(execute=True):
        submissions.self_report_return(report=report, actor=mailboxes["lead_reviewer"],
                                       reason="自评等次一般，材料不全")
    [notice] = Notification.objects.filter(recipient=mailboxes["unit"])
    assert notice.kind == Kind.RETURNED and "测试单位甲" in notice.text
    assert notice.link == reverse("submissions:self_report", kwargs={"pk": report.pk})
    [message] = smtp.to("unit_a@example.org")
    assert "退回" in message["subject"] and "测试单位甲" in message["body"]
    assert f"{BASE_URL}{notice.link}" in message["body"]
    assert_no_grade(message["body"])  # the reason is read on the page, not in the e-mail
    assert smtp.to("unit_b@example.org") == []


def test_a_returned_category_is_told_to_its_lead_department(
        world, mailboxes, smtp, django_capture_on_commit_callbacks):
    submission = matrix_submitted_category(world, world["lead_a"])
    with django_capture_on_commit_callbacks(execute=True):
        reviews.category_return(submission=submission, actor=mailboxes["working_group"],
                                reason="请补充")
    [message] = smtp.to("lead_a@example.org")
    assert str(world["lead_a"]) in message["body"] and "退回" in message["body"]
    assert smtp.to("lead_b@example.org") == []


def test_release_tells_each_unit_its_own_without_any_grade(
        world, approved, mailboxes, smtp, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        outcomes.release(result_set=approved, actor=mailboxes["office"])
    [mine] = smtp.to("unit_a@example.org")
    [theirs] = smtp.to("unit_b@example.org")
    assert "测试单位甲" in mine["body"] and "测试单位乙" not in mine["body"]
    assert "测试单位乙" in theirs["body"] and "测试单位甲" not in theirs["body"]
    for message in (mine, theirs):
        assert "请登录查看" in message["body"]
        assert f"{BASE_URL}{reverse('outcomes:my_result')}" in message["body"]
        assert_no_grade(message["subject"] + message["body"])
    for notice in Notification.objects.filter(kind=Kind.RELEASED):
        assert_no_grade(notice.text)
    # Only units are told; nobody else gets the release by e-mail.
    assert {tuple(m["to"]) for m in smtp.messages} == {("unit_a@example.org",),
                                                      ("unit_b@example.org",)}


def _released_rectification(world, approved, personas, settings, callbacks):  # noqa: F811
    settings.KAOHE_TODAY = "2018-03-01"
    with callbacks(execute=True):
        outcomes.release(result_set=approved, actor=personas["office"])
    return outcomes.rectification_for(round=world["round"], unit=world["unit_b"])


def test_rectification_due_is_told_to_the_unit_and_its_lead_department(
        world, approved, mailboxes, smtp, settings,  # noqa: F811
        django_capture_on_commit_callbacks):
    _released_rectification(world, approved, mailboxes, settings,
                            django_capture_on_commit_callbacks)
    smtp.messages.clear()
    _remind(settings, "2018-03-24", django_capture_on_commit_callbacks)
    [unit] = smtp.to("unit_b@example.org")
    assert "整改报告" in unit["body"] and "测试单位乙" in unit["body"]
    [lead] = smtp.to("lead_b@example.org")
    assert "测试单位乙" in lead["body"] and "整改报告" in lead["body"]
    assert reverse("outcomes:rectification_detail",
                   kwargs={"unit_pk": world["unit_b"].pk}) in lead["body"]
    assert "测试单位乙" not in "".join(m["body"] for m in smtp.to("lead_a@example.org"))
    for message in smtp.messages:
        assert_no_grade(message["body"])


def test_rectification_items_accepted_or_rejected_are_told_to_the_unit(
        world, approved, mailboxes, smtp, settings,  # noqa: F811
        django_capture_on_commit_callbacks):
    report = _released_rectification(world, approved, mailboxes, settings,
                                      django_capture_on_commit_callbacks)
    items = list(report.items.all())
    outcomes.rectification_save(report=report, actor=mailboxes["unit_b"], summary="已整改",
                                items={i.pk: {"measures": "措施", "status": "done"}
                                       for i in items})
    outcomes.rectification_submit(report=report, actor=mailboxes["unit_b"])
    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes.item_review(item=items[0], actor=mailboxes["lead_reviewer_b"], accepted=False,
                             note="资金仍未到位")
        outcomes.item_review(item=items[1], actor=mailboxes["lead_reviewer_b"], accepted=True,
                             note="")
    kinds = set(Notification.objects.filter(recipient=mailboxes["unit_b"])
                .values_list("kind", flat=True))
    assert {Kind.RECTIFICATION_REJECTED, Kind.RECTIFICATION_ACCEPTED} <= kinds
    bodies = [m["body"] for m in smtp.to("unit_b@example.org")]
    assert len(bodies) == 2
    assert any("整改不到位" in b for b in bodies) and any("整改到位" in b for b in bodies)
    assert all("测试单位乙" in b for b in bodies)
    assert smtp.to("unit_a@example.org") == []


def test_the_worker_reminds_at_start_and_queues_one_daily_run(world, personas, settings):
    import datetime

    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from kaohe.notifications.tasks import daily_reminders, start_daily_reminders

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.KAOHE_TODAY = "2017-12-30"
    assert start_daily_reminders() > 0  # a worker starts: reminds now, queues tomorrow's
    assert start_daily_reminders() == 0  # a second worker: nothing new, one run queued
    assert len(_texts(personas["unit"])) == 1
    (queued,) = DBTaskResult.objects.filter(task_path=daily_reminders.module_path)
    assert queued.status == TaskResultStatus.READY
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    assert abs(queued.run_after - tomorrow) < datetime.timedelta(minutes=1)


def test_notices_are_worded_in_the_installations_language_whoever_acts(
        world, mailboxes, smtp, monkeypatch, django_capture_on_commit_callbacks):
    from django.utils import translation

    from kaohe.notifications import events, tasks

    languages = []
    for module in (events, tasks):
        original = getattr(module, "notify" if module is events else "message_for")

        def spy(*args, _original=original, **kwargs):
            languages.append(translation.get_language())
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, "notify" if module is events else "message_for", spy)
    report = matrix_self_report(world, world["unit_a"])
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        submissions.self_report_return(report=report, actor=mailboxes["lead_reviewer"],
                                       reason="请补充")
    assert languages == ["zh-hans", "zh-hans"]
    [message] = smtp.to("unit_a@example.org")
    assert "已被退回修改" in message["body"]
