"""Feedback (step 6): the letters drafted for the approved version, edited by the office,
and the release of the results with them (summons records for every 较差 unit, corrected
letters marked when a correction is released, and the summons and rectification items of
the letters it replaces brought in line)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import Unit
from kaohe.grading import services as grading
from kaohe.grading.models import SNAPSHOTS, ResultSet, ResultSetStatus
from kaohe.lib import clock
from kaohe.outcomes.models import Feedback, Summons
from kaohe.outcomes.services.common import OutcomeError
from kaohe.outcomes.services.rectification import rectification_follow_letters
from kaohe.reviews.models import SubReport
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from kaohe.accounts.models import User


@transaction.atomic
def feedback_prepare(*, result_set: ResultSet, actor: User) -> int:
    """Draft every unit's letter for the newest approved version, which is the only one
    that can be released. A letter starts from the unit's letter of the newest earlier
    version (the office's edits, or the released letter a correction replaces), else from its
    lead department's sub-report; its grade is always this version's. Released letters are
    never touched."""
    ensure_round_writable(result_set.round_id, error=OutcomeError)
    result_set = ResultSet.objects.select_for_update(of=("self",)).select_related(
        "correction").get(pk=result_set.pk)
    if result_set.status == ResultSetStatus.RELEASED:
        raise OutcomeError(_("考核结果已反馈，反馈意见不能重新起草；如需更正，须由领导小组"
                             "提出更正并说明理由。"))
    if result_set.status != ResultSetStatus.APPROVED:
        raise OutcomeError(_("等次建议经领导小组审定后才能准备反馈意见（第%(version)s版当前为"
                             "“%(status)s”）。") % {"version": result_set.version,
                                                  "status": result_set.get_status_display()})
    try:
        grading.check_releasable(result_set)
    except grading.GradingError as exc:
        raise OutcomeError(str(exc)) from None
    grades = result_set.final_grades()
    units = {u.code: u for u in Unit.objects.filter(code__in=grades)}
    subs = {s.review.unit_id: s for s in SubReport.objects.filter(
        review__round=result_set.round, review__unit__in=units.values()).select_related(
        "review")}
    drafted = set(Feedback.objects.filter(result_set=result_set).values_list("unit_id",
                                                                             flat=True))
    earlier = {}
    for feedback in (Feedback.objects.filter(round=result_set.round,
                                             result_set__version__lt=result_set.version)
                     .order_by("result_set__version")):
        earlier[feedback.unit_id] = feedback  # the newest version's letter wins
    replaced = {}
    if result_set.correction is not None:
        replaced = {f.unit_id: f for f in Feedback.objects.filter(
            result_set_id=result_set.correction.corrects_id)}
    created = 0
    for code, grade in grades.items():
        unit = units[code]
        if unit.pk in drafted:
            continue
        start, sub = earlier.get(unit.pk), subs.get(unit.pk)
        Feedback.objects.create(
            round=result_set.round, unit=unit, result_set=result_set, grade=grade,
            problems=start.problems if start else (sub.problems if sub else ""),
            suggestions=start.suggestions if start else (sub.suggestions if sub else ""),
            replaces=replaced.get(unit.pk), updated_by=actor)
        created += 1
    log_action("outcomes.feedback.prepared", actor=actor, target=result_set,
               data={"created": created, "version": result_set.version})
    return created


@transaction.atomic
def feedback_update(*, feedback: Feedback, actor: User, problems: str,
                    suggestions: str) -> Feedback:
    """The office edits a letter of the version about to be released; a released letter
    (and one of a superseded version) stays as it is."""
    ensure_round_writable(feedback.round_id, error=OutcomeError)
    # The version is read for its status and dates: its snapshots stay unread (issue 19).
    feedback = Feedback.objects.select_for_update(of=("self",)).select_related(
        "result_set").defer(*(f"result_set__{field}" for field in SNAPSHOTS)).get(pk=feedback.pk)
    result_set = feedback.result_set
    if result_set.released_at is not None:
        raise OutcomeError(_("考核结果已反馈，反馈意见不能再修改。"))
    from kaohe.documents.models import SignOff

    signed = SignOff.objects.filter(identifier="feedback_letter", object_key=str(feedback.pk),
                                    withdrawn_at__isnull=True).first()
    if signed is not None:  # the signed paper is fixed until withdrawn (documents.signing)
        raise OutcomeError(_("该反馈函已签发（%(number)s），不能再修改。")
                           % {"number": signed.doc_number})
    if result_set.status != ResultSetStatus.APPROVED:
        raise OutcomeError(_("该反馈意见属于第%(version)s版（%(status)s），不能修改。")
                           % {"version": result_set.version,
                              "status": result_set.get_status_display()})
    feedback.problems, feedback.suggestions, feedback.updated_by = problems, suggestions, actor
    feedback.save()
    log_action("outcomes.feedback.edited", actor=actor, target=feedback)
    return feedback


def _summons_follow(result_set: ResultSet, grades: dict[str, str], actor: User) -> None:
    """The summons follow the released grades: every 较差 unit has one in force (one a
    correction withdrew is restored), and a summons still followed up of a unit the release
    lifts out of 较差 is withdrawn, kept on record with the correction that ended it; its
    signed notice (约谈通知) is withdrawn with it (作废, the reason saying why). A restored
    summons does not bring a withdrawn notice back: the office signs one off anew."""
    from kaohe.documents.withdrawal import withdraw_papers_of

    poor = [code for code, grade in grades.items() if grade == "poor"]
    for unit in Unit.objects.filter(code__in=poor):
        summons, created = Summons.objects.get_or_create(
            round=result_set.round, unit=unit, defaults={"updated_by": actor})
        if not created and summons.withdrawn:
            summons.withdrawn_at, summons.withdrawn_by, summons.closed = None, None, False
            summons.updated_by = actor
            summons.save()
            log_action("outcomes.summons.restored", actor=actor, target=summons,
                       data={"version": result_set.version})
    lifted = [code for code, grade in grades.items() if grade != "poor"]
    now = clock.now()
    for summons in Summons.objects.filter(round=result_set.round, unit__code__in=lifted,
                                          closed=False, withdrawn_at__isnull=True):
        summons.withdrawn_at, summons.withdrawn_by_id = now, result_set.correction_id
        summons.closed, summons.updated_by = True, actor
        summons.save()
        log_action("outcomes.summons.withdrawn", actor=actor, target=summons,
                   data={"version": result_set.version,
                         "correction": result_set.correction_id})
        withdraw_papers_of(
            identifier="summons_notice", object_key=str(summons.pk), actor=actor,
            reason=_("考核结果更正（第%(version)s版）后该单位不再为“较差”，约谈撤销，"
                     "约谈通知随之作废。") % {"version": result_set.version})


@transaction.atomic
def release(*, result_set: ResultSet, actor: User) -> ResultSet:
    """One act for the whole round: grades and feedback become visible, each to its own
    unit, and every 较差 unit gets a summons record. Releasing a correction marks the letters
    it changes as corrected (their units are told) and keeps the earlier letters; it
    withdraws the open summons of the units it lifts out of 较差, and the rectification
    items not yet submitted follow the corrected letters."""
    ensure_round_writable(result_set.round_id, error=OutcomeError)
    current = ResultSet.objects.select_for_update().get(pk=result_set.pk)
    if current.status == ResultSetStatus.RELEASED:
        return current
    try:
        grading.check_releasable(current)
    except grading.GradingError as exc:
        raise OutcomeError(str(exc)) from None
    current.verify_seal()
    feedback_prepare(result_set=current, actor=actor)
    result_set = grading.result_set_release(result_set=current, actor=actor)
    if result_set.correction_id is not None:
        changed = [
            f for f in Feedback.objects.filter(result_set=result_set).select_related(
                "replaces", "unit")
            if f.replaces is None or (f.grade, f.problems, f.suggestions)
            != (f.replaces.grade, f.replaces.problems, f.replaces.suggestions)
        ]
        # update(), not save(): the letter's own time stays that of its last edit.
        Feedback.objects.filter(pk__in=[f.pk for f in changed]).update(corrected=True)
        log_action("outcomes.correction.released", actor=actor, target=result_set,
                   data={"units": [f.unit.code for f in changed]})
    grades = result_set.final_grades()
    _summons_follow(result_set, grades, actor)
    if result_set.correction_id is not None:
        rectification_follow_letters(result_set=result_set, actor=actor)
    log_action("outcomes.released", actor=actor, target=result_set)
    from kaohe.notifications import events

    events.results_released(result_set=result_set)
    return result_set
