"""Result sets of the comprehensive review (综合评议): versioned, sealed on approval.

The engine (kaohe.grading.engine) is plain Python; these models keep what it was given,
what it said, and what the working group decided on top, so that every grade can be
explained and an approved result cannot change without a new version.

A result set's life is one state machine (``TRANSITIONS``): draft -> submitted ->
returned | approved -> released, and superseded once a later version is approved (or, for
the released version, once a correction of it is released). A released round changes only
through a ``Correction`` that the leading group opens with a written reason.
"""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kaohe.lib.fields import StampedDateTimeField


class ResultSetStatus(models.TextChoices):
    DRAFT = "draft", _("综合评议中")
    SUBMITTED = "submitted", _("已报领导小组审定")
    RETURNED = "returned", _("领导小组退回")
    APPROVED = "approved", _("已审定")
    RELEASED = "released", _("已反馈")
    SUPERSEDED = "superseded", _("已被新版本取代")
    # A version of a correction the leading group gave up: the released version stands.
    ABANDONED = "abandoned", _("更正已撤销")


# action -> (the statuses it may start from, the status it leads to). Every change of a
# result set's status goes through this table (kaohe.grading.services.lifecycle._transition).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({ResultSetStatus.DRAFT, ResultSetStatus.RETURNED}),
               ResultSetStatus.SUBMITTED),
    "return": (frozenset({ResultSetStatus.SUBMITTED}), ResultSetStatus.RETURNED),
    "approve": (frozenset({ResultSetStatus.SUBMITTED}), ResultSetStatus.APPROVED),
    "release": (frozenset({ResultSetStatus.APPROVED}), ResultSetStatus.RELEASED),
    "supersede": (frozenset({ResultSetStatus.DRAFT, ResultSetStatus.SUBMITTED,
                             ResultSetStatus.RETURNED, ResultSetStatus.APPROVED,
                             ResultSetStatus.RELEASED}), ResultSetStatus.SUPERSEDED),
    "abandon": (frozenset({ResultSetStatus.DRAFT, ResultSetStatus.SUBMITTED,
                           ResultSetStatus.RETURNED, ResultSetStatus.APPROVED}),
                ResultSetStatus.ABANDONED),
}


class SealBroken(Exception):
    """An approved result set no longer matches its seal: it was changed after approval.
    The message is for people (in the reader's language) and names the version."""


