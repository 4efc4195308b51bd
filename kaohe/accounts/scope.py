"""Which records a user may read: the one place where scope is decided.

A capability (kaohe.accounts.capabilities) says what kind of thing a user may do; the scope
says which records it applies to. It is computed once from the user, without a query:

- the office, the working group, the leading group and the organization department reach
  every unit (``Reach.ALL``);
- a lead department's team the units of its categories (``Reach.LEAD_DEPARTMENT``);
- the military inspector the army's units, the unranked category (``Reach.ARMY``);
- a central unit itself (``Reach.UNIT``), a province the units working in it
  (``Reach.PROVINCE``);
- the three administrators, an account without a role or a signed-out visitor nothing.

What differs from one kind of record to another is a named ``Policy`` below: who reads all
of it, who reads what lies in their own scope, and who of those only what was handed over
to them (submitted). Selectors and exporters filter through ``Scope.filter`` with the policy
of their records and the paths that lead from their model to a unit, a province or a lead
department; no other module branches on role names to decide what a user sees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, Q, QuerySet

from kaohe.accounts.models import Role, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

M = TypeVar("M", bound=Model)


class Reach(enum.Enum):
    """How far a user's scope reaches, whatever the record."""

    ALL = "all"
    LEAD_DEPARTMENT = "lead_department"
    ARMY = "army"
    UNIT = "unit"
    PROVINCE = "province"
    NONE = "none"


_REACH_OF_ROLE: dict[str, Reach] = {
    Role.OFFICE: Reach.ALL,
    Role.WORKING_GROUP: Reach.ALL,
    Role.LEADING_GROUP: Reach.ALL,
    Role.ORG_DEPARTMENT: Reach.ALL,
    Role.LEAD_REVIEWER: Reach.LEAD_DEPARTMENT,
    Role.MILITARY_INSPECTOR: Reach.ARMY,
    Role.UNIT: Reach.UNIT,
    Role.PROVINCE: Reach.PROVINCE,
}


@dataclass(frozen=True)
class Policy:
    """Who reads one kind of record.

    ``everything``: roles that read all of it. ``own``: roles that read what lies in their
    scope (their unit, province, lead department or the army). ``handed_over``: roles (of
    either set) that read only what its owner handed over, e.g. submitted reports.
    A role in none of the sets reads none of it.
    """

    name: str
    everything: frozenset[str]
    own: frozenset[str] = frozenset()
    handed_over: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.everything & self.own:
            raise ValueError(f"policy {self.name}: a role reads everything or its own")
        if not self.handed_over <= self.everything | self.own:
            raise ValueError(f"policy {self.name}: handed over to a role that reads nothing")


def _roles(*roles: Role) -> frozenset[str]:
    return frozenset(str(role) for role in roles)


_CENTRE = (Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP)
_REVIEWERS = (Role.LEAD_REVIEWER, Role.MILITARY_INSPECTOR)

# The directory: units, and the pairings that say where they work.
UNITS = Policy("units", everything=_roles(*_CENTRE, Role.ORG_DEPARTMENT),
               own=_roles(*_REVIEWERS, Role.UNIT, Role.PROVINCE))
# Counties are public knowledge to the reviewers; a unit reads those it is paired with.
COUNTIES = Policy("counties", everything=_roles(*_CENTRE, Role.ORG_DEPARTMENT, *_REVIEWERS),
                  own=_roles(Role.UNIT, Role.PROVINCE))
PROVINCES = Policy("provinces", everything=_roles(*_CENTRE, Role.ORG_DEPARTMENT),
                   own=_roles(Role.PROVINCE))
# Reports: the organization department reads none (its remit is the cadres); reviewers read
# a report while it stands submitted, never a draft in progress.
SELF_REPORTS = Policy("self_reports", everything=_roles(*_CENTRE),
                      own=_roles(Role.UNIT, *_REVIEWERS), handed_over=_roles(*_REVIEWERS))
# Units never read what provinces say of them (it carries a recommended grade).
PROVINCIAL_REPORTS = Policy("provincial_reports", everything=_roles(*_CENTRE),
                            own=_roles(Role.PROVINCE, *_REVIEWERS),
                            handed_over=_roles(*_REVIEWERS))
# A report's own unit or province only: the offline workbook it fills in.
OWN_REPORTS = Policy("own_reports", everything=frozenset(),
                     own=_roles(Role.UNIT, Role.PROVINCE))
