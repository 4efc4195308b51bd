"""A realistic demo of the 2017 round: 310 synthetic central units and a few army units.

Every unit name starts with 示例 so that nothing here can pass for real results. The same
seed gives the same demo on every machine.

Its length (over 400 lines) is the demo's data, built step by step in the order of the
round; no production code imports it.
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
from kaohe.lib import clock
from kaohe.rounds.models import Round
from kaohe.rounds.services import load_plan_data, round_create_from_plan
from kaohe.submissions import services
from kaohe.submissions.models import (
    CountyOutcome,
    FirstSecretary,
    ProvincialReport,
    ReportStatus,
    ReportVersion,
    SecondedCadre,
    SelfReport,
    SelfReportAnswer,
)

DEMO_PASSWORD = "Kaohe@2017demo"  # noqa: S105 - printed for the demo on purpose
SEED = 2017
COUNTY_TARGET = 592

RANKED_UNITS = 310
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


def category_sizes(units: int = RANKED_UNITS) -> dict[str, int]:
    """Units per category for a demo of `units` ranked units: the 2017 shares, scaled by
    largest remainders (310 gives CATEGORY_SIZES itself); the army units stay as they are."""
    ranked = {code: n for code, n in CATEGORY_SIZES.items() if code != "military"}
    exact = {code: n * units / RANKED_UNITS for code, n in ranked.items()}
    sizes = {code: int(share) for code, share in exact.items()}
    short = units - sum(sizes.values())
    for code in sorted(exact, key=lambda c: sizes[c] - exact[c])[:short]:
        sizes[code] += 1
    return {**sizes, "military": CATEGORY_SIZES["military"]}


def _unit_names(rng: random.Random, code: str, size: int) -> list[str]:
    if code == "military":
        return [f"示例{kind}" for kind in _KINDS[code][:size]]
    names, stems = set(), _STEMS[:]
    rng.shuffle(stems)
    result: list[str] = []
    i = 0
    # A scaled demo needs more names than stems and kinds make: later rounds are numbered.
    cycle = len(stems) * len(_KINDS[code])
    while len(result) < size:
        kinds = _KINDS[code]
        name = f"示例{stems[i % len(stems)]}{kinds[(i // len(stems) + i) % len(kinds)]}"
        if i >= cycle:
            name += str(i // cycle + 1)
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
def build_demo(*, today: datetime.date, units: int = RANKED_UNITS) -> bool:
    """Create the demo unless it exists; return whether anything was created.

    `units` scales the ranked units (for load and query-count benchmarks); with more units
    than counties, several units share a county."""
    sizes = category_sizes(units)
    plan = load_plan_data()
    reference_data_load(plan=plan)
    round_ = round_create_from_plan(data=plan)
    if Unit.objects.exists():
        return False
    rng = random.Random(SEED)
    new_units = []
    serial = 1
    for category in Category.objects.order_by("order"):
        for name in _unit_names(rng, category.code, sizes.get(category.code, 0)):
            new_units.append(Unit(code=f"U{serial:04d}", name=name, category=category))
            serial += 1
    Unit.objects.bulk_create(new_units)
    all_units = list(Unit.objects.order_by("code"))

    # Neighbouring counties go to the same unit, as real pairings cluster by province.
    counties = sorted(rng.sample(list(County.objects.all()), COUNTY_TARGET), key=lambda c: c.code)
    order = all_units[:]
    rng.shuffle(order)
    pairings, cursor = [], 0
    # One to four counties per unit; a county per unit at least (they repeat past 592).
    slots = max(min(COUNTY_TARGET, 4 * len(order)), len(order))
    for unit, count in zip(order, _county_counts(rng, len(order), slots), strict=True):
        for index in range(cursor, cursor + count):
            county = counties[index % len(counties)]
            pairings.append(Pairing(round=round_, unit=unit, county=county))
        cursor += count
    Pairing.objects.bulk_create(pairings)
    _accounts(rng, all_units)
    _progress(rng, round_, all_units, today)
    demo_launch(round_)
    log_action("demo.created", target=round_,
               data={"units": len(all_units), "pairings": len(pairings)})
    return True


def _at(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.datetime:
    span = max((end - start).days, 1)
    day = start + datetime.timedelta(days=rng.randrange(span))
    moment = datetime.datetime.combine(day, datetime.time(rng.randrange(8, 19), rng.randrange(60)))
    return timezone.make_aware(moment)


_WORK = {
    3: "单位主要负责同志带队赴{county}调研，召开座谈会研究帮扶工作。",
    4: "党组会议专题研究定点扶贫工作，印发年度帮扶工作计划。",
    5: "明确扶贫工作领导小组办公室为具体工作机构，指定分管负责同志为责任人。",
    6: "向{county}选派挂职干部任县委常委、副县长，协助分管扶贫工作。",
    7: "选派驻村第一书记，驻村开展精准帮扶。",
    8: "向深度贫困地区加派干部，加大资金和项目倾斜。",
    9: "组织进村入户调查，对精准识别、精准退出和资金使用开展督促检查。",
    10: "督促县委县政府落实脱贫攻坚主体责任，推动问题整改。",
    11: "推动落实扶贫资金整合、小额信贷、健康扶贫、易地扶贫搬迁等政策。",
    13: "发挥行业优势开展产业扶贫和消费扶贫，动员社会力量参与，宣传推广典型经验。",
}


def _answer_text(rng, slot) -> str:
    template = _WORK.get(slot.indicator.number, "")
    county = slot.county.name if slot.county else "定点扶贫县"
    amount = rng.randrange(50, 3000) * 10
    return f"{template.format(county=county)}全年投入帮扶资金{amount}万元。（演示内容）"


def _due(round_, code) -> datetime.date:
    return round_.steps.get(code=code).due


def _until_due(round_, code, today) -> datetime.date:
    """The end of the span in which the demo's submissions of a step fall: by its due day
    (inclusive), so that the demo's reports were submitted in time (issue 17)."""
    return min(today, _due(round_, code) + datetime.timedelta(days=1))


