"""Self-assessment reports of units and provincial reports (steps 3a and 3b).

A report is edited as a draft, then submitted: submitting locks it and keeps a
snapshot as a numbered version. The lead department may return a submitted self-report
for revision with a reason; the next submission makes the next version.

Its length (over 400 lines) is the two reports, their versions and their attachments, which
reference each other and migrate together.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib import clock
from kaohe.lib.fields import StampedDateTimeField
from kaohe.rounds.models import Grade

# The most people a county can plan to lift out of poverty in a year, with a wide margin
# (the largest poor counties had about a million inhabitants). A bound on every people count,
# so that a mistyped 20-digit number is a field error in the form and the import alike,
# never a database error.
PEOPLE_COUNT_MAX = 10_000_000
# Bounds of indicator 2 (support to a deep-poverty county, as the province reports it), with
# wide margins: what one central unit could plausibly give one county in one year. Beyond
# them a number is a typing error, refused with the county and field named.
DEEP_FUNDS_MAX = Decimal("1000000")   # 万元, i.e. 100亿元
DEEP_PROJECTS_MAX = 10_000
DEEP_CADRES_MAX = 1_000
DEEP_POVERTY_FIELDS = ("deep_funds", "deep_projects", "deep_cadres", "deep_support")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回修改")


class SelfReport(models.Model):
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE,
                              related_name="self_reports")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE,
                             related_name="self_reports")
    status = models.CharField(
        _("状态"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    summary = models.TextField(_("工作总结"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # Kept at submission (kaohe.submissions.deadlines.late_mark): after the step's due date,
    # and under which extension; a deadline moved later does not change it.
    submitted_late = models.BooleanField(_("逾期提交"), default=False)
    late_extension = models.ForeignKey("submissions.Extension", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    # The evidence still missing when the unit confirmed submitting anyway.
    gaps = models.JSONField(_("提交时缺少的材料"), default=list, blank=True)
    returned_reason = models.TextField(_("退回原因"), blank=True)
    # Optimistic lock: every save bumps it; a save based on an older one is a conflict.
    revision = models.PositiveIntegerField(default=0)
    updated_at = StampedDateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="self_report_unique"),
        ]
        indexes = [
            # The round's reports counted by status without reading their rows (the
            # overview's progress, issue 19: each row holds the summary and its gaps).
            models.Index(fields=["round", "status", "unit"], name="selfreport_round_status"),
        ]
        verbose_name = _("自评报告")

    def __str__(self):
        return f"{self.unit} · {self.get_status_display()}"

    @property
    def is_editable(self) -> bool:
        return self.status != ReportStatus.SUBMITTED


class SelfReportAnswer(models.Model):
    """What the unit did for one indicator (for one paired county where judged per county)."""

    report = models.ForeignKey(SelfReport, on_delete=models.CASCADE, related_name="answers")
    indicator = models.ForeignKey("rounds.Indicator", on_delete=models.CASCADE,
                                  related_name="+")
    county = models.ForeignKey("directory.County", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("工作情况"), blank=True)

    class Meta:
        constraints = [
            # Two partial constraints, as SQLite has no NULLS NOT DISTINCT.
            models.UniqueConstraint(fields=["report", "indicator", "county"],
                                    condition=models.Q(county__isnull=False),
                                    name="answer_unique_county"),
            models.UniqueConstraint(fields=["report", "indicator"],
                                    condition=models.Q(county__isnull=True),
                                    name="answer_unique_unit"),
        ]

    def __str__(self):
        return f"{self.report} · {self.indicator.number}"


class EvidenceAttachment(models.Model):
    """Evidence attached to an indicator of a report, for one requirement of its basis."""

    report = models.ForeignKey(SelfReport, on_delete=models.CASCADE, related_name="attachments")
    indicator = models.ForeignKey("rounds.Indicator", on_delete=models.CASCADE,
                                  related_name="+")
    requirement = models.ForeignKey("rounds.EvidenceRequirement", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    county = models.ForeignKey("directory.County", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    evidence = models.ForeignKey("evidence.Evidence", on_delete=models.PROTECT,
                                 related_name="attachments")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One file once per place; four partial constraints as SQLite has no
            # NULLS NOT DISTINCT (requirement and county are each optional).
            models.UniqueConstraint(
                fields=["report", "indicator", "requirement", "county", "evidence"],
                condition=models.Q(requirement__isnull=False, county__isnull=False),
                name="attachment_unique_req_county"),
            models.UniqueConstraint(
                fields=["report", "indicator", "requirement", "evidence"],
                condition=models.Q(requirement__isnull=False, county__isnull=True),
                name="attachment_unique_req"),
            models.UniqueConstraint(
                fields=["report", "indicator", "county", "evidence"],
                condition=models.Q(requirement__isnull=True, county__isnull=False),
                name="attachment_unique_county"),
            models.UniqueConstraint(
                fields=["report", "indicator", "evidence"],
                condition=models.Q(requirement__isnull=True, county__isnull=True),
                name="attachment_unique_plain"),
        ]

    def __str__(self):
        return str(self.evidence)


class ReportVersion(models.Model):
    """A frozen copy of a report as submitted; every submission adds one."""

    self_report = models.ForeignKey(SelfReport, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="versions")
    provincial_report = models.ForeignKey("ProvincialReport", null=True, blank=True,
                                          on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    content = models.JSONField()
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"v{self.number}"


class ProvincialReport(models.Model):
    """A province's report on one central unit working in its counties."""

    round = models.ForeignKey(
        "rounds.Round", on_delete=models.CASCADE, related_name="provincial_reports"
    )
    province = models.ForeignKey(
        "directory.Province", on_delete=models.CASCADE, related_name="reports"
    )
    unit = models.ForeignKey(
        "directory.Unit", on_delete=models.CASCADE, related_name="provincial_reports"
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    work_text = models.TextField(_("中央单位在本地开展定点扶贫情况"), blank=True)
    recommended_grade = models.CharField(
        _("评价等次意见"), max_length=20, blank=True,
        choices=[(g.value, g.label) for g in Grade if g != Grade.PENDING],
    )
    recommendation_reason = models.TextField(_("等次意见理由"), blank=True)
    approved_on = models.DateField(_("省级领导小组审定日期"), null=True, blank=True)
    approval_reference = models.CharField(_("审定文件或会议"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_late = models.BooleanField(_("逾期提交"), default=False)
    late_extension = models.ForeignKey("submissions.Extension", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    revision = models.PositiveIntegerField(default=0)
    updated_at = StampedDateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "province", "unit"], name="provincial_report_unique"
            ),
        ]
        # A unit's reports of a round (the review queue reads them per unit; issue 19).
        indexes = [models.Index(fields=["unit", "round"], name="provincialreport_unit_round")]
        verbose_name = _("省级总结报告")

    def __str__(self):
        return f"{self.province} · {self.unit} · {self.get_status_display()}"

    @property
    def is_editable(self) -> bool:
        return self.status != ReportStatus.SUBMITTED


class CountyOutcome(models.Model):
    """What the province reports for one paired county: exit plan and satisfaction."""

    report = models.ForeignKey(ProvincialReport, on_delete=models.CASCADE,
                               related_name="outcomes")
    county = models.ForeignKey("directory.County", on_delete=models.PROTECT, related_name="+")
    planned_exit = models.PositiveIntegerField(
        _("计划脱贫人口"), null=True, blank=True,
        validators=[MaxValueValidator(PEOPLE_COUNT_MAX)])
    actual_exit = models.PositiveIntegerField(
        _("实际脱贫人口"), null=True, blank=True,
        validators=[MaxValueValidator(PEOPLE_COUNT_MAX)])
    county_exited = models.BooleanField(_("当年摘帽"), default=False)
    plan_met = models.BooleanField(_("完成年度脱贫攻坚任务"), null=True, blank=True)
    satisfaction_unit = models.CharField(
        _("对中央单位帮扶工作的满意情况"), max_length=20, blank=True,
        choices=[(g.value, g.label) for g in Grade if g != Grade.PENDING],
    )
    satisfaction_cadres = models.CharField(
        _("对挂职扶贫干部（含第一书记）工作的满意情况"), max_length=20, blank=True,
        choices=[(g.value, g.label) for g in Grade if g != Grade.PENDING],
    )
    note = models.TextField(_("说明"), blank=True)
    # Indicator 2 (加大对深度贫困地区帮扶情况), data from the county: asked only where the
    # county is a deep-poverty area (County.deep_poverty).
    deep_funds = models.DecimalField(
        _("拨付帮扶资金（万元）"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(DEEP_FUNDS_MAX)])
    deep_projects = models.PositiveIntegerField(
        _("帮扶项目（个）"), null=True, blank=True,
        validators=[MaxValueValidator(DEEP_PROJECTS_MAX)])
    deep_cadres = models.PositiveIntegerField(
        _("选派挂职干部（人）"), null=True, blank=True,
        validators=[MaxValueValidator(DEEP_CADRES_MAX)])
    deep_support = models.TextField(_("对深度贫困地区的帮扶情况"), blank=True)

    class Meta:
        ordering = ["county__code"]
        constraints = [
            models.UniqueConstraint(fields=["report", "county"], name="outcome_unique"),
        ]

    def __str__(self):
        return f"{self.report} · {self.county}"


class ProvincialAttachmentKind(models.TextChoices):
    EVIDENCE = "evidence", _("证明材料")
    APPROVAL = "approval", _("审定文件")


class ProvincialAttachment(models.Model):
    """A file of the province attached to its report: supporting evidence (附相关证明材料),
    for one paired county or the whole report, or the approval document of the provincial
    poverty alleviation leading group (省级扶贫开发领导小组审定文件), which submission needs."""

    report = models.ForeignKey(ProvincialReport, on_delete=models.CASCADE,
                               related_name="attachments")
    kind = models.CharField(_("材料类别"), max_length=20,
                            choices=ProvincialAttachmentKind.choices)
    county = models.ForeignKey("directory.County", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    evidence = models.ForeignKey("evidence.Evidence", on_delete=models.PROTECT,
                                 related_name="provincial_attachments")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["report", "evidence"],
                                    name="provincial_attachment_unique"),
        ]
        verbose_name = _("省级总结报告附件")

    def __str__(self):
        return str(self.evidence)


