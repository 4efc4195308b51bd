"""Who may open which page: every URL, every role, own and foreign objects.

A new URL without an entry in ROUTES fails test_every_url_is_in_the_matrix, so no view
can ship without a decision on who sees it. Denied requests answer 404, never 403, so
that a foreign record's existence does not leak.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kaohe.accounts.models import Role
from tests.evidence.factories import (
    evidence_of,
    own_upload_pk,
    submitted_evidence_of,
    visible_evidence_pk,
)
from tests.launch.conftest import (
    Upload,
    innovation_item_pk,
    matrix_material,
    matrix_member,
    matrix_plan,
    matrix_refined,
    matrix_session,
)
from tests.reviews.conftest import (
    matrix_org_problem,
    matrix_problem,
    matrix_submitted_category,
    problem_kind_pk,
)
from tests.submissions.conftest import (
    Deferred,
    indicator_pk,
    latest_evidence_pk,
    make_evidence,
    matrix_attachment,
    matrix_cadre,
    matrix_evidence,
    matrix_provincial_report,
    matrix_self_report,
    matrix_user,
    paired_county_pk,
    unit_pk,
)

ALL_DATA = {
    "office", "working_group", "leading_group", "org_department", "military_inspector",
    "lead_reviewer", "unit", "province",
}
ADMINS = {"system_admin", "security_admin", "auditor"}
PERSONAS = sorted(ALL_DATA | ADMINS | {"lead_reviewer_b", "unit_b", "province_b"})
OVERVIEW = {"office", "working_group", "leading_group"}

# Reachable without signing in: the login page, the language switch, the health check.
ALLOWLIST = {"login", "set_language", "healthz"}


def _allowed(roles, ok=200):
    return lambda persona: ok if persona.removesuffix("_b") in roles else 404


REVIEW_READERS = OVERVIEW | {"lead_reviewer"}


def _own_lead(persona, world):
    """The lead department whose category a persona reviews (B for the outsider)."""
    return world["lead_b"] if persona == "lead_reviewer_b" else world["lead_a"]


def _own_unit(persona, world):
    """The unit a persona can see (None where it sees none) for detail pages."""
    return {
        "military_inspector": world["army"], "lead_reviewer_b": world["unit_b"],
        "unit_b": world["unit_b"], "province_b": world["unit_b"],
    }.get(persona, world["unit_a"])



# Submissions: who reads self-reports, provincial reports (never units: they carry the
# province's grade recommendation) and cadres. The organization department reads the
# cadres only (and, after release, the results sent to it): no report, no evidence.
SELF_REPORT_READERS = {"office", "working_group", "leading_group",
                       "military_inspector", "lead_reviewer", "unit"}
PROVINCIAL_READERS = {"office", "working_group", "leading_group",
                      "military_inspector", "lead_reviewer", "province"}
EVIDENCE_READERS = ALL_DATA - {"org_department"}
CADRE_READERS = {"office", "working_group", "leading_group", "org_department",
                 "military_inspector", "lead_reviewer", "unit"}


def _self_pk(world, persona, *, submitted=True):
    """The own unit's self-report: submitted (reviewers never see drafts), or a draft."""
    return matrix_self_report(world, _own_unit(persona, world), submitted=submitted).pk


def _draft_pk(world, persona):
    return _self_pk(world, persona, submitted=False)


def _with_evidence_pk(world, persona):
    """A draft self-report whose unit has uploaded one piece of evidence (to attach)."""
    matrix_evidence(world, _own_unit(persona, world))
    return _draft_pk(world, persona)


def _prov_pk(world, persona, *, submitted=True):
    return matrix_provincial_report(world, _own_unit(persona, world), submitted=submitted).pk


def _index_status(persona):
    """A unit is sent on to its own report; readers get the list."""
    return 302 if persona.removesuffix("_b") == "unit" else _allowed(SELF_REPORT_READERS)(persona)


