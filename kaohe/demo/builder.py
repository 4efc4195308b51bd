"""A realistic demo of the 2017 round: 310 synthetic central units and a few army units.

Every unit name starts with 示例 so that nothing here can pass for real results. The same
seed gives the same demo on every machine.
"""

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from kaohe.accounts.models import Role, User
from kaohe.audit.services import log_action
from kaohe.directory.models import Category, County, LeadDepartment, Pairing, Province, Unit
from kaohe.directory.services import reference_data_load
from kaohe.rounds.models import Round
from kaohe.rounds.services import load_plan_data, round_create_from_plan
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport

DEMO_PASSWORD = "Kaohe@2017demo"  # noqa: S105 - printed for the demo on purpose
SEED = 2017
COUNTY_TARGET = 592

# Units per category: 310 ranked units, plus army units that are inspected only.
CATEGORY_SIZES = {
    "party_organs": 44,
    "state_organs": 82,
    "democratic_parties": 9,
    "universities": 44,
    "financial": 26,
    "enterprises": 105,
    "military": 6,
}
_STEMS = [
    "华信",
    "东方",
    "长城",
    "黄河",
    "长江",
    "昆仑",
    "泰山",
    "中原",
    "南海",
    "北辰",
    "星河",
    "光明",
    "远航",
    "晨曦",
    "瑞丰",
    "安泰",
    "恒通",
    "嘉禾",
    "鸿运",
    "天元",
    "宏达",
    "金桥",
    "海川",
    "青松",
    "云岭",
    "秦岭",
    "太行",
    "燕山",
    "珠江",
    "淮河",
    "松花",
    "祁连",
    "天山",
    "峨眉",
    "武夷",
    "衡山",
    "庐山",
    "黄山",
    "洞庭",
    "鄱阳",
    "巢湖",
    "洪泽",
    "太湖",
    "滇池",
    "汉江",
    "湘江",
    "赣江",
    "闽江",
    "漓江",
    "岷江",
    "嘉陵",
    "乌江",
    "沱江",
    "渭水",
    "汾河",
    "洛水",
    "伊河",
    "沂蒙",
    "胶东",
    "辽河",
    "嫩江",
    "黑水",
    "阿尔泰",
    "巴山",
    "蜀道",
    "楚天",
    "吴越",
    "齐鲁",
    "燕赵",
    "三秦",
    "陇原",
    "河套",
    "塞北",
    "江南",
    "岭南",
    "桂林",
    "琼州",
    "雪域",
    "高原",
    "草原",
    "戈壁",
    "绿洲",
    "丝路",
    "驼铃",
    "春晖",
    "秋实",
    "丰年",
    "禾苗",
    "金穗",
    "稻香",
    "麦浪",
    "林海",
    "雪松",
    "白桦",
    "红柳",
    "胡杨",
    "紫荆",
    "木棉",
    "银杏",
    "玉兰",
    "海棠",
    "丁香",
    "牡丹",
    "芙蓉",
    "荷花",
]
_KINDS = {
    "party_organs": ["研究室", "工作办公室", "编研中心", "服务局", "委员会办公室"],
    "state_organs": ["发展局", "管理局", "监督局", "事务局", "服务中心", "研究院"],
    "democratic_parties": ["民主促进会中央", "民主同盟中央", "建国会中央", "工商业联合会"],
    "universities": ["大学", "理工大学", "农业大学", "师范大学"],
    "financial": ["银行", "保险集团", "证券公司", "资产管理公司"],
    "enterprises": ["集团有限公司", "控股集团", "能源集团", "建设集团", "科技集团"],
    "military": [
        "部队第一单位",
        "部队第二单位",
        "部队第三单位",
        "部队第四单位",
        "武警部队第一单位",
        "武警部队第二单位",
    ],
}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = [
    "建国",
    "志强",
    "海燕",
    "丽华",
    "文军",
    "晓明",
    "春梅",
    "国庆",
    "红霞",
    "永刚",
    "秀英",
    "卫东",
    "玉兰",
    "振华",
    "桂芳",
    "立新",
    "淑珍",
    "家豪",
]


@dataclass
class DemoAccount:
    username: str
    role_label: str
    scope: str


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}"


def _unit_names(rng: random.Random, code: str, size: int) -> list[str]:
    if code == "military":
        return [f"示例{kind}" for kind in _KINDS[code][:size]]
    names, stems = set(), _STEMS[:]
    rng.shuffle(stems)
    result = []
    i = 0
    while len(result) < size:
        kinds = _KINDS[code]
        name = f"示例{stems[i % len(stems)]}{kinds[(i // len(stems) + i) % len(kinds)]}"
        i += 1
        if name not in names:
            names.add(name)
            result.append(name)
    return result


def _county_counts(rng: random.Random, n_units: int, total: int) -> list[int]:
    """One to four counties per unit, summing to the total."""
    counts = [1] * n_units
    extra = total - n_units
    while extra > 0:
        i = rng.randrange(n_units)
        if counts[i] < 4:
            counts[i] += 1
            extra -= 1
    return counts