# Evidence of the units in scope (a province: its own). Reviewers also read what provinces
# attached to the submitted reports they read (kaohe.evidence.selectors).
EVIDENCE = Policy("evidence", everything=_roles(*_CENTRE),
                  own=_roles(*_REVIEWERS, Role.UNIT, Role.PROVINCE))
# Seconded cadres and first secretaries: the organization department checks all of them.
CADRES = Policy("cadres", everything=_roles(*_CENTRE, Role.ORG_DEPARTMENT),
                own=_roles(Role.UNIT, *_REVIEWERS))
# The categorized assessment (reviews and category submissions): the centre reads all of it,
# a lead department its own categories.
REVIEWS = Policy("reviews", everything=_roles(*_CENTRE), own=_roles(Role.LEAD_REVIEWER))
# The launch and training: the office and the working group oversee every lead department's
# filings and sessions; a lead department reads its own filings and the training materials.
LAUNCH = Policy("launch", everything=_roles(Role.OFFICE, Role.WORKING_GROUP),
                own=_roles(Role.LEAD_REVIEWER))
# A unit's released grades across the rounds, open rectification items and summons: the unit
# itself, its lead department and the centre.
UNIT_HISTORY = Policy("unit_history", everything=_roles(*_CENTRE),
                      own=_roles(Role.UNIT, Role.LEAD_REVIEWER))
# Feedback letters: the office those it releases, a unit its own.
FEEDBACK = Policy("feedback", everything=_roles(Role.OFFICE), own=_roles(Role.UNIT))
# Rectification reports as documents: a unit its own; the office and the lead departments
# those submitted by ranked units.
RECTIFICATION_REPORTS = Policy(
    "rectification_reports", everything=_roles(Role.OFFICE),
    own=_roles(Role.UNIT, Role.LEAD_REVIEWER),
    handed_over=_roles(Role.OFFICE, Role.LEAD_REVIEWER))

POLICIES: tuple[Policy, ...] = (
    UNITS, COUNTIES, PROVINCES, SELF_REPORTS, PROVINCIAL_REPORTS, OWN_REPORTS, EVIDENCE, CADRES,
    REVIEWS, LAUNCH, UNIT_HISTORY, FEEDBACK, RECTIFICATION_REPORTS,
)


def _id(path: str) -> str:
    """The lookup of the primary key at the end of a path ("" is the model itself)."""
    return f"{path}_id" if path else "pk"


