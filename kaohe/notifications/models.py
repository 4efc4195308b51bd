"""Notifications: what a user is told in the application and, where the user has an
e-mail address, by e-mail. Each names the unit, province or lead department it is about
and links to the page; none carries a grade, rank or count (issue 20)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib import clock


class Kind(models.TextChoices):
    DEADLINE_WEEK = "deadline_week", _("截止提醒（7天）")
    DEADLINE_DAY = "deadline_day", _("截止提醒（1天）")
    OVERDUE = "overdue", _("逾期提醒")
    RETURNED = "returned", _("退回修改")
    RELEASED = "released", _("考核结果发布")
    RECTIFICATION_ACCEPTED = "rectification_accepted", _("整改事项通过")
    RECTIFICATION_REJECTED = "rectification_rejected", _("整改事项退回")
    API_TOKEN = "api_token", _("接口令牌授权")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications")
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    text = models.TextField(_("内容"))
    # A path inside the application; e-mails make it absolute with KAOHE_BASE_URL.
    link = models.CharField(_("链接"), max_length=300)
    # What the notice is about (kind, subject, deadline): each is sent to a user once, so
    # `kaohe remind` may run any number of times a day.
    key = models.CharField(max_length=200)
    created = models.DateTimeField(_("时间"), default=clock.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        verbose_name = _("通知")

    def __str__(self):
        return self.text
