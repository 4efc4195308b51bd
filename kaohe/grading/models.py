"""Result sets of the comprehensive review (综合评议): versioned, sealed on approval.

The engine (kaohe.grading.engine) is plain Python; these models keep what it was given,
what it said, and what the working group decided on top, so that every grade can be
explained and an approved result cannot change without a new version.
"""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ResultSetStatus(models.TextChoices):
    DRAFT = "draft", _("综合评议中")
    SUBMITTED = "submitted", _("已报领导小组审定")
    RETURNED = "returned", _("领导小组退回")
    APPROVED = "approved", _("已审定")
    RELEASED = "released", _("已反馈")


class SealBroken(Exception):
    """An approved result set no longer matches its seal: it was changed after approval."""


class ResultSet(models.Model):
    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="result_sets")
    version = models.PositiveIntegerField(_("版本"))
    status = models.CharField(max_length=20, choices=ResultSetStatus.choices,
                              default=ResultSetStatus.DRAFT)
    # Snapshots: the engine's inputs per unit, the method used and the engine's output.
    inputs = models.JSONField()
    method = models.JSONField()
    outputs = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    leader_comments = models.TextField(_("领导小组意见"), blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    seal = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["round", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["round", "version"], name="result_set_version"),
        ]
        verbose_name = _("等次建议")

    def __str__(self):
        return f"{self.round.year} v{self.version}"

    @property
    def is_sealed(self) -> bool:
        return self.status in {ResultSetStatus.APPROVED, ResultSetStatus.RELEASED}

    @property
    def is_editable(self) -> bool:
        return self.status in {ResultSetStatus.DRAFT, ResultSetStatus.RETURNED}

    def final_grades(self) -> dict[str, str]:
        """Unit code -> final grade code: the engine's grade unless a decision replaced it."""
        grades = {r["unit"]: r["grade_code"] for r in self.outputs["results"]}
        for decision in self.decisions.order_by("decided_at", "pk"):
            grades[decision.unit_code] = decision.grade
        return grades

    def content_hash(self) -> str:
        payload = {
            "round": self.round.year, "version": self.version, "inputs": self.inputs,
            "method": self.method, "outputs": self.outputs,
            "decisions": [
                {"unit": d.unit_code, "grade": d.grade, "reason": d.reason,
                 "by": d.decided_by_id, "at": d.decided_at.isoformat()}
                for d in self.decisions.order_by("decided_at", "pk")
            ],
            "leader_comments": self.leader_comments,
        }
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def verify_seal(self) -> None:
        if self.is_sealed and self.content_hash() != self.seal:
            raise SealBroken(f"result set {self.pk} does not match its seal")


class DecisionKind(models.TextChoices):
    PENDING = "pending", _("待定等次的确定")
    ADJUSTMENT = "adjustment", _("等次调整")


class Decision(models.Model):
    """A grade the working group set by hand, with its reason."""

    result_set = models.ForeignKey(ResultSet, on_delete=models.CASCADE, related_name="decisions")
    unit_code = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=DecisionKind.choices)
    previous = models.CharField(max_length=20)
    grade = models.CharField(max_length=20)
    reason = models.TextField(_("理由"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "pk"]

    def __str__(self):
        return f"{self.unit_code}: {self.previous} → {self.grade}"
