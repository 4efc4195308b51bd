"""The grading engine: area grades, serious problems and incidents in; scores, ranks, bands,
grades and the reasons for each grade out.

Plain Python with no Django import, so it can be read, tested and run (``kaohe evaluate``)
on its own. Everything the office can change is a setting of the round's ``Method``
(kaohe.grading.method); this package holds the rules that do not change, one part a module:
``results`` (what goes in and out), ``ranking`` (scores, order, bands: steps 1-7 below),
``reasons`` (the reasons and warnings of step 8), ``evaluation`` (``evaluate``), ``analysis``
(sensitivity, calibration) and ``decisions`` (step 9). The grades and areas themselves are
``kaohe.grading.vocabulary``. Callers import from this package, which names them all.

How a round is graded (implementation plan, section 七; docs/mission.md "Grades"):

1. Score. Each unit's score is the sum over the six areas of ``points[grade] * weights[area]``,
   computed exactly (Decimal settings turned into integers over a common denominator).
2. Order. Units are sorted by score, highest first, then by the round's tie-break chain
   (``Method.tie_break``). Units equal on the score *and* on every tie-break key are fully
   tied: they share a rank (competition ranking 1, 2, 2, 4). Inside a fully tied group the
   units are listed by name, for a stable display only; that order decides nothing.
3. Bands. With N ranked units and rounding R (floor, round half up or ceil):
   ``n_good = R(shares.good * N)``, ``n_top = R(shares.fairly_good * N)`` (cumulative) and
   ``n_poor = R(shares.poor * N)``. Positions 1..n_good are the good band,
   n_good+1..n_top the fairly good band, the last n_poor positions the poor band, the rest
   the average band. When N is so small that the poor band would overlap the top bands, the
   top bands win: the poor band is cut to the positions after n_top, and a round warning
   ("bands.overlap") says so.
4. Grades by band. Good band -> 好, fairly good band -> 较好, average band -> 一般. Poor band ->
   较差 only for a unit with at least one serious problem; without one it is 一般.
5. Major incident. A unit with a major incident is at most ``Method.incident_cap`` (default
   较好): its grade is the worse of its band grade and the cap. Reason "cap.major_incident".
6. Backfill (``Method.backfill``). False (default): a 好 place freed by a capped unit stays
   empty. True: the 好 places go to the first ``n_good`` units *without* an incident, in position
   order, but only to units inside the top bands (positions up to n_top); so a unit can move
   up one level only, 较好 -> 好 (reason "backfill.promoted"). Nothing else moves: the capped
   unit takes the 较好 place its replacement left, and places freed in the 较好 band (possible
   only with a cap below 较好) are not refilled from the average band.
7. Ties across a boundary are not decided by the machine. Think of the working group choosing
   an order inside each fully tied group: the engine computes, for every unit of the group,
   the set of grades it could get over all those orders. If that set has more than one grade
   the unit is 待定 (pending, reason "tie.pending" naming the candidate grades and the
   positions); otherwise it gets the one grade, even if the group crosses a band boundary.
   What this means at each boundary:

   - 好 / 较好: every unit of the group is pending between 好 and 较好, except a unit with a
     major incident, which cannot be 好 anyway: it gets the cap grade (较好) with reason
     "cap.major_incident" and is not pending. The others stay pending even when an incident
     unit is among them, since which of them takes the 好 place is still open (with backfill,
     the freed place goes to one of them, which is just as open).
   - 较好 / 一般: every unit of the group is pending between 较好 and 一般 (a capped unit with
     cap 一般 is 一般 either way and so is not pending).
   - 一般 / 较差: only units with a serious problem can become 较差, so only they are pending;
     units of the same group without a problem are 一般 whichever place they take, and a poor
     place taken by a unit without a problem is not handed to anyone else. A group in which
     nobody has a serious problem is therefore never pending at this boundary.
   - With backfill, a group in the 较好 band that straddles the last backfilled 好 place is
     pending between 好 and 较好 in the same way.

8. Warnings (for the working group; they never change a grade): a serious problem whose unit's
   positions all lie outside the poor band ("problem.outside_bottom"); a major incident in a
   unit that reaches into the good band ("incident.in_top_band"); a province's recommended
   grade two or more steps from the unit's (decided) grade ("recommendation.far").

9. Decisions (``DecisionRules``, ``check_final_grades``). The working group may set a unit's
   grade by hand only within these rules: a grade its tie group's positions allow (its
   candidates), or a lower one; never better than the incident cap with a major incident;
   较差 only in the poor band and with a serious problem; at most n_good 好, n_top 好 and 较好
   together, and as many 较差 as the poor band has places. Each refusal names the unit and
   cites section 七.

Who is ranked is the caller's decision: army and armed police units are inspected, not ranked,
so they are not passed in.
"""


from kaohe.grading.engine.analysis import (
    CategoryCalibration,
    Comparison,
    Distribution,
    GradeChange,
    Perturbation,
    calibration,
    sensitivity,
)
from kaohe.grading.engine.decisions import (
    Allowance,
    DecisionRules,
    PlanWords,
    RuleBreach,
    check_final_grades,
)
from kaohe.grading.engine.evaluation import evaluate, no_gc_pauses
from kaohe.grading.engine.results import (
    Band,
    BandRange,
    EngineInputError,
    Evaluation,
    GradingWarning,
    Reason,
    UnitInput,
    UnitResult,
)
from kaohe.grading.vocabulary import AREA_CODES, AREA_GRADES, AREA_NAMES, GRADE_LABELS, Grade

__all__ = [
    "AREA_CODES",
    "AREA_GRADES",
    "AREA_NAMES",
    "GRADE_LABELS",
    "Allowance",
    "Band",
    "BandRange",
    "CategoryCalibration",
    "Comparison",
    "DecisionRules",
    "Distribution",
    "EngineInputError",
    "Evaluation",
    "Grade",
    "GradeChange",
    "GradingWarning",
    "Perturbation",
    "PlanWords",
    "Reason",
    "RuleBreach",
    "UnitInput",
    "UnitResult",
    "calibration",
    "check_final_grades",
    "evaluate",
    "no_gc_pauses",
    "sensitivity",
]
