"""Launch and training (steps 1 and 2): the working group, the six lead department teams,
the category plans filed with the working group, the lead departments' refined innovation
items, and the training of the teams' staff.

Everything here belongs to one round. Only the refined innovation items are carried into
a copied round (kaohe.rounds.services.round_copy); teams, plans and training are filed anew.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaohe.lib.fields import StampedDateTimeField


class Body(models.TextChoices):
    """Where a working group member comes from: the office and the 8 lead departments."""

    OFFICE = "office", _("国务院扶贫办")
    OFFICE_SOCIAL = "office_social", _("国务院扶贫办社会扶贫司")
    OFFICE_ASSESSMENT = "office_assessment", _("国务院扶贫办考核评估司")
    PARTY_WORK_COMMITTEE = "party_work_committee", _("中央直属机关工委")
    STATE_WORK_COMMITTEE = "state_work_committee", _("中央国家机关工委")
    UNITED_FRONT = "united_front", _("中央统战部")
    EDUCATION = "education", _("教育部")
    PBOC = "pboc", _("中国人民银行")
    SASAC = "sasac", _("国务院国资委")
    ORG_DEPARTMENT = "org_department", _("中央组织部")
    MILITARY_POLITICAL = "military_political", _("中央军委政治工作部")


OFFICE_BODIES = {Body.OFFICE, Body.OFFICE_SOCIAL, Body.OFFICE_ASSESSMENT}


class Position(models.TextChoices):
    LEADER = "leader", _("组长")
    MEMBER = "member", _("成员")


class WorkingGroupMember(models.Model):
    """A member of the working group (考核工作组); the leader comes from the office."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE,
                              related_name="working_group_members")
    name = models.CharField(_("姓名"), max_length=50)
    organization = models.CharField(_("工作单位"), max_length=100)
    post = models.CharField(_("职务"), max_length=100)
    position = models.CharField(_("组内职务"), max_length=20, choices=Position.choices,
                                default=Position.MEMBER)
    body = models.CharField(_("所属部门"), max_length=40, choices=Body.choices)
    order = models.PositiveSmallIntegerField(default=0)
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["round"], condition=models.Q(position="leader"),
                                    name="working_group_one_leader"),
        ]
        verbose_name = _("考核工作组成员")

    def __str__(self):
        return f"{self.name}（{self.get_position_display()}）"


class Level(models.TextChoices):
    BUREAU = "bureau", _("局级")
    DIVISION = "division", _("处级")
    OTHER = "other", _("其他")


class TeamFiling(models.Model):
    """A lead department's team (考核工作小组) as filed with the working group for a round."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE,
                              related_name="team_filings")
    lead_department = models.ForeignKey("directory.LeadDepartment", on_delete=models.PROTECT,
                                        related_name="team_filings")
    # Domain dates (kaohe.lib.clock): lateness is judged on the first filing.
    filed_on = models.DateField(_("报送日期"))
    updated_on = models.DateField(_("最近更新"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    updated_at = StampedDateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "lead_department"],
                                    name="team_filing_unique"),
        ]
        verbose_name = _("考核工作小组名单")

    def __str__(self):
        return f"{self.lead_department} · {self.round.year}"


class TeamMember(models.Model):
    filing = models.ForeignKey(TeamFiling, on_delete=models.CASCADE, related_name="members")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(_("姓名"), max_length=50)
    post = models.CharField(_("职务"), max_length=100, blank=True)
    level = models.CharField(_("职级"), max_length=20, choices=Level.choices)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    email = models.EmailField(_("电子邮箱"))
    is_liaison = models.BooleanField(_("联络员"), default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="team_memberships")

    class Meta:
        ordering = ["filing", "order"]
        constraints = [
            models.UniqueConstraint(fields=["filing"], condition=models.Q(is_liaison=True),
                                    name="team_one_liaison"),
        ]

    def __str__(self):
        return self.name


class CategoryPlan(models.Model):
    """A lead department's plan for its categorized assessment, filed for the record (备案)."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE,
                              related_name="category_plans")
    lead_department = models.ForeignKey("directory.LeadDepartment", on_delete=models.PROTECT,
                                        related_name="category_plans")
    key_points = models.TextField(_("方案要点"))
    original_name = models.CharField(_("文件名"), max_length=200)
    storage_name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    filed_on = models.DateField(_("备案日期"))
    updated_on = models.DateField(_("最近更新"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    updated_at = StampedDateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "lead_department"],
                                    name="category_plan_unique"),
        ]
        verbose_name = _("分类考核具体方案")

    def __str__(self):
        return f"{self.lead_department} · {self.original_name}"


class RefinedItem(models.Model):
    """A lead department's refinement of one innovation sub-item for its category's units."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE,
                              related_name="refined_items")
    lead_department = models.ForeignKey("directory.LeadDepartment", on_delete=models.PROTECT,
                                        related_name="refined_items")
    item = models.ForeignKey("rounds.IndicatorItem", on_delete=models.CASCADE,
                             related_name="refined_items", verbose_name=_("子项"))
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("细化内容"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "lead_department", "item__order", "order", "pk"]
        verbose_name = _("细化创新指标")

    def __str__(self):
        return self.name


class RefinedItemAnswer(models.Model):
    """What a unit wrote in its self-assessment for one refined item."""

    report = models.ForeignKey("submissions.SelfReport", on_delete=models.CASCADE,
                               related_name="refined_answers")
    refined_item = models.ForeignKey(RefinedItem, on_delete=models.CASCADE,
                                     related_name="answers")
    text = models.TextField(_("工作情况"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "refined_item"],
                                    name="refined_answer_unique"),
        ]

    def __str__(self):
        return f"{self.report} · {self.refined_item}"


class TrainingSession(models.Model):
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE,
                              related_name="training_sessions")
    held_on = models.DateField(_("培训日期"))
    place = models.CharField(_("地点"), max_length=200)
    topic = models.CharField(_("培训内容"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "held_on", "pk"]
        verbose_name = _("培训")

    def __str__(self):
        return f"{self.held_on:%Y-%m-%d} {self.topic}"


class TrainingMaterial(models.Model):
    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE,
                                related_name="materials")
    original_name = models.CharField(_("文件名"), max_length=200)
    storage_name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "uploaded_at", "pk"]
        verbose_name = _("培训材料")

    def __str__(self):
        return self.original_name


class Attendance(models.Model):
    """A lead department staff member (role lead_reviewer) attended a training session."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE,
                                related_name="attendances")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="training_attendances")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = StampedDateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="attendance_unique"),
        ]

    def __str__(self):
        return f"{self.session} · {self.user}"