# route -> (method, kwargs(world, persona), data, expected(persona) -> status)
ROUTES = {
    "home": ("get", None, None, _allowed(ALL_DATA | ADMINS)),
    "unit_progress": ("get", None, None,
                      _allowed(OVERVIEW | {"lead_reviewer", "military_inspector"})),
    "accounts:user_list": ("get", None, None, _allowed({"system_admin", "security_admin"})),
    # Every signed-in user: the second-factor pages send a verified user (the test client's
    # sign-in is complete) or one whose role needs none on to the home page.
    "accounts:two_factor": ("get", None, None, lambda p: 302),
    "accounts:two_factor_enrol": ("get", None, None, lambda p: 302),
    "accounts:password_change": ("get", None, None, _allowed(ALL_DATA | ADMINS)),
    "accounts:password_change_done": ("get", None, None, _allowed(ALL_DATA | ADMINS)),
    "rounds:list": ("get", None, None, _allowed(ALL_DATA)),
    "rounds:detail": ("get", lambda w, p: {"year": 2017}, None, _allowed(ALL_DATA)),
    "rounds:method": ("get", lambda w, p: {"year": 2017}, None, _allowed(OVERVIEW)),
    "rounds:schedule_edit": ("get", lambda w, p: {"year": 2017}, None, _allowed({"office"})),
    "rounds:indicator_edit": ("get", lambda w, p: {"year": 2017, "number": 3}, None,
                              _allowed({"office"})),
    "rounds:words_edit": ("get", lambda w, p: {"year": 2017}, None, _allowed({"office"})),
    "rounds:copy": ("post", lambda w, p: {"year": 2017}, {"year": 2018},
                    _allowed({"office"}, ok=302)),
    # 2017 is already active: the office is sent back to the round; the close form without
    # its confirmation changes nothing (tests/rounds/test_round_lifecycle.py covers both).
    "rounds:activate": ("get", lambda w, p: {"year": 2017}, None, _allowed({"office"}, ok=302)),
    "rounds:close": ("post", lambda w, p: {"year": 2017}, {}, _allowed({"office"}, ok=302)),
    "directory:unit_list": ("get", None, None, _allowed(ALL_DATA)),
    "directory:unit_detail": ("get", lambda w, p: {"pk": _own_unit(p, w).pk}, None,
                              _allowed(ALL_DATA)),
    "directory:county_list": ("get", None, None, _allowed(ALL_DATA)),
    "directory:county_detail": (
        "get", lambda w, p: {"pk": (w["county_b"] if p.endswith("_b") or
                                    p == "military_inspector" else w["county_a"]).pk},
        None, _allowed(ALL_DATA),
    ),
    "directory:county_designation": (
        "post", lambda w, p: {"pk": w["county_a"].pk}, {"designated": "on", "note": "省发文"},
        _allowed({"office"}, ok=302),
    ),
    "directory:import": ("get", None, None, _allowed({"office"})),
    "directory:import_template": ("get", None, None, _allowed({"office"})),
    "audit:list": ("get", None, None, _allowed({"auditor"})),
    # tus: without its headers the request passes the access check, then is refused as the
    # wrong protocol version (412); outsiders get 404 first.
    "evidence:uploads": ("post", None, None, _allowed({"unit", "province"}, ok=412)),
    "evidence:upload": ("head", lambda w, p: {"pk": own_upload_pk(w, p)}, None,
                        _allowed({"unit", "province"}, ok=412)),
    "evidence:download": ("get", lambda w, p: {"pk": visible_evidence_pk(w, p)}, None,
                          _allowed(EVIDENCE_READERS)),
    "evidence:preview": ("get", lambda w, p: {"pk": visible_evidence_pk(w, p)}, None,
                         _allowed(EVIDENCE_READERS)),
    # Self-reports (step 3a). POSTs the persona may not make answer 404; allowed ones
    # redirect back to the page (here after the 2017 deadline: with a message).
    "submissions:self_reports": ("get", None, None, _index_status),
    "submissions:self_report": ("get", lambda w, p: {"pk": _self_pk(w, p)}, None,
                                _allowed(SELF_REPORT_READERS)),
    "submissions:self_report_version": ("get", lambda w, p: {"pk": _self_pk(w, p), "number": 1},
                                        None, _allowed(SELF_REPORT_READERS)),
    "submissions:self_report_save": ("post", lambda w, p: {"pk": _draft_pk(w, p)},
                                     {"revision": "0", "summary": "本年度工作总结"},
                                     _allowed({"unit"}, ok=302)),
    "submissions:self_report_submit": ("post", lambda w, p: {"pk": _draft_pk(w, p)},
                                       {"revision": "0", "confirm_gaps": "1"},
                                       _allowed({"unit"}, ok=302)),
    "submissions:self_report_attach": (
        "post", lambda w, p: {"pk": _with_evidence_pk(w, p)},
        {"indicator": Deferred(lambda: indicator_pk(4)), "evidence": Deferred(latest_evidence_pk)},
        _allowed({"unit"}, ok=302),
    ),
    "submissions:self_report_link": (
        "post", lambda w, p: {"pk": _draft_pk(w, p)},
        {"indicator": Deferred(lambda: indicator_pk(4)), "link_title": "新闻报道",
         "link_url": "https://example.org/news/1"},
        _allowed({"unit"}, ok=302),
    ),
    "submissions:self_report_detach": (
        "post", lambda w, p: (lambda a: {"pk": a.report_id, "attachment_pk": a.pk})(
            matrix_attachment(w, _own_unit(p, w))),
        None, _allowed({"unit"}, ok=302),
    ),
    "submissions:self_report_return": ("post", lambda w, p: {"pk": _self_pk(w, p)},
                                       {"reason": "请补充调研材料"},
                                       _allowed({"lead_reviewer"}, ok=302)),
    "submissions:self_report_excel": ("get", lambda w, p: {"pk": _draft_pk(w, p)}, None,
                                      _allowed({"unit"})),
    "submissions:self_report_import": ("post", lambda w, p: {"pk": _draft_pk(w, p)},
                                       {"revision": "0"}, _allowed({"unit"}, ok=302)),
    # Provincial reports (step 3b).
    "submissions:provincial_reports": ("get", None, None, _allowed(PROVINCIAL_READERS)),
    "submissions:provincial_start": ("post", lambda w, p: {"unit_pk": _own_unit(p, w).pk}, None,
                                     _allowed({"province"}, ok=302)),
    "submissions:provincial_report": ("get", lambda w, p: {"pk": _prov_pk(w, p)}, None,
                                      _allowed(PROVINCIAL_READERS)),
    "submissions:provincial_save": (
        "post", lambda w, p: {"pk": _prov_pk(w, p, submitted=False)},
        {"revision": "0", "work_text": "该单位在我省的帮扶工作", "recommended_grade": "good"},
        _allowed({"province"}, ok=302),
    ),
    "submissions:provincial_submit": ("post",
                                      lambda w, p: {"pk": _prov_pk(w, p, submitted=False)},
                                      {"revision": "0"}, _allowed({"province"}, ok=302)),
    "submissions:provincial_finding_add": (
        "post", lambda w, p: {"pk": _prov_pk(w, p, submitted=False)},
        {"county": Deferred(lambda: paired_county_pk("A001")), "kind": "major_incident",
         "description": "发生重大涉贫舆情事件"},
        _allowed({"province"}, ok=302),
    ),
    "submissions:provincial_excel": ("get", lambda w, p: {"pk": _prov_pk(w, p, submitted=False)},
                                     None, _allowed({"province"})),
    "submissions:provincial_import": ("post",
                                      lambda w, p: {"pk": _prov_pk(w, p, submitted=False)},
                                      {"revision": "0"}, _allowed({"province"}, ok=302)),
    # Seconded cadres and first secretaries.
    "submissions:cadres": ("get", None, None, _allowed(CADRE_READERS)),
    "submissions:cadre_add": (
        "post", None,
        {"cadre-county": Deferred(lambda: paired_county_pk("A001")), "cadre-name": "王五",
         "cadre-post": "副县长", "cadre-start": "2017-03-01"},
        _allowed({"unit"}, ok=302),
    ),
    "submissions:first_secretary_add": (
        "post", None,
        {"sec-county": Deferred(lambda: paired_county_pk("A001")), "sec-village": "某村",
         "sec-name": "赵六", "sec-start": "2017-03-01"},
        _allowed({"unit"}, ok=302),
    ),
    "submissions:cadre_remove": (
        "post", lambda w, p: {"kind": "cadre", "pk": matrix_cadre(w, _own_unit(p, w), "cadre").pk},
        None, _allowed({"unit"}, ok=302),
    ),
    "submissions:cadre_withdraw": (
        "post", lambda w, p: {"kind": "cadre", "pk": matrix_cadre(w, _own_unit(p, w), "cadre").pk},
        {"reason": "挂职期满返回"}, _allowed({"unit"}, ok=302),
    ),
    # Deadlines: the office extends; lead departments only watch their category.
    "submissions:deadlines": ("get", None, None, _allowed({"office", "lead_reviewer"})),
    "submissions:extension_grant": (
        "post", None,
        {"step": "self_report", "unit": Deferred(lambda: unit_pk("A001")),
         "until": "2018-01-10", "reason": "单位机构调整"},
        _allowed({"office"}, ok=302),
    ),
    "submissions:extensions": ("get", None, None, _allowed({"office"})),
    "submissions:late_list": ("get", None, None, _allowed({"office"})),
    "logout": ("post", None, None, _allowed(ALL_DATA | ADMINS, ok=302)),
    "login": ("get", None, None, lambda p: 302),  # signed in: sent on to the home page
    "set_language": ("post", None, {"language": "en"}, lambda p: 302),
    "healthz": ("get", None, None, lambda p: 200),
    # The categorized assessment (step 4): the lead departments give units no feedback, so
    # units and provinces see none of it; the overview roles read, lead reviewers edit.
    "reviews:queue": ("get", None, None, _allowed(REVIEW_READERS)),
    "reviews:desk": ("get", lambda w, p: {"unit_pk": _own_unit(p, w).pk}, None,
                     _allowed(REVIEW_READERS)),
    "reviews:grades_save": ("post", lambda w, p: {"unit_pk": _own_unit(p, w).pk},
                            {"revision": "0", "grade-leadership": "good",
                             "reason-leadership": "年度计划经党组会审定"},
                            _allowed({"lead_reviewer"}, ok=302)),
    "reviews:sub_report_save": ("post", lambda w, p: {"unit_pk": _own_unit(p, w).pk},
                                {"revision": "0", "basic_situation": "基本情况",
                                 "problems": "问题", "suggestions": "建议"},
                                _allowed({"lead_reviewer"}, ok=302)),
    "reviews:verify": ("post", lambda w, p: {"unit_pk": _own_unit(p, w).pk},
                       {"indicator": Deferred(lambda: indicator_pk(4)), "status": "verified"},
                       _allowed({"lead_reviewer"}, ok=302)),
    "reviews:activity_add": ("post", lambda w, p: {"unit_pk": _own_unit(p, w).pk},
                             {"method": "document", "held_on": "2018-01-05", "people": "张三"},
                             _allowed({"lead_reviewer"}, ok=302)),
    "reviews:problem_add": ("post", lambda w, p: {"unit_pk": _own_unit(p, w).pk},
                            {"kind": Deferred(lambda: problem_kind_pk("neglect")),
                             "description": "不重视定点扶贫工作"},
                            _allowed({"lead_reviewer"}, ok=302)),
    "reviews:incident_add": ("post", lambda w, p: {"unit_pk": _own_unit(p, w).pk},
                             {"county": Deferred(lambda: paired_county_pk("A001")),
                              "description": "发生重大涉贫舆情事件"},
                             _allowed({"lead_reviewer"}, ok=302)),
    "reviews:finding_withdraw": (
        "post", lambda w, p: {"unit_pk": _own_unit(p, w).pk, "kind": "problem",
                              "pk": matrix_problem(w, _own_unit(p, w)).pk},
        {"reason": "误报"}, _allowed({"lead_reviewer"}, ok=302),
    ),
    "reviews:org_finding_withdraw": (
        "post", lambda w, p: {"pk": matrix_org_problem(w, w["unit_a"]).pk},
        {"reason": "复核后确认在岗"}, _allowed({"org_department"}, ok=302),
    ),
    "reviews:category": ("get", lambda w, p: {"lead_pk": _own_lead(p, w).pk}, None,
                         _allowed(REVIEW_READERS)),
    "reviews:category_save": ("post", lambda w, p: {"lead_pk": _own_lead(p, w).pk},
                              {"overview": "概况", "problems": "问题", "suggestions": "建议"},
                              _allowed({"lead_reviewer"}, ok=302)),
    "reviews:category_submit": ("post", lambda w, p: {"lead_pk": _own_lead(p, w).pk}, None,
                                _allowed({"lead_reviewer"}, ok=302)),
    "reviews:category_return": (
        "post",
        lambda w, p: {"lead_pk": matrix_submitted_category(w, w["lead_a"]).lead_department_id},
        {"reason": "请补充个别核查情况"}, _allowed({"working_group"}, ok=302),
    ),
    "reviews:org_cadres": ("get", None, None, _allowed({"org_department"})),
    "reviews:org_cadre_check": (
        "post", lambda w, p: {"kind": "cadre", "pk": matrix_cadre(w, w["unit_a"], "cadre").pk},
        {"in_post": "on", "in_charge": "on", "note": "在岗"}, _allowed({"org_department"}, ok=302),
    ),
    "reviews:military": ("get", None, None, _allowed({"military_inspector"})),
    "reviews:military_add": ("post", lambda w, p: {"unit_pk": w["army"].pk},
                             {"inspected_on": "2018-01-08", "inspectors": "检查组",
                              "findings": "工作扎实"},
                             _allowed({"military_inspector"}, ok=302)),
    # The comprehensive review: the office, working group and leading group only.
    "grading:index": ("get", None, None, _allowed(OVERVIEW)),
    "grading:compute": ("post", None, None, _allowed({"working_group"}, ok=302)),
    "grading:detail": ("get", lambda w, p: {"pk": _result_set(w).pk}, None, _allowed(OVERVIEW)),
    "grading:decide": ("post", lambda w, p: {"pk": _result_set(w).pk},
                       {"unit": "A001", "grade": "good", "reason": "r"},
                       _allowed({"working_group"}, ok=302)),
    "grading:submit": ("post", lambda w, p: {"pk": _result_set(w).pk}, None,
                       _allowed({"working_group"}, ok=302)),
    "grading:approve": ("post", lambda w, p: {"pk": _result_set(w).pk}, {"decision": "approve"},
                        _allowed({"leading_group"}, ok=302)),
    "grading:release": ("post", lambda w, p: {"pk": _result_set(w).pk}, None,
                        _allowed({"office"}, ok=302)),
    # A correction of released results is the leading group's act alone.
    "grading:reopen": ("post", lambda w, p: {"pk": _result_set(w).pk}, {"reason": "更正"},
                       _allowed({"leading_group"}, ok=302)),
    "grading:abandon": ("post", lambda w, p: {"pk": _result_set(w).pk}, {"reason": "撤销"},
                        _allowed({"leading_group"}, ok=302)),
    "grading:compare": ("get", lambda w, p: {"pk": _result_set(w).pk,
                                             "other_pk": _result_set(w).pk}, None,
                        _allowed(OVERVIEW)),
}


