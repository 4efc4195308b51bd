"""The 2017 round's data file, transcribed from 国开办发〔2017〕59号.

Expected texts below are copied literally from the official plan, so a drift in the data
file (a lost half-width comma, a stray tag) fails here.
"""

import json
from pathlib import Path

import pytest

import kaohe

DATA_PATH = Path(kaohe.__file__).parent / "rounds/data/round_2017.json"


@pytest.fixture(scope="module")
def raw():
    return DATA_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def data(raw):
    return json.loads(raw)


@pytest.fixture(scope="module")
def indicators(data):
    return {i["number"]: i for area in data["areas"] for i in area["indicators"]}


def test_it_identifies_the_round(data):
    assert data["year"] == 2017
    assert data["document_number"] == "国开办发〔2017〕59号"
    assert data["plan_title"] == "2017年中央单位定点扶贫工作考核实施方案"
    assert data["issued_on"] == "2017-11-24"
    assert data["planned_unit_count"] == 310


def test_it_has_four_grades_in_order(data):
    assert [(g["code"], g["name"]) for g in data["grades"]] == [
        ("good", "好"),
        ("fairly_good", "较好"),
        ("average", "一般"),
        ("poor", "较差"),
    ]


def test_it_has_six_areas_in_order(data):
    assert [(a["code"], a["number"], a["name"]) for a in data["areas"]] == [
        ("effectiveness", 1, "帮扶成效"),
        ("leadership", 2, "组织领导"),
        ("cadres", 3, "选派干部"),
        ("supervision", 4, "督促检查"),
        ("satisfaction", 5, "基层满意情况"),
        ("innovation", 6, "工作创新"),
    ]


def test_it_takes_data_from_the_county_only_for_effectiveness_and_satisfaction(data):
    sources = {a["code"]: (a["source"], a["source_text"]) for a in data["areas"]}
    county = ("county", "定点扶贫县提供。")
    # The seed copy of the plan has half-width punctuation; the label is shown in Chinese
    # text, with the full-width comma of the published document.
    unit = ("unit", "本单位提供，牵头部门核实。")
    assert sources == {
        "effectiveness": county,
        "leadership": unit,
        "cadres": unit,
        "supervision": unit,
        "satisfaction": county,
        "innovation": unit,
    }


def test_it_numbers_thirteen_indicators_across_the_areas(data):
    numbers = [i["number"] for a in data["areas"] for i in a["indicators"]]
    assert numbers == list(range(1, 14))
    assert [len(a["indicators"]) for a in data["areas"]] == [2, 3, 3, 3, 1, 1]


def test_every_indicator_says_what_it_means_and_what_proves_it(indicators):
    for number, indicator in indicators.items():
        for field in ("name", "summary", "definition", "evidence_basis"):
            assert indicator[field].strip(), (number, field)
        assert indicator["evidence_items"], number
        assert all(item.strip() for item in indicator["evidence_items"]), number


def test_evidence_items_are_taken_from_the_basis(indicators):
    for number, indicator in indicators.items():
        for item in indicator["evidence_items"]:
            assert item in indicator["evidence_basis"], (number, item)


def test_only_indicators_2_and_8_are_for_deep_poverty_areas(indicators):
    assert {n for n, i in indicators.items() if i["deep_poverty_only"]} == {2, 8}


def test_indicators_1_3_6_and_12_are_judged_per_county(indicators):
    assert {n for n, i in indicators.items() if i["per_county"]} == {1, 3, 6, 12}


def test_indicator_12_has_two_satisfaction_items(indicators):
    items = indicators[12]["items"]
    assert [i["code"] for i in items] == ["unit_work", "cadres"]
    assert items[0]["name"] == "定点扶贫县、乡镇、村三级干部群众对中央单位帮扶工作的满意情况"
    assert items[1]["name"] == (
        "定点扶贫县、乡镇、村三级干部对挂职扶贫干部（含第一书记）工作的满意情况"
    )
    # The annex says 同上 for the second item: it shares the first one's texts.
    for item in items:
        assert item["definition"] == indicators[12]["definition"]
        assert item["evidence_basis"] == "由定点扶贫县组织调查并提供评价等次。"
    assert indicators[12]["evidence_basis"] == "由定点扶贫县组织调查并提供评价等次。"


