"""Workflow steps of the launch and the training; each owns its transaction and audit entry.

One part a module: ``common`` (the refusal every service raises and the checks several
share), ``working_group`` (the working group's members), ``teams`` (the lead departments'
teams and their accounts), ``plans`` (the category plans), ``innovation`` (the refined
innovation items and the units' answers to them) and ``training`` (sessions, materials and
attendance). Callers import from this package, which names them all.
"""

from kaohe.launch.services.common import LaunchError
from kaohe.launch.services.innovation import (
    INNOVATION_INDICATOR,
    innovation_items,
    refined_answers_apply,
    refined_item_add,
    refined_item_remove,
    refined_item_update,
    refined_items_copy,
)
from kaohe.launch.services.plans import plan_file
from kaohe.launch.services.teams import MAX_TEAM_MEMBERS, MemberEntry, team_file
from kaohe.launch.services.training import (
    attendance_set,
    material_add,
    material_remove,
    session_add,
)
from kaohe.launch.services.working_group import (
    working_group_member_add,
    working_group_member_remove,
    working_group_member_update,
)

__all__ = [
    "INNOVATION_INDICATOR",
    "MAX_TEAM_MEMBERS",
    "LaunchError",
    "MemberEntry",
    "attendance_set",
    "innovation_items",
    "material_add",
    "material_remove",
    "plan_file",
    "refined_answers_apply",
    "refined_item_add",
    "refined_item_remove",
    "refined_item_update",
    "refined_items_copy",
    "session_add",
    "team_file",
    "working_group_member_add",
    "working_group_member_remove",
    "working_group_member_update",
]