def _handed_over(owner):
    """A unit's file attached to its submitted self-report: what a reviewer of the unit would
    read, so that a 404 is the scope's, not the draft's (tests/evidence)."""
    return lambda w: {"pk": submitted_evidence_of(w, owner).pk}


# Foreign objects: (route, kwargs(world) of an object outside the persona's scope).
FOREIGN = {
    "lead_reviewer": [("directory:unit_detail", lambda w: {"pk": w["unit_b"].pk}),
                      ("directory:unit_detail", lambda w: {"pk": w["army"].pk}),
                      ("evidence:download", _handed_over("unit_b")),
                      ("evidence:download", _handed_over("army")),
                      ("evidence:download", lambda w: {"pk": evidence_of(w, "province_a").pk}),
                      ("evidence:preview", _handed_over("unit_b"))],
    "lead_reviewer_b": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk}),
                        ("evidence:download", _handed_over("unit_a"))],
    "unit": [("directory:unit_detail", lambda w: {"pk": w["unit_b"].pk}),
             ("directory:county_detail", lambda w: {"pk": w["county_b"].pk}),
             ("evidence:download", lambda w: {"pk": evidence_of(w, "unit_b").pk}),
             ("evidence:download", lambda w: {"pk": evidence_of(w, "province_a").pk}),
             ("evidence:preview", lambda w: {"pk": evidence_of(w, "unit_b").pk})],
    "unit_b": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk}),
               ("directory:county_detail", lambda w: {"pk": w["county_a"].pk}),
               ("evidence:download", lambda w: {"pk": evidence_of(w, "unit_a").pk})],
    "province": [("directory:unit_detail", lambda w: {"pk": w["unit_b"].pk}),
                 ("directory:county_detail", lambda w: {"pk": w["county_b"].pk}),
                 ("evidence:download", lambda w: {"pk": evidence_of(w, "province_b").pk}),
                 ("evidence:download", lambda w: {"pk": evidence_of(w, "unit_a").pk}),
                 ("evidence:preview", lambda w: {"pk": evidence_of(w, "province_b").pk})],
    "province_b": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk}),
                   ("directory:county_detail", lambda w: {"pk": w["county_a"].pk}),
                   ("evidence:download", lambda w: {"pk": evidence_of(w, "province_a").pk})],
    "military_inspector": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk}),
                           ("evidence:download", _handed_over("unit_a"))],
}


# Submissions: another unit's self-report, another category's, another province's report.
def _foreign_self(unit_key):
    return lambda w: {"pk": matrix_self_report(w, w[unit_key]).pk}


def _foreign_prov(unit_key):
    return lambda w: {"pk": matrix_provincial_report(w, w[unit_key]).pk}


