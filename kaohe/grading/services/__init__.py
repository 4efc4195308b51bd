"""Workflow of the comprehensive review: compute a result set, decide, submit, approve,
release, correct. The engine (package engine) knows nothing of Django; this package feeds it
the lead departments' submitted results and keeps its answer as a versioned snapshot.

Every status change goes through ``_transition`` and the model's ``TRANSITIONS`` table.
Decisions are bound by section 七 (``engine.DecisionRules``). A released round is closed:
nothing is computed, decided, approved or released for it again except through a
``Correction`` that the leading group opens with a written reason.

One part a module: ``inputs`` (what the engine is fed, and its run), ``rules`` (section 七),
``lifecycle`` (the state machine and the checks of a released or closed round), ``workflow``
(compute, decide, submit, approve, return, release) and ``corrections``. Callers import from
this package, which names them all.
"""

from kaohe.grading.services.corrections import correction_abandon, correction_open
from kaohe.grading.services.inputs import engine_inputs, incident_text, problem_text, run_engine
from kaohe.grading.services.lifecycle import (
    GradingError,
    before_the_leading_group,
    open_correction,
    results_final,
)
from kaohe.grading.services.rules import decision_rules, plan_words, rule_breaches, unit_names
from kaohe.grading.services.workflow import (
    check_releasable,
    decision_record,
    result_set_approve,
    result_set_compute,
    result_set_release,
    result_set_return,
    result_set_submit,
)

__all__ = [
    "GradingError",
    "before_the_leading_group",
    "check_releasable",
    "correction_abandon",
    "correction_open",
    "decision_record",
    "decision_rules",
    "engine_inputs",
    "incident_text",
    "open_correction",
    "plan_words",
    "problem_text",
    "result_set_approve",
    "result_set_compute",
    "result_set_release",
    "result_set_return",
    "result_set_submit",
    "results_final",
    "rule_breaches",
    "run_engine",
    "unit_names",
]
