"""Version 1 of Kaohe's JSON API, for the systems of provinces, units and the office.

Built with django-ninja: the pydantic schemas that parse and check each request also
give the OpenAPI 3 document (``/api/v1/openapi.json``) for free; it is one small, typed
dependency beside Django, where Django REST framework would add serializers and a second
package (drf-spectacular) for the schema.

A token acts as one user account, so every endpoint reads through the same scoped
selectors and writes through the same forms and services as the pages: the same
validation, deadlines, locks and closed-round guard. Anything outside the account's scope
answers 404, as the pages do. Results are never shown before release.

Its length (over 400 lines) is the whole version-1 surface in one file, so the schema a
client sees can be reviewed at once.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import Field

from kaohe.accounts.capabilities import (
    EDIT_PROVINCIAL_REPORT,
    EDIT_SELF_REPORT,
    VIEW_OWN_RESULT,
    VIEW_PROGRESS,
    has_capability,
)
from kaohe.accounts.models import Role
from kaohe.api import schemas
from kaohe.api.docs import PlainDocs
from kaohe.audit.services import log_action
from kaohe.dashboard import selectors as progress
from kaohe.directory.models import County, Pairing, Province
from kaohe.directory.selectors import (
    counties_visible_to,
    pairings_visible_to,
    units_visible_to,
)
from kaohe.grading.vocabulary import GRADE_LABELS, Grade
from kaohe.outcomes.selectors import released_feedback, unit_results_round
from kaohe.rounds.guards import RoundClosed, ensure_round_writable
from kaohe.rounds.models import RoundStatus
from kaohe.rounds.selectors import current_round, rounds_visible_to
from kaohe.submissions import deadlines, services
from kaohe.submissions.forms import CountyOutcomeForm, FindingForm, ProvincialReportForm
from kaohe.submissions.models import (
    DEEP_POVERTY_FIELDS,
    ProvincialReport,
    ReportStatus,
    SelfReport,
)

DESCRIPTION = """\
中央单位定点扶贫工作考核系统的数据接口，供省级扶贫部门、中央单位和国务院扶贫办的信息系统调用。

**令牌**：由安全管理员在“接口令牌”页面（/api/tokens/）为一个账户授权，再由该账户本人登录后
在“我的接口令牌”页面（/api/tokens/mine/）生成，只向本人显示一次；
调用时放在请求头 `Authorization: Bearer <令牌>`。令牌代表该账户，
范围与该账户在网页上的范围完全相同；吊销或账户停用后返回 401。每次调用都有记录。

**证明材料**：本接口只收文字。证明材料通过可续传上传接口（tus 协议，`/evidence/uploads/`，
登录网页后使用）上传，再在网页上附到指标；缺少的材料见单位报告的 `gaps`。

**错误**：内容有误返回 400 或 422，`field` 指出字段；
版本冲突、已锁定、已截止、年度考核已结束返回 409；不在本账户范围内的对象返回 404。

**考核结果**：发布前任何接口都不返回等次；发布后单位只能读取本单位的等次和反馈意见。
"""

_STATUS = {"invalid": 400, "not_found": 404, "conflict": 409, "locked": 409, "closed": 409,
           "round_closed": 409, "gaps_not_confirmed": 409}
ERRORS = {400: schemas.Error, 401: schemas.Error, 404: schemas.Error, 409: schemas.Error,
          422: schemas.Error}
READ_ERRORS = {401: schemas.Error, 404: schemas.Error, 422: schemas.Error}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kh_…``: the token's account becomes ``request.auth``. Not a
    cookie, so no CSRF check is needed; the browser's session opens nothing here."""

    def authenticate(self, request, token):
        from kaohe.api.services import token_authenticate

        found = token_authenticate(token)
        if found is None:
            return None
        request.api_token = found
        return found.user


api = NinjaAPI(
    title="Kaohe API", version="1", description=DESCRIPTION, auth=TokenAuth(),
    urls_namespace="api:v1", docs=PlainDocs(), docs_url="/docs",
)


class ApiError(Exception):
    def __init__(self, detail: str, *, code: str = "invalid", field: str | None = None,
                 errors: list | None = None, status: int | None = None):
        super().__init__(detail)
        self.detail, self.code, self.field, self.errors = detail, code, field, errors
        self.status = status or _STATUS.get(code, 400)