def _foreign_version(unit_key):
    return lambda w: {"pk": matrix_self_report(w, w[unit_key]).pk, "number": 1}


FOREIGN["unit"] += [("submissions:self_report", _foreign_self("unit_b")),
                    ("submissions:self_report_version", _foreign_version("unit_b")),
                    ("submissions:self_report_excel", _foreign_self("unit_b"))]
FOREIGN["unit_b"] += [("submissions:self_report", _foreign_self("unit_a")),
                      ("submissions:self_report_excel", _foreign_self("unit_a"))]
FOREIGN["lead_reviewer"] += [("submissions:self_report", _foreign_self("unit_b")),
                             ("submissions:self_report", _foreign_self("army")),
                             ("submissions:self_report_version", _foreign_version("unit_b")),
                             ("submissions:provincial_report", _foreign_prov("unit_b"))]
FOREIGN["lead_reviewer_b"] += [("submissions:self_report", _foreign_self("unit_a")),
                               ("submissions:provincial_report", _foreign_prov("unit_a"))]
FOREIGN["province"] += [("submissions:provincial_report", _foreign_prov("unit_b")),
                        ("submissions:provincial_excel", _foreign_prov("unit_b"))]
FOREIGN["province_b"] += [("submissions:provincial_report", _foreign_prov("unit_a")),
                          ("submissions:provincial_excel", _foreign_prov("unit_a"))]
FOREIGN["military_inspector"] += [("submissions:self_report", _foreign_self("unit_a")),
                                  ("submissions:provincial_report", _foreign_prov("unit_a"))]
# Every unit's and province's report and evidence lies outside the organization department.
FOREIGN["org_department"] = [
    ("submissions:self_report", _foreign_self("unit_a")),
    ("submissions:self_report", _foreign_self("army")),
    ("submissions:self_report_version", _foreign_version("unit_b")),
    ("submissions:provincial_report", _foreign_prov("unit_a")),
    ("submissions:provincial_report", _foreign_prov("unit_b")),
    ("evidence:download", _handed_over("unit_a")),
    ("evidence:download", lambda w: {"pk": evidence_of(w, "province_a").pk}),
    ("evidence:preview", lambda w: {"pk": evidence_of(w, "province_b").pk}),
]

# Provincial report evidence and approval document (issue 17, item 9): only the province
# attaches, to its own draft; its report as a document is scoped like the report itself.
def _prov_attach_kwargs(world, persona):
    """The persona's provincial draft, with a fresh evidence file of that report's province."""
    from kaohe.submissions.models import ProvincialAttachment

    report = matrix_provincial_report(world, _own_unit(persona, world), submitted=False)
    evidence = make_evidence(province=report.province, user=matrix_user(world["unit_a"]),
                             round=world["round"])
    attachment = ProvincialAttachment.objects.create(report=report, kind="evidence",
                                                     evidence=evidence)
    return report, attachment


def _latest_province_evidence_pk():
    from kaohe.evidence.models import Evidence

    return Evidence.objects.filter(province__isnull=False).latest("created_at").pk


ROUTES.update({
    "submissions:provincial_attach": (
        "post", lambda w, p: {"pk": _prov_attach_kwargs(w, p)[0].pk},
        {"evidence": Deferred(_latest_province_evidence_pk), "kind": "approval"},
        _allowed({"province"}, ok=302)),
    "submissions:provincial_detach": (
        "post", lambda w, p: dict(zip(("pk", "attachment_pk"),
                                      (o.pk for o in _prov_attach_kwargs(w, p)), strict=True)),
        None, _allowed({"province"}, ok=302)),
})


def _prov_document(unit_key):
    return lambda w: {"identifier": "provincial_report", "fmt": "pdf",
                      "key": matrix_provincial_report(w, w[unit_key]).pk}


FOREIGN["province"] += [("documents:make", _prov_document("unit_b"))]
FOREIGN["province_b"] += [("documents:make", _prov_document("unit_a"))]
FOREIGN["lead_reviewer"] += [("documents:make", _prov_document("unit_b"))]
FOREIGN["lead_reviewer_b"] += [("documents:make", _prov_document("unit_a"))]
FOREIGN["org_department"] += [("documents:make", _prov_document("unit_a"))]
FOREIGN["unit"] += [("documents:make", _prov_document("unit_a"))]


# Reviews: another category's desk and category page, the army (inspected, never reviewed).
FOREIGN["lead_reviewer"] += [("reviews:desk", lambda w: {"unit_pk": w["unit_b"].pk}),
                             ("reviews:desk", lambda w: {"unit_pk": w["army"].pk}),
                             ("reviews:category", lambda w: {"lead_pk": w["lead_b"].pk}),
                             ("reviews:category",
                              lambda w: {"lead_pk": w["army"].category.lead_department_id})]
FOREIGN["lead_reviewer_b"] += [("reviews:desk", lambda w: {"unit_pk": w["unit_a"].pk}),
                               ("reviews:category", lambda w: {"lead_pk": w["lead_a"].pk})]


def _result_set(world):
    """A draft result set of the round, made on first use (the engine's output is stored)."""
    from kaohe.accounts.models import User
    from kaohe.grading.models import ResultSet

    existing = ResultSet.objects.filter(round=world["round"]).first()
    if existing is not None:
        return existing
    return ResultSet.objects.create(
        round=world["round"], version=1, inputs=[], method=world["round"].method,
        outputs={"results": [], "warnings": [], "counts": {}},
        created_by=User.objects.filter(role="working_group").first()
        or User.objects.create(username="perm-wg", role="working_group"),
    )


def _outcome(world, unit_key, what):
    """Feedback, a rectification report with one item, or a summons of a unit."""
    from kaohe.accounts.models import User
    from kaohe.outcomes.models import (
        Feedback,
        RectificationItem,
        RectificationReport,
        Summons,
    )

    unit = world[unit_key]
    user = User.objects.filter(role="office").first() or User.objects.create(
        username="perm-office", role="office")
    if what == "feedback":
        return Feedback.objects.get_or_create(
            round=world["round"], unit=unit,
            defaults={"result_set": _result_set(world), "grade": "average", "updated_by": user},
        )[0]
    if what == "summons":
        return Summons.objects.get_or_create(round=world["round"], unit=unit,
                                             defaults={"updated_by": user})[0]
    report = RectificationReport.objects.get_or_create(round=world["round"], unit=unit)[0]
    if what == "submitted_item":  # what a tracker reviews: a draft is the unit's own
        from django.utils import timezone

        RectificationReport.objects.filter(pk=report.pk).update(submitted_at=timezone.now())
    item = RectificationItem.objects.get_or_create(report=report, order=1,
                                                   defaults={"source": "problem", "text": "t"})[0]
    return item


def _unit_key(persona):
    return "unit_b" if persona.endswith("_b") else "unit_a"


def _released_to_unit_a(world):
    """The result set released with a letter to unit_a only, and unit_a's rectification
    report (one item): unit_b, with no letter, has no result page yet. No URL kwargs."""
    from kaohe.grading.models import ResultSet, ResultSetStatus

    feedback = _outcome(world, "unit_a", "feedback")
    _outcome(world, "unit_a", "item")
    result_set = feedback.result_set  # sealed as release would (pages verify the seal)
    ResultSet.objects.filter(pk=result_set.pk).update(status=ResultSetStatus.RELEASED,
                                                      seal=result_set.content_hash())
    return {}