@transaction.atomic
def build_demo(*, today: datetime.date) -> bool:
    """Create the demo unless it exists; return whether anything was created."""
    plan = load_plan_data()
    reference_data_load(plan=plan)
    round_ = round_create_from_plan(data=plan)
    if Unit.objects.exists():
        return False
    rng = random.Random(SEED)
    units = []
    serial = 1
    for category in Category.objects.order_by("order"):
        for name in _unit_names(rng, category.code, CATEGORY_SIZES.get(category.code, 0)):
            units.append(Unit(code=f"U{serial:04d}", name=name, category=category))
            serial += 1
    Unit.objects.bulk_create(units)
    units = list(Unit.objects.order_by("code"))

    # Neighbouring counties go to the same unit, as real pairings cluster by province.
    counties = sorted(rng.sample(list(County.objects.all()), COUNTY_TARGET), key=lambda c: c.code)
    order = units[:]
    rng.shuffle(order)
    pairings, cursor = [], 0
    for unit, count in zip(order, _county_counts(rng, len(order), COUNTY_TARGET), strict=True):
        for county in counties[cursor : cursor + count]:
            pairings.append(Pairing(round=round_, unit=unit, county=county))
        cursor += count
    Pairing.objects.bulk_create(pairings)
    _progress(rng, round_, units, today)
    _accounts(rng, units)
    log_action("demo.created", target=round_, data={"units": len(units), "pairings": len(pairings)})
    return True


def _at(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.datetime:
    span = max((end - start).days, 1)
    day = start + datetime.timedelta(days=rng.randrange(span))
    moment = datetime.datetime.combine(day, datetime.time(rng.randrange(8, 19), rng.randrange(60)))
    return timezone.make_aware(moment)


def _progress(rng, round_, units, today):
    """A believable state: the further past the deadline opening, the more reports are in."""
    opened = datetime.date(round_.year, 12, 1)
    if today < opened:
        return
    reports = []
    for unit in units:
        roll = rng.random()
        if roll < 0.58:
            reports.append(
                SelfReport(
                    round=round_,
                    unit=unit,
                    status=ReportStatus.SUBMITTED,
                    submitted_at=_at(rng, opened, today),
                )
            )
        elif roll < 0.82:
            reports.append(SelfReport(round=round_, unit=unit, status=ReportStatus.DRAFT))
    SelfReport.objects.bulk_create(reports)
    pairs = (
        Pairing.objects.filter(round=round_)
        .values_list("county__province_id", "unit_id")
        .distinct()
        .order_by("county__province_id", "unit_id")
    )
    provincial = []
    for province_id, unit_id in pairs:
        roll = rng.random()
        if roll < 0.32:
            provincial.append(
                ProvincialReport(
                    round=round_,
                    province_id=province_id,
                    unit_id=unit_id,
                    status=ReportStatus.SUBMITTED,
                    submitted_at=_at(rng, opened, today),
                )
            )
        elif roll < 0.55:
            provincial.append(
                ProvincialReport(
                    round=round_,
                    province_id=province_id,
                    unit_id=unit_id,
                    status=ReportStatus.DRAFT,
                )
            )
    ProvincialReport.objects.bulk_create(provincial)


def _accounts(rng, units):
    password = make_password(DEMO_PASSWORD)
    users = [
        User(username="office", role=Role.OFFICE, full_name=f"{_name(rng)}（社会扶贫司）"),
        User(username="workgroup", role=Role.WORKING_GROUP, full_name=_name(rng)),
        User(username="leader", role=Role.LEADING_GROUP, full_name=_name(rng)),
        User(username="orgdept", role=Role.ORG_DEPARTMENT, full_name=_name(rng)),
        User(username="military", role=Role.MILITARY_INSPECTOR, full_name=_name(rng)),
        User(username="sysadmin", role=Role.SYSTEM_ADMIN, full_name=_name(rng)),
        User(username="secadmin", role=Role.SECURITY_ADMIN, full_name=_name(rng)),
        User(username="auditor", role=Role.AUDITOR, full_name=_name(rng)),
    ]
    for lead in LeadDepartment.objects.filter(categories__ranked=True).distinct():
        for i in (1, 2):
            users.append(
                User(
                    username=f"lead-{lead.code}-{i}",
                    role=Role.LEAD_REVIEWER,
                    lead_department=lead,
                    is_liaison=(i == 1),
                    full_name=_name(rng),
                    post="处长" if i == 1 else "调研员",
                )
            )
    first_per_category = {}
    for unit in units:
        first_per_category.setdefault(unit.category_id, []).append(unit)
    for group in first_per_category.values():
        for unit in group[:2]:
            users.append(
                User(username=unit.code.lower(), role=Role.UNIT, unit=unit, full_name=_name(rng))
            )
    for code in ("52", "53", "62", "51", "54", "65"):
        province = Province.objects.filter(code=code).first()
        if province is not None:
            users.append(
                User(
                    username=f"prov-{code}",
                    role=Role.PROVINCE,
                    province=province,
                    full_name=_name(rng),
                )
            )
    for user in users:
        user.password = password
    User.objects.bulk_create(users)


def demo_accounts() -> list[DemoAccount]:
    return [
        DemoAccount(
            u.username,
            u.get_role_display(),
            u.scope_label + ("（联络员）" if u.is_liaison else ""),
        )
        for u in User.objects.select_related("unit", "province", "lead_department").order_by("id")
    ]


def demo_round() -> Round | None:
    return Round.objects.filter(year=SEED).first()