def _progress(rng, round_, units, today):
    """A believable state: the further past the deadline opening, the more reports are in."""
    opened = datetime.date(round_.year, 12, 1)
    if today < opened:
        return
    until = _until_due(round_, "self_report", today)
    reports = []
    for unit in units:
        roll = rng.random()
        if roll < 0.58:
            reports.append(SelfReport(round=round_, unit=unit, status=ReportStatus.SUBMITTED,
                                      submitted_at=_at(rng, opened, until)))
        elif roll < 0.82:
            reports.append(SelfReport(round=round_, unit=unit, status=ReportStatus.DRAFT))
    SelfReport.objects.bulk_create(reports)
    answers, cadres, secretaries = [], [], []
    for report in SelfReport.objects.filter(round=round_).select_related("unit"):
        slots = services.self_report_slots(report)
        share = 1.0 if report.status == ReportStatus.SUBMITTED else rng.random()
        for slot in slots:
            if slot.indicator.number in _WORK and rng.random() < share:
                answers.append(SelfReportAnswer(report=report, indicator=slot.indicator,
                                                county=slot.county,
                                                text=_answer_text(rng, slot)))
        counties = sorted({s.county for s in slots if s.county}, key=lambda c: c.code)
        for county in counties:
            cadres.append(SecondedCadre(
                round=round_, unit=report.unit, county=county, name=_name(rng),
                post="县委常委、副县长（挂职）", duties="协助分管扶贫开发工作",
                start=datetime.date(round_.year - 1, 9, 1), document="（演示）任职文件"))
        if counties:
            secretaries.append(FirstSecretary(
                round=round_, unit=report.unit, county=counties[0],
                village=f"{counties[0].name}示例村", name=_name(rng),
                start=datetime.date(round_.year - 1, 7, 1)))
    SelfReportAnswer.objects.bulk_create(answers)
    SecondedCadre.objects.bulk_create(cadres)
    FirstSecretary.objects.bulk_create(secretaries)
    versions = []
    for report in SelfReport.objects.filter(round=round_, status=ReportStatus.SUBMITTED):
        # Demo units submitted without uploading files: the gaps are recorded, as in life.
        report.gaps = [gap.as_dict() for gap in services.self_report_gaps(report)]
        report.submitted_by = report.unit.users.first() or User.objects.get(username="office")
        report.save(update_fields=["gaps", "submitted_by"])
        assert report.submitted_at is not None  # the demo submits with the time
        versions.append(ReportVersion(
            self_report=report, number=1, content=services.self_report_snapshot(report),
            submitted_at=report.submitted_at, submitted_by=report.submitted_by))
    ReportVersion.objects.bulk_create(versions)
    _provincial(rng, round_, opened, today)


