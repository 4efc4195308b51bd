"""The categorized assessment (step 4): what the lead departments find and grade.

Nothing here is ever shown to units or provinces: the plan says the lead departments
give the assessed units no feedback.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib.fields import StampedDateTimeField
from kaohe.rounds.models import GRADE_CHOICES
from kaohe.submissions.models import Withdrawable


class Review(models.Model):
    """A lead department's review of one unit in one round."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="reviews")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE, related_name="reviews")
    # Optimistic lock over the grades and the sub-report: every save bumps it.
    revision = models.PositiveIntegerField(default=0)
    updated_at = StampedDateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="review_unique"),
        ]
        verbose_name = _("分类考核")

    def __str__(self):
        return f"{self.unit} · {self.round.year}"


class ReviewMethod(models.TextChoices):
    DOCUMENT = "document", _("审阅书面材料")
    DISCUSSION = "discussion", _("座谈了解")
    SPOT_CHECK = "spot_check", _("个别核查")


class ReviewActivity(models.Model):
    """How the team reviewed: a document review, a discussion, a spot check."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="activities")
    method = models.CharField(_("方式"), max_length=20, choices=ReviewMethod.choices)
    held_on = models.DateField(_("日期"))
    people = models.CharField(_("参加人员"), max_length=300)
    note = models.TextField(_("情况记录"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "created_at"]

    def __str__(self):
        return f"{self.get_method_display()} {self.held_on}"


class VerificationStatus(models.TextChoices):
    VERIFIED = "verified", _("属实")
    DOUBTFUL = "doubtful", _("存疑")
    NOT_MATCHING = "not_matching", _("不符")


class Verification(models.Model):
    """The team's finding on one claim of the self-report (an indicator, maybe a county)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="verifications")
    indicator = models.ForeignKey("rounds.Indicator", on_delete=models.CASCADE, related_name="+")
    county = models.ForeignKey("directory.County", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("核实结果"), max_length=20, choices=VerificationStatus.choices)
    note = models.TextField(_("说明"), blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    updated_at = StampedDateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "indicator", "county"],
                                    condition=models.Q(county__isnull=False),
                                    name="verification_unique_county"),
            models.UniqueConstraint(fields=["review", "indicator"],
                                    condition=models.Q(county__isnull=True),
                                    name="verification_unique_unit"),
        ]

    def __str__(self):
        return f"{self.indicator.number} {self.get_status_display()}"


class GradeSource(models.TextChoices):
    REVIEWER = "reviewer", _("牵头部门评定")
    PROVINCE = "province", _("依据省级报告")


class AreaGrade(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="area_grades")
    area = models.ForeignKey("rounds.Area", on_delete=models.CASCADE, related_name="+")
    grade = models.CharField(_("等次"), max_length=20, choices=GRADE_CHOICES)
    reason = models.TextField(_("评定理由"))
    source = models.CharField(_("依据"), max_length=20, choices=GradeSource.choices,
                              default=GradeSource.REVIEWER)
    # Where the county's data suggested another grade, what it suggested.
    suggested_grade = models.CharField(max_length=20, choices=GRADE_CHOICES, blank=True)
    graded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    updated_at = StampedDateTimeField(auto_now=True)

    class Meta:
        ordering = ["area__number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "area"], name="area_grade_unique"),
        ]

    def __str__(self):
        return f"{self.area} {self.get_grade_display()}"


class FindingSource(models.TextChoices):
    REVIEWER = "reviewer", _("牵头部门")
    PROVINCE = "province", _("省级扶贫部门")
    ORG_DEPARTMENT = "org_department", _("中央组织部")


class Finding(Withdrawable):
    """What a serious problem and a major incident share: the finding as written, on what it
    rests, who found it (the lead department, a province or the organization department) and
    who recorded it."""

    description = models.TextField(_("情况说明"))
    evidence_note = models.CharField(_("依据材料"), max_length=300, blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=FindingSource.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at"]


class SeriousProblem(Finding):
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE,
                             related_name="serious_problems")
    kind = models.ForeignKey("rounds.SeriousProblemKind", on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("突出问题类别"))
    county = models.ForeignKey("directory.County", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")

    class Meta(Finding.Meta):
        # A unit's rows of a round (the review queue reads them per unit; issue 19).
        indexes = [models.Index(fields=["unit", "round"], name="seriousproblem_unit_round")]
        verbose_name = _("突出问题")

    def __str__(self):
        return f"{self.unit} · {self.kind.name}"


class MajorIncident(Finding):
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE,
                             related_name="major_incidents")
    county = models.ForeignKey("directory.County", on_delete=models.PROTECT, related_name="+")

    class Meta(Finding.Meta):
        # A unit's rows of a round (the review queue reads them per unit; issue 19).
        indexes = [models.Index(fields=["unit", "round"], name="majorincident_unit_round")]
        verbose_name = _("重大涉贫事件")

    def __str__(self):
        return f"{self.unit} · {self.county}"


