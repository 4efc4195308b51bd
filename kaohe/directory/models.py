"""Who is assessed and where: categories, lead departments, provinces, counties, units, pairings."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadDepartment(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(_("牵头部门"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        verbose_name = _("牵头部门")

    def __str__(self):
        return self.short_name


class Category(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(_("类别"), max_length=100)
    lead_department = models.ForeignKey(
        LeadDepartment, on_delete=models.PROTECT, related_name="categories"
    )
    # Army and armed police units are inspected, not ranked with the others.
    ranked = models.BooleanField(_("参加排名"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        verbose_name = _("类别")

    def __str__(self):
        return self.name


class Province(models.Model):
    code = models.CharField(_("行政区划代码"), max_length=2, unique=True)
    name = models.CharField(_("省（区、市）"), max_length=50, unique=True)
    # The province's liaison for the assessment (the office keeps the contact list).
    liaison_name = models.CharField(_("联络员姓名"), max_length=50, blank=True)
    liaison_phone = models.CharField(_("联络员电话"), max_length=40, blank=True)
    liaison_email = models.EmailField(_("联络员电子邮箱"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("省（区、市）")

    def __str__(self):
        return self.name


class County(models.Model):
    code = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name = models.CharField(_("县名"), max_length=50)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="counties")
    prefecture = models.CharField(_("所属市州"), max_length=50, blank=True)
    region = models.CharField(_("区域"), max_length=10, blank=True)
    exit_year = models.PositiveSmallIntegerField(_("摘帽年份"), null=True, blank=True)
    three_areas = models.BooleanField(_("三区三州"), default=False)
    # Provinces designate further deep-poverty counties; the office records them here.
    province_designated = models.BooleanField(_("省定深度贫困县"), default=False)
    designation_note = models.CharField(_("认定依据"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("定点扶贫县")

    def __str__(self):
        return f"{self.province.name}{self.prefecture}{self.name}"

    @property
    def deep_poverty(self) -> bool:
        return self.three_areas or self.province_designated


class Unit(models.Model):
    code = models.CharField(_("单位编码"), max_length=20, unique=True)
    name = models.CharField(_("单位名称"), max_length=100, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="units")
    active = models.BooleanField(_("承担定点扶贫任务"), default=True)
    # The unit's liaison for the assessment (the office keeps the contact list).
    liaison_name = models.CharField(_("联络员姓名"), max_length=50, blank=True)
    liaison_phone = models.CharField(_("联络员电话"), max_length=40, blank=True)
    liaison_email = models.EmailField(_("联络员电子邮箱"), blank=True)

    class Meta:
        ordering = ["category__order", "code"]
        verbose_name = _("中央单位")

    def __str__(self):
        return self.name


class Pairing(models.Model):
    """A unit paired with a county for one round; a unit may have several counties."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="pairings")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="pairings")
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="pairings")

    class Meta:
        ordering = ["unit", "county__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "unit", "county"], name="pairing_unique"),
        ]
        verbose_name = _("结对关系")

    def __str__(self):
        return f"{self.unit} — {self.county}"


class CountyFigure(models.Model):
    """A county's figures for one year as the national poverty alleviation information
    system (全国扶贫开发信息系统) exports them, imported by the office
    (kaohe.directory.figures). They pre-fill indicators 1 and 2 for provinces and show
    beside the province's own figures for reviewers, always with their source."""

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="figures")
    year = models.PositiveSmallIntegerField(_("年度"))
    planned_exit = models.PositiveIntegerField(_("计划脱贫人口"), null=True, blank=True)
    actual_exit = models.PositiveIntegerField(_("实际脱贫人口"), null=True, blank=True)
    exited = models.BooleanField(_("当年摘帽"), null=True, blank=True)
    poverty_incidence = models.DecimalField(_("贫困发生率（%）"), max_digits=5,
                                            decimal_places=2, null=True, blank=True)
    # Where the figures came from: the file's name and who imported it when.
    source_file = models.CharField(_("来源文件"), max_length=200, blank=True)
    imported_by = models.CharField(_("导入人"), max_length=150, blank=True)
    imported_at = models.DateTimeField(_("导入时间"))

    class Meta:
        ordering = ["county__code", "year"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="county_figure_unique"),
        ]
        verbose_name = _("全国扶贫开发信息系统县级数据")

    def __str__(self):
        return f"{self.county.name} · {self.year}"
