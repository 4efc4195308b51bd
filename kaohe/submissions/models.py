"""Self-assessment reports of units and provincial reports (steps 3a and 3b).

Only the state needed to track the round's progress lives here so far; the contents
of the reports, evidence and deadlines extensions build on these records.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回修改")


class SelfReport(models.Model):
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="self_reports")
    unit = models.ForeignKey(
        "directory.Unit", on_delete=models.CASCADE, related_name="self_reports"
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="self_report_unique"),
        ]
        verbose_name = _("自评报告")

    def __str__(self):
        return f"{self.unit} · {self.get_status_display()}"


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
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
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