def _provincial(rng, round_, opened, today):
    grades = ["good", "fairly_good", "fairly_good", "average", "average", "average", "poor"]
    pairs = (Pairing.objects.filter(round=round_).values_list("county__province_id", "unit_id")
             .distinct().order_by("county__province_id", "unit_id"))
    reports = []
    until = _until_due(round_, "provincial_report", today)
    for province_id, unit_id in pairs:
        roll = rng.random()
        if roll >= 0.55:
            continue
        submitted = roll < 0.32
        reports.append(ProvincialReport(
            round=round_, province_id=province_id, unit_id=unit_id,
            status=ReportStatus.SUBMITTED if submitted else ReportStatus.DRAFT,
            submitted_at=_at(rng, opened, until) if submitted else None,
            work_text="该单位在我省定点扶贫工作扎实推进，帮扶措施精准有效。（演示内容）",
            recommended_grade=rng.choice(grades) if submitted else "",
            approved_on=until - datetime.timedelta(days=2) if submitted else None,
            approval_reference="省扶贫开发领导小组会议（演示）" if submitted else "",
        ))
    ProvincialReport.objects.bulk_create(reports)
    pairing_counties: dict[int, list[int]] = {}
    for unit_id, county_id in (Pairing.objects.filter(round=round_)
                               .values_list("unit_id", "county_id")):
        pairing_counties.setdefault(unit_id, []).append(county_id)
    counties = {c.pk: c for c in County.objects.filter(pairings__round=round_)}
    outcomes = []
    for report in ProvincialReport.objects.filter(round=round_):
        done = report.status == ReportStatus.SUBMITTED
        for county_id in pairing_counties.get(report.unit_id, []):
            county = counties[county_id]
            if county.province_id != report.province_id:
                continue
            planned = rng.randrange(2000, 30000)
            outcomes.append(CountyOutcome(
                report=report, county=county, planned_exit=planned,
                actual_exit=planned + rng.randrange(-800, 1500) if done else None,
                county_exited=county.exit_year == round_.year,
                plan_met=(rng.random() > 0.06) if done else None,
                satisfaction_unit=rng.choice(grades[:5]) if done else "",
                satisfaction_cadres=rng.choice(grades[:5]) if done else "",
            ))
    CountyOutcome.objects.bulk_create(outcomes)


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
    first_per_category: dict[int, list[Unit]] = {}
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
        # The demo's shared password is printed on purpose: no forced change at sign-in.
        user.must_change_password = False
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


_GRADES = ["good", "fairly_good", "average", "poor"]


def _grade_near(rng, quality: float) -> str:
    """A grade around the unit's overall quality (0 best .. 3 worst), with some noise."""
    value = min(3, max(0, round(quality + rng.gauss(0, 0.55))))
    return _GRADES[value]