class SubReport(models.Model):
    """考核子报告: basic situation; serious problems and shortcomings; opinions and suggestions."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="sub_report")
    basic_situation = models.TextField(_("考核基本情况"), blank=True)
    problems = models.TextField(_("突出问题与不足"), blank=True)
    suggestions = models.TextField(_("意见与建议"), blank=True)
    updated_at = StampedDateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.review} 子报告"

    @property
    def is_complete(self) -> bool:
        return all(t.strip() for t in (self.basic_situation, self.problems, self.suggestions))


class CategorySubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("考核中")
    SUBMITTED = "submitted", _("已报送考核工作组")
    RETURNED = "returned", _("已退回")


class CategorySubmissionQuerySet(models.QuerySet):
    def without_grades(self) -> "CategorySubmissionQuerySet":
        """Without the grades submitted (the snapshot and its grade rows): for what shows
        whether and when a category was submitted (issue 19: the snapshot is 1.3 MB for a
        category of 1,050 units)."""
        return self.defer("snapshot", "grade_rows")


class CategorySubmission(models.Model):
    """A lead department's category report and the act of submitting its preliminary results."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    lead_department = models.ForeignKey("directory.LeadDepartment", on_delete=models.CASCADE,
                                        related_name="submissions")
    status = models.CharField(max_length=20, choices=CategorySubmissionStatus.choices,
                              default=CategorySubmissionStatus.DRAFT)
    overview = models.TextField(_("考核基本情况"), blank=True)
    problems = models.TextField(_("突出问题与不足"), blank=True)
    suggestions = models.TextField(_("意见与建议"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # Kept at submission: after step 四's due date, and under which extension.
    submitted_late = models.BooleanField(_("逾期提交"), default=False)
    late_extension = models.ForeignKey("submissions.Extension", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    returned_reason = models.TextField(blank=True)
    # The grades as submitted: the working group grades from this, not from later edits.
    snapshot = models.JSONField(default=dict, blank=True)
    # The number of units in the snapshot, written with it: pages that count a category's
    # units do not read (or have the database parse) the snapshot. None before submission.
    unit_count = models.PositiveIntegerField(null=True, blank=True)
    # The snapshot's grade matrix without its reasons, written with it: [[unit code, unit
    # name, {area code: grade}], ...]. The category's page shows 20 units of it at a time
    # and does not decode every unit's reasons to do so (issue 19: 1.3 MB for a category
    # of 1,050 units). None before submission.
    grade_rows = models.JSONField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)

    objects = CategorySubmissionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "lead_department"],
                                    name="category_submission_unique"),
        ]
        verbose_name = _("牵头部门综合考核报告")

    def __str__(self):
        return f"{self.lead_department} · {self.get_status_display()}"

    @property
    def is_locked(self) -> bool:
        return self.status == CategorySubmissionStatus.SUBMITTED


class CadreCheck(models.Model):
    """The organization department's check of a seconded cadre or first secretary."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    cadre = models.OneToOneField("submissions.SecondedCadre", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="org_check")
    secretary = models.OneToOneField("submissions.FirstSecretary", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="org_check")
    in_post = models.BooleanField(_("在岗"))
    in_charge = models.BooleanField(_("分管或协助分管扶贫工作"), default=True)
    nominal_only = models.BooleanField(_("挂名无实、走形式"), default=False)
    discipline_issue = models.BooleanField(_("出现违纪违规问题"), default=False)
    note = models.TextField(_("核查情况"), blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    checked_at = StampedDateTimeField(auto_now=True)
    # Set when the finding was recorded as a serious problem of the unit.
    problem = models.OneToOneField(SeriousProblem, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="cadre_check_one_target",
                condition=(models.Q(cadre__isnull=False, secretary__isnull=True)
                           | models.Q(cadre__isnull=True, secretary__isnull=False)),
            ),
        ]

    def __str__(self):
        return str(self.cadre or self.secretary)

    @property
    def has_problem(self) -> bool:
        return (not self.in_post) or self.nominal_only or self.discipline_issue or (
            self.cadre_id is not None and not self.in_charge
        )


class MilitaryInspection(models.Model):
    """Army and armed police units are inspected, not graded or ranked."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("directory.Unit", on_delete=models.CASCADE,
                             related_name="inspections")
    inspected_on = models.DateField(_("检查日期"))
    inspectors = models.CharField(_("检查人员"), max_length=300)
    findings = models.TextField(_("检查情况"))
    report = models.TextField(_("检查督导报告"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-inspected_on"]

    def __str__(self):
        return f"{self.unit} {self.inspected_on}"