class FindingKind(models.TextChoices):
    MAJOR_INCIDENT = "major_incident", _("重大涉贫事件")
    SERIOUS_PROBLEM = "serious_problem", _("突出问题")


class ProvincialFinding(models.Model):
    """A major incident or a serious problem the province reports for a paired county."""

    report = models.ForeignKey(ProvincialReport, on_delete=models.CASCADE,
                               related_name="findings")
    county = models.ForeignKey("directory.County", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=30, choices=FindingKind.choices)
    problem_kind = models.ForeignKey("rounds.SeriousProblemKind", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("突出问题类别"))
    description = models.TextField(_("情况说明"))
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.county}"


class Withdrawable(models.Model):
    """A record others rely on is never deleted once locked: its author withdraws it with a
    reason, and it stays, marked 已撤回, for everyone who saw it."""

    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    withdrawn_reason = models.TextField(_("撤回原因"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def withdraw(self, *, actor, reason: str, error: type[Exception]) -> str:
        """Mark the (locked) record withdrawn by ``actor``; the caller's service has checked
        who may withdraw it, and logs the act. Returns the stripped reason."""
        if self.withdrawn_at is not None:
            raise error(_("该记录已撤回。"))
        reason = reason.strip()
        if not reason:
            raise error(_("请填写撤回原因。"))
        self.withdrawn_at, self.withdrawn_by, self.withdrawn_reason = (
            clock.now(), actor, reason)
        self.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        return reason


class SecondedCadre(Withdrawable):
    """A cadre the unit seconded to a paired county (挂职扶贫干部)."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE, related_name="cadres")
    county = models.ForeignKey("directory.County", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    post = models.CharField(_("挂职职务"), max_length=100)
    duties = models.CharField(_("分工"), max_length=300, blank=True)
    in_charge_of_poverty = models.BooleanField(_("分管或协助分管扶贫工作"), default=True)
    start = models.DateField(_("挂职开始"))
    end = models.DateField(_("挂职结束"), null=True, blank=True)
    document = models.CharField(_("任职文件"), max_length=200, blank=True)

    class Meta:
        ordering = ["unit", "county", "start"]
        verbose_name = _("挂职扶贫干部")
        constraints = [
            # One person, one secondment: a second tab or a replayed request cannot register
            # the same cadre twice (a withdrawn record may be registered again).
            models.UniqueConstraint(fields=["round", "unit", "county", "name", "start"],
                                    condition=models.Q(withdrawn_at__isnull=True),
                                    name="cadre_natural_key"),
        ]

    def __str__(self):
        return f"{self.name}（{self.post}）"


class FirstSecretary(Withdrawable):
    """A village first secretary the unit sent to a poor village (驻村第一书记)."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE,
                             related_name="first_secretaries")
    county = models.ForeignKey("directory.County", on_delete=models.PROTECT, related_name="+")
    village = models.CharField(_("所驻贫困村"), max_length=100)
    name = models.CharField(_("姓名"), max_length=50)
    start = models.DateField(_("任职开始"))
    end = models.DateField(_("任职结束"), null=True, blank=True)
    document = models.CharField(_("任职文件"), max_length=200, blank=True)

    class Meta:
        ordering = ["unit", "county", "start"]
        verbose_name = _("驻村第一书记")
        constraints = [
            models.UniqueConstraint(fields=["round", "unit", "village", "name", "start"],
                                    condition=models.Q(withdrawn_at__isnull=True),
                                    name="first_secretary_natural_key"),
        ]

    def __str__(self):
        return f"{self.name}（{self.village}）"


class Extension(models.Model):
    """The office lets one unit, province or lead department act on a step after its deadline."""

    step = models.ForeignKey("rounds.Step", on_delete=models.CASCADE, related_name="extensions")
    unit = models.ForeignKey("directory.Unit", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="extensions")
    province = models.ForeignKey("directory.Province", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="extensions")
    lead_department = models.ForeignKey("directory.LeadDepartment", null=True, blank=True,
                                        on_delete=models.CASCADE, related_name="extensions")
    until = models.DateField(_("延期至"))
    reason = models.TextField(_("延期原因"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="extension_has_one_party",
                condition=(models.Q(unit__isnull=False, province__isnull=True,
                                    lead_department__isnull=True)
                           | models.Q(unit__isnull=True, province__isnull=False,
                                      lead_department__isnull=True)
                           | models.Q(unit__isnull=True, province__isnull=True,
                                      lead_department__isnull=False)),
            ),
        ]
        verbose_name = _("延期")

    def __str__(self):
        return f"{self.party} → {self.until}"

    @property
    def party(self):
        return self.unit or self.province or self.lead_department
