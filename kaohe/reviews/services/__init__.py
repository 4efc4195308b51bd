"""Workflow steps of the categorized assessment. Each owns its transaction and audit entry.

Grades and sub-reports carry the revision the reviewer started from: a second reviewer
saving over someone else's newer save gets a conflict, never a silent overwrite. Once the
lead department has submitted its preliminary results everything of its category is
locked until the working group returns them.

One part a module: ``guards`` (the errors, the records a review works on, the deadline, lock
and revision checks), ``units`` (grades, sub-report, verification and activities of one
unit), ``findings`` (serious problems and major incidents, and their withdrawal),
``category`` (the category's preliminary results: report, submission, return) and
``oversight`` (the organization department's cadre checks, military inspection). Callers
import from this package, which names them all.
"""

from kaohe.reviews.services.category import (
    category_missing,
    category_missing_first,
    category_report_save,
    category_return,
    category_return_refusal,
    category_submit,
    category_units,
)
from kaohe.reviews.services.findings import (
    finding_withdraw,
    finding_withdraw_refusal,
    major_incident_add,
    serious_problem_add,
)
from kaohe.reviews.services.guards import (
    ClosedError,
    ConflictError,
    LockedError,
    ReviewError,
    category_submission_for,
    check_unlocked,
    review_closed_message,
    review_deadline,
    review_for,
    review_is_open,
)
from kaohe.reviews.services.oversight import cadre_check_save, inspection_add
from kaohe.reviews.services.units import (
    activity_add,
    area_grades_save,
    sub_report_save,
    verification_set,
)

__all__ = [
    "ClosedError",
    "ConflictError",
    "LockedError",
    "ReviewError",
    "activity_add",
    "area_grades_save",
    "cadre_check_save",
    "category_missing",
    "category_missing_first",
    "category_report_save",
    "category_return",
    "category_return_refusal",
    "category_submission_for",
    "category_submit",
    "category_units",
    "check_unlocked",
    "finding_withdraw",
    "finding_withdraw_refusal",
    "inspection_add",
    "major_incident_add",
    "review_closed_message",
    "review_deadline",
    "review_for",
    "review_is_open",
    "serious_problem_add",
    "sub_report_save",
    "verification_set",
]