def test_indicator_13_has_five_items_sharing_one_definition(indicators):
    indicator = indicators[13]
    assert [(i["code"], i["name"]) for i in indicator["items"]] == [
        ("strengths", "发挥行业优势"),
        ("precise", "开展精准帮扶"),
        ("new_methods", "创新帮扶方式"),
        ("mobilise", "动员社会力量参与"),
        ("publicise", "宣传推广典型"),
    ]
    assert all(i["definition"] == "" and i["evidence_basis"] == "" for i in indicator["items"])
    assert indicator["definition"] == "由6个牵头部门根据实际情况细化各项指标。"
    assert indicator["evidence_basis"] == "提供相关证明材料（含书面材料、图片、视频）。"


def test_other_indicators_have_no_items(indicators):
    assert all(not i["items"] for n, i in indicators.items() if n not in (12, 13))


def test_indicator_8_repeats_the_deep_poverty_definition_of_indicator_2(indicators):
    assert indicators[2]["definition"] == (
        "深度贫困地区是指:(1)中央重点支持的“三区三州”,即:西藏、新疆南疆四地州、四省藏区;"
        "甘肃临夏州、四川凉山州、云南怒江州。(2)各省确定的深度贫困县、乡、村。(下同)"
    )
    assert indicators[8]["definition"] == (
        "深度贫困地区是指:(1)中央重点支持的“三区三州”,即:西藏、新疆南疆四地州、四省藏区;"
        "甘肃临夏州、四川凉山州、云南怒江州。(2)各省确定的深度贫困县、乡、村。"
    )


def test_texts_match_the_seed_literally(data, indicators):
    assert indicators[3]["definition"] == (
        "1.单位负责同志指单位班子成员或党组成员;"
        "2.到定点扶贫县考察调研一次指到每一个所帮扶的定点扶贫县调研指导至少1次。"
    )
    assert indicators[9]["evidence_basis"] == "提供督促检查的相应材料和报告。"
    assert indicators[1]["evidence_basis"] == (
        "提供当年扶贫工作总结,以及省级扶贫部门对本县脱贫攻坚任务完成情况证明材料。"
    )
    assert indicators[6]["name"] == (
        "向每个定点扶贫县选派挂职扶贫干部，挂职干部分管或协助分管扶贫工作"
    )
    assert indicators[6]["summary"] == (
        "向每个定点扶贫县选派挂职扶贫干部,挂职干部分管或协助分管扶贫工作"
    )
    assert indicators[10]["summary"] == "督促定点扶贫县党委政府承担脱贫攻坚主体责任情况"
    assert indicators[11]["evidence_basis"] == (
        "提供定点扶贫县出台的落实扶贫政策措施的系列文件"
        "（主要包括扶贫资金整合、小额信贷、健康扶贫、移民搬迁等方面）和成效情况。"
    )
    assert data["method_text"] == (
        "考核主要采取分等评价方法,对照考核评价指标,对中央各单位定点扶贫工作情况逐项作出评价,"
        "并依据综合评价方法提出等次意见。综合评价方法及等次意见供领导小组内部掌握,不对外公布。"
    )
    assert data["bands_text"] == (
        "考核结果分为好、较好、一般、较差四个等次。排名前10%为好，排名前11%—30%为较好，"
        "排名靠后10%且存在突出问题的单位确定为较差等次，其余单位为一般等次。"
    )
    assert data["major_incident_text"] == (
        "如定点扶贫县出现重大涉贫事件的，负责帮扶的中央单位考核等次不能确定为“好”。"
    )
    # Joined across the seed's page break ("并" / "向中央各单位").
    assert data["result_use_text"] == (
        "国务院扶贫开发领导小组向党中央、国务院报告考核结果，并向中央各单位通报考核情况。"
        "考核结果送中央组织部。对考核结果为较差等次的单位,由牵头部门约谈分管负责同志,"
        "经报党中央、国务院同意,也可由国务院扶贫开发领导小组约谈主要负责同志。"
    )
    assert data["purpose"].startswith("发挥考核指挥棒作用，通过考核，激励先进，鞭策后进，")
    assert data["purpose"].endswith("切实帮助定点扶贫县如期完成脱贫攻坚任务。")