@dataclass(frozen=True)
class Scope:
    """A user's reach and the ids it is bounded by; equal users give equal scopes."""

    role: str = ""
    reach: Reach = Reach.NONE
    unit_id: int | None = None
    province_id: int | None = None
    lead_department_id: int | None = None

    @classmethod
    def of(cls, user: User | AnonymousUser) -> Scope:
        """The user's scope; nothing for a signed-out or disabled user, or one without a
        role. A scoped role without its scope (which the database refuses) reaches nothing."""
        if not isinstance(user, User) or not user.is_active:
            return cls()
        reach = _REACH_OF_ROLE.get(user.role, Reach.NONE)
        # Only the id the reach is bounded by: a stray one (which the database refuses)
        # widens nothing.
        ids = {Reach.UNIT: {"unit_id": user.unit_id},
               Reach.PROVINCE: {"province_id": user.province_id},
               Reach.LEAD_DEPARTMENT: {"lead_department_id": user.lead_department_id}
               }.get(reach, {})
        if None in ids.values():
            return cls(role=user.role)
        return cls(role=user.role, reach=reach, **ids)

    # Questions -----------------------------------------------------------------------------

    def sees(self, policy: Policy) -> bool:
        """Whether the user reads any record of the policy's kind."""
        return self.reach is not Reach.NONE and self.role in policy.everything | policy.own

    def sees_all(self, policy: Policy) -> bool:
        """Whether the user reads every record of the policy's kind, whatever its unit (every
        one handed over, for a role the policy limits to that)."""
        return self.reach is not Reach.NONE and self.role in policy.everything

    def reads_handed_over_only(self, policy: Policy) -> bool:
        """Whether the user reads only what was handed over of the policy's kind."""
        return self.sees(policy) and self.role in policy.handed_over

    def is_own_unit(self, unit_id: int | None) -> bool:
        """Whether the unit is the user's own (a unit's account)."""
        return self.reach is Reach.UNIT and unit_id == self.unit_id

    def is_own_province(self, province_id: int | None) -> bool:
        return self.reach is Reach.PROVINCE and province_id == self.province_id

    def is_own_lead_department(self, lead_department_id: int | None) -> bool:
        return (self.reach is Reach.LEAD_DEPARTMENT
                and lead_department_id == self.lead_department_id)

    # Filters -------------------------------------------------------------------------------

    def condition(self, policy: Policy, *, unit: str | None = "unit",
                  province: str | None = None, lead_department: str | None = None,
                  round: Any = None, handed_over: Q | None = None) -> Q | None:
        """The filter for the user's records of the policy's kind: ``Q()`` for all of them,
        None for none.

        The paths lead from the model to a unit, a province and a lead department (``""``:
        the model itself). A province without a ``province`` path reads through its
        pairings: the records of the units working in it (in ``round`` if given); a lead
        department without a ``lead_department`` path through its units' categories. A path
        of None means the records lead to no such thing, so that reach reads none of them.
        ``handed_over`` is what roles of ``policy.handed_over`` are limited to.
        """
        if not self.sees(policy):
            return None
        if self.role in policy.everything:
            found: Q | None = Q()
        else:
            found = self._own(unit=unit, province=province, lead_department=lead_department,
                              round=round)
        if found is not None and self.role in policy.handed_over:
            if handed_over is None:
                raise TypeError(f"policy {policy.name} needs what is handed over")
            found &= handed_over
        return found

    def _own(self, *, unit: str | None, province: str | None, lead_department: str | None,
             round: Any) -> Q | None:
        if self.reach is Reach.ALL:
            return Q()
        if self.reach is Reach.UNIT:
            return None if unit is None else Q(**{_id(unit): self.unit_id})
        if self.reach is Reach.ARMY:
            if unit is None:
                return None
            from kaohe.directory.models import Category, Unit

            # The records of the army's few units found by their ids (an index), not every
            # record joined to its unit's category and scanned (issue 19: P2 at 3,100 units).
            unranked = Category.objects.filter(ranked=False).values("pk")
            if not unit:
                return Q(category_id__in=unranked)
            return Q(**{f"{_id(unit)}__in": Unit.objects.filter(
                category_id__in=unranked).values("pk")})
        if self.reach is Reach.LEAD_DEPARTMENT:
            if lead_department is not None:
                return Q(**{_id(lead_department): self.lead_department_id})
            if unit is None:
                return None
            if not unit:
                return Q(category__lead_department_id=self.lead_department_id)
            from kaohe.directory.models import Unit

            # The records of its units found by their ids (an index), not every record of
            # the round joined to its unit's category and scanned (issue 19: a lead
            # department's list at 3,100 units, 2.4 -> 0.9 ms a count).
            return Q(**{f"{_id(unit)}__in": Unit.objects.filter(
                category__lead_department_id=self.lead_department_id).values("pk")})
        if self.reach is Reach.PROVINCE:
            if province is not None:
                return Q(**{_id(province): self.province_id})
            if unit is None or self.province_id is None:
                return None
            from kaohe.directory.models import Pairing

            pairings = Pairing.objects.filter(county__province_id=self.province_id)
            if round is not None:
                pairings = pairings.filter(round=round)
            return Q(**{f"{_id(unit)}__in": pairings.values("unit_id")})
        return None

    def filter(self, queryset: QuerySet[M], policy: Policy, *, unit: str | None = "unit",
               province: str | None = None, lead_department: str | None = None,
               round: Any = None, handed_over: Q | None = None) -> QuerySet[M]:
        """The queryset cut down to the user's records of the policy's kind (see
        ``condition`` for the paths)."""
        found = self.condition(policy, unit=unit, province=province,
                               lead_department=lead_department, round=round,
                               handed_over=handed_over)
        if found is None:
            return queryset.none()
        return queryset.filter(found) if found else queryset.all()

    def units(self, queryset: QuerySet[M], *, via: str = "unit",
              round: Any = None) -> QuerySet[M]:
        """Records whose unit (at ``via``; ``""`` for units themselves) the user may see; for
        a province, the units working in it in ``round`` (any round if None)."""
        return self.filter(queryset, UNITS, unit=via, round=round)