@transaction.atomic
def advance_demo_to_review(*, today: datetime.date) -> bool:
    """Move the demo on to late January: every report in, every category reviewed and
    submitted, and the working group's first result set computed. Idempotent."""
    from kaohe.grading.models import ResultSet
    from kaohe.grading.services import result_set_compute
    from kaohe.reviews.models import CategorySubmission

    round_ = Round.objects.get(year=SEED)
    if ResultSet.objects.filter(round=round_).exists():
        return False
    rng = random.Random(SEED + 1)
    units = list(Unit.objects.filter(active=True).select_related("category"))
    office = User.objects.get(username="office")
    # The reports still missing came in on their last day; the lead departments reviewed by
    # their 01-15 (the services check the step's deadline on the demo's day, not today's).
    now = timezone.make_aware(datetime.datetime.combine(
        min(today, _due(round_, "self_report")), datetime.time(10)))
    review_day = min(today, _due(round_, "review"))
    for unit in units:
        report, _created = SelfReport.objects.get_or_create(round=round_, unit=unit)
        if report.status != ReportStatus.SUBMITTED:
            report.status, report.submitted_at = ReportStatus.SUBMITTED, now
            report.submitted_by = unit.users.first() or office
            report.save()
    pairs = (Pairing.objects.filter(round=round_).values_list("county__province_id", "unit_id")
             .distinct())
    for province_id, unit_id in pairs:
        provincial, _created = ProvincialReport.objects.get_or_create(
            round=round_, province_id=province_id, unit_id=unit_id)
        for pairing in Pairing.objects.filter(round=round_, unit_id=unit_id,
                                              county__province_id=province_id):
            CountyOutcome.objects.get_or_create(report=provincial, county=pairing.county)
        provincial.outcomes.filter(plan_met__isnull=True).update(plan_met=True)
        provincial.outcomes.filter(satisfaction_unit="").update(satisfaction_unit="fairly_good")
        provincial.outcomes.filter(satisfaction_cadres="").update(satisfaction_cadres="good")
        if provincial.status != ReportStatus.SUBMITTED:
            provincial.status, provincial.submitted_at = ReportStatus.SUBMITTED, now
            provincial.work_text = provincial.work_text or "该单位帮扶工作扎实有效。（演示内容）"
            provincial.recommended_grade = (provincial.recommended_grade
                                            or rng.choice(_GRADES[:3]))
            provincial.approved_on = provincial.approved_on or now.date()
            provincial.save()
    kinds = list(round_.problem_kinds.all())
    with clock.on(review_day):
        _review_all(rng, round_, kinds, review_day)
    assert CategorySubmission.objects.filter(round=round_).count() == 6
    result_set_compute(round=round_, actor=User.objects.get(username="workgroup"))
    return True


def _review_all(rng, round_, kinds, review_day):
    from kaohe.reviews import services as reviews
    from kaohe.reviews.models import CategorySubmission, FindingSource

    submitted_at = timezone.make_aware(datetime.datetime.combine(review_day, datetime.time(16)))
    for lead in LeadDepartment.objects.filter(categories__ranked=True).distinct():
        reviewer = User.objects.filter(lead_department=lead).first()
        assert reviewer is not None  # the demo opens two accounts per lead department
        for unit in reviews.category_units(round_, lead):
            quality = rng.uniform(0, 2.6)
            review = reviews.review_for(round=round_, unit=unit)
            reason = "依据自评报告、省级报告和核查情况评定。（演示）"
            grades = {area.code: (_grade_near(rng, quality), reason)
                      for area in round_.areas.all()}
            reviews.area_grades_save(review=review, actor=reviewer, revision=review.revision,
                                     grades=grades)
            review.refresh_from_db()
            reviews.sub_report_save(
                review=review, actor=reviewer, revision=review.revision,
                basic_situation="审阅了自评报告及证明材料，听取了定点扶贫县意见。（演示）",
                problems="帮扶资金投入和干部选派仍有提升空间。（演示）",
                suggestions="进一步向深度贫困地区倾斜，加强督促检查。（演示）")
            if quality > 2.2 and rng.random() < 0.6:
                reviews.serious_problem_add(
                    round=round_, unit=unit, actor=reviewer, kind=rng.choice(kinds),
                    county=None, description="核查发现工作不到位。（演示）",
                    source=FindingSource.REVIEWER)
            if rng.random() < 0.015:
                pairing = unit.pairings.filter(round=round_).first()
                assert pairing is not None  # every unit reviewed is paired in the round
                county = pairing.county
                reviews.major_incident_add(
                    round=round_, unit=unit, actor=reviewer, county=county,
                    description="定点扶贫县发生重大涉贫事件。（演示）",
                    source=FindingSource.REVIEWER)
        submission = reviews.category_submission_for(round=round_, lead_department=lead)
        reviews.category_report_save(
            submission=submission, actor=reviewer,
            overview="本类别各单位定点扶贫工作总体扎实。（演示）",
            problems="个别单位帮扶力度不足。（演示）",
            suggestions="加大对深度贫困地区的帮扶力度。（演示）")
        reviews.category_submit(submission=submission, actor=reviewer)
        CategorySubmission.objects.filter(pk=submission.pk).update(submitted_at=submitted_at)


