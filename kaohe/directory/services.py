"""Workflow steps on the directory: reference data, deep-poverty marks, Excel imports."""

import csv
from pathlib import Path

from django.db import transaction

from kaohe.audit.services import log_action
from kaohe.directory.models import Category, County, LeadDepartment, Province

COUNTIES_CSV = Path(__file__).parent / "data" / "poverty-counties-832.csv"


@transaction.atomic
def reference_data_load(*, plan: dict) -> None:
    """Create the categories with their lead departments, provinces and the 832 counties.

    Idempotent: records that exist are left as they are (an office may have marked
    further deep-poverty counties, which a reload must not undo).
    """
    for order, item in enumerate(plan["lead_departments"], start=1):
        lead, _ = LeadDepartment.objects.get_or_create(
            code=item["lead_department_code"],
            defaults={
                "name": item["lead_department_name"],
                "short_name": item["lead_department_short"],
                "order": order,
            },
        )
        Category.objects.get_or_create(
            code=item["category_code"],
            defaults={
                "name": item["category_name"],
                "lead_department": lead,
                "ranked": item["ranked"],
                "order": order,
            },
        )
    with COUNTIES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    provinces = {p.name: p for p in Province.objects.all()}
    for row in rows:
        if row["province"] not in provinces:
            provinces[row["province"]] = Province.objects.create(
                code=row["code"][:2], name=row["province"]
            )
    existing = set(County.objects.values_list("code", flat=True))
    County.objects.bulk_create(
        County(
            code=row["code"],
            name=row["name"],
            province=provinces[row["province"]],
            prefecture=row["prefecture"],
            region=row["region"],
            exit_year=int(row["exit_year"]) if row["exit_year"] else None,
            three_areas=bool(row["three_areas_three_prefectures"]),
        )
        for row in rows
        if row["code"] not in existing
    )


@transaction.atomic
def county_set_designated(*, county: County, designated: bool, note: str, actor) -> None:
    """Record (or withdraw) a province's designation of the county as deep poverty."""
    old = {"designated": county.province_designated, "note": county.designation_note}
    county.province_designated = designated
    county.designation_note = note if designated else ""
    county.save(update_fields=["province_designated", "designation_note"])
    log_action(
        "directory.county.designation_changed", actor=actor, target=county,
        data={"old": old, "new": {"designated": designated, "note": county.designation_note}},
    )


LIAISON_FIELDS = ("liaison_name", "liaison_phone", "liaison_email")


@transaction.atomic
def liaison_update(*, target, actor, **contact) -> dict:
    """Change the liaison of a unit or a province (the office's contact list); returns
    {field: [old, new]} of what changed."""
    from django.core.exceptions import PermissionDenied

    from kaohe.accounts.capabilities import MANAGE_DIRECTORY, has_capability

    if not has_capability(actor, MANAGE_DIRECTORY):
        raise PermissionDenied
    stored = type(target).objects.select_for_update().get(pk=target.pk)
    changed = {name: [getattr(stored, name), contact[name]] for name in LIAISON_FIELDS
               if name in contact and getattr(stored, name) != contact[name]}
    if changed:
        for name, (_old, new) in changed.items():
            setattr(stored, name, new)
        stored.full_clean()
        stored.save(update_fields=list(changed))
        log_action("directory.liaison_changed", actor=actor, target=stored,
                   data={"changed": changed})
    return changed