OUTCOME_TRACKERS = {"office", "lead_reviewer"}
# The leading group follows rectification and summons up, read-only (issue 21).
OUTCOME_READERS = OUTCOME_TRACKERS | {"leading_group"}
ROUTES.update({
    "outcomes:feedback_list": ("get", None, None, _allowed({"office"})),
    "outcomes:feedback_prepare": ("post", None, None, _allowed({"office"}, ok=302)),
    "outcomes:feedback_edit": ("get", lambda w, p: {"pk": _outcome(w, "unit_a", "feedback").pk},
                               None, _allowed({"office"})),
    # unit_a's letter is released (unit_b has none): unit_a alone reaches its page.
    "outcomes:my_result": ("get", lambda w, p: _released_to_unit_a(w), None,
                           lambda p: 200 if p == "unit" else 404),
    "outcomes:my_rectification_save": ("post", lambda w, p: _released_to_unit_a(w),
                                       {"summary": "x"}, lambda p: 302 if p == "unit" else 404),
    "outcomes:my_rectification_attach": ("post", None, {"item": "1", "evidence": "x"},
                                         lambda p: 404),
    "outcomes:my_rectification_detach": ("post", lambda w, p: {"pk": 1}, None, lambda p: 404),
    "outcomes:rectification_extend": (
        "post", lambda w, p: {"unit_pk": w[_unit_key(p)].pk},
        {"until": "2018-04-30", "reason": "r"}, _allowed({"office"}, ok=302)),
    "outcomes:rectification_list": ("get", None, None, _allowed(OUTCOME_READERS)),
    "outcomes:rectification_detail": (
        "get", lambda w, p: {"unit_pk": _outcome(w, _unit_key(p), "item").report.unit_id},
        None, _allowed(OUTCOME_READERS)),
    "outcomes:item_review": (
        "post", lambda w, p: {"unit_pk": w[_unit_key(p)].pk,
                              "item_pk": _outcome(w, _unit_key(p), "submitted_item").pk},
        {"accepted": "1"}, _allowed(OUTCOME_TRACKERS, ok=302)),
    "outcomes:summons": ("get", None, None, _allowed(OUTCOME_READERS)),
    "outcomes:summons_update": (
        "post", lambda w, p: {"pk": _outcome(w, _unit_key(p), "summons").pk},
        {"minutes": "m"}, _allowed(OUTCOME_TRACKERS, ok=302)),
    "outcomes:dispatches": ("get", None, None, _allowed({"office"})),
    # The organization department's list of results: nothing is released (nor sent) in
    # this world, so it does not exist yet for anyone (tests/outcomes/
    # test_leader_and_org_views.py covers it once released and sent).
    "outcomes:org_results": ("get", None, None, lambda p: 404),
})
FOREIGN["lead_reviewer"] += [
    ("outcomes:rectification_detail",
     lambda w: {"unit_pk": _outcome(w, "unit_b", "item").report.unit_id}),
]
FOREIGN["lead_reviewer_b"] += [
    ("outcomes:rectification_detail",
     lambda w: {"unit_pk": _outcome(w, "unit_a", "item").report.unit_id}),
]


# Launch and training (steps 1 and 2): the office and the working group oversee; a lead
# department files its own team and plan and refines its own innovation items; every
# team member reads the training materials.
LAUNCH_OVERSEERS = {"office", "working_group"}
LAUNCH_READERS = LAUNCH_OVERSEERS | {"lead_reviewer"}


def _launch_index_status(persona):
    """A lead department is sent on to its own page; the overseers get the overview."""
    if persona.removesuffix("_b") == "lead_reviewer":
        return 302
    return _allowed(LAUNCH_OVERSEERS)(persona)


def _lead_kwargs(w, p):
    return {"lead_pk": _own_lead(p, w).pk}


ROUTES.update({
    "launch:index": ("get", None, None, _launch_index_status),
    "launch:working_group": ("get", None, None, _allowed(LAUNCH_OVERSEERS)),
    "launch:member_add": ("post", None,
                          {"name": "王五", "organization": "国务院扶贫办社会扶贫司",
                           "post": "副司长", "position": "member", "body": "office_social"},
                          _allowed({"office"}, ok=302)),
    "launch:member_edit": ("get", lambda w, p: {"pk": matrix_member(w).pk}, None,
                           _allowed({"office"})),
    "launch:member_remove": ("post", lambda w, p: {"pk": matrix_member(w).pk}, None,
                             _allowed({"office"}, ok=302)),
    "launch:lead": ("get", _lead_kwargs, None, _allowed(LAUNCH_READERS)),
    "launch:team_file": ("post", _lead_kwargs,
                         {"rows": "1", "m0-name": "张三", "m0-level": "division",
                          "m0-email": "zhangsan@example.org", "liaison": "0"},
                         _allowed({"lead_reviewer"}, ok=302)),
    "launch:plan_file": ("post", _lead_kwargs,
                         {"document": Upload("分类考核具体方案.pdf"), "key_points": "要点"},
                         _allowed({"lead_reviewer"}, ok=302)),
    "launch:plan_download": (
        "get", lambda w, p: {"lead_pk": matrix_plan(w, _own_lead(p, w)).lead_department_id},
        None, _allowed(LAUNCH_READERS)),
    "launch:innovation": ("get", _lead_kwargs, None, _allowed(LAUNCH_READERS)),
    "launch:refined_add": ("post", _lead_kwargs,
                           {"item": Deferred(innovation_item_pk), "name": "发挥行业优势"},
                           _allowed({"lead_reviewer"}, ok=302)),
    "launch:refined_edit": ("post", lambda w, p: {"pk": matrix_refined(w, _own_lead(p, w)).pk},
                            {"name": "新的细化内容"}, _allowed({"lead_reviewer"}, ok=302)),
    "launch:refined_remove": ("post",
                              lambda w, p: {"pk": matrix_refined(w, _own_lead(p, w)).pk},
                              None, _allowed({"lead_reviewer"}, ok=302)),
    "launch:training": ("get", None, None, _allowed(LAUNCH_READERS)),
    "launch:session_add": ("post", None,
                           {"held_on": "2017-11-25", "place": "北京", "topic": "考核业务培训"},
                           _allowed({"office"}, ok=302)),
    "launch:session": ("get", lambda w, p: {"pk": matrix_session(w).pk}, None,
                       _allowed(LAUNCH_OVERSEERS)),
    "launch:attendance_save": ("post", lambda w, p: {"pk": matrix_session(w).pk}, None,
                               _allowed({"office"}, ok=302)),
    "launch:material_add": ("post", lambda w, p: {"pk": matrix_session(w).pk},
                            {"file": Upload("培训课件.pdf")}, _allowed({"office"}, ok=302)),
    "launch:material_download": ("get", lambda w, p: {"pk": matrix_material(w).pk}, None,
                                 _allowed(LAUNCH_READERS)),
    "launch:material_remove": ("post", lambda w, p: {"pk": matrix_material(w).pk}, None,
                               _allowed({"office"}, ok=302)),
})
# Another lead department's team, plan and refined items; the army's lead department runs
# no categorized assessment; the attendance list is the office's and the working group's.
FOREIGN["lead_reviewer"] += [
    ("launch:lead", lambda w: {"lead_pk": w["lead_b"].pk}),
    ("launch:lead", lambda w: {"lead_pk": w["army"].category.lead_department_id}),
    ("launch:plan_download",
     lambda w: {"lead_pk": matrix_plan(w, w["lead_b"]).lead_department_id}),
    ("launch:innovation", lambda w: {"lead_pk": w["lead_b"].pk}),
    ("launch:session", lambda w: {"pk": matrix_session(w).pk}),
    ("launch:working_group", lambda w: {}),
]
FOREIGN["lead_reviewer_b"] += [
    ("launch:lead", lambda w: {"lead_pk": w["lead_a"].pk}),
    ("launch:plan_download",
     lambda w: {"lead_pk": matrix_plan(w, w["lead_a"]).lead_department_id}),
    ("launch:innovation", lambda w: {"lead_pk": w["lead_a"].pk}),
]
FOREIGN["unit"] += [
    ("launch:material_download", lambda w: {"pk": matrix_material(w).pk}),
    ("launch:plan_download",
     lambda w: {"lead_pk": matrix_plan(w, w["lead_a"]).lead_department_id}),
]