def test_it_schedules_eight_steps(data):
    assert [(s["code"], s["number"], s["name"], s["actor"], s["due"]) for s in data["steps"]] == [
        ("launch", "(一)", "考核启动", "office", "2017-11-20"),
        ("training", "(二)", "组织培训", "office", "2017-11-30"),
        ("self_report", "(三)1", "单位自评", "unit", "2017-12-31"),
        ("provincial_report", "(三)2", "省级总结", "province", "2017-12-31"),
        ("review", "(四)", "分类考核", "lead_reviewer", "2018-01-15"),
        ("deliberation", "(五)", "综合评议", "working_group", "2018-01-31"),
        ("feedback", "(六)", "沟通反馈", "leading_group", "2018-02-28"),
        ("rectification", "(七)", "整改落实", "unit", "2018-03-31"),
    ]
    headings = {s["code"]: s.get("heading") for s in data["steps"]}
    assert headings["self_report"] == headings["provincial_report"] == "单位总结"


def test_the_review_step_is_joined_across_the_page_break(data):
    review = next(s for s in data["steps"] if s["code"] == "review")
    assert "(牵头部门不向被考核单位反馈考核相关情况和结果)。" in review["description"]
    assert review["description"].endswith(
        "考核报告包括：考核基本情况、突出问题与不足、意见与建议。2018年1月15日前完成。"
    )


def test_it_lists_six_kinds_of_serious_problem(data):
    assert [(k["code"], k["name"]) for k in data["serious_problem_kinds"]] == [
        ("neglect", "中央单位不重视定点扶贫工作，不履行帮扶责任"),
        ("cadres_nominal", "定点扶贫挂职干部挂名无实走形式，或出现违纪违规问题"),
        ("target_missed", "定点扶贫县未完成年度脱贫攻坚任务"),
        ("violations_found", "定点扶贫县被审计、纪检、财政等部门查出重大扶贫违纪违规问题"),
        ("summoned_by_province", "定点扶贫县脱贫攻坚工作存在严重问题被省政府约谈"),
        ("low_satisfaction", "定点扶贫县基层干部群众满意情况较差"),
    ]


def test_it_carries_the_default_method(data):
    assert data["method"] == {
        "points": {"good": 4, "fairly_good": 3, "average": 2, "poor": 1},
        "weights": {
            "effectiveness": 1,
            "leadership": 1,
            "cadres": 1,
            "supervision": 1,
            "satisfaction": 1,
            "innovation": 1,
        },
        "shares": {"good": "0.10", "fairly_good": "0.30", "poor": "0.10"},
        "rounding": "floor",
        "tie_break": ["area:effectiveness", "area:satisfaction", "count_good", "recommended_grade"],
        "incident_cap": "fairly_good",
        "backfill": False,
    }


def test_it_names_the_lead_departments_and_ranks_all_but_the_military(data):
    rows = [
        (d["category_code"], d["lead_department_code"], d["lead_department_short"], d["ranked"])
        for d in data["lead_departments"]
    ]
    assert rows == [
        ("party_organs", "party_work_committee", "中央直属机关工委", True),
        ("state_organs", "state_work_committee", "中央国家机关工委", True),
        ("democratic_parties", "united_front", "中央统战部", True),
        ("universities", "education", "教育部", True),
        ("financial", "pboc", "中国人民银行", True),
        ("enterprises", "sasac", "国务院国资委", True),
        ("military", "military_political", "中央军委政治工作部", False),
    ]
    assert data["lead_departments"][0]["lead_department_name"] == "中共中央直属机关工作委员会"
    assert data["organization_department"]["short"] == "中央组织部"
    assert data["office"] == {
        "code": "cpad",
        "name": "国务院扶贫开发领导小组办公室",
        "short": "国务院扶贫办",
    }


def test_it_records_its_corrections_of_the_seed(data):
    corrected = {(c["seed"], c["corrected"]) for c in data["corrections"]}
    assert ("提供挂职干部或第一书记任职工件。", "提供挂职干部或第一书记任职文件。") in corrected
    assert (
        "由定扶贫县组织调查并提供评价等次。",
        "由定点扶贫县组织调查并提供评价等次。",
    ) in corrected


def test_no_seed_artefacts_remain(raw, data):
    assert "同上" not in raw
    assert "<p>" not in raw and "</p>" not in raw
    # The OCR typos survive only in the corrections list.
    without_corrections = json.dumps(
        {k: v for k, v in data.items() if k != "corrections"}, ensure_ascii=False
    )
    assert "定扶贫县" not in without_corrections.replace("定点扶贫县", "")
    assert "任职工件" not in without_corrections
