"""Self-assessment reports of units and provincial reports (steps 3a and 3b).

A report is edited as a draft, then submitted: submitting locks it and keeps a
snapshot as a numbered version. The lead department may return a submitted self-report
for revision with a reason; the next submission makes the next version.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.rounds.models import Grade

# The most people a county can plan to lift out of poverty in a year, with a wide margin
# (the largest poor counties had about a million inhabitants). A bound on every people count,
# so that a mistyped 20-digit number is a field error in the form and the import alike,
# never a database error.
PEOPLE_COUNT_MAX = 10_000_000


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
    # The evidence still missing when the unit confirmed submitting anyway.
    gaps = models.JSONField(_("提交时缺少的材料"), default=list, blank=True)
    returned_reason = models.TextField(_("退回原因"), blank=True)
    # Optimistic lock: every save bumps it; a save based on an older one is a conflict.
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="self_report_unique"),
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
    created_at = models.DateTimeField(auto_now_add=True)

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
    evidence = models.ManyToManyField("evidence.Evidence", blank=True, related_name="+")
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "province", "unit"], name="provincial_report_unique"
            ),
        ]
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

    class Meta:
        ordering = ["county__code"]
        constraints = [
            models.UniqueConstraint(fields=["report", "county"], name="outcome_unique"),
        ]

    def __str__(self):
        return f"{self.report} · {self.county}"


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.county}"


class SecondedCadre(models.Model):
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

    def __str__(self):
        return f"{self.name}（{self.post}）"


class FirstSecretary(models.Model):
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

    def __str__(self):
        return f"{self.name}（{self.village}）"


class Extension(models.Model):
    """The office lets one unit or province submit a step after its deadline."""

    step = models.ForeignKey("rounds.Step", on_delete=models.CASCADE, related_name="extensions")
    unit = models.ForeignKey("directory.Unit", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="extensions")
    province = models.ForeignKey("directory.Province", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="extensions")
    until = models.DateField(_("延期至"))
    reason = models.TextField(_("延期原因"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="extension_has_one_party",
                condition=(models.Q(unit__isnull=False, province__isnull=True)
                           | models.Q(unit__isnull=True, province__isnull=False)),
            ),
        ]
        verbose_name = _("延期")

    def __str__(self):
        return f"{self.unit or self.province} → {self.until}"