# The three administrator duties (等保 三员): the system administrator manages the accounts
# of the assessment's roles, the security administrator grants roles and lifts lockouts,
# the auditor reads and exports the log. A data-role account is the object acted upon.
def _account_pk(world, persona=None):
    from kaohe.accounts.models import User

    account = User.objects.filter(username="matrix-account").first()
    if account is None:
        account = User.objects.create(username="matrix-account", role=Role.UNIT,
                                      unit=world["unit_a"], full_name="矩阵账户")
    return account.pk


def _account(w, p):
    return {"pk": _account_pk(w, p)}


def _two_factor_account(w, p):
    """An office account without an authenticator: the security admin issues it a code."""
    from kaohe.accounts.models import User

    account = User.objects.filter(username="matrix-enrol").first()
    if account is None:
        account = User.objects.create(username="matrix-enrol", role=Role.OFFICE,
                                      full_name="矩阵绑定账户")
    return {"pk": account.pk}


def _admin_pk(username):
    from kaohe.accounts.models import User

    return User.objects.get(username=username).pk


SYSTEM_ADMIN, SECURITY_ADMIN, ACCOUNT_ADMINS = (
    {"system_admin"}, {"security_admin"}, {"system_admin", "security_admin"})
ROUTES.update({
    "accounts:admin_user_create": (
        "post", None, {"username": "matrix-new", "full_name": "新用户", "phone": "010-1234567"},
        _allowed(SYSTEM_ADMIN)),  # 200: the page with the one-time password
    "accounts:admin_user_detail": ("get", _account, None, _allowed(ACCOUNT_ADMINS)),
    "accounts:admin_user_edit": ("get", _account, None, _allowed(SYSTEM_ADMIN)),
    "accounts:admin_user_active": ("post", _account, {"active": "0"},
                                   _allowed(SYSTEM_ADMIN, ok=302)),
    "accounts:admin_user_password": ("post", _account, None, _allowed(SYSTEM_ADMIN)),
    "accounts:admin_user_role": ("get", _account, None, _allowed(SECURITY_ADMIN)),
    "accounts:admin_user_unlock": ("post", _account, None, _allowed(SECURITY_ADMIN, ok=302)),
    "accounts:admin_user_two_factor_reset": ("post", _account, None,
                                             _allowed(SECURITY_ADMIN, ok=302)),
    # 200: the page with the enrolment code, shown once.
    "accounts:admin_user_enrolment_code": ("post", _two_factor_account, None,
                                           _allowed(SECURITY_ADMIN)),
    "accounts:admin_settings": ("get", None, None, _allowed(SYSTEM_ADMIN)),
    "accounts:admin_security_policy": ("get", None, None, _allowed(SECURITY_ADMIN)),
    "audit:export": ("get", None, None, _allowed({"auditor"})),
})
# The system administrator never reaches an administrator's account; the security
# administrator never grants a role to themself nor resets their own second factor.
FOREIGN["system_admin"] = [
    ("accounts:admin_user_edit", lambda w: {"pk": _admin_pk("sec")}),
    ("accounts:admin_user_edit", lambda w: {"pk": _admin_pk("aud")}),
    ("accounts:admin_user_edit", lambda w: {"pk": _admin_pk("sys")}),
    ("accounts:admin_user_detail", lambda w: {"pk": 999999}),
]
FOREIGN["security_admin"] = [
    ("accounts:admin_user_role", lambda w: {"pk": _admin_pk("sec")}),
    ("accounts:admin_user_role", lambda w: {"pk": 999999}),
]



# Bulk accounts (issue 20): the system administrator opens them and makes the credential
# letters (only the maker fetches them, once); the security administrator grants the roles;
# the office keeps the liaisons' contact list.
def _letters_export(world, persona, *, identifier="credential_letters", maker="sys",
                    role=Role.SYSTEM_ADMIN):
    """Credential letters made by the system administrator `sys` (or code letters made by
    the security administrator `sec`)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from kaohe.accounts.models import User
    from kaohe.documents.models import Export

    made_by = User.objects.filter(username=maker).first() or User.objects.create(
        username=maker, role=role)
    export = Export.objects.filter(made_by=made_by, identifier=identifier).first()
    if export is None:
        name = default_storage.save("exports/matrix-letters.pdf", ContentFile(b"%PDF-1.7\n"))
        export = Export.objects.create(
            identifier=identifier, fmt="pdf", title="t", made_by=made_by,
            status="done", storage_name=name, file_name="t.pdf",
            content_type="application/pdf", size=9)
    return {"pk": export.pk}


def _code_letters_export(world, persona):
    return _letters_export(world, persona, identifier="enrolment_code_letters", maker="sec",
                           role=Role.SECURITY_ADMIN)


ROUTES.update({
    "accounts:bulk_open": ("get", None, None, _allowed(SYSTEM_ADMIN)),
    "accounts:bulk_roles": ("get", None, None, _allowed(SECURITY_ADMIN)),
    "accounts:credential_letters": ("get", None, None, _allowed(SYSTEM_ADMIN)),
    "accounts:credential_letters_make": ("post", None, None, _allowed(SYSTEM_ADMIN, ok=302)),
    "accounts:credential_letters_status": ("get", _letters_export, None,
                                           _allowed(SYSTEM_ADMIN)),
    "accounts:credential_letters_download": ("get", _letters_export, None,
                                             _allowed(SYSTEM_ADMIN)),
    "accounts:code_letters_make": ("post", None, None, _allowed(SECURITY_ADMIN, ok=302)),
    "accounts:code_letters_status": ("get", _code_letters_export, None,
                                     _allowed(SECURITY_ADMIN)),
    "accounts:code_letters_download": ("get", _code_letters_export, None,
                                       _allowed(SECURITY_ADMIN)),
    "directory:liaisons": ("get", None, None, _allowed({"office"})),
    "directory:figures_import": ("get", None, None, _allowed({"office"})),
    "directory:liaison_edit": ("get", lambda w, p: {"kind": "unit", "pk": w["unit_a"].pk},
                               None, _allowed({"office"})),
})


def _anothers_letters(identifier, username, role):
    """Letters made by another administrator of the same duty: never handed to the persona."""
    def make(world):
        from kaohe.accounts.models import User
        from kaohe.documents.models import Export

        other, _created = User.objects.get_or_create(username=username,
                                                     defaults={"role": role})
        export = Export.objects.create(identifier=identifier, fmt="pdf", title="t",
                                       made_by=other, status="done", storage_name="x.pdf",
                                       file_name="t.pdf", content_type="application/pdf")
        return {"pk": export.pk}

    return make


_other_sysadmins_letters = _anothers_letters("credential_letters", "sys-other",
                                             Role.SYSTEM_ADMIN)
_other_secadmins_code_letters = _anothers_letters("enrolment_code_letters", "sec-other",
                                                  Role.SECURITY_ADMIN)
FOREIGN["system_admin"] += [
    ("accounts:credential_letters_download", _other_sysadmins_letters),
    ("accounts:credential_letters_status", _other_sysadmins_letters),
]
FOREIGN.setdefault("security_admin", [])
FOREIGN["security_admin"] += [
    ("accounts:code_letters_download", _other_secadmins_code_letters),
    ("accounts:code_letters_status", _other_secadmins_code_letters),
]
FOREIGN.setdefault("office", [])
FOREIGN["office"] += [
    ("directory:liaison_edit", lambda w: {"kind": "county", "pk": w["unit_a"].pk}),
    ("directory:liaison_edit", lambda w: {"kind": "unit", "pk": 999999}),
]



# Documents: every data role opens the page (each exporter offers only what is in scope);
# nothing is released in this world, so a unit gets no letter; bulk exports are the maker's.
def _feedback_pk(world, persona):
    return _outcome(world, "unit_a", "feedback").pk


def _signed_letter(world):
    """unit_a's letter, signed off (a bare record: the matrix asks who may withdraw it)."""
    from kaohe.accounts.models import User
    from kaohe.documents.models import SignOff

    key = str(_outcome(world, "unit_a", "feedback").pk)
    office = User.objects.filter(role="office").first() or User.objects.create(
        username="perm-office", role="office")
    return SignOff.objects.get_or_create(
        identifier="feedback_letter", object_key=key, withdrawn_at__isnull=True,
        defaults={"round": world["round"], "title": "考核结果反馈函", "kind": "letter",
                  "year": 2018, "prefix": "国开办函", "number": 1,
                  "doc_number": "国开办函〔2018〕1号", "issued_on": world["round"].steps.last().due,
                  "content": {}, "sha256": "", "signed_by": office})[0]


