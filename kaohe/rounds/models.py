"""The year's assessment round: its areas, indicators, evidence basis, schedule and method.

Everything the 2017 plan fixes in prose is data of a round here, so that next year's
round can have other dates, another unit count or other indicators without code.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.grading import vocabulary
from kaohe.lib import clock
from kaohe.lib.fields import StampedDateTimeField

# The grades of kaohe.grading.vocabulary as Django choices, their names translated. (The
# stubs type the functional API with member names only; Django takes (name, value) pairs.)
Grade = models.TextChoices(  # type: ignore[call-overload]
    "Grade", [(grade.name, (grade.value, _(grade.label))) for grade in vocabulary.Grade]
)
# The four grades an area or a decided result can have (all but 待定), for fields and forms.
GRADE_CHOICES = [(grade.value, _(grade.label)) for grade in vocabulary.AREA_GRADES]


class Source(models.TextChoices):
    COUNTY = "county", _("定点扶贫县提供")
    UNIT = "unit", _("本单位提供，牵头部门核实")


class RoundStatus(models.TextChoices):
    """A copy is prepared by the office alone, made active by an explicit act, and closed
    (read-only) once its results are released. Several rounds may be active at once: an
    earlier year's feedback and rectification go on while the next year starts."""

    PREPARING = "preparing", _("筹备中")
    ACTIVE = "active", _("进行中")
    CLOSED = "closed", _("已结束")


class Round(models.Model):
    year = models.PositiveSmallIntegerField(_("考核年度"), unique=True)
    name = models.CharField(_("名称"), max_length=200)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    plan_title = models.CharField(_("实施方案"), max_length=200, blank=True)
    planned_unit_count = models.PositiveIntegerField(_("计划考核单位数"), default=0)
    purpose = models.TextField(_("考核目的"), blank=True)
    method_text = models.TextField(_("考核方法"), blank=True)
    major_incident_text = models.TextField(_("重大涉贫事件规定"), blank=True)
    result_use_text = models.TextField(_("考核结果运用"), blank=True)
    # The plan's own words that documents and the engine's refusals quote (issue 18): copied
    # verbatim from the plan into the round's data file, never typed into exporters.
    measures_title = models.CharField(_("考核办法名称"), max_length=200, blank=True)
    issuer_name = models.CharField(_("发文机关名称"), max_length=100, blank=True)
    leading_group_name = models.CharField(_("领导小组名称"), max_length=100, blank=True)
    working_group_name = models.CharField(_("考核工作组名称"), max_length=100, blank=True)
    grading_rule_text = models.TextField(_("等次划分规定"), blank=True)
    summons_text = models.TextField(_("约谈规定"), blank=True)
    # The comprehensive evaluation method (internal): the dict format of kaohe.grading.method.
    method = models.JSONField(_("综合评价方法"), default=dict)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    created_at = StampedDateTimeField(auto_now_add=True)
    status = models.CharField(_("状态"), max_length=20, choices=RoundStatus.choices,
                              default=RoundStatus.ACTIVE)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("考核年度")

    def __str__(self):
        return self.name

    def current_step(self):
        """The first step whose deadline has not passed, or None once all have."""
        today = clock.today()
        for step in self.steps.all():
            if step.due >= today:
                return step
        return None


class Area(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(max_length=40)
    number = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("考核内容"), max_length=100)
    source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices)
    source_text = models.CharField(_("数据来源说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["round", "number"]
        constraints = [
            models.UniqueConstraint(fields=["round", "code"], name="area_code_unique"),
            models.UniqueConstraint(fields=["round", "number"], name="area_number_unique"),
        ]

    def __str__(self):
        return self.name


class Indicator(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="indicators")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="indicators")
    number = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("考核指标"), max_length=300)
    summary = models.TextField(_("考核要点"), blank=True)
    definition = models.TextField(_("指标说明"), blank=True)
    evidence_basis = models.TextField(_("评价依据"), blank=True)
    source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices)
    deep_poverty_only = models.BooleanField(
        _("仅适用于深度贫困地区"), default=False,
        help_text=_("定点扶贫县属深度贫困地区时才考核此项"),
    )
    per_county = models.BooleanField(_("按定点扶贫县分别考核"), default=False)

    class Meta:
        ordering = ["round", "number"]
        constraints = [
            models.UniqueConstraint(fields=["round", "number"], name="indicator_number_unique"),
        ]

    def __str__(self):
        return f"{self.number}. {self.name}"


class IndicatorItem(models.Model):
    """A sub-item: the two satisfaction items, the five innovation items."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(max_length=40)
    order = models.PositiveSmallIntegerField()
    name = models.CharField(_("子项"), max_length=300)
    definition = models.TextField(_("指标说明"), blank=True)
    evidence_basis = models.TextField(_("评价依据"), blank=True)

    class Meta:
        ordering = ["indicator", "order"]

    def __str__(self):
        return self.name


class EvidenceRequirement(models.Model):
    """One piece of evidence the indicator's evidence basis asks for."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="evidence_requirements"
    )
    order = models.PositiveSmallIntegerField()
    name = models.CharField(_("证明材料"), max_length=300)

    class Meta:
        ordering = ["indicator", "order"]

    def __str__(self):
        return self.name


class SeriousProblemKind(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="problem_kinds")
    code = models.CharField(max_length=40)
    order = models.PositiveSmallIntegerField()
    name = models.TextField(_("突出问题"))

    class Meta:
        ordering = ["round", "order"]

    def __str__(self):
        return self.name


class Actor(models.TextChoices):
    OFFICE = "office", _("国务院扶贫办")
    UNIT = "unit", _("中央单位")
    PROVINCE = "province", _("省级扶贫部门")
    LEAD_REVIEWER = "lead_reviewer", _("牵头部门")
    WORKING_GROUP = "working_group", _("考核工作组")
    LEADING_GROUP = "leading_group", _("领导小组")


class Step(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40)
    number = models.CharField(_("编号"), max_length=20, blank=True)
    name = models.CharField(_("步骤"), max_length=100)
    heading = models.CharField(_("原文标题"), max_length=100, blank=True)
    actor = models.CharField(_("责任方"), max_length=20, choices=Actor.choices)
    description = models.TextField(_("工作内容"), blank=True)
    due = models.DateField(_("完成时限"))

    class Meta:
        ordering = ["round", "order"]
        constraints = [
            models.UniqueConstraint(fields=["round", "code"], name="step_code_unique"),
        ]

    def __str__(self):
        return self.name

    def days_left(self) -> int:
        return (self.due - clock.today()).days

    @property
    def is_closed(self) -> bool:
        return self.due < clock.today()
