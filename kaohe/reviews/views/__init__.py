"""The lead departments' desk (step 4), the organization department and military inspection.

One part a module: ``units`` (the queue, a unit's desk and what is posted from it),
``categories`` (a lead department's category: report, submission, return) and ``oversight``
(the organization department's cadre checks, military inspection). The URLs name the views
from this package, which names them all.
"""

from kaohe.reviews.views.categories import category, category_return, category_save, category_submit
from kaohe.reviews.views.oversight import (
    military,
    military_add,
    org_cadre_check,
    org_cadres,
    org_finding_withdraw,
)
from kaohe.reviews.views.units import (
    activity_add,
    desk,
    finding_withdraw,
    grades_save,
    incident_add,
    problem_add,
    queue,
    sub_report_save,
    verify,
)

__all__ = [
    "activity_add",
    "category",
    "category_return",
    "category_save",
    "category_submit",
    "desk",
    "finding_withdraw",
    "grades_save",
    "incident_add",
    "military",
    "military_add",
    "org_cadre_check",
    "org_cadres",
    "org_finding_withdraw",
    "problem_add",
    "queue",
    "sub_report_save",
    "verify",
]