def _error(request, status, detail, *, code, field=None, errors=None):
    body = {"detail": str(detail), "code": code, "field": field}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.detail, code=exc.code,
                  field=exc.field, errors=exc.errors)


@api.exception_handler(services.SubmissionError)
def _submission_error(request, exc: services.SubmissionError):
    from kaohe.rounds.guards import refusal_text

    if isinstance(exc, RoundClosed):
        code = "round_closed"
    elif isinstance(exc, services.GapsNotConfirmed):
        code = "gaps_not_confirmed"
    elif isinstance(exc, services.ConflictError):
        code = "conflict"
    elif isinstance(exc, services.LockedError):
        code = "locked"
    elif isinstance(exc, services.ClosedError):
        code = "closed"
    else:
        code = "invalid"
    return _error(request, _STATUS[code], refusal_text(exc), code=code)


def _loc(loc: Iterable[str | int]) -> str | None:
    """("body", "payload", "outcomes", 0, "planned_exit") -> "outcomes[0].planned_exit";
    None for an error of the whole body."""
    parts = [p for p in loc if p not in ("body", "query", "path", "payload")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors = [{"field": _loc(e.get("loc", ())), "message": str(e.get("msg", ""))}
              for e in exc.errors]
    first = errors[0] if errors else {"field": None, "message": ""}
    return _error(request, 422, first["message"] or _("内容有误。"), code="invalid",
                  field=first["field"], errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return _error(request, 401, _("令牌无效、已吊销或账户已停用。"), code="unauthorized")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, _("不存在或不在本账户范围内。"), code="not_found")


def _only_query(request, *allowed):
    """A mistyped parameter ("yaer=2016") is refused, never silently ignored (the caller
    would read the current year's data believing it another's)."""
    unknown = sorted(set(request.GET) - set(allowed))
    if unknown:
        raise ApiError(_("不支持的查询参数：%(names)s") % {"names": "、".join(unknown)},
                       field=unknown[0], status=422)


def _round(request, year):
    """The round asked for (one the account may see), else the current one; else 404."""
    _only_query(request, "year")
    user = request.auth
    round_ = (rounds_visible_to(user).filter(year=year).first() if year is not None
              else current_round())
    if round_ is None:
        raise Http404
    return round_


def _require(user, capability):
    if not has_capability(user, capability):
        raise Http404


class YearQuery(Schema):
    year: int | None = Field(None, ge=2000, le=2100,
                             description="考核年度；不填为当前年度")


# -- Who am I -------------------------------------------------------------------------------


@api.get("/me", response={200: schemas.Me, **READ_ERRORS}, tags=["通用"],
         summary="令牌代表的账户和组织")
def me(request):
    _only_query(request)
    user = request.auth
    if user.role == Role.UNIT:
        organization = {"kind": "unit", "code": user.unit.code, "name": user.unit.name}
    elif user.role == Role.PROVINCE:
        organization = {"kind": "province", "code": user.province.code,
                        "name": user.province.name}
    else:
        organization = {"kind": "office", "code": None, "name": str(Role(user.role).label)}
    return {"username": user.username, "role": user.role, "organization": organization,
            "token": request.api_token.prefix}


# -- Provinces ------------------------------------------------------------------------------


def _county(county) -> dict:
    return {"code": county.code, "name": county.name, "prefecture": county.prefecture,
            "deep_poverty": county.deep_poverty}


def _province_user(request):
    """The token's account when it reports as a province (the province API), else 404."""
    user = request.auth
    _require(user, EDIT_PROVINCIAL_REPORT)
    return user


@api.get("/province/units", response={200: list[schemas.ProvinceUnit], **READ_ERRORS},
         tags=["省级扶贫部门"], summary="在本省定点扶贫的中央单位及其结对县")
def province_units(request, filters: Query[YearQuery]):
    user = _province_user(request)
    round_ = _round(request, filters.year)
    counties: dict[int, list] = {}
    for pairing in pairings_visible_to(user, round=round_).order_by("county__code"):
        counties.setdefault(pairing.unit_id, []).append(_county(pairing.county))
    reports = {r.unit_id: r for r in ProvincialReport.objects.filter(
        round=round_, province_id=user.province_id)}
    rows = []
    for unit in units_visible_to(user, round=round_).order_by("code"):
        report = reports.get(unit.pk)
        rows.append({"code": unit.code, "name": unit.name, "category": unit.category.name,
                     "counties": counties.get(unit.pk, []),
                     "report_status": report.status if report else "not_started",
                     "report_revision": report.revision if report else None})
    return rows


@api.get("/province/counties", response={200: list[schemas.ProvinceCounty], **READ_ERRORS},
         tags=["省级扶贫部门"], summary="本省有中央单位定点扶贫的县")
def province_counties(request, filters: Query[YearQuery]):
    user = _province_user(request)
    round_ = _round(request, filters.year)
    units: dict[int, list[str]] = {}
    for pairing in pairings_visible_to(user, round=round_).order_by("unit__code"):
        units.setdefault(pairing.county_id, []).append(pairing.unit.code)
    return [
        {**_county(county), "exit_year": county.exit_year, "three_areas": county.three_areas,
         "units": units[county.pk]}
        for county in counties_visible_to(user).filter(pk__in=list(units)).order_by("code")
    ]


def _report_unit(user, round_, unit_code):
    # A NUL (%00 in the path) is no code, and PostgreSQL refuses it in a query.
    unit = (None if "\x00" in unit_code
            else units_visible_to(user, round=round_).filter(code=unit_code).first())
    if unit is None:
        raise Http404
    return unit


def _provincial_report(user, round_, unit_code) -> ProvincialReport:
    unit = _report_unit(user, round_, unit_code)
    report = ProvincialReport.objects.filter(round=round_, province_id=user.province_id,
                                             unit=unit).first()
    if report is None:
        raise ApiError(_("尚未开始填报该单位的省级总结报告。"), code="not_found")
    return report


def _json_decimal(value):
    return None if value is None else str(value)


def _provincial_body(report: ProvincialReport) -> dict:
    step = report.round.steps.get(code="provincial_report")
    outcomes = []
    for o in report.outcomes.select_related("county"):
        outcomes.append({
            "county": o.county.code, "county_name": o.county.name,
            "deep_poverty": o.county.deep_poverty, "planned_exit": o.planned_exit,
            "actual_exit": o.actual_exit, "county_exited": o.county_exited,
            "plan_met": o.plan_met, "satisfaction_unit": o.satisfaction_unit,
            "satisfaction_cadres": o.satisfaction_cadres, "note": o.note,
            "deep_funds": _json_decimal(o.deep_funds), "deep_projects": o.deep_projects,
            "deep_cadres": o.deep_cadres, "deep_support": o.deep_support,
        })
    return {
        "year": report.round.year, "unit": report.unit.code, "status": report.status,
        "revision": report.revision,
        "deadline": deadlines.deadline_for(step, province=report.province),
        "is_open": deadlines.is_open(step, province=report.province),
        "submitted_at": report.submitted_at, "work_text": report.work_text,
        "recommended_grade": report.recommended_grade,
        "recommendation_reason": report.recommendation_reason,
        "approved_on": report.approved_on, "approval_reference": report.approval_reference,
        "outcomes": outcomes,
        "findings": [
            {"county": f.county.code, "kind": f.kind,
             "problem_kind": f.problem_kind.code if f.problem_kind else None,
             "description": f.description}
            for f in report.findings.select_related("county", "problem_kind")
        ],
        "missing": ([str(m) for m in services.provincial_report_missing(report)]
                    if report.is_editable else []),
    }


@api.get("/province/units/{unit_code}/report",
         response={200: schemas.ProvincialReport, **READ_ERRORS},
         tags=["省级扶贫部门"], summary="本省对一个中央单位的省级总结报告")
def province_report(request, unit_code: str, filters: Query[YearQuery]):
    user = _province_user(request)
    round_ = _round(request, filters.year)
    return _provincial_body(_provincial_report(user, round_, unit_code))


def _form_errors(form, prefix: str) -> list[dict]:
    return [{"field": f"{prefix}{name}", "message": " ".join(str(m) for m in messages)}
            for name, messages in form.errors.items()]


def _raise_form_errors(errors: list[dict]):
    if errors:
        raise ApiError(_("填写有误：") + "；".join(f"{e['field']}：{e['message']}"
                                                  for e in errors),
                       field=errors[0]["field"], errors=errors)


_PLAN_MET = {True: "yes", False: "no", None: ""}


@api.put("/province/units/{unit_code}/report",
         response={200: schemas.ProvincialReport, **ERRORS},
         tags=["省级扶贫部门"], summary="填报县级数据和评价等次意见（保存草稿）",
         description=("与网页表单相同的校验、截止时间和锁定：未列出的字段保持原值，null 清空。"
                      "县级数据按县代码填写：计划和实际脱贫人口、当年摘帽、完成年度任务、"
                      "两项满意情况等次，深度贫困县另填指标2的数据。首次保存时开始填报。"))
@transaction.atomic  # a refused request starts no report either
def province_report_save(request, unit_code: str, payload: schemas.ProvincialReportIn,
                         filters: Query[YearQuery]):
    user = _province_user(request)
    _require(user, EDIT_PROVINCIAL_REPORT)
    round_ = _round(request, filters.year)
    unit = _report_unit(user, round_, unit_code)
    report = services.provincial_report_start(round=round_, province=user.province, unit=unit,
                                              actor=user)
    # The web form's fields, from the stored values with the given ones laid over them.
    given = payload.model_dump(exclude_unset=True)
    form = ProvincialReportForm({
        name: ("" if value is None else value)
        for name, value in {
            **{n: getattr(report, n) for n in ("work_text", "recommended_grade",
                                               "recommendation_reason", "approved_on",
                                               "approval_reference")},
            **{k: v for k, v in given.items() if k not in ("revision", "outcomes")},
        }.items()
    })
    by_code = {o.county.code: o for o in report.outcomes.select_related("county")}
    errors = _form_errors(form, "")
    outcome_forms = {}
    for index, item in enumerate(payload.outcomes):
        where = f"outcomes[{index}]."
        outcome = by_code.get(item.county)
        if outcome is None:
            errors.append({"field": f"{where}county",
                           "message": _("该县不是本单位在本省的定点扶贫县。")})
            continue
        values = item.model_dump(exclude_unset=True)
        values.pop("county")
        if not outcome.county.deep_poverty:
            for name in DEEP_POVERTY_FIELDS:
                if values.get(name) not in (None, ""):
                    errors.append({"field": f"{where}{name}", "message": _(
                        "%(county)s不属于深度贫困地区，不填报此项。")
                        % {"county": outcome.county.name}})
        current = {n: getattr(outcome, n) for n in (
            "planned_exit", "actual_exit", "county_exited", "satisfaction_unit",
            "satisfaction_cadres", "note", *DEEP_POVERTY_FIELDS)}
        current["plan_met"] = _PLAN_MET[outcome.plan_met]
        if "plan_met" in values:
            values["plan_met"] = _PLAN_MET[values["plan_met"]]
        data = {**current, **values}
        data = {k: ("" if v is None else v) for k, v in data.items()}
        data["county_exited"] = bool(data["county_exited"])
        outcome_form = CountyOutcomeForm(data, deep_poverty=outcome.county.deep_poverty)
        errors += _form_errors(outcome_form, where)
        outcome_forms[outcome.county_id] = outcome_form
    _raise_form_errors(errors)
    report = services.provincial_report_save(
        report=report, actor=user, revision=payload.revision, fields=form.cleaned_data,
        outcomes={cid: f.values() for cid, f in outcome_forms.items()})
    return _provincial_body(report)


@api.post("/province/units/{unit_code}/report/findings",
          response={200: schemas.ProvincialReport, **ERRORS},
          tags=["省级扶贫部门"], summary="报告重大涉贫事件或突出问题")
@transaction.atomic  # a refused request starts no report either
def province_finding_add(request, unit_code: str, payload: schemas.FindingIn,
                         filters: Query[YearQuery]):
    user = _province_user(request)
    _require(user, EDIT_PROVINCIAL_REPORT)
    round_ = _round(request, filters.year)
    report = _provincial_report(user, round_, unit_code)
    county_qs = County.objects.filter(pk__in=report.outcomes.values("county"))
    county = county_qs.filter(code=payload.county).first()
    problem_kind = None
    if payload.problem_kind:
        problem_kind = round_.problem_kinds.filter(code=payload.problem_kind).first()
        if problem_kind is None:
            raise ApiError(_("没有这一突出问题类别。"), field="problem_kind")
    if county is None:
        raise ApiError(_("该县不是本单位在本省的定点扶贫县。"), field="county")
    form = FindingForm({"county": county.pk, "kind": payload.kind,
                        "problem_kind": problem_kind.pk if problem_kind else "",
                        "description": payload.description},
                       counties=county_qs, problem_kinds=round_.problem_kinds.all())
    _raise_form_errors(_form_errors(form, ""))
    services.provincial_finding_add(report=report, actor=user, **form.cleaned_data)
    report.refresh_from_db()
    return _provincial_body(report)


@api.post("/province/units/{unit_code}/report/submit",
          response={200: schemas.ProvincialReport, **ERRORS},
          tags=["省级扶贫部门"], summary="报送省级总结报告（报送后锁定）",
          description="缺少必填内容时返回 400，内容见报告的 missing；审定文件须在网页上传。")
@transaction.atomic  # a refused request starts no report either
def province_report_submit(request, unit_code: str, payload: schemas.RevisionIn,
                           filters: Query[YearQuery]):
    user = _province_user(request)
    _require(user, EDIT_PROVINCIAL_REPORT)
    round_ = _round(request, filters.year)
    report = _provincial_report(user, round_, unit_code)
    report = services.provincial_report_submit(report=report, actor=user,
                                               revision=payload.revision)
    return _provincial_body(report)


# -- Units ----------------------------------------------------------------------------------


def _unit_user(request):
    """The token's account when it reports as a unit (the unit API), else 404."""
    user = request.auth
    _require(user, EDIT_SELF_REPORT)
    return user


def _unit_body(report) -> dict:
    step = report.round.steps.get(code="self_report")
    slots = services.self_report_slots(report)
    texts = {(a.indicator_id, a.county_id): a.text for a in report.answers.all()}
    answers = [
        {"indicator": s.indicator.number, "indicator_name": s.indicator.name,
         "county": s.county.code if s.county else None,
         "county_name": s.county.name if s.county else None,
         "text": texts.get((s.indicator.pk, s.county.pk if s.county else None), ""),
         "evidence_requirements": [r.name for r in s.indicator.evidence_requirements.all()]}
        for s in slots
    ]
    gaps = (services.self_report_gaps(report, slots) if report.is_editable else [])
    return {
        "year": report.round.year, "unit": report.unit.code, "status": report.status,
        "revision": report.revision,
        "deadline": deadlines.deadline_for(step, unit=report.unit),
        "is_open": deadlines.is_open(step, unit=report.unit),
        "submitted_at": report.submitted_at, "returned_reason": report.returned_reason,
        "summary": report.summary, "answers": answers,
        "gaps": ([g.as_dict() for g in gaps] if report.is_editable else report.gaps),
    }


def _own_report(request, year, *, write=False):
    """The unit's report of the round; started (as the page does) only in a round that is
    not closed: a closed round gains no row, a read of a report never made answers 404.
    A unit the round does not assess (no pairing) is refused by the service with a 400."""
    user = _unit_user(request)
    round_ = _round(request, year)
    report = SelfReport.objects.filter(round=round_, unit=user.unit).first()
    if report is None:
        if write:
            ensure_round_writable(round_, error=services.SubmissionError)
        elif round_.status == RoundStatus.CLOSED:
            raise Http404
        report = services.self_report_for(round=round_, unit=user.unit)
    return user, report


@api.get("/unit/report", response={200: schemas.UnitReport, 400: schemas.Error, **READ_ERRORS},
         tags=["中央单位"], summary="本单位自评报告：状态、缺少的材料和截止时间",
         description="本年度没有结对的定点扶贫县（不参加本年度考核）的单位返回 400。")
def unit_report(request, filters: Query[YearQuery]):
    _user, report = _own_report(request, filters.year)
    return _unit_body(report)


@api.put("/unit/report", response={200: schemas.UnitReport, **ERRORS},
         tags=["中央单位"], summary="填写各指标的工作情况（保存草稿）",
         description=("按指标序号（按县考核的指标另给县代码）填写文字；证明材料通过可续传上传接口"
                      "（tus，/evidence/uploads/）上传并在网页上附到指标，本接口不收文件。"))
@transaction.atomic  # a refused request starts no report either
def unit_report_save(request, payload: schemas.UnitReportIn, filters: Query[YearQuery]):
    user, report = _own_report(request, filters.year, write=True)
    _require(user, EDIT_SELF_REPORT)
    slots = {(s.indicator.number, s.county.code if s.county else None): s
             for s in services.self_report_slots(report)}
    answers, errors = {}, []
    for index, item in enumerate(payload.answers):
        slot = slots.get((item.indicator, item.county))
        if slot is None:
            errors.append({"field": f"answers[{index}].indicator", "message": _(
                "本报告没有这一指标（或该县不适用此指标）。")})
            continue
        answers[slot.key] = item.text
    _raise_form_errors(errors)
    report = services.self_report_save(report=report, actor=user, revision=payload.revision,
                                       summary=payload.summary, answers=answers)
    return _unit_body(report)


@api.post("/unit/report/submit", response={200: schemas.UnitReport, **ERRORS},
          tags=["中央单位"], summary="提交自评报告（提交后锁定）",
          description="仍缺材料时返回 409 gaps_not_confirmed；确认后以 confirm_gaps=true 再提交。")
@transaction.atomic  # a refused request starts no report either
def unit_report_submit(request, payload: schemas.SubmitIn, filters: Query[YearQuery]):
    user, report = _own_report(request, filters.year, write=True)
    _require(user, EDIT_SELF_REPORT)
    report = services.self_report_submit(report=report, actor=user, revision=payload.revision,
                                         confirm_gaps=payload.confirm_gaps)
    return _unit_body(report)


@api.get("/unit/result", response={200: schemas.Result, **READ_ERRORS},
         tags=["中央单位"], summary="本单位的考核结果和反馈意见（发布后）",
         description="结果发布前返回 404。")
def unit_result(request, filters: Query[YearQuery]):
    user = _unit_user(request)
    _require(user, VIEW_OWN_RESULT)
    _only_query(request, "year")
    round_ = (_round(request, filters.year) if filters.year is not None
              else unit_results_round(user.unit))
    feedback = released_feedback(round_, user.unit) if round_ is not None else None
    if feedback is None:
        raise Http404  # nothing of a result exists for a unit before release
    log_action("outcomes.feedback.viewed", actor=user, target=feedback, data={"via": "api"})
    return {"year": round_.year, "unit": user.unit.code, "grade": feedback.grade,
            "grade_label": _(GRADE_LABELS[Grade(feedback.grade)]),
            "problems": feedback.problems, "suggestions": feedback.suggestions,
            "corrected": feedback.corrected}


# -- The office -----------------------------------------------------------------------------


def _province_progress(round_, units):
    """Per province: the central units working there, and its reports submitted on them."""
    expected = dict(Pairing.objects.filter(round=round_, unit__in=units, unit__active=True)
                    .values("county__province_id")
                    .annotate(n=Count("unit", distinct=True))
                    .values_list("county__province_id", "n"))
    submitted = dict(ProvincialReport.objects.filter(round=round_, unit__in=units,
                                                     status=ReportStatus.SUBMITTED)
                     .values("province_id").annotate(n=Count("pk"))
                     .values_list("province_id", "n"))
    return [{"code": p.code, "name": p.name, "reports_expected": expected.get(p.pk, 0),
             "reports_submitted": submitted.get(p.pk, 0)}
            for p in Province.objects.filter(Q(pk__in=list(expected)) | Q(
                pk__in=list(submitted))).order_by("code")]


@api.get("/office/progress", response={200: schemas.Progress, **READ_ERRORS},
         tags=["国务院扶贫办"], summary="本年度考核进度：按步骤、类别、单位和省份")
def office_progress(request, filters: Query[YearQuery]):
    user = request.auth
    _require(user, VIEW_PROGRESS)
    round_ = _round(request, filters.year)
    units = units_visible_to(user, round=round_)
    steps = [{"code": p.step.code, "number": p.step.number, "name": p.step.name,
              "due": p.step.due, "done": p.done, "total": p.total, "percent": p.percent}
             for p in progress.step_progress(round_, units)]
    categories = [{"code": c.code, "name": c.name, "units": c.unit_count,
                   "submitted": c.submitted, "drafts": c.drafts,
                   "not_started": c.not_started}
                  for c in progress.category_progress(round_, units)]
    unit_rows = [{"code": u.code, "name": u.name, "category": u.category.name,
                  "self_report_status": u.self_report_status,
                  "provinces_expected": u.provinces_expected or 0,
                  "provinces_received": u.provinces_received or 0}
                 for u in progress.unit_progress(round_, units.filter(active=True))
                 .order_by("code")]
    return {"year": round_.year, "steps": steps, "categories": categories,
            "units": unit_rows, "provinces": _province_progress(round_, units)}

