"""Workflow steps on rounds: loading the shipped plan, copying a round, editing it."""

import datetime
import json
import re
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.grading.method import Method, MethodError
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import (
    Area,
    EvidenceRequirement,
    Indicator,
    IndicatorItem,
    Round,
    RoundStatus,
    SeriousProblemKind,
    Step,
)

PLAN_2017 = Path(__file__).parent / "data" / "round_2017.json"
_YEAR_IN_TEXT = re.compile(r"(\d{4})年")
# The plan's words documents quote (Round fields of the same names, same keys in the data).
PLAN_WORDS = ("measures_title", "issuer_name", "leading_group_name", "working_group_name",
              "grading_rule_text", "summons_text")


def load_plan_data(path: Path = PLAN_2017) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@transaction.atomic
def round_create_from_plan(*, data: dict, actor=None) -> Round:
    """Create a round from a plan's data (the shipped 2017 plan); idempotent by year."""
    existing = Round.objects.filter(year=data["year"]).first()
    if existing is not None:
        return existing
    method = Method.from_dict(data["method"]).to_dict()
    round_ = Round.objects.create(
        year=data["year"],
        name=data["name"],
        document_number=data.get("document_number", ""),
        plan_title=data.get("plan_title", ""),
        planned_unit_count=data.get("planned_unit_count", 0),
        purpose=data.get("purpose", ""),
        method_text=data.get("method_text", ""),
        major_incident_text=data.get("major_incident_text", ""),
        result_use_text=data.get("result_use_text", ""),
        **{name: data.get(name, "") for name in PLAN_WORDS},
        method=method,
    )
    for area_data in data["areas"]:
        area = Area.objects.create(
            round=round_,
            code=area_data["code"],
            number=area_data["number"],
            name=area_data["name"],
            source=area_data["source"],
            source_text=area_data.get("source_text", ""),
        )
        for ind in area_data["indicators"]:
            indicator = Indicator.objects.create(
                round=round_,
                area=area,
                number=ind["number"],
                name=ind["name"],
                summary=ind.get("summary", ""),
                definition=ind.get("definition", ""),
                evidence_basis=ind.get("evidence_basis", ""),
                source=ind.get("source", area_data["source"]),
                deep_poverty_only=ind.get("deep_poverty_only", False),
                per_county=ind.get("per_county", False),
            )
            IndicatorItem.objects.bulk_create(
                IndicatorItem(
                    indicator=indicator,
                    code=item["code"],
                    order=order,
                    name=item["name"],
                    definition=item.get("definition", ""),
                    evidence_basis=item.get("evidence_basis", ""),
                )
                for order, item in enumerate(ind.get("items", []), start=1)
            )
            EvidenceRequirement.objects.bulk_create(
                EvidenceRequirement(indicator=indicator, order=order, name=name)
                for order, name in enumerate(ind.get("evidence_items", []), start=1)
            )
    Step.objects.bulk_create(
        Step(
            round=round_,
            order=order,
            code=step["code"],
            number=step.get("number", ""),
            name=step["name"],
            heading=step.get("heading", ""),
            actor=step["actor"],
            description=step.get("description", ""),
            due=datetime.date.fromisoformat(step["due"]),
        )
        for order, step in enumerate(data["steps"], start=1)
    )
    SeriousProblemKind.objects.bulk_create(
        SeriousProblemKind(round=round_, code=kind["code"], order=order, name=kind["name"])
        for order, kind in enumerate(data.get("serious_problem_kinds", []), start=1)
    )
    log_action("round.created", actor=actor, target=round_, data={"from": "plan"})
    return round_