# Results: decisions, approval, sign-off, release ------------------------------------------

# The office's 发文字号 of the demo year (the 2017 plan itself is 国开办发〔2017〕59号).
DEMO_SEQUENCES = {"letter": ("国开办函", 12), "notice": ("国开办发", 8),
                  "circular": ("国开发", 2), "report": ("国开发", 2)}
# Preference when the working group decides a pending grade (section 七 allows some only).
_PENDING_CHOICES = ("poor", "average", "fairly_good", "good")


def advance_demo_to_release(*, today: datetime.date) -> bool:
    """Carry the demo through to the feedback (late February): the working group decides
    every pending grade and submits, the leading group approves, the office drafts and signs
    off every letter and the report to 党中央、国务院, releases the results, then signs off
    the circular and the summons notices. Idempotent."""
    from kaohe.documents import signing
    from kaohe.documents.base import get_exporter
    from kaohe.documents.models import NumberSequence
    from kaohe.grading import services as grading
    from kaohe.grading.models import ResultSet, ResultSetStatus
    from kaohe.outcomes import services as outcomes

    round_ = Round.objects.get(year=SEED)
    if ResultSet.objects.filter(round=round_, status=ResultSetStatus.RELEASED).exists():
        return False
    advance_demo_to_review(today=min(today, _due(round_, "review")))
    office = User.objects.get(username="office")
    working_group = User.objects.get(username="workgroup")
    leader = User.objects.get(username="leader")
    review_day = min(today, _due(round_, "deliberation"))
    result_set = ResultSet.objects.filter(round=round_).order_by("-version").first()
    assert result_set is not None  # advance_demo_to_review computed one
    with clock.on(review_day), transaction.atomic():
        if result_set.status == ResultSetStatus.DRAFT:
            for result in result_set.outputs["results"]:
                if result["grade_code"] == "pending":
                    _decide_pending(grading, result_set, result["unit"], working_group)
            result_set = grading.result_set_submit(result_set=result_set, actor=working_group)
        if result_set.status == ResultSetStatus.SUBMITTED:
            result_set = grading.result_set_approve(
                result_set=result_set, actor=leader,
                comments="同意考核工作组的等次建议。（演示）")
    with clock.on(today), transaction.atomic():
        for kind, (prefix, number) in DEMO_SEQUENCES.items():
            if not NumberSequence.objects.filter(year=today.year, kind=kind).exists():
                signing.sequence_save(year=today.year, kind=kind, prefix=prefix,
                                      next_number=number, actor=office)
        outcomes.feedback_prepare(result_set=result_set, actor=office)
        signing.sign_off_all(exporter=get_exporter("results_report"), round_=round_, actor=office,
                               signer=leader.full_name)
        signing.sign_off_all(exporter=get_exporter("feedback_letter"), round_=round_, actor=office)
        outcomes.release(result_set=result_set, actor=office)
        signing.sign_off_all(exporter=get_exporter("circular"), round_=round_, actor=office)
        signing.sign_off_all(exporter=get_exporter("summons_notice"), round_=round_, actor=office)
    return True


