"""Fixtures for the launch tests: files, and the records the permission matrix opens.

The 2017 launch step is due on 2017-11-20 and training on 2017-11-30; the tests run on a
simulated day set per test (settings.KAOHE_TODAY).
"""

import datetime
import hashlib
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from kaohe.accounts.models import Role, User
from kaohe.launch.models import (
    CategoryPlan,
    Position,
    RefinedItem,
    TeamFiling,
    TrainingMaterial,
    TrainingSession,
    WorkingGroupMember,
)
from kaohe.rounds.models import IndicatorItem

# A minimal valid PDF: the server checks the type by content, not by name.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Upload:
    """A file for the test client that can be posted any number of times (the client reads
    a file once and never rewinds it)."""

    def __init__(self, name: str, content: bytes = PDF):
        self.name = name
        self.content = content

    def read(self):
        return self.content


def innovation_item(round_, code="strengths") -> IndicatorItem:
    return IndicatorItem.objects.get(indicator__round=round_, indicator__number=13, code=code)


def innovation_item_pk(code="strengths", year=2017) -> int:
    return IndicatorItem.objects.get(indicator__round__year=year, indicator__number=13,
                                     code=code).pk


def office_user():
    return (User.objects.filter(role=Role.OFFICE).first()
            or User.objects.create(username="launch-office", role=Role.OFFICE))


def _stored(content: bytes = PDF) -> dict:
    name = default_storage.save(f"launch/test/{uuid.uuid4()}", ContentFile(content))
    return {"storage_name": name, "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(), "content_type": "application/pdf"}


# Records the permission matrix opens: made on first use, for one lead department.


def matrix_member(world) -> WorkingGroupMember:
    member = WorkingGroupMember.objects.filter(round=world["round"]).first()
    return member or WorkingGroupMember.objects.create(
        round=world["round"], name="李四", organization="教育部", post="司长",
        position=Position.MEMBER, body="education")


def matrix_filing(world, lead) -> TeamFiling:
    filing, _created = TeamFiling.objects.get_or_create(
        round=world["round"], lead_department=lead,
        defaults={"filed_on": datetime.date(2017, 11, 15),
                  "updated_on": datetime.date(2017, 11, 15), "filed_by": office_user()})
    return filing


def matrix_plan(world, lead) -> CategoryPlan:
    plan = CategoryPlan.objects.filter(round=world["round"], lead_department=lead).first()
    return plan or CategoryPlan.objects.create(
        round=world["round"], lead_department=lead, key_points="要点",
        original_name="方案.pdf", filed_on=datetime.date(2017, 11, 15),
        updated_on=datetime.date(2017, 11, 15), filed_by=office_user(), **_stored())


def matrix_refined(world, lead) -> RefinedItem:
    refined = RefinedItem.objects.filter(round=world["round"], lead_department=lead).first()
    return refined or RefinedItem.objects.create(
        round=world["round"], lead_department=lead, item=innovation_item(world["round"]),
        order=1, name=f"{lead.short_name}细化内容")


def matrix_session(world) -> TrainingSession:
    session = TrainingSession.objects.filter(round=world["round"]).first()
    return session or TrainingSession.objects.create(
        round=world["round"], held_on=datetime.date(2017, 11, 25), place="北京",
        topic="考核业务培训", created_by=office_user())


def matrix_material(world) -> TrainingMaterial:
    session = matrix_session(world)
    material = session.materials.first()
    return material or TrainingMaterial.objects.create(
        session=session, original_name="培训课件.pdf", uploaded_by=office_user(), **_stored())
