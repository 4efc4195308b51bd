"""Steps 6 and 7 and the use of results: feedback, rectification, summons, dispatches."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib.fields import StampedDateTimeField


class Feedback(models.Model):
    """What the leading group tells one unit: its grade, problems found, suggestions.

    One letter per unit and result set version: the letters of the released version are
    what units read; those of a version a correction replaced stay on record, unchanged."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE, related_name="feedback")
    result_set = models.ForeignKey("grading.ResultSet", on_delete=models.PROTECT,
                                   related_name="feedback")
    grade = models.CharField(_("考核等次"), max_length=20)
    problems = models.TextField(_("突出问题与不足"), blank=True)
    suggestions = models.TextField(_("改进工作的意见建议"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = StampedDateTimeField(auto_now=True)
    # In a correction: the unit's letter of the version corrected, and whether this letter
    # changes it (grade or text): only then is the unit told of the correction.
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    corrected = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["result_set", "unit"],
                                               name="feedback_unique")]
        verbose_name = _("考核反馈")

    def __str__(self):
        return f"{self.unit} · {self.round.year}"


class ItemStatus(models.TextChoices):
    OPEN = "open", _("未整改")
    IN_PROGRESS = "in_progress", _("整改中")
    DONE = "done", _("已完成")
    NOT_ACCEPTED = "not_accepted", _("整改不到位")


class RectificationReport(models.Model):
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE,
                             related_name="rectifications")
    summary = models.TextField(_("整改情况总体说明"), blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # submitted_at is the first submission (the one the deadline is about); a report sent
    # back as 整改不到位 is submitted again, and the latest time and the count are kept here.
    # Every submission and review decision is in its events (the history).
    last_submitted_at = models.DateTimeField(_("最近报送时间"), null=True, blank=True)
    submission_count = models.PositiveSmallIntegerField(_("报送次数"), default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "unit"],
                                               name="rectification_unique")]
        verbose_name = _("整改报告")

    def __str__(self):
        return f"{self.unit} · {self.round.year}"


class ItemSource(models.TextChoices):
    PROBLEM = "problem", _("突出问题与不足")
    SUGGESTION = "suggestion", _("意见建议")
    CARRIED = "carried", _("上年度未完成事项")


class RectificationItem(models.Model):
    report = models.ForeignKey(RectificationReport, on_delete=models.CASCADE,
                               related_name="items")
    order = models.PositiveSmallIntegerField()
    source = models.CharField(_("来源"), max_length=20, choices=ItemSource.choices)
    text = models.TextField(_("问题或建议"))
    measures = models.TextField(_("整改措施"), blank=True)
    evidence_note = models.CharField(_("佐证材料"), max_length=500, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=ItemStatus.choices,
                              default=ItemStatus.OPEN)
    review_note = models.TextField(_("审核意见"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    carried_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="carried_to")
    # Set when a reviewer finds the item 整改不到位 on a submitted report: the unit may then
    # revise this item (and only the items so marked) and submit the report again.
    needs_revision = models.BooleanField(_("待重新整改"), default=False)

    class Meta:
        ordering = ["report", "order"]

    def __str__(self):
        return self.text[:40]


class RectificationAttachment(models.Model):
    """An evidence file (uploaded through the resumable upload) for one item of a report."""

    report = models.ForeignKey(RectificationReport, on_delete=models.CASCADE,
                               related_name="attachments")
    item = models.ForeignKey(RectificationItem, on_delete=models.CASCADE,
                             related_name="attachments")
    evidence = models.ForeignKey("evidence.Evidence", on_delete=models.PROTECT,
                                 related_name="rectification_attachments")
    attached_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["item", "evidence"],
                                               name="rectification_attachment_unique")]
        verbose_name = _("整改佐证材料")

    def __str__(self):
        return f"{self.item} · {self.evidence}"


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("报送")
    RESUBMITTED = "resubmitted", _("重新报送")
    ACCEPTED = "accepted", _("认定已完成")
    NOT_ACCEPTED = "not_accepted", _("认定整改不到位")
    EXTENDED = "extended", _("准予延期")


class RectificationEvent(models.Model):
    """One act in the life of a report, kept for its history: who, when, what, why."""

    report = models.ForeignKey(RectificationReport, on_delete=models.CASCADE,
                               related_name="events")
    item = models.ForeignKey(RectificationItem, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事项"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    at = StampedDateTimeField(_("时间"), auto_now_add=True)
    comment = models.TextField(_("说明"), blank=True)
    # A submission's snapshot (measures, status and files per item); an extension's date.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("整改记录")

    def __str__(self):
        return f"{self.report} · {self.get_kind_display()}"


class Summoner(models.TextChoices):
    LEAD_DEPARTMENT = "lead_department", _("牵头部门")
    LEADING_GROUP = "leading_group", _("国务院扶贫开发领导小组")


class Summoned(models.TextChoices):
    LEADER_IN_CHARGE = "leader_in_charge", _("分管负责同志")
    PRINCIPAL_LEADER = "principal_leader", _("主要负责同志")


class Summons(models.Model):
    """约谈 of a 较差 unit: by its lead department (leader in charge) or the leading group."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE, related_name="summons")
    summoner = models.CharField(_("约谈方"), max_length=20, choices=Summoner.choices,
                                default=Summoner.LEAD_DEPARTMENT)
    summoned = models.CharField(_("约谈对象"), max_length=20, choices=Summoned.choices,
                                default=Summoned.LEADER_IN_CHARGE)
    held_on = models.DateField(_("约谈时间"), null=True, blank=True)
    minutes = models.TextField(_("约谈纪要"), blank=True)
    follow_up = models.TextField(_("后续跟踪"), blank=True)
    closed = models.BooleanField(_("跟踪事项已办结"), default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = StampedDateTimeField(auto_now=True)
    # Set when a released correction lifts the unit out of 较差 while the summons is still
    # followed up: the record stays (closed), with the correction that ended it, and no page,
    # to-do or notice asks for it any more. A later correction back to 较差 clears both.
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey("grading.Correction", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("撤销依据（考核结果更正）"))

    class Meta:
        ordering = ["round", "unit"]
        verbose_name = _("约谈")

    def __str__(self):
        return f"{self.unit} · {self.get_summoner_display()}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class DispatchKind(models.TextChoices):
    REPORT = "report", _("向党中央、国务院报告考核结果")
    CIRCULAR = "circular", _("向中央各单位通报考核情况")
    ORG_DEPARTMENT = "org_department", _("考核结果送中央组织部")


class Dispatch(models.Model):
    """A record of what was sent, to whom and when (the documents come from the exports)."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类别"), max_length=20, choices=DispatchKind.choices)
    recipients = models.CharField(_("报送对象"), max_length=300)
    sent_on = models.DateField(_("报送日期"))
    reference = models.CharField(_("文号"), max_length=100, blank=True)
    note = models.TextField(_("备注"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_on"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.sent_on}"