def _decide_pending(grading, result_set, unit_code, actor):
    for grade in _PENDING_CHOICES:
        try:
            grading.decision_record(result_set=result_set, unit_code=unit_code, grade=grade,
                                    reason="经综合评议，结合突出问题核实情况确定。（演示）",
                                    actor=actor)
            return
        except grading.GradingError:
            continue
    raise RuntimeError(f"no grade allowed for {unit_code}")


# Launch and training (steps 1 and 2) -------------------------------------------------------

_WORKING_GROUP = [
    ("国务院扶贫办", "副主任", "leader", "office"),
    ("国务院扶贫办社会扶贫司", "司长", "member", "office_social"),
    ("国务院扶贫办考核评估司", "司长", "member", "office_assessment"),
    ("中央直属机关工委", "局长", "member", "party_work_committee"),
    ("中央国家机关工委", "局长", "member", "state_work_committee"),
    ("中央统战部", "局长", "member", "united_front"),
    ("教育部", "司长", "member", "education"),
    ("中国人民银行", "司长", "member", "pboc"),
    ("国务院国资委", "局长", "member", "sasac"),
    ("中央组织部", "局长", "member", "org_department"),
    ("中央军委政治工作部", "局长", "member", "military_political"),
]
# When each lead department filed its team and plan; the one late filer files on 11-23.
_FILED = {
    "party_work_committee": (10, 14), "state_work_committee": (13, 16), "united_front": (9, 17),
    "education": (15, 15), "pboc": (23, 24), "sasac": (16, 20),
}
_REFINED = {
    "education": [
        ("strengths", "发挥学科和人才优势开展教育扶贫、科技扶贫", "组建专家团队、建设实践基地"),
        ("new_methods", "“互联网+教育”帮扶新模式", "远程课堂、在线培训基层干部教师"),
        ("publicise", "宣传推广高校定点扶贫典型案例", "报送典型案例、媒体报道"),
    ],
    "sasac": [
        ("strengths", "发挥产业优势带动贫困县产业发展", "产业项目落地、吸纳贫困人口就业"),
        ("precise", "产业项目带贫益贫机制", "利益联结、建档立卡户受益情况"),
        ("mobilise", "动员上下游企业参与消费扶贫", "采购和帮助销售贫困地区农产品"),
    ],
}