def _shift_year(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _shift_years_in_text(text: str, years: int) -> str:
    """Move every "2017年" in a text by the same number of years, each exactly once."""
    return _YEAR_IN_TEXT.sub(lambda m: f"{int(m.group(1)) + years}年", text)


@transaction.atomic
def round_copy(*, source: Round, year: int, actor) -> Round:
    """Copy a round into a new year: areas, indicators, evidence, schedule, method, pairings.

    Deadlines move by the difference in years; the office then edits what changed.
    """
    if Round.objects.filter(year=year).exists():
        raise ValidationError({"year": f"{year}年度的考核已存在。"})
    shift = year - source.year
    new = Round.objects.create(
        year=year,
        name=source.name.replace(str(source.year), str(year)),
        document_number="",
        plan_title=source.plan_title.replace(str(source.year), str(year)),
        planned_unit_count=source.planned_unit_count,
        purpose=source.purpose,
        method_text=source.method_text,
        major_incident_text=source.major_incident_text,
        result_use_text=source.result_use_text,
        **{name: getattr(source, name) for name in PLAN_WORDS},
        method=source.method,
        copied_from=source,
        # Prepared by the office alone; nobody else's pages change until it is activated.
        status=RoundStatus.PREPARING,
    )
    for area in source.areas.prefetch_related(
        "indicators__items", "indicators__evidence_requirements"
    ):
        new_area = Area.objects.create(
            round=new, code=area.code, number=area.number, name=area.name,
            source=area.source, source_text=area.source_text,
        )
        for ind in area.indicators.all():
            new_ind = Indicator.objects.create(
                round=new, area=new_area, number=ind.number, name=ind.name,
                summary=ind.summary, definition=ind.definition,
                evidence_basis=ind.evidence_basis, source=ind.source,
                deep_poverty_only=ind.deep_poverty_only, per_county=ind.per_county,
            )
            IndicatorItem.objects.bulk_create(
                IndicatorItem(
                    indicator=new_ind, code=item.code, order=item.order, name=item.name,
                    definition=item.definition, evidence_basis=item.evidence_basis,
                )
                for item in ind.items.all()
            )
            EvidenceRequirement.objects.bulk_create(
                EvidenceRequirement(indicator=new_ind, order=req.order, name=req.name)
                for req in ind.evidence_requirements.all()
            )
    Step.objects.bulk_create(
        Step(
            round=new, order=step.order, code=step.code, number=step.number, name=step.name,
            heading=step.heading, actor=step.actor,
            description=_shift_years_in_text(step.description, shift),
            due=_shift_year(step.due, shift),
        )
        for step in source.steps.all()
    )
    SeriousProblemKind.objects.bulk_create(
        SeriousProblemKind(round=new, code=k.code, order=k.order, name=k.name)
        for k in source.problem_kinds.all()
    )
    from kaohe.directory.models import Pairing

    Pairing.objects.bulk_create(
        Pairing(round=new, unit_id=p.unit_id, county_id=p.county_id)
        for p in source.pairings.filter(unit__active=True)
    )
    # The lead departments' refined innovation items carry over; teams and plans do not.
    from kaohe.launch.services import refined_items_copy

    refined_items_copy(source=source, target=new)
    log_action("round.copied", actor=actor, target=new, data={"from_year": source.year})
    return new


@transaction.atomic
def round_update_schedule(*, round: Round, dues: dict[int, datetime.date], actor) -> None:
    """Set the deadlines of the round's steps (keyed by step id); logged with old and new.

    The schedule may still move once results exist (an extension); not once closed."""
    _check_not_closed(round)
    changes = {}
    for step in round.steps.select_for_update():
        new_due = dues.get(step.pk)
        if new_due is not None and new_due != step.due:
            changes[step.code] = {"old": step.due.isoformat(), "new": new_due.isoformat()}
            step.due = new_due
            step.save(update_fields=["due"])
    if changes:
        log_action("round.schedule.changed", actor=actor, target=round, data=changes)


@transaction.atomic
def round_update_method(*, round: Round, method: dict, actor) -> None:
    """Replace the round's evaluation method after validating it with the engine's rules."""
    check_scheme_editable(Round.objects.select_for_update().get(pk=round.pk))
    try:
        normalized = Method.from_dict(method).to_dict()
    except MethodError as exc:
        raise ValidationError(str(exc)) from None
    old = round.method
    round.method = normalized
    round.save(update_fields=["method"])
    log_action("round.method.changed", actor=actor, target=round,
               data={"old": old, "new": normalized})


@transaction.atomic
def indicator_update(*, indicator: Indicator, actor, **fields) -> None:
    allowed = {"name", "summary", "definition", "evidence_basis"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"fields not editable: {sorted(unknown)}")
    check_scheme_editable(Round.objects.select_for_update().get(pk=indicator.round_id))
    changes = {}
    for name, value in fields.items():
        if getattr(indicator, name) != value:
            changes[name] = {"old": getattr(indicator, name), "new": value}
            setattr(indicator, name, value)
    if changes:
        indicator.save(update_fields=list(changes))
        log_action("round.indicator.changed", actor=actor, target=indicator, data=changes)


# The plan's words a round's documents quote, editable with the scheme.
EDITABLE_WORDS = ("plan_title", "document_number", *PLAN_WORDS, "major_incident_text")


@transaction.atomic
def round_update_words(*, round: Round, actor, **fields) -> None:
    """Change the plan's words the round's documents and refusals quote (a new year's plan
    has its own title, 文号 and wording); frozen with the scheme, logged with old and new."""
    unknown = set(fields) - set(EDITABLE_WORDS)
    if unknown:
        raise ValueError(f"fields not editable: {sorted(unknown)}")
    round_ = Round.objects.select_for_update().get(pk=round.pk)
    check_scheme_editable(round_)
    changes = {}
    for name, value in fields.items():
        if getattr(round_, name) != value:
            changes[name] = {"old": getattr(round_, name), "new": value}
            setattr(round_, name, value)
    if changes:
        round_.save(update_fields=list(changes))
        log_action("round.words.changed", actor=actor, target=round_, data=changes)


# The lifecycle: preparing -> active -> closed ------------------------------------------


class RoundError(ValidationError):
    """A refusal about a round's lifecycle or scheme, in Chinese, for the user."""


def _check_not_closed(round_: Round) -> None:
    ensure_round_writable(round_, error=RoundError)


def scheme_frozen(round_: Round) -> bool:
    """Whether the round's scheme (areas, indicators, method) can no longer change: once a
    result set has been computed on it, or once the round is closed."""
    from kaohe.grading.models import ResultSet

    return (round_.status == RoundStatus.CLOSED
            or ResultSet.objects.filter(round=round_).exists())


def check_scheme_editable(round_: Round) -> None:
    """Refuse any change of the round's indicators or method once the scheme is frozen."""
    from kaohe.grading.models import ResultSet

    _check_not_closed(round_)
    first = ResultSet.objects.filter(round=round_).order_by("version").first()
    if first is not None:
        raise RoundError(_(
            "%(year)s年度已生成等次建议（第%(version)s版），考核指标和综合评价方法已冻结，"
            "不能修改；如需调整，请在新年度考核中修改。")
            % {"year": round_.year, "version": first.version})


def round_readiness(round_: Round) -> list[str]:
    """What a round still lacks before it can start, each named in Chinese (empty: ready)."""
    from kaohe.accounts.models import User
    from kaohe.directory.models import Pairing

    missing = []
    if not round_.indicators.exists():
        missing.append(_("没有考核指标"))
    if not round_.method:
        missing.append(_("没有综合评价方法"))
    else:
        try:
            Method.from_dict(round_.method)
        except MethodError as exc:
            missing.append(_("综合评价方法不完整：%(error)s") % {"error": exc})
    steps = list(round_.steps.all())
    if not steps:
        missing.append(_("没有工作进度安排"))
    undated = [s.name for s in steps if s.due is None]
    if undated:
        missing.append(_("以下步骤没有截止日期：%(steps)s") % {"steps": "、".join(undated)})
    stale = [s.name for s in steps if s.due is not None and s.due.year < round_.year]
    if stale:
        missing.append(_("以下步骤的截止日期早于%(year)s年：%(steps)s")
                       % {"year": round_.year, "steps": "、".join(stale)})
    pairings = Pairing.objects.filter(round=round_, unit__active=True)
    if not pairings.exists():
        missing.append(_("没有单位与定点扶贫县的结对（考核单位）"))
    elif not User.objects.filter(is_active=True,
                                 unit__in=pairings.values("unit")).exists():
        missing.append(_("考核单位都没有可用的账号"))
    return missing


@transaction.atomic
def round_activate(*, round: Round, actor) -> Round:
    """Start a prepared round: it becomes the current round of every page. Other rounds go
    on (an earlier year's feedback and rectification are not ended by this)."""
    round_ = Round.objects.select_for_update().get(pk=round.pk)
    if round_.status != RoundStatus.PREPARING:
        raise RoundError(_("%(year)s年度考核不在筹备中，不能启动。") % {"year": round_.year})
    missing = round_readiness(round_)
    if missing:
        raise RoundError(_("%(year)s年度考核尚不能启动：%(missing)s。")
                         % {"year": round_.year, "missing": "；".join(missing)})
    round_.status = RoundStatus.ACTIVE
    round_.save(update_fields=["status"])
    log_action("round.activated", actor=actor, target=round_, data={"year": round_.year})
    return round_


@transaction.atomic
def round_close(*, round: Round, actor) -> Round:
    """End an active round once its results are released: from then on it is read-only."""
    from kaohe.grading.selectors import released_result_set
    from kaohe.grading.services import open_correction

    round_ = Round.objects.select_for_update().get(pk=round.pk)
    if round_.status != RoundStatus.ACTIVE:
        raise RoundError(_("%(year)s年度考核不在进行中，不能结束。") % {"year": round_.year})
    if released_result_set(round_) is None:
        raise RoundError(_("%(year)s年度考核结果尚未向各单位反馈，不能结束。")
                         % {"year": round_.year})
    if open_correction(round_) is not None:
        raise RoundError(_("%(year)s年度考核结果正在更正，更正反馈后才能结束。")
                         % {"year": round_.year})
    round_.status = RoundStatus.CLOSED
    round_.save(update_fields=["status"])
    log_action("round.closed", actor=actor, target=round_, data={"year": round_.year})
    return round_
