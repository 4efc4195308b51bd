"""The whole round in the browser, one journey (issue #10).

Fixtures create the starting accounts (one per role, tests/conftest.py ``personas``) and the
reference data; everything after that is clicking and typing, as the people would:

1. the office copies the 2017 round into 2018 and imports units and pairings from Excel;
2. two units of two categories write their self-assessments and upload evidence (one file of
   20 MiB is cut off mid-upload and resumed); a province files its report and grade;
3. the self-report deadline passes; the office grants one unit an extension;
4. the organization department checks a cadre; two lead departments grade the six areas,
   write sub-reports and submit their categories;
5. the working group computes a result set, decides the tie the engine left 待定, submits;
   the leading group approves;
6. the office releases; each unit sees only its own grade and feedback; one files its
   rectification report;
7. the office downloads the review report and all letters (made in the background), a unit
   its own letter; each file carries its maker's mark; the auditor finds every step in the
   audit log.

At every step somebody tries a direct URL of something that is not theirs and gets 404.
"""

import hashlib
import io
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook

from kaohe.directory.models import Unit
from kaohe.documents.models import Export
from kaohe.evidence.models import Evidence, Upload
from kaohe.grading.models import ResultSet
from kaohe.outcomes.models import Feedback, RectificationReport
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
from kaohe.rounds.models import Round
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport
from tests.browser.conftest import ARTIFACTS, follow
from tests.browser.journey_steps import (
    People,
    Shots,
    assert_not_found,
    expect_message,
    fill_self_report,
    grade_unit,
    open_menu,
    submit_category,
    submit_self_report,
    write_sub_report,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024
PDF_HEAD = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n")
PDF_TAIL = b"trailer<</Root 1 0 R>>\n%%EOF\n"
AREAS = ("effectiveness", "leadership", "cadres", "supervision", "satisfaction", "innovation")

# The units the office imports besides the two that already have accounts.
NEW_UNITS = [
    ("A002", "测试单位丙", "中央直属机关", "620121", "永登县"),
    ("A003", "测试单位丁", "中央直属机关", "610124", "周至县"),
    ("B002", "测试单位戊", "中央企业", "620122", "皋兰县"),
]

# Area grades per unit. 丙 and 乙 are equal on the score and on every tie-break key (neither
# has a provincial recommendation); with 5 ranked units the 2017 method has one 较好 place
# (floor(30% of 5)), so the engine leaves both 待定 between 较好 and 一般.
TOP = {"effectiveness": "good", "leadership": "good", "cadres": "good", "supervision": "good",
       "satisfaction": "good", "innovation": "fairly_good"}
GRADES = {
    "测试单位甲": {"effectiveness": "fairly_good", "leadership": "good",
                   "cadres": "fairly_good", "supervision": "average",
                   "satisfaction": "fairly_good", "innovation": "average"},
    "测试单位丙": TOP,
    "测试单位丁": dict.fromkeys(AREAS, "average"),
    "测试单位乙": TOP,
    "测试单位戊": dict.fromkeys(AREAS, "fairly_good"),
}
# What the lead departments write; the feedback to each unit is drafted from it.
PROBLEMS = {
    "测试单位甲": "甲单位督促检查不够深入，对县里资金使用情况过问不多。",
    "测试单位乙": "乙单位帮扶资金到位偏慢。",
}


def _pdf(path, size: int) -> bytes:
    """A PDF (the server checks the type by content) padded with a comment to ``size``."""
    padding = size - len(PDF_HEAD) - len(PDF_TAIL)
    data = PDF_HEAD + b"%" + b"0" * (padding - 2) + b"\n" + PDF_TAIL
    assert len(data) == size
    path.write_bytes(data)
    return data


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _assert_marked(data: bytes, username: str) -> None:
    """The maker's name and the export number in the header and the properties."""
    document = Document(io.BytesIO(data))
    header = document.sections[0].header.paragraphs[0].text
    assert username in header and "编号 K" in header, header
    assert document.core_properties.identifier in header


def _download_export(page, identifier: str) -> bytes:
    """Wait on the documents page until the background export is done, then download it."""
    export = Export.objects.filter(identifier=identifier).latest("pk")
    row = page.locator(f"#export-{export.pk}")
    link = row.get_by_role("link", name="下载")
    link.wait_for(timeout=60000)
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as handle:
        return handle.read()


@pytest.fixture
def people(browser, live_server):
    people = People(browser, live_server.url)
    yield people
    people.close()


def test_a_whole_round_through_the_pages(
    world, personas, live_server, people, settings, tmp_path
):
    url = live_server.url
    shot = Shots(ARTIFACTS)
    unit_a, unit_b = world["unit_a"], world["unit_b"]

    # 1. The office opens the 2018 round, copied from 2017 ------------------------------
    settings.KAOHE_TODAY = "2018-11-10"
    page = people.at("office")
    open_menu(page, "考核准备", "考核方案")
    follow(page, page.get_by_role("link", name="2017"))
    assert page.locator("input[name=year]").input_value() == "2018"
    page.get_by_role("button", name="复制为新年度").click()
    expect_message(page, "已复制为2018年度考核，请核对并修改。")
    assert page.url == f"{url}/rounds/2018/"
    steps = page.locator("table", has_text="完成时限").last.inner_text()
    assert "2018年12月31日" in steps and "2019年3月31日" in steps
    shot(page, "round-copied")
    new_round = Round.objects.get(year=2018)
    assert new_round.copied_from.year == 2017

    # ... and imports units and pairings from the workbook its template gives.
    open_menu(page, "单位与县", "导入单位")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导入模板（Excel）").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    workbook = load_workbook(template)
    units_sheet, pairings_sheet = workbook["单位"], workbook["结对关系"]
    units_sheet.delete_rows(2, units_sheet.max_row)  # the template's example rows
    pairings_sheet.delete_rows(2, pairings_sheet.max_row)
    for unit, county in ((unit_a, world["county_a"]), (unit_b, world["county_b"])):
        units_sheet.append([unit.code, unit.name, unit.category.name, "是"])
        pairings_sheet.append([unit.code, county.code, county.name])
    for code, name, category, county_code, county_name in NEW_UNITS:
        units_sheet.append([code, name, category, "是"])
        pairings_sheet.append([code, county_code, county_name])
    # First with a typing error: the whole file is refused and the row is named.
    pairings_sheet.cell(row=pairings_sheet.max_row, column=3).value = "皋兰"
    with_error = tmp_path / "单位及结对关系（有误）.xlsx"
    workbook.save(with_error)
    page.set_input_files("#id_file", str(with_error))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_selector("text=发现 1 处错误，未导入任何数据")
    assert "「结对关系」表第6行「县名称」" in page.content()
    assert "对应「皋兰县」，与填写的「皋兰」不符" in page.content()
    assert not Unit.objects.filter(code="A002").exists()
    shot(page, "import-refused-with-the-row-named")
    pairings_sheet.cell(row=pairings_sheet.max_row, column=3).value = "皋兰县"
    corrected = tmp_path / "单位及结对关系.xlsx"
    workbook.save(corrected)
    page.set_input_files("#id_file", str(corrected))
    page.get_by_role("button", name="上传并导入").click()
    expect_message(page, "导入完成：新增单位3个，更新0个；新增结对3条，移除0条。")
    shot(page, "import-done")
    assert set(new_round.pairings.values_list("unit__code", flat=True)) == {
        "A001", "B001", "M001", "A002", "A003", "B002"}
    open_menu(page, "单位与县", "中央单位")
    for _code, name, *_rest in NEW_UNITS:
        assert page.get_by_role("link", name=name).count() == 1

    # The copy is the office's alone until it starts the round, on purpose (issue 16).
    page.goto(f"{url}/rounds/2018/activate/")
    page.get_by_label("我已核对以上内容，确认启动").check()
    page.get_by_role("button", name="启动本年度考核").click()
    expect_message(page, "2018年度考核已启动，各单位从现在起可见。")
    new_round.refresh_from_db()
    assert new_round.status == "active"

    # Nobody else may import, and a unit sees no other unit.
    page = people.at("unit_b")
    assert_not_found(page, url, "/directory/import/", f"/directory/units/{unit_a.pk}/",
                     "/rounds/2018/method/")

    # 2. Two units write and upload; a province files its report ------------------------
    settings.KAOHE_TODAY = "2018-12-20"
    page = people.at("unit_a")
    open_menu(page, "材料报送", "自评报告")
    assert "2018年中央单位定点扶贫工作考核" in page.content()
    assert "报送截止：2018年12月31日" in page.content()
    slots = fill_self_report(page, "2018年度定点扶贫工作总结：班子成员三次赴县调研。",
                             "甲单位开展的工作和取得的成效")
    assert slots >= 10
    big = tmp_path / "年度帮扶工作计划（扫描件）.pdf"
    big_data = _pdf(big, 20 * MIB)
    _upload_cut_off_and_resumed(page, page.locator("#indicator-4 input[type=file]").first,
                                big, shot)
    # The texts typed before the upload were saved with it.
    assert page.locator("textarea[name=summary]").input_value().startswith("2018年度")
    evidence = Evidence.objects.get(unit=unit_a, original_name=big.name)
    assert evidence.size == 20 * MIB
    assert evidence.sha256 == hashlib.sha256(big_data).hexdigest()
    assert Upload.objects.filter(unit=unit_a).count() == 1  # resumed, not started again

    # The unit registers its seconded cadre, then submits.
    follow(page, page.get_by_role("link", name="挂职干部和第一书记"))
    page.select_option("#id_cadre-county", str(world["county_a"].pk))
    page.fill("#id_cadre-name", "王志强")
    page.fill("#id_cadre-post", "县委常委、副县长")
    page.fill("#id_cadre-duties", "协助分管扶贫开发工作")
    page.fill("#id_cadre-start", "2018-03-01")
    page.fill("#id_cadre-document", "甲单位干任〔2018〕5号")
    page.get_by_role("button", name="添加挂职干部").click()
    expect_message(page, "已添加。")
    assert "王志强" in page.locator("table").first.inner_text()
    open_menu(page, "材料报送", "自评报告")
    submit_self_report(page)
    shot(page, "unit-a-submitted")
    report_a = SelfReport.objects.get(round=new_round, unit=unit_a)
    assert report_a.status == ReportStatus.SUBMITTED

    # The other unit writes its report and uploads a file, but does not submit in time.
    page = people.at("unit_b")
    assert_not_found(page, url, f"/reports/self/{report_a.pk}/",
                     f"/evidence/{evidence.pk}/download/", f"/evidence/{evidence.pk}/preview/")
    open_menu(page, "材料报送", "自评报告")
    fill_self_report(page, "乙单位2018年度定点扶贫工作总结。", "乙单位开展的工作")
    small = tmp_path / "帮扶工作计划.pdf"
    _pdf(small, 40 * 1024)
    page.locator("#indicator-4 input[type=file]").first.set_input_files(str(small))
    page.wait_for_selector("text=已附上“帮扶工作计划.pdf”")
    summary = page.locator("textarea[name=summary]").input_value()
    assert summary == "乙单位2018年度定点扶贫工作总结。"
    shot(page, "unit-b-draft-with-evidence")
    report_b = SelfReport.objects.get(round=new_round, unit=unit_b)
    assert report_b.status != ReportStatus.SUBMITTED

    # The province reports on the unit working in it, with its recommended grade.
    page = people.at("prov_a")
    open_menu(page, "材料报送", "省级报告")
    row = page.locator("tr", has_text=unit_a.name)
    row.get_by_role("button", name="开始填写").click()
    county = world["county_a"]
    prefix = f"#id_c{county.pk}-"
    page.fill(f"{prefix}planned_exit", "12000")
    page.fill(f"{prefix}actual_exit", "12650")
    page.select_option(f"{prefix}plan_met", "yes")
    page.select_option(f"{prefix}satisfaction_unit", "fairly_good")
    page.select_option(f"{prefix}satisfaction_cadres", "good")
    page.fill("#id_work_text", "甲单位在我省六枝特区开展定点扶贫，投入帮扶资金1200万元。")
    page.select_option("#id_recommended_grade", "fairly_good")
    page.fill("#id_recommendation_reason", "帮扶措施扎实，群众认可度较高。")
    page.fill("#id_approved_on", "2018-12-18")
    page.fill("#id_approval_reference", "省扶贫开发领导小组2018年第4次会议")
    page.get_by_role("button", name="保存", exact=True).click()
    expect_message(page, "已保存。")
    # The provincial leading group's approval document, by the resumable upload.
    approval = tmp_path / "省扶贫开发领导小组审定文件.pdf"
    _pdf(approval, 20 * 1024)
    page.select_option("#attach-kind", "approval")
    page.locator("#attachments input[type=file]").set_input_files(str(approval))
    page.wait_for_selector("text=已附上“省扶贫开发领导小组审定文件.pdf”")
    page.get_by_role("button", name="报送国务院扶贫办").click()
    expect_message(page, "省级总结报告已报送国务院扶贫办。")
    # The filed report still shows every value, the approval date included.
    assert page.locator("#id_approved_on").input_value() == "2018-12-18"
    shot(page, "province-report-filed")
    provincial = ProvincialReport.objects.get(round=new_round, unit=unit_a)
    assert provincial.status == ReportStatus.SUBMITTED
    assert provincial.recommended_grade == "fairly_good"
    # Neither the other province nor the unit itself may read it.
    page = people.at("prov_b")
    assert_not_found(page, url, f"/reports/provincial/{provincial.pk}/",
                     f"/reports/self/{report_a.pk}/")
    page = people.at("unit_a")
    assert_not_found(page, url, f"/reports/provincial/{provincial.pk}/")

    # 3. The deadline passes; the office grants one extension ----------------------------
    settings.KAOHE_TODAY = "2019-01-03"
    page = people.at("unit_b")
    open_menu(page, "材料报送", "自评报告")
    page.wait_for_selector("text=报送已截止，不能再修改或提交；如需延期，请联系国务院扶贫办。")
    assert page.get_by_role("button", name="提交自评报告").count() == 0
    # Nothing on the page invites typing or uploading that the server would refuse.
    assert page.locator("textarea, input[type=file]").count() == 0
    assert page.get_by_role("button", name="保存草稿").count() == 0
    shot(page, "unit-b-deadline-passed")
    assert_not_found(page, url, "/reports/deadlines/")

    page = people.at("office")
    open_menu(page, "材料报送", "报送情况")
    late = page.locator("tr", has_text=unit_b.name)
    assert unit_a.name not in page.locator("table").first.inner_text()  # it submitted
    late.locator("input[name=until]").fill("2019-01-10")
    late.locator("input[name=reason]").fill("单位机构调整，主要负责同志变动。")
    late.get_by_role("button", name="延期").click()
    expect_message(page, f"已准予{unit_b.name}延期至2019-01-10。")
    granted = page.locator(".card", has_text="已准予的延期").inner_text()
    assert unit_b.name in granted and "单位机构调整" in granted
    shot(page, "office-extension-granted")

    page = people.at("unit_b")
    open_menu(page, "材料报送", "自评报告")
    assert "报送截止：2019年1月10日" in page.content()
    submit_self_report(page)
    shot(page, "unit-b-submitted-within-extension")
    report_b.refresh_from_db()
    assert report_b.status == ReportStatus.SUBMITTED

    # 4. Categorized assessment -----------------------------------------------------------
    settings.KAOHE_TODAY = "2019-01-12"
    page = people.at("org")
    open_menu(page, "考核评议", "干部核查")
    cadre_row = page.locator("tr", has_text="王志强")
    assert "未核查" in cadre_row.inner_text()  # nothing is pre-ticked
    cadre_row.locator("input[name=in_post][value=on]").check()
    cadre_row.locator("input[name=in_charge][value=on]").check()
    cadre_row.locator("input[name=note]").fill("经核查，在岗履职，分管扶贫工作。")
    cadre_row.get_by_role("button", name="记录核查").click()
    expect_message(page, "已记录王志强的核查情况。")
    assert "正常" in page.locator("tr", has_text="王志强").inner_text()
    shot(page, "org-department-checked-cadre")
    assert_not_found(page, url, f"/reviews/units/{unit_a.pk}/")

    page = people.at("lead_a")
    open_menu(page, "考核评议", "分类考核")
    queue = page.content()
    assert unit_a.name in queue and unit_b.name not in queue
    follow(page, page.get_by_role("link", name=unit_a.name).first)
    # The desk shows the evidence, the cadre check and the province's recommendation.
    assert page.get_by_role("link", name=big.name).count() == 1
    assert "中央组织部核查" in page.content() and "甲单位在我省六枝特区" in page.content()
    verify = page.locator("#indicator-4 form")
    verify.locator("select[name=status]").select_option("verified")
    verify.locator("input[name=note]").fill("已审阅年度帮扶工作计划原件。")
    verify.get_by_role("button", name="记录核实").click()
    expect_message(page, "核实结果已记录。")
    _review(page, unit_a.name, "审阅自评报告和省级总结报告，座谈了解。")
    shot(page, "lead-a-review-desk")
    for _code, name, category, *_rest in NEW_UNITS:
        if category == "中央直属机关":
            open_menu(page, "考核评议", "分类考核")
            follow(page, page.get_by_role("link", name=name).first)
            _review(page, name, "审阅书面材料。")
    page.goto(f"{url}/reviews/categories/{world['lead_a'].pk}/")
    submit_category(page, "中央直属机关类别3家单位考核基本情况。")
    shot(page, "lead-a-category-submitted")

    page = people.at("lead_b")
    assert_not_found(page, url, f"/reviews/units/{unit_a.pk}/",
                     f"/reviews/categories/{world['lead_a'].pk}/",
                     f"/reports/self/{report_a.pk}/")
    for name in (unit_b.name, "测试单位戊"):
        open_menu(page, "考核评议", "分类考核")
        follow(page, page.get_by_role("link", name=name).first)
        _review(page, name, "审阅书面材料，个别核查。")
    page.goto(f"{url}/reviews/categories/{world['lead_b'].pk}/")
    submit_category(page, "中央企业类别2家单位考核基本情况。")
    assert CategorySubmission.objects.filter(
        round=new_round, status=CategorySubmissionStatus.SUBMITTED).count() == 2
    # Nothing of the review reaches the unit.
    page = people.at("unit_a")
    assert_not_found(page, url, f"/reviews/units/{unit_a.pk}/", "/reviews/")

    # 5. Comprehensive review and approval ------------------------------------------------
    settings.KAOHE_TODAY = "2019-01-25"
    page = people.at("wg")
    open_menu(page, "考核评议", "综合评议")
    page.get_by_role("button", name="依据已报送结果生成新版等次建议").click()
    expect_message(page, "已生成第1版等次建议。")
    pending = page.locator(".card", has_text="待定单位")
    assert unit_b.name in pending.inner_text() and "测试单位丙" in pending.inner_text()
    shot(page, "working-group-tie-pending")
    result_set = ResultSet.objects.get(round=new_round)
    _decide(page, unit_b.code, "fairly_good",
            "帮扶成效与基层满意情况相同，经考核工作组集体研究，乙单位帮扶资金投入更多。")
    _decide(page, "A002", "average", "经考核工作组集体研究，与乙单位同分，名额所限。")
    ranking = page.locator("table", has_text="名次")
    for code, name, label in ((unit_b.code, unit_b.name, "较好"), ("A002", "测试单位丙", "一般")):
        assert f"已确定：{label}" in page.locator(f"#pending-{code}").inner_text()
        # Tie reasons name the other units, so the row is the one whose unit cell is the name.
        row = ranking.locator("tbody tr").filter(
            has=page.get_by_role("cell", name=name, exact=True))
        assert row.locator("strong").inner_text() == label
        # Every decision is explained in words, with who made it and why.
        row.locator("summary", has_text="理由").click()
        assert f"待定→{label}" in row.inner_text() and "经考核工作组集体研究" in row.inner_text()
    shot(page, "working-group-tie-decided")
    page.get_by_role("button", name="报领导小组审定").click()
    expect_message(page, "等次建议已报国务院扶贫开发领导小组审定。")
    shot(page, "working-group-submitted")
    assert result_set.final_grades() == {"A001": "average", "A002": "average",
                                         "A003": "average", "B001": "fairly_good",
                                         "B002": "average"}

    page = people.at("leader")
    open_menu(page, "考核评议", "综合评议")
    follow(page, page.get_by_role("link", name="第1版"))
    page.fill("#comments", "同意考核工作组意见。")
    page.get_by_role("button", name="审定同意").click()
    expect_message(page, "已审定。")
    shot(page, "leading-group-approved")
    for username in ("lead_a", "unit_b", "prov_a"):
        page = people.at(username)
        assert_not_found(page, url, f"/grading/{result_set.pk}/", "/grading/",
                         "/rounds/2018/method/")

    # 6. Release, feedback and rectification ----------------------------------------------
    settings.KAOHE_TODAY = "2019-02-20"
    page = people.at("office")
    open_menu(page, "反馈整改", "沟通反馈")
    page.get_by_role("button", name="起草反馈意见").click()
    expect_message(page, "已起草5份反馈意见。")
    follow(page, page.get_by_role("link", name=unit_a.name))
    assert PROBLEMS[unit_a.name] in page.locator("#problems").input_value()
    page.fill("#suggestions", "进一步加大督促检查力度。\n总结推广产业扶贫经验。")
    page.get_by_role("button", name="保存").click()
    expect_message(page, "反馈意见已保存。")
    page.get_by_role("button", name="向各单位反馈考核结果").click()
    expect_message(page, "考核结果已反馈，各单位只能看到本单位的等次。")
    shot(page, "office-released")
    feedback_b = Feedback.objects.get(round=new_round, unit=unit_b)

    page = people.at("unit_a")
    assert "2018年度定点扶贫工作考核等次：一般" in page.content()
    shot(page, "unit-a-home-with-grade")
    follow(page, page.get_by_role("link", name="查看反馈意见并报送整改报告"))
    content = page.content()
    assert PROBLEMS[unit_a.name] in content and "总结推广产业扶贫经验" in content
    for other in (unit_b.name, PROBLEMS[unit_b.name], "较好", "名次", "得分"):
        assert other not in content, other
    measures = page.locator("textarea[name^=measures-]")
    assert measures.count() == 3  # one problem line and two suggestion lines
    for i in range(measures.count()):
        measures.nth(i).fill(f"已制定整改方案，落实第{i + 1}项。")
    statuses = page.locator("select[name^=status-]")
    statuses.nth(0).select_option("done")
    statuses.nth(1).select_option("in_progress")
    page.fill("#summary", "对照反馈意见逐项整改。")
    page.get_by_role("button", name="报送整改报告").click()
    expect_message(page, "整改报告已报送牵头部门和国务院扶贫办。")
    shot(page, "unit-a-rectification-filed")
    assert RectificationReport.objects.get(round=new_round, unit=unit_a).submitted_at
    assert_not_found(page, url, f"/outcomes/feedback/{feedback_b.pk}/", "/outcomes/feedback/",
                     f"/outcomes/rectification/{unit_b.pk}/", f"/grading/{result_set.pk}/")

    page = people.at("unit_b")
    assert "2018年度定点扶贫工作考核等次：较好" in page.content()
    follow(page, page.get_by_role("link", name="查看反馈意见并报送整改报告"))
    content = page.content()
    assert PROBLEMS[unit_b.name] in content
    for other in (unit_a.name, PROBLEMS[unit_a.name], "一般", "总结推广产业扶贫经验"):
        assert other not in content, other
    shot(page, "unit-b-own-result")

    page = people.at("lead_b")
    assert_not_found(page, url, f"/outcomes/rectification/{unit_a.pk}/")
    page = people.at("lead_a")
    open_menu(page, "反馈整改", "整改落实")
    follow(page, page.get_by_role("link", name=unit_a.name).first)
    assert "对照反馈意见逐项整改" in page.content()
    shot(page, "lead-a-sees-rectification")

    # 7. The office downloads the review report and the letters ----------------------------
    page = people.at("office")
    follow(page, page.get_by_role("link", name="文书导出"))
    report_row = page.locator("#doc-review_report")
    report_row.get_by_role("button", name="生成Word").first.click()
    expect_message(page, "已开始生成")
    report = _download_export(page, "review_report")
    text = _docx_text(report)
    assert "综合评议情况的报告" in text and unit_a.name in text and unit_b.name in text
    assert "较好" in text and "国务院扶贫开发领导小组" in text
    _assert_marked(report, "office")
    page.locator("#doc-feedback_letters").get_by_role("button", name="生成PDF").click()
    expect_message(page, "已开始生成")
    letters = zipfile.ZipFile(io.BytesIO(_download_export(page, "feedback_letters")))
    assert len(letters.namelist()) == 5 and all(n.endswith(".pdf") for n in letters.namelist())
    shot(page, "office-documents")
    # A unit downloads its own letter and no other.
    page = people.at("unit_a")
    follow(page, page.get_by_role("link", name="文书导出"))
    with page.expect_download() as download:
        page.locator("#doc-feedback_letter").get_by_role("link", name="Word").click()
    with open(download.value.path(), "rb") as handle:
        own_letter = handle.read()
    assert PROBLEMS[unit_a.name] in _docx_text(own_letter)
    assert unit_b.name not in _docx_text(own_letter)
    _assert_marked(own_letter, "unit_a")
    assert "综合评议报告" not in page.content()
    shot(page, "unit-a-documents")
    assert_not_found(page, url, f"/documents/feedback_letter/{feedback_b.pk}/pdf/",
                     f"/documents/review_report/{result_set.pk}/docx/")

    # 7. The auditor finds every step in the log -------------------------------------------
    page = people.at("office")
    assert_not_found(page, url, "/audit/")
    page = people.at("aud")
    expected = [
        ("round.copied", "office"), ("directory.import.rejected", "office"),
        ("directory.import.completed", "office"), ("evidence.uploaded", "unit_a"),
        ("self_report.evidence_attached", "unit_b"), ("cadre.added", "unit_a"),
        ("self_report.submitted", "unit_a"), ("provincial_report.submitted", "prov_a"),
        ("deadline.extended", "office"), ("self_report.submitted", "unit_b"),
        ("org.cadre.checked", "org"), ("review.verification.set", "lead_a"),
        ("review.grade.changed", "lead_a"), ("review.grade.changed", "lead_b"),
        ("review.sub_report.saved", "lead_b"), ("review.category.submitted", "lead_a"),
        ("review.category.submitted", "lead_b"), ("grading.result_set.computed", "wg"),
        ("grading.decision.recorded", "wg"), ("grading.result_set.submitted", "wg"),
        ("grading.result_set.approved", "leader"), ("outcomes.feedback.prepared", "office"),
        ("outcomes.feedback.edited", "office"), ("grading.result_set.released", "office"),
        ("outcomes.feedback.viewed", "unit_a"), ("outcomes.rectification.submitted", "unit_a"),
        ("document.export", "office"), ("document.downloaded", "office"),
        ("document.export", "unit_a"),
    ]
    # The first search typed into the form, the rest by the address the form produces.
    follow(page, page.get_by_role("link", name="审计日志", exact=True))
    page.fill("input[name=q]", "round.copied")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**round.copied*")
    shot(page, "auditor-finds-round-copied")
    searched = page.url
    headers = page.locator("thead th").all_inner_texts()
    actor_column, action_column = headers.index("操作人"), headers.index("操作")
    for action, actor in expected:
        page.goto(searched.replace("round.copied", action))
        rows = page.locator("tbody tr").evaluate_all(
            "(rows, [a, b]) => rows.map(r => [r.cells[a].innerText, r.cells[b].innerText])",
            [actor_column, action_column])
        # The action column shows the Chinese label, with the code beneath it.
        logged = [[who, what.split("\n")[-1]] for who, what in rows]
        assert [actor, action] in logged, f"no {action} by {actor} in the audit log: {rows}"
        assert all("\n" in what for _, what in rows), f"an action without its label: {rows}"
    page.goto(f"{url}/audit/?verify=1")
    expect_message(page, "日志链完整")
    shot(page, "auditor-chain-verified")


def _upload_cut_off_and_resumed(page, file_input, path, shot) -> None:
    """Upload a 20 MiB file through the page's tus uploader; the connection drops after the
    first 8 MiB chunk, the page says so, and choosing the file again continues from there."""
    offsets, creations = [], []
    state = {"cut": False, "held": None}

    def on_request(request):
        if request.method == "POST" and request.url.endswith("/evidence/uploads/"):
            creations.append(request.url)

    def handle(route):
        request = route.request
        if request.method == "PATCH":
            offset = int(request.headers.get("upload-offset", "-1"))
            offsets.append(offset)
            if offset > 0 and not state["cut"]:
                # The line drops as the second chunk starts.
                state["cut"] = True
                page.context.set_offline(True)
                route.abort("internetdisconnected")
                return
            if state["cut"] and state["held"] is None:
                state["held"] = route  # let the page show where it resumes, then go on
                return
        route.continue_()

    page.on("request", on_request)
    page.route("**/evidence/uploads/**", handle)
    file_input.set_input_files(str(path))
    page.wait_for_selector("text=网络中断，上传已暂停。重新选择同一文件即可从中断处继续。")
    cut = page.locator(".kh-upload-status").first
    assert cut.locator(".progress-bar").inner_text() == "40%"
    assert cut.locator(".kh-upload-bytes").inner_text() == "8.0 MB / 20.0 MB"
    shot(page, "upload-cut-off")

    page.context.set_offline(False)
    file_input.set_input_files(str(path))
    resumed = page.locator(".kh-upload-status").nth(0)  # the new block comes first
    resumed.locator(".progress-bar", has_text="40%").wait_for()
    while state["held"] is None:
        page.wait_for_timeout(50)
    assert resumed.locator(".kh-upload-name").inner_text() == f"{path.name}（从中断处继续上传）"
    assert resumed.locator(".kh-upload-bytes").inner_text() == "8.0 MB / 20.0 MB"
    shot(page, "upload-resumes-at-8-mb")
    state["held"].continue_()
    page.wait_for_selector(f"text=已附上“{path.name}”", timeout=60000)
    page.unroute("**/evidence/uploads/**", handle)
    page.remove_listener("request", on_request)
    # One upload created; after the cut the next chunk starts at 8 MiB, not at 0.
    assert len(creations) == 1, creations
    assert offsets == [0, 8 * MIB, 8 * MIB, 16 * MIB], offsets


def _review(page, name: str, basic: str) -> None:
    grade_unit(page, GRADES[name], f"{name}材料翔实，核实属实")
    write_sub_report(page, basic, PROBLEMS.get(name, f"{name}个别材料不全。"),
                     "进一步加大帮扶力度。")


def _decide(page, unit_code: str, grade: str, reason: str) -> None:
    """The working group settles a 待定 unit's grade, with its reason, in the 待定 list."""
    pending = page.locator(f"#pending-{unit_code}")
    pending.locator("select[name=grade]").select_option(grade)
    pending.locator("input[name=reason]").fill(reason)
    pending.get_by_role("button", name="确定").click()
    expect_message(page, "已记录。")
