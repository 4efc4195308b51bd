"""A round of ten ranked units with every kind of case the plan's section 七 knows."""

import pytest

from kaohe.directory.models import Category, County, Pairing, Unit
from kaohe.reviews import services as reviews
from kaohe.reviews.models import FindingSource
from tests.grading.test_result_sets import _review, _submit_category

_GOOD, _FAIRLY, _AVERAGE, _POOR = "good", "fairly_good", "average", "poor"


def _grades(*values):
    areas = ("effectiveness", "leadership", "cadres", "supervision", "satisfaction",
             "innovation")
    return dict(zip(areas, values, strict=True))


# Ten units: one 好 place, three 好 or 较好, the last position is the poor band.
#   A001 position 1 好; M002 position 2 较好 with a major incident; M003/M004 tied at 3-4,
#   待定 较好/一般; M005..M008 一般 (M005 has a serious problem outside the bottom band:
#   a warning); M009/M010 tied at 9-10: M009 has a serious problem (待定 一般/较差), M010
#   has none (一般).
MIXED = [
    ("A001", "测试单位甲", _grades(*[_GOOD] * 6)),
    ("M002", "示例出事单位", _grades(*[_GOOD] * 5, _FAIRLY)),
    ("M003", "示例并列单位丙", _grades(*[_GOOD] * 4, _FAIRLY, _FAIRLY)),
    ("M004", "示例并列单位丁", _grades(*[_GOOD] * 4, _FAIRLY, _FAIRLY)),
    ("M005", "示例一般单位五", _grades(*[_AVERAGE] * 6)),
    ("M006", "示例一般单位六", _grades(*[_AVERAGE] * 5, _FAIRLY)),
    ("M007", "示例一般单位七", _grades(*[_AVERAGE] * 4, _FAIRLY, _FAIRLY)),
    ("M008", "示例一般单位八", _grades(*[_AVERAGE] * 3, _FAIRLY, _FAIRLY, _FAIRLY)),
    ("M009", "示例问题单位九", _grades(*[_POOR] * 6)),
    ("M010", "示例末位单位十", _grades(*[_POOR] * 6)),
]


@pytest.fixture
def mixed(world, personas):
    """The ten units of MIXED graded by lead department A and its category submitted."""
    round_ = world["round"]
    category = Category.objects.get(code="party_organs")
    counties = list(County.objects.order_by("code")[30:40])
    Unit.objects.filter(pk=world["unit_b"].pk).update(active=False)
    units = {"A001": world["unit_a"]}
    for i, (code, name, _) in enumerate(MIXED[1:]):
        unit = Unit.objects.create(code=code, name=name, category=category)
        Pairing.objects.create(round=round_, unit=unit, county=counties[i])
        units[code] = unit
    actor = personas["lead_reviewer"]
    for code, _name, grades in MIXED:
        _review(round_, units[code], actor, grades)
    pairing = Pairing.objects.get(round=round_, unit=units["M002"])
    reviews.major_incident_add(round=round_, unit=units["M002"], actor=actor,
                               county=pairing.county, description="发生重大涉贫舆情事件",
                               source=FindingSource.REVIEWER)
    reviews.serious_problem_add(round=round_, unit=units["M009"], actor=actor,
                                kind=round_.problem_kinds.get(code="neglect"), county=None,
                                description="不重视定点扶贫工作", source=FindingSource.REVIEWER)
    reviews.serious_problem_add(round=round_, unit=units["M005"], actor=actor,
                                kind=round_.problem_kinds.get(code="neglect"), county=None,
                                description="帮扶责任落实不到位", source=FindingSource.REVIEWER)
    _submit_category(round_, world["lead_a"], actor)
    return {**world, "units": units}