class Correction(models.Model):
    """The leading group reopens a released round to correct it, with a written reason.
    Versions computed while it is open are its versions; releasing one of them closes it
    and supersedes the version it corrects, whose letters stay on record."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE,
                              related_name="corrections")
    corrects = models.ForeignKey("ResultSet", on_delete=models.PROTECT,
                                 related_name="corrections")
    reason = models.TextField(_("更正理由"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    opened_at = models.DateTimeField()
    released_as = models.ForeignKey("ResultSet", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    # Or the leading group gives it up, with a written reason: the released version stands.
    abandoned_at = models.DateTimeField(null=True, blank=True)
    abandoned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    abandon_reason = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        ordering = ["round", "opened_at"]
        verbose_name = _("考核结果更正")

    def __str__(self) -> str:
        return f"{self.round.year} correction of v{self.corrects.version}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None and self.abandoned_at is None


# The three JSON snapshots of a result set (0.7 MB at 310 units, decoded on every load):
# lists and pages that only name a version defer them (issue 19).
# Stored after the other columns on SQLite (migration 0006): reading a version's state does
# not walk its snapshots' overflow pages.
SNAPSHOTS = ("inputs", "method", "outputs")


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
    created_at = StampedDateTimeField(auto_now_add=True)
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
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    # Set for the versions made while a correction of the released version is open.
    correction = models.ForeignKey(Correction, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="versions")
    seal = models.CharField(max_length=64, blank=True)
    # SHA-256 of the round's scheme (areas, indicators, evidence basis, method) when this
    # version was computed; sealed with it, so a scheme changed afterwards is detectable.
    # Empty for versions made before the scheme was covered (their seals still hold).
    scheme_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["round", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["round", "version"], name="result_set_version"),
        ]
        verbose_name = _("等次建议")

    def __str__(self) -> str:
        return f"{self.round.year} v{self.version}"

    @property
    def is_sealed(self) -> bool:
        """Approved once: its content must match the seal, superseded or not."""
        return self.status in {ResultSetStatus.APPROVED, ResultSetStatus.RELEASED} or (
            self.status in {ResultSetStatus.SUPERSEDED, ResultSetStatus.ABANDONED}
            and self.approved_at is not None)

    @property
    def is_editable(self) -> bool:
        return self.status in {ResultSetStatus.DRAFT, ResultSetStatus.RETURNED}

    def can(self, action: str) -> bool:
        """Whether the state machine allows ``action`` from the current status."""
        return self.status in TRANSITIONS[action][0]

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
        if self.scheme_hash:
            # Only versions that recorded the scheme carry the key, so older seals hold.
            payload["scheme"] = self.scheme_hash
        if (correction := self.correction) is not None:
            # Only corrections carry the key, so seals made before corrections existed hold.
            payload["correction"] = {"corrects": correction.corrects.version,
                                     "reason": correction.reason}
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def scheme_matches(self) -> bool:
        """Whether the round's scheme is still the one this version was computed on
        (always true for versions made before the scheme was recorded)."""
        from kaohe.rounds.selectors import scheme_hash

        return not self.scheme_hash or scheme_hash(self.round) == self.scheme_hash

    def verify_seal(self) -> None:
        if self.is_sealed and self.content_hash() != self.seal:
            raise SealBroken(gettext(
                "第%(version)s版等次建议的内容与审定时的封存校验值不符，可能已被篡改，"
                "不能使用；请立即报告安全管理员。") % {"version": self.version})


class EventAction(models.TextChoices):
    SUBMITTED = "submitted", _("报领导小组审定")
    RETURNED = "returned", _("领导小组退回")
    APPROVED = "approved", _("领导小组审定同意")
    RELEASED = "released", _("向各单位反馈")
    SUPERSEDED = "superseded", _("被新版本取代")
    CORRECTION_OPENED = "correction_opened", _("领导小组提出更正")
    CORRECTION_ABANDONED = "correction_abandon", _("领导小组撤销更正")


class ResultSetEvent(models.Model):
    """One step of a result set's life with who, when and the comments given (the leading
    group's return and approval comments, the reason of a correction): kept, never
    overwritten, and shown as the version's history."""

    result_set = models.ForeignKey(ResultSet, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=EventAction.choices)
    status = models.CharField(max_length=20, choices=ResultSetStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    at = models.DateTimeField()
    comments = models.TextField(blank=True)

    class Meta:
        ordering = ["result_set", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.result_set} {self.action}"


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

    def __str__(self) -> str:
        return f"{self.unit_code}: {self.previous} → {self.grade}"


class ResultRow(models.Model):
    """One unit's line of a result set as the pages and documents show it (the read model,
    issue 19): what the engine said about the unit, taken from the snapshots once, in the
    transaction that creates the version (or, for a version made before rows existed, on its
    first read, after its seal is checked). Never changed: the final grade is the engine's
    unless a ``Decision`` replaced it, and is read with the decisions
    (``kaohe.grading.selectors.result_rows``). ``kaohe verify`` compares sealed versions'
    rows with their snapshots (``kaohe.grading.readmodel.row_disagreements``)."""

    result_set = models.ForeignKey(ResultSet, on_delete=models.CASCADE, related_name="rows")
    seq = models.PositiveIntegerField()  # place in the engine's ranking order
    unit_code = models.CharField(max_length=20)
    unit_name = models.CharField(max_length=200)
    category = models.CharField(max_length=100)
    rank = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    position_first = models.PositiveIntegerField()
    position_last = models.PositiveIntegerField()
    score = models.JSONField()  # the engine's number as it gave it (int or float)
    grade = models.CharField(max_length=20)  # the engine's grade code ("pending" for a tie)
    band = models.CharField(max_length=20)
    candidates = models.JSONField()  # grade codes a pending unit may take, best first
    # Grade codes section 七 allows the unit (quotas aside), with commas at both ends so
    # that a lookup for ",average," never matches inside another code.
    allowed = models.CharField(max_length=60)
    area_grades = models.JSONField()  # area code -> grade code, as the lead department gave
    reasons = models.JSONField()  # the engine's explanation, one line each
    reason_codes = models.JSONField()
    warnings = models.JSONField()  # the engine's warnings about this unit: [{code, message}]
    major_incident = models.BooleanField()
    serious_problem = models.BooleanField()
    recommended_grade = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["result_set", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["result_set", "unit_code"], name="result_row_unit"),
            models.UniqueConstraint(fields=["result_set", "seq"], name="result_row_seq"),
        ]
        indexes = [models.Index(fields=["result_set", "category", "seq"],
                                name="result_row_category"),
                   # The units the engine left pending (ties), listed on the version's page.
                   models.Index(fields=["result_set", "grade", "seq"],
                                name="result_row_grade")]

    def __str__(self) -> str:
        return f"{self.result_set_id} {self.unit_code} {self.grade}"

    @property
    def allowed_grades(self) -> list[str]:
        return [code for code in self.allowed.split(",") if code]

    @property
    def tie_reason(self) -> str:
        return next((message for code, message in zip(self.reason_codes, self.reasons,
                                                       strict=True)
                     if code.startswith("tie")), "")


class ResultSummary(models.Model):
    """What a result set's pages show beside its rows, taken from the snapshots with them and
    never changed: the round-wide warnings, the count of each kind of warning, the
    sensitivity runs (counted, first units named), the calibration, the bands. Its row is
    also the mark that the rows are written: one per version (the unique key lets one of
    two first reads at once write them)."""

    result_set = models.OneToOneField(ResultSet, on_delete=models.CASCADE,
                                      related_name="summary")
    units = models.PositiveIntegerField()
    bands = models.JSONField()
    counts = models.JSONField()  # the engine's count per grade label
    # The engine's grades per category: [[category, grade code, units]] (the decisions move
    # a few of them: kaohe.grading.selectors.final_grade_counts).
    grade_counts = models.JSONField()
    warned_units = models.PositiveIntegerField()  # units with at least one warning
    # Units whose engine grade (pending aside) their row does not allow: with the decided
    # units, the only ones that can break section 七 (normally none).
    engine_outside = models.JSONField()
    warnings = models.JSONField()  # the round-wide warnings: [{code, message}]
    warning_kinds = models.JSONField()  # warning code -> number of warnings, unit ones too
    sensitivity = models.JSONField()  # [{label, count, names}] for runs that change grades
    calibration = models.JSONField()

    def __str__(self) -> str:
        return f"summary of {self.result_set_id}"
