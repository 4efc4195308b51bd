"""Pages of steps 6 and 7: feedback, rectification, summons and the use of results.

One part a module: ``feedback`` (the office's letters), ``unit`` (the unit's own result and
rectification report), ``tracking`` (lead departments and the office follow the
rectification), ``summons`` (summons, dispatches and the organization department's list)
and ``common`` (what several of them share). The URLs name the views from this package,
which names them all.
"""

from kaohe.outcomes.views.feedback import feedback_edit, feedback_list, feedback_prepare
from kaohe.outcomes.views.summons import dispatches, org_results, summons_list, summons_update
from kaohe.outcomes.views.tracking import (
    item_review,
    rectification_detail,
    rectification_extend,
    rectification_list,
)
from kaohe.outcomes.views.unit import (
    my_rectification_attach,
    my_rectification_detach,
    my_rectification_save,
    my_result,
)

__all__ = [
    "dispatches",
    "feedback_edit",
    "feedback_list",
    "feedback_prepare",
    "item_review",
    "my_rectification_attach",
    "my_rectification_detach",
    "my_rectification_save",
    "my_result",
    "org_results",
    "rectification_detail",
    "rectification_extend",
    "rectification_list",
    "summons_list",
    "summons_update",
]