def _demo_pdf(title: str) -> bytes:
    """A one-page PDF with a line of ASCII text, its cross-reference table exact."""
    text = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(text), text),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def demo_launch(round_: Round) -> bool:
    """The state of steps 1 and 2 on 2017-12-20: the working group formed, the six teams and
    plans filed (one late), two training sessions with most staff, refined innovation items
    of two categories answered by some of their units. Idempotent."""
    from django.core.files.base import ContentFile

    from kaohe.launch import files
    from kaohe.launch.models import (
        Attendance,
        CategoryPlan,
        RefinedItem,
        RefinedItemAnswer,
        TeamFiling,
        TeamMember,
        TrainingMaterial,
        TrainingSession,
        WorkingGroupMember,
    )
    from kaohe.launch.services import innovation_items

    if WorkingGroupMember.objects.filter(round=round_).exists():
        return False
    rng = random.Random(SEED + 11)
    office = User.objects.get(username="office")
    WorkingGroupMember.objects.bulk_create(
        WorkingGroupMember(round=round_, name=_name(rng), organization=org, post=post,
                           position=position, body=body, order=order)
        for order, (org, post, position, body) in enumerate(_WORKING_GROUP, start=1)
    )
    password = make_password(DEMO_PASSWORD)
    year = round_.year
    for lead in LeadDepartment.objects.filter(categories__ranked=True).distinct():
        team_day, plan_day = (datetime.date(year, 11, d) for d in _FILED[lead.code])
        staff = list(User.objects.filter(lead_department=lead).order_by("username"))
        for n in range(len(staff) + 1, rng.randint(9, 11) + 1):
            user = User(username=f"lead-{lead.code}-{n}", role=Role.LEAD_REVIEWER,
                        lead_department=lead, full_name=_name(rng),
                        post="副局长" if n == 3 else rng.choice(["处长", "副处长", "主任科员"]),
                        password=password, must_change_password=False)
            user.save()
            staff.append(user)
        filing = TeamFiling.objects.create(round=round_, lead_department=lead,
                                           filed_on=team_day, updated_on=team_day,
                                           filed_by=staff[0])
        members = []
        for order, user in enumerate(staff, start=1):
            user.email = f"{user.username}@example.org"
            user.phone = f"010-6{rng.randrange(1000000, 9999999)}"
            user.save(update_fields=["email", "phone"])
            level = ("bureau" if user.post.endswith("局长") else
                     "other" if user.post == "主任科员" else "division")
            members.append(TeamMember(filing=filing, order=order, name=user.full_name,
                                      post=user.post, level=level, phone=user.phone,
                                      email=user.email, is_liaison=user.is_liaison, user=user))
        TeamMember.objects.bulk_create(members)
        stored = files.store(ContentFile(_demo_pdf(f"Category plan {lead.code} {year}"),
                                         name=f"{lead.short_name}分类考核具体方案.pdf"),
                             folder=f"launch/{year}/plans", allowed=files.PLAN_TYPES)
        CategoryPlan.objects.create(
            round=round_, lead_department=lead, filed_on=plan_day, updated_on=plan_day,
            filed_by=staff[0], original_name=stored.original_name,
            storage_name=stored.storage_name, size=stored.size, sha256=stored.sha256,
            content_type=stored.content_type,
            key_points=f"对{'、'.join(c.name for c in lead.categories.all())}类单位采取审阅书面"
                       "材料、座谈了解和个别核查相结合的方式开展分类考核。（演示内容）")

    sessions = [
        TrainingSession.objects.create(round=round_, held_on=datetime.date(year, 11, 27),
                                       place="国务院扶贫办第一会议室",
                                       topic="考核实施方案和评价指标解读", created_by=office),
        TrainingSession.objects.create(round=round_, held_on=datetime.date(year, 11, 29),
                                       place="国务院扶贫办第一会议室",
                                       topic="分类考核方法和考核系统操作", created_by=office),
    ]
    for session, title in zip(sessions, ["Assessment plan briefing", "Review methods"],
                              strict=True):
        stored = files.store(ContentFile(_demo_pdf(title), name=f"{session.topic}（课件）.pdf"),
                             folder=f"launch/{year}/training", allowed=files.MATERIAL_TYPES)
        TrainingMaterial.objects.create(
            session=session, original_name=stored.original_name,
            storage_name=stored.storage_name, size=stored.size, sha256=stored.sha256,
            content_type=stored.content_type, uploaded_by=office)
    attendances = []
    for user in User.objects.filter(role=Role.LEAD_REVIEWER).order_by("username"):
        roll = rng.random()
        # Most attend one of the two sessions; about one in ten attends neither.
        attended = sessions[0] if roll < 0.55 else sessions[1] if roll < 0.9 else None
        if attended is not None:
            attendances.append(Attendance(session=attended, user=user, recorded_by=office))
    Attendance.objects.bulk_create(attendances)

    items = {item.code: item for item in innovation_items(round_)}
    for code, refinements in _REFINED.items():
        lead = LeadDepartment.objects.get(code=code)
        author = User.objects.filter(lead_department=lead, is_liaison=True).first()
        refined = RefinedItem.objects.bulk_create(
            RefinedItem(round=round_, lead_department=lead, item=items[item], order=order,
                        name=name, description=description, created_by=author)
            for order, (item, name, description) in enumerate(refinements, start=1)
        )
        reports = SelfReport.objects.filter(round=round_, unit__category__lead_department=lead,
                                            status=ReportStatus.SUBMITTED)
        RefinedItemAnswer.objects.bulk_create(
            RefinedItemAnswer(report=report, refined_item=item,
                              text=f"围绕“{item.name}”开展了相关工作，取得阶段成效。（演示内容）")
            for report in reports for item in refined
        )
    log_action("demo.launch.created", target=round_,
               data={"sessions": len(sessions), "attendances": len(attendances)})
    return True
