"""What each role may do. Views declare a capability, never a role name.

A capability says what kind of thing a user may do; which records it applies to is the
job of the scoped selectors (e.g. kaohe.directory.selectors.units_visible_to).
"""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.http import Http404, HttpRequest

from kaohe.accounts.models import Role

P = ParamSpec("P")
R = TypeVar("R")
Req = TypeVar("Req", bound=HttpRequest)

VIEW_PROGRESS = "view_progress"          # the round's progress across all units
VIEW_UNIT_PROGRESS = "view_unit_progress"  # each unit's reports, within scope (分单位进度)
MANAGE_ROUNDS = "manage_rounds"          # create, copy and edit rounds
VIEW_METHOD = "view_method"              # the comprehensive evaluation method (internal)
MANAGE_DIRECTORY = "manage_directory"    # import units and pairings, mark deep poverty
VIEW_UNITS = "view_units"                # unit pages, within the user's scope
VIEW_COUNTIES = "view_counties"          # county pages, within the user's scope
VIEW_ROUND = "view_round"                # the published plan: areas, indicators, schedule
VIEW_AUDIT_LOG = "view_audit_log"
VIEW_ACCOUNTS = "view_accounts"
EDIT_SELF_REPORT = "edit_self_report"            # a unit writes and submits its own report
VIEW_SELF_REPORTS = "view_self_reports"          # read self-reports within scope
RETURN_SELF_REPORT = "return_self_report"        # the lead department returns for revision
EDIT_PROVINCIAL_REPORT = "edit_provincial_report"
VIEW_PROVINCIAL_REPORTS = "view_provincial_reports"
VIEW_DEADLINES = "view_deadlines"                # late and missing submissions
MANAGE_DEADLINES = "manage_deadlines"            # grant extensions
EDIT_CADRES = "edit_cadres"
VIEW_CADRES = "view_cadres"
REVIEW_UNITS = "review_units"                    # the lead department's review desk
VIEW_REVIEWS = "view_reviews"                    # read reviews (grades, sub-reports)
RETURN_CATEGORY = "return_category"              # the working group returns a category
CHECK_CADRES = "check_cadres"                    # the organization department
INSPECT_MILITARY = "inspect_military"
VIEW_RESULTS = "view_results"                    # rankings and grade recommendations
RUN_REVIEW = "run_review"                        # the working group's comprehensive review
APPROVE_RESULTS = "approve_results"              # the leading group
RELEASE_RESULTS = "release_results"              # the office feeds results back
VIEW_OWN_RESULT = "view_own_result"              # a unit: its released grade and feedback
RECEIVE_RESULTS = "receive_results"              # org department: results sent after release
TRACK_RECTIFICATION = "track_rectification"      # lead departments and the office
VIEW_RECTIFICATION = "view_rectification"        # read the tracker: also the leading group
MANAGE_SUMMONS = "manage_summons"
VIEW_SUMMONS = "view_summons"                    # read the summons: also the leading group
RECORD_DISPATCH = "record_dispatch"
SIGN_DOCUMENTS = "sign_documents"                # the office signs off outgoing papers (签发)
VIEW_LAUNCH = "view_launch"                      # the launch overview, working group, attendance
MANAGE_WORKING_GROUP = "manage_working_group"
VIEW_LAUNCH_FILINGS = "view_launch_filings"      # a lead department's team, plan, refined items
FILE_LAUNCH = "file_launch"                      # a lead department files its team and plan
REFINE_INNOVATION = "refine_innovation"          # a lead department refines indicator 13
VIEW_TRAINING = "view_training"                  # sessions and materials, for every team member
MANAGE_TRAINING = "manage_training"              # sessions, materials, attendance
EXPORT_DOCUMENTS = "export_documents"            # the documents page (each exporter scopes)
MANAGE_DOCUMENT_TEMPLATES = "manage_document_templates"  # the office's own Word templates
RESET_TWO_FACTOR = "reset_two_factor"            # remove a user's authenticator (lost phone)
ISSUE_ENROLMENT_CODE = "issue_enrolment_code"    # the code a user needs to enrol an authenticator
# The three administrator duties (等保 三员); none of them reads or changes assessment data.
MANAGE_ACCOUNTS = "manage_accounts"      # system admin: create data accounts, contact, on/off
VIEW_SETTINGS = "view_settings"          # system admin: the effective security settings
MANAGE_ROLES = "manage_roles"            # security admin: grant roles and scopes
USE_API_TOKENS = "use_api_tokens"        # activate the API tokens authorized for oneself
UNLOCK_ACCOUNTS = "unlock_accounts"      # security admin: lift a sign-in lockout
VIEW_SECURITY_POLICY = "view_security_policy"    # security admin: passwords, lockout, 2FA
EXPORT_AUDIT_LOG = "export_audit_log"    # auditor: the log as CSV (itself audited)

_DATA_ROLES: set[str] = {
    Role.OFFICE, Role.WORKING_GROUP, Role.LEAD_REVIEWER, Role.ORG_DEPARTMENT,
    Role.MILITARY_INSPECTOR, Role.UNIT, Role.PROVINCE, Role.LEADING_GROUP,
}

