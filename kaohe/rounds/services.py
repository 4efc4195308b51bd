"""Workflow steps on rounds: loading the shipped plan, copying a round, editing it."""

import datetime
import json
import re
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from kaohe.audit.services import log_action
from kaohe.grading.method import Method, MethodError
from kaohe.rounds.models import (
    Area,
    EvidenceRequirement,
    Indicator,
    IndicatorItem,
    Round,
    SeriousProblemKind,
    Step,
)

PLAN_2017 = Path(__file__).parent / "data" / "round_2017.json"
_YEAR_IN_TEXT = re.compile(r"(\d{4})年")


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
        method=source.method,
        copied_from=source,
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
    """Set the deadlines of the round's steps (keyed by step id); logged with old and new."""
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
    changes = {}
    for name, value in fields.items():
        if getattr(indicator, name) != value:
            changes[name] = {"old": getattr(indicator, name), "new": value}
            setattr(indicator, name, value)
    if changes:
        indicator.save(update_fields=list(changes))
        log_action("round.indicator.changed", actor=actor, target=indicator, data=changes)