def _pick_kwargs(world, persona):
    _feedback_pk(world, persona)  # unit_a's letter exists before the query names it
    return {"identifier": "feedback_letter"}


def _choose_kwargs(world, persona):
    for unit in ("unit_a", "unit_b", "army"):
        matrix_self_report(world, world[unit])
    return {"identifier": "self_report"}


def _unit_a_feedback_pk():
    from kaohe.outcomes.models import Feedback

    return Feedback.objects.get(unit__code="A001").pk


def _office_export(world, persona):
    """A finished bulk export made by the office user: only its maker may fetch it."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from kaohe.accounts.models import User
    from kaohe.documents.models import Export

    maker = User.objects.filter(username="office").first() or User.objects.create(
        username="office", role="office")
    export = Export.objects.filter(made_by=maker).first()
    if export is None:
        name = default_storage.save("exports/matrix.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18))
        # Of the round its maker may still read (the download asks the exporter again).
        export = Export.objects.create(
            identifier="feedback_letters", fmt="docx", title="t", made_by=maker, status="done",
            round=world["round"], object_key=str(world["round"].year),
            storage_name=name, file_name="t.zip", content_type="application/zip", size=22)
    return {"pk": export.pk}


ROUTES.update({
    "documents:index": ("get", None, None, _allowed(ALL_DATA)),
    "documents:make": (
        "get", lambda w, p: {"identifier": "feedback_letter", "key": _feedback_pk(w, p),
                             "fmt": "docx"}, None, _allowed({"office"})),
    # A real key and format: only the feedback letter's scope (the office, before release)
    # decides who is sent on to it.
    "documents:pick": ("get", _pick_kwargs,
                       {"key": Deferred(_unit_a_feedback_pk), "fmt": "docx"},
                       _allowed({"office"}, ok=302)),
    # The self-reports to choose among (the page for a document of many): every reader of
    # self-reports has some in scope (a unit its own); the others get 404.
    "documents:choose": ("get", _choose_kwargs, None, _allowed(SELF_REPORT_READERS)),
    "documents:export_status": ("get", _office_export, None,
                                lambda p: 200 if p == "office" else 404),
    "documents:export_download": ("get", _office_export, None,
                                  lambda p: 200 if p == "office" else 404),
    "documents:templates": ("get", None, None, _allowed({"office"})),
    "documents:template_upload": ("post", lambda w, p: {"identifier": "feedback_letter"}, None,
                                  _allowed({"office"}, ok=302)),
    "documents:template_delete": ("post", lambda w, p: {"identifier": "feedback_letter"}, None,
                                  _allowed({"office"}, ok=302)),
    "documents:template_download": ("get", lambda w, p: {"identifier": "feedback_letter"}, None,
                                    _allowed({"office"})),
    # Sign-off (签发) is the office's alone.
    "documents:sign_off": ("get", None, None, _allowed({"office"})),
    "documents:sequence_save": ("post", None, {"year": 2018, "kind": "letter",
                                               "prefix": "国开办函", "next_number": 1},
                                _allowed({"office"}, ok=302)),
    "documents:sign": ("post", lambda w, p: {"identifier": "feedback_letter",
                                             "key": _feedback_pk(w, p)}, {},
                       _allowed({"office"}, ok=302)),
    "documents:sign_all": ("post", lambda w, p: {"identifier": "feedback_letter"}, {},
                           _allowed({"office"}, ok=302)),
    # Withdrawing (作废) a signed paper: the office's alone too.
    "documents:withdraw": ("post", lambda w, p: {"pk": _signed_letter(w).pk},
                           {"reason": "主送机关有误"}, _allowed({"office"}, ok=302)),
})
for _persona in ("unit", "unit_b", "lead_reviewer", "province", "working_group",
                 "org_department"):
    FOREIGN.setdefault(_persona, [])
    FOREIGN[_persona] += [
        ("documents:make", lambda w: {"identifier": "feedback_letter",
                                      "key": _feedback_pk(w, None), "fmt": "pdf"}),
        ("documents:make", lambda w: {"identifier": "review_report",
                                      "key": _result_set(w).pk, "fmt": "docx"}),
        ("documents:export_download", lambda w: _office_export(w, None)),
    ]


# Notifications: every signed-in user reads and marks their own; another user's answers 404
# (the persona's own notice is made for it; the foreign-post test sends the outsiders to it).
PERSONA_USERNAMES = {
    "office": "office", "working_group": "wg", "leading_group": "leader", "org_department": "org",
    "military_inspector": "mil", "lead_reviewer": "lead_a", "lead_reviewer_b": "lead_b",
    "unit": "unit_a", "unit_b": "unit_b", "province": "prov_a", "province_b": "prov_b",
    "system_admin": "sys", "security_admin": "sec", "auditor": "aud",
}


def _own_notification(world, persona):
    from kaohe.accounts.models import User
    from kaohe.notifications.models import Kind, Notification

    # The anonymous test has no personas: the office user is made for it.
    user = User.objects.filter(username=PERSONA_USERNAMES[persona]).first() or \
        User.objects.create(username="office", role=Role.OFFICE)
    notice, _created = Notification.objects.get_or_create(
        recipient=user, key="matrix", defaults={"kind": Kind.RETURNED, "text": "矩阵通知",
                                                "link": reverse("home")})
    return {"pk": notice.pk}


ROUTES.update({
    "notifications:list": ("get", None, None, _allowed(ALL_DATA | ADMINS)),
    "notifications:read": ("post", _own_notification, None, lambda p: 302),
    "notifications:read_all": ("post", None, None, lambda p: 302),
})


# The API (kaohe.api): the security administrator issues and revokes tokens on pages; the
# API itself answers bearer tokens only, so a signed-in session (any role) gets 401 there
# (tests/api cover the tokens' scope). Its schema and docs page describe the interface only
# and are reachable without signing in; ninja's root answers 404.
def _api_token(world, persona):
    from kaohe.api.models import ApiToken
    from kaohe.api.services import token_activate, token_authorize

    token = ApiToken.objects.filter(name="矩阵令牌").first()
    if token is None:
        holder = matrix_user(world["unit_a"])
        token = token_authorize(user=holder, name="矩阵令牌", actor=None)
        token, _raw = token_activate(token=token, actor=holder)
    return {"pk": token.pk}


def _own_pending_token(world, persona):
    """A token authorized for the persona's own account, not yet activated (made directly:
    the service authorizes tokens for the token roles only)."""
    from kaohe.accounts.models import User
    from kaohe.api.models import ApiToken

    user = User.objects.filter(username=PERSONA_USERNAMES[persona]).first() or \
        User.objects.create(username="office", role=Role.OFFICE)
    token, _created = ApiToken.objects.get_or_create(user=user, name="矩阵待生成")
    return {"pk": token.pk}


TOKEN_HOLDERS = {"unit", "province", "office"}


def _unit_code(world, persona):
    return {"unit_code": "A001"}


def _unit_a_username():
    from kaohe.directory.models import Unit

    return matrix_user(Unit.objects.get(code="A001")).username


API_ANONYMOUS = {"api:v1:openapi-json": 200, "api:v1:openapi-view": 200,
                 "api:v1:api-root": 404}
BEARER_ONLY = {
    "api:v1:me": ("get", None), "api:v1:office_progress": ("get", None),
    "api:v1:province_units": ("get", None), "api:v1:province_counties": ("get", None),
    "api:v1:province_report": ("get", _unit_code),
    "api:v1:province_report_save": ("put", _unit_code),
    "api:v1:province_finding_add": ("post", _unit_code),
    "api:v1:province_report_submit": ("post", _unit_code),
    "api:v1:unit_report": ("get", None), "api:v1:unit_report_save": ("put", None),
    "api:v1:unit_report_submit": ("post", None), "api:v1:unit_result": ("get", None),
}
ROUTES.update({
    "api:tokens": ("get", None, None, _allowed(SECURITY_ADMIN)),
    # 302 to the list: authorized; the holder makes the token.
    "api:token_authorize": ("post", None, {"user": Deferred(_unit_a_username),
                                           "name": "矩阵授权"},
                            _allowed(SECURITY_ADMIN, ok=302)),
    "api:my_tokens": ("get", None, None, _allowed(TOKEN_HOLDERS)),
    # 200: the page with the token, shown once, to its holder.
    "api:token_activate": ("post", _own_pending_token, None, _allowed(TOKEN_HOLDERS)),
    "api:my_token_revoke": ("post", _own_pending_token, None, _allowed(TOKEN_HOLDERS, ok=302)),
    "api:token_revoke": ("post", _api_token, None, _allowed(SECURITY_ADMIN, ok=302)),
    **{route: ("get", None, None, lambda p, status=status: status)
       for route, status in API_ANONYMOUS.items()},
    **{route: (method, kwargs, None, lambda p: 401)
       for route, (method, kwargs) in BEARER_ONLY.items()},
})


def _walk(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}"


def _url(route, world, persona):
    kwargs_fn = ROUTES[route][1]
    return reverse(route, kwargs=kwargs_fn(world, persona) if kwargs_fn else None)


def test_every_url_is_in_the_matrix():
    assert set(_walk()) == set(ROUTES)


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_it_sends_anonymous_users_to_login_except_the_allowlist(client, world, route):
    method, _, data, _ = ROUTES[route]
    response = getattr(client, method)(_url(route, world, "office"), data or {})
    if route in ALLOWLIST:
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("login"))
    elif route in API_ANONYMOUS:
        assert response.status_code == API_ANONYMOUS[route]
    elif route in BEARER_ONLY:
        assert response.status_code == 401  # no token: refused, never a login page
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_permission_matrix(client, world, personas, route, persona):
    method, _, data, expected = ROUTES[route]
    client.force_login(personas[persona])
    response = getattr(client, method)(_url(route, world, persona), data or {})
    assert response.status_code == expected(persona), (route, persona)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(FOREIGN))
def test_foreign_objects_answer_404(client, world, personas, persona):
    client.force_login(personas[persona])
    for route, kwargs_fn in FOREIGN[persona]:
        response = client.get(reverse(route, kwargs=kwargs_fn(world)))
        assert response.status_code == 404, (route, persona)


@pytest.mark.django_db
def test_missing_objects_answer_404_not_500(client, world, personas):
    client.force_login(personas["office"])
    for route, kwargs in [("directory:unit_detail", {"pk": 999999}),
                          ("directory:county_detail", {"pk": 999999}),
                          ("rounds:detail", {"year": 1999}),
                          ("rounds:indicator_edit", {"year": 2017, "number": 99})]:
        assert client.get(reverse(route, kwargs=kwargs)).status_code == 404, route


def test_every_role_has_a_persona():
    assert {p.removesuffix("_b") for p in PERSONAS} == set(Role.values)


# Foreign POSTs: every object-keyed POST route, sent by every persona outside the object's
# scope (every role the route refuses, and the same role's outsider of another unit,
# province or category), answers 404 and changes nothing (issue 17).
def _owner_and_foreigners(route):
    """The first persona allowed to post (its object is used) and everyone foreign to it."""
    expected = ROUTES[route][3]
    owner = next((p for p in PERSONAS if not p.endswith("_b") and expected(p) != 404), None)
    return owner, [p for p in PERSONAS
                   if p != owner and (expected(p) == 404 or p.endswith("_b"))]


# A route nobody may post to in this world (404 for all) is fully covered by the matrix.
OBJECT_POSTS = sorted(route for route, (method, kwargs, _data, _exp) in ROUTES.items()
                      if method == "post" and kwargs is not None
                      and route not in BEARER_ONLY  # a session posts nothing there (401)
                      and _owner_and_foreigners(route)[0] is not None)


def test_every_object_keyed_post_is_covered():
    assert len(OBJECT_POSTS) >= 30


@pytest.mark.django_db
@pytest.mark.parametrize("route", OBJECT_POSTS)
def test_a_foreign_post_answers_404_and_changes_nothing(world, personas, route, settings):
    from django.test import Client

    from tests.state import changed, snapshot

    settings.KAOHE_TODAY = "2017-11-15"  # before every deadline: only the scope refuses
    owner, foreigners = _owner_and_foreigners(route)
    url = _url(route, world, owner)  # the owner's object, made once
    data = ROUTES[route][2] or {}
    clients = {}
    for persona in foreigners:
        clients[persona] = Client()
        clients[persona].force_login(personas[persona])
    before = snapshot()
    for persona, client in clients.items():
        assert client.post(url, data).status_code == 404, (route, persona)
    assert changed(before, snapshot()) == [], route
