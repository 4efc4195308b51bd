"""What each role may do. Views declare a capability, never a role name.

A capability says what kind of thing a user may do; which records it applies to is the
job of the scoped selectors (e.g. kaohe.directory.selectors.units_visible_to).
"""

from functools import wraps

from django.http import Http404

from kaohe.accounts.models import Role

VIEW_PROGRESS = "view_progress"          # the round's progress across all units
MANAGE_ROUNDS = "manage_rounds"          # create, copy and edit rounds
VIEW_METHOD = "view_method"              # the comprehensive evaluation method (internal)
MANAGE_DIRECTORY = "manage_directory"    # import units and pairings, mark deep poverty
VIEW_UNITS = "view_units"                # unit pages, within the user's scope
VIEW_COUNTIES = "view_counties"          # county pages, within the user's scope
VIEW_ROUND = "view_round"                # the published plan: areas, indicators, schedule
VIEW_AUDIT_LOG = "view_audit_log"
VIEW_ACCOUNTS = "view_accounts"

_DATA_ROLES = {
    Role.OFFICE, Role.WORKING_GROUP, Role.LEAD_REVIEWER, Role.ORG_DEPARTMENT,
    Role.MILITARY_INSPECTOR, Role.UNIT, Role.PROVINCE, Role.LEADING_GROUP,
}

CAPABILITIES: dict[str, set[str]] = {
    VIEW_PROGRESS: {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP},
    MANAGE_ROUNDS: {Role.OFFICE},
    VIEW_METHOD: {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP},
    MANAGE_DIRECTORY: {Role.OFFICE},
    VIEW_UNITS: _DATA_ROLES,
    VIEW_COUNTIES: _DATA_ROLES,
    VIEW_ROUND: _DATA_ROLES,
    # The three administrator duties are separate (等保 三员): only the auditor reads the log.
    VIEW_AUDIT_LOG: {Role.AUDITOR},
    VIEW_ACCOUNTS: {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN},
}


def has_capability(user, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return bool(user.is_authenticated and user.is_active and user.role in CAPABILITIES[capability])


def capability_required(capability: str):
    """Answer 404 (not 403) to a user without the capability, so nothing reveals the page."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_capability(request.user, capability):
                raise Http404
            return view(request, *args, **kwargs)

        wrapped.capability = capability
        return wrapped

    return decorator