CAPABILITIES: dict[str, set[str]] = {
    VIEW_PROGRESS: {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP},
    # The overview's and the reviewers' figures open their units there, as far as they see.
    VIEW_UNIT_PROGRESS: {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP,
                         Role.LEAD_REVIEWER, Role.MILITARY_INSPECTOR},
    MANAGE_ROUNDS: {Role.OFFICE},
    VIEW_METHOD: {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP},
    MANAGE_DIRECTORY: {Role.OFFICE},
    VIEW_UNITS: _DATA_ROLES,
    VIEW_COUNTIES: _DATA_ROLES,
    VIEW_ROUND: _DATA_ROLES,
    # The three administrator duties are separate (等保 三员): only the auditor reads the log.
    VIEW_AUDIT_LOG: {Role.AUDITOR},
    VIEW_ACCOUNTS: {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN},
    EDIT_SELF_REPORT: {Role.UNIT},
    # The organization department reads no report: its remit is the cadres (CHECK_CADRES)
    # and the results once sent to it (RECEIVE_RESULTS).
    VIEW_SELF_REPORTS: {
        Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP, Role.LEAD_REVIEWER,
        Role.MILITARY_INSPECTOR, Role.UNIT,
    },
    RETURN_SELF_REPORT: {Role.LEAD_REVIEWER},
    EDIT_PROVINCIAL_REPORT: {Role.PROVINCE},
    # Units never read what provinces say of them (it carries a recommended grade).
    VIEW_PROVINCIAL_REPORTS: {
        Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP, Role.LEAD_REVIEWER,
        Role.MILITARY_INSPECTOR, Role.PROVINCE,
    },
    VIEW_DEADLINES: {Role.OFFICE, Role.LEAD_REVIEWER},
    MANAGE_DEADLINES: {Role.OFFICE},
    EDIT_CADRES: {Role.UNIT},
    REVIEW_UNITS: {Role.LEAD_REVIEWER},
    VIEW_REVIEWS: {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP, Role.LEAD_REVIEWER},
    RETURN_CATEGORY: {Role.WORKING_GROUP},
    CHECK_CADRES: {Role.ORG_DEPARTMENT},
    INSPECT_MILITARY: {Role.MILITARY_INSPECTOR},
    # The method, the ranking and the recommendation are internal to these three.
    VIEW_RESULTS: {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP},
    RUN_REVIEW: {Role.WORKING_GROUP},
    APPROVE_RESULTS: {Role.LEADING_GROUP},
    RELEASE_RESULTS: {Role.OFFICE},
    VIEW_OWN_RESULT: {Role.UNIT},
    RECEIVE_RESULTS: {Role.ORG_DEPARTMENT},
    TRACK_RECTIFICATION: {Role.OFFICE, Role.LEAD_REVIEWER},
    MANAGE_SUMMONS: {Role.OFFICE, Role.LEAD_REVIEWER},
    # The leading group follows rectification and summons up, read-only (issue 21).
    VIEW_RECTIFICATION: {Role.OFFICE, Role.LEAD_REVIEWER, Role.LEADING_GROUP},
    VIEW_SUMMONS: {Role.OFFICE, Role.LEAD_REVIEWER, Role.LEADING_GROUP},
    RECORD_DISPATCH: {Role.OFFICE},
    SIGN_DOCUMENTS: {Role.OFFICE},
    VIEW_CADRES: {
        Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP, Role.ORG_DEPARTMENT,
        Role.LEAD_REVIEWER,
        Role.MILITARY_INSPECTOR, Role.UNIT,
    },
    # Launch and training (steps 1 and 2): the office runs them with the working group.
    VIEW_LAUNCH: {Role.OFFICE, Role.WORKING_GROUP},
    MANAGE_WORKING_GROUP: {Role.OFFICE},
    VIEW_LAUNCH_FILINGS: {Role.OFFICE, Role.WORKING_GROUP, Role.LEAD_REVIEWER},
    FILE_LAUNCH: {Role.LEAD_REVIEWER},
    REFINE_INNOVATION: {Role.LEAD_REVIEWER},
    VIEW_TRAINING: {Role.OFFICE, Role.WORKING_GROUP, Role.LEAD_REVIEWER},
    MANAGE_TRAINING: {Role.OFFICE},
    # Documents: every data role may open the page; each exporter limits what it offers.
    EXPORT_DOCUMENTS: _DATA_ROLES,
    MANAGE_DOCUMENT_TEMPLATES: {Role.OFFICE},
    # Sign-in security is the security administrator's duty (等保 三员).
    RESET_TWO_FACTOR: {Role.SECURITY_ADMIN},
    ISSUE_ENROLMENT_CODE: {Role.SECURITY_ADMIN},
    MANAGE_ACCOUNTS: {Role.SYSTEM_ADMIN},
    VIEW_SETTINGS: {Role.SYSTEM_ADMIN},
    MANAGE_ROLES: {Role.SECURITY_ADMIN},
    # The accounts an organization's system may act as (kaohe.api), each by its holder.
    USE_API_TOKENS: {Role.UNIT, Role.PROVINCE, Role.OFFICE},
    UNLOCK_ACCOUNTS: {Role.SECURITY_ADMIN},
    VIEW_SECURITY_POLICY: {Role.SECURITY_ADMIN},
    EXPORT_AUDIT_LOG: {Role.AUDITOR},
}


def has_capability(user, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return bool(user.is_authenticated and user.is_active and user.role in CAPABILITIES[capability])


def capability_required(
        capability: str) -> Callable[[Callable[Concatenate[Req, P], R]],
                                     Callable[Concatenate[Req, P], R]]:
    """Answer 404 (not 403) to a user without the capability, so nothing reveals the page."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")

    def decorator(view: Callable[Concatenate[Req, P], R]) -> Callable[Concatenate[Req, P], R]:
        @wraps(view)
        def wrapped(request: Req, *args: P.args, **kwargs: P.kwargs) -> R:
            if not has_capability(request.user, capability):
                raise Http404
            return view(request, *args, **kwargs)

        wrapped.capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorator
