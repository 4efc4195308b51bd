"""Word and PDF reports: a unit's self-assessment report with its evidence list, a lead
department's sub-report on one unit and its category report. Content, GB/T 9704 page set-up,
the maker's mark, and scope (grades never reach units or provinces)."""

import io

import pytest
from django.http import Http404
from django.utils import timezone
from docx import Document
from pypdf import PdfReader

from kaohe.documents import services
from kaohe.documents.base import get_exporter
from kaohe.documents.models import Export
from kaohe.evidence.models import EvidenceKind
from kaohe.reviews import services as reviews
from kaohe.reviews.models import (
    AreaGrade,
    CategorySubmissionStatus,
    FindingSource,
    ReviewMethod,
)
from kaohe.rounds.models import Grade
from kaohe.submissions import services as submissions
from tests.reviews.conftest import all_grades, fresh, second_unit_a, write_category_report
from tests.submissions.conftest import indicator, make_evidence

OPEN_DAY = "2017-12-15"


@pytest.fixture(autouse=True)
def _reports_open(settings):
    settings.KAOHE_TODAY = OPEN_DAY


def _docx(data: bytes):
    return Document(io.BytesIO(data))


def _text(document) -> str:
    # A title broken between words (GB/T 9704 7.3.1) holds a line break: the text is one.
    parts = [p.text.replace("\n", "") for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _header_text(document) -> str:
    return "\n".join(p.text for section in document.sections for p in section.header.paragraphs)


def _pdf(data: bytes):
    """The reader and the text of every page, lines joined (titles and cells wrap)."""
    reader = PdfReader(io.BytesIO(data))
    return reader, "".join(page.extract_text().replace("\n", "") for page in reader.pages)


def _export(user, identifier, obj, fmt, round_):
    export, rendered = services.export_now(user, get_exporter(identifier), obj, fmt,
                                           round_=round_)
    return export, rendered.data


def _assert_gbt9704_page(document):
    section = document.sections[0]
    # Word stores twips: compare in whole millimetres.
    assert [round(length.mm) for length in (
        section.page_width, section.page_height, section.top_margin, section.bottom_margin,
        section.left_margin, section.right_margin)] == [210, 297, 37, 35, 28, 26]


def _assert_marked(document, user, export: Export):
    header = _header_text(document)
    assert user.username in header and export.code in header
    props = document.core_properties
    assert props.keywords == f"{export.code};{user.username}"
    assert export.code in props.comments and props.last_modified_by == user.username


def _assert_pdf_is_a4_and_marked(reader, text, user, export):
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert export.code in text and user.username in text
    assert export.code in reader.metadata.get("/Keywords", "")


# Self-assessment report --------------------------------------------------------------------------


@pytest.fixture
def self_report(world, personas):
    """unit_a's report, submitted once: a summary, texts, a file, a link, a per-county text."""
    round_, user = world["round"], personas["unit"]
    report = submissions.self_report_for(round=round_, unit=world["unit_a"])
    plan = indicator(round_, 4)
    visit = indicator(round_, 3)  # judged per paired county
    assert visit.per_county
    slots = {s.indicator.number: s for s in submissions.self_report_slots(report)}
    submissions.self_report_save(
        report=report, actor=user, revision=report.revision,
        summary="本年度投入帮扶资金三千万元。\n引进企业五家。",
        answers={slots[4].key: "印发年度定点扶贫工作计划。",
                 slots[3].key: "主要负责同志赴县调研两次。"})
    requirement = plan.evidence_requirements.first()
    file = make_evidence(unit=world["unit_a"], user=user, round=round_,
                         name="年度帮扶计划.pdf")
    link = make_evidence(unit=world["unit_a"], user=user, round=round_, name="新闻报道",
                         kind=EvidenceKind.LINK)
    submissions.self_report_attach(report=report, actor=user, indicator=plan,
                                   requirement=requirement, county=None, evidence=file)
    submissions.self_report_attach(report=report, actor=user, indicator=plan, requirement=None,
                                   county=None, evidence=link)
    report.refresh_from_db()
    submissions.self_report_submit(report=report, actor=user, revision=report.revision,
                                   confirm_gaps=True)
    report.refresh_from_db()
    return {"report": report, "file": file, "link": link, "requirement": requirement,
            "county": world["county_a"]}


def test_self_report_has_answers_per_county_texts_and_the_evidence_list(world, personas,
                                                                        self_report):
    user, report = personas["unit"], self_report["report"]
    export, data = _export(user, "self_report", report, "docx", world["round"])
    document = _docx(data)
    text = _text(document)
    assert "测试单位甲2017年度定点扶贫工作成效自评报告" in text
    status = next(p.text for p in document.paragraphs if p.text.startswith("报告状态"))
    submitted = timezone.localtime(report.submitted_at)
    assert status == (f"报告状态：已提交；提交时间：{submitted.year}年{submitted.month}月"
                      f"{submitted.day}日{submitted.hour}时{submitted:%M}分；版本：第1版。")
    assert "本年度投入帮扶资金三千万元。" in text and "引进企业五家。" in text
    assert "印发年度定点扶贫工作计划。" in text
    # The per-county indicator shows its county as a numbered heading, with the county's text.
    county = self_report["county"].name
    assert f"1.{county}" in [p.text for p in document.paragraphs]
    assert "主要负责同志赴县调研两次。" in text
    assert "二、帮扶成效" in text and "五、督促检查" in text and "八、佐证材料清单" in text
    rows = _table_rows(document.tables[-1])
    assert rows[0] == ["序号", "指标", "文件名或链接", "大小", "SHA-256（前12位）", "上传时间"]
    file, link = self_report["file"], self_report["link"]
    assert rows[1][0] == "1" and rows[1][2] == "年度帮扶计划.pdf"
    assert rows[1][1] == f"指标4·{self_report['requirement'].name}"
    assert rows[1][3] == f"{file.size} B" and rows[1][4] == file.sha256[:12]
    assert rows[2][2] == f"新闻报道（{link.url}）" and rows[2][4] == "—"
    paragraphs = [p.text for p in document.paragraphs]
    assert "（佐证材料见清单第1—2项；尚缺：年度工作总结；会议纪要。）" in paragraphs
    assert "（尚缺：落实具体工作机构和责任人的相关文件。）" in paragraphs
    # The gaps the unit confirmed on submitting are counted at the end.
    gaps = len(report.gaps)
    assert gaps > 0
    assert f"本单位提交时确认缺少{gaps}项内容或材料，已在各指标下以“尚缺”注明。" in paragraphs
    # County-sourced indicators ask the unit only for remarks.
    assert "数据来源：定点扶贫县提供。" in paragraphs and "（无补充说明。）" in paragraphs
    _assert_gbt9704_page(document)
    _assert_marked(document, user, export)


def test_a_draft_self_report_says_so(world, personas):
    report = submissions.self_report_for(round=world["round"], unit=world["unit_a"])
    document = _docx(get_exporter("self_report").render("docx", report, None).data)
    assert "报告状态：填报中，尚未提交；本文件为草稿。" in _text(document)
    assert "本报告未附佐证材料。" in _text(document)


def test_self_report_pdf_is_a4_with_the_mark(world, personas, self_report):
    user = personas["lead_reviewer"]  # the lead department reads a submitted report
    exporter = get_exporter("self_report")
    report = exporter.get_object(user, world["round"], str(self_report["report"].pk))
    export, data = _export(user, "self_report", report, "pdf", world["round"])
    reader, text = _pdf(data)
    _assert_pdf_is_a4_and_marked(reader, text, user, export)
    assert "测试单位甲" in text and "年度帮扶计划.pdf" in text
    assert export.file_name == "自评报告-测试单位甲.pdf"


def test_self_report_scope(world, personas, self_report):
    exporter, round_ = get_exporter("self_report"), world["round"]
    key = str(self_report["report"].pk)
    for persona in ("unit", "lead_reviewer", "office", "working_group"):
        assert exporter.get_object(personas[persona], round_, key) == self_report["report"]
    for persona in ("unit_b", "lead_reviewer_b", "province", "province_b", "military_inspector",
                    "org_department", "auditor", "system_admin"):
        with pytest.raises(Http404):
            exporter.get_object(personas[persona], round_, key)
        assert self_report["report"] not in list(exporter.objects_for(personas[persona], round_))
    with pytest.raises(Http404):
        exporter.get_object(personas["unit"], round_, "not-a-number")
    # A returned report is back with its unit: the lead department no longer gets it.
    submissions.self_report_return(report=self_report["report"], actor=personas["lead_reviewer"],
                                   reason="材料不全")
    with pytest.raises(Http404):
        exporter.get_object(personas["lead_reviewer"], round_, key)
    report = exporter.get_object(personas["unit"], round_, key)
    assert "退回原因：材料不全" in _text(_docx(exporter.render("docx", report, None).data))


# Sub-report -------------------------------------------------------------------------------------


@pytest.fixture
def review_a(world, personas):
    """unit_a reviewed by its lead department: graded, a sub-report, an activity, findings."""
    round_, actor = world["round"], personas["lead_reviewer"]
    review = reviews.review_for(round=round_, unit=world["unit_a"])
    grades = all_grades(Grade.FAIRLY_GOOD, "材料齐全")
    grades["innovation"] = (Grade.GOOD, "创新消费扶贫模式")
    reviews.area_grades_save(review=review, actor=actor, revision=fresh(review).revision,
                             grades=grades)
    reviews.sub_report_save(review=review, actor=actor, revision=fresh(review).revision,
                            basic_situation="考核组审阅了书面材料。",
                            problems="干部选派不够稳定。\n资金拨付偏慢。",
                            suggestions="加强挂职干部管理。")
    reviews.activity_add(review=fresh(review), actor=actor, method=ReviewMethod.DISCUSSION,
                         held_on="2018-01-05", people="张三、李四", note="座谈了解帮扶情况。")
    reviews.serious_problem_add(round=round_, unit=world["unit_a"], actor=actor,
                                kind=round_.problem_kinds.get(code="neglect"),
                                county=world["county_a"], description="帮扶工作流于形式",
                                source=FindingSource.REVIEWER)
    reviews.major_incident_add(round=round_, unit=world["unit_a"], actor=actor,
                               county=world["county_a"], description="发生冒领扶贫资金事件",
                               source=FindingSource.REVIEWER)
    return fresh(review)


def test_sub_report_has_the_six_grades_with_reasons_findings_and_texts(world, personas,
                                                                       review_a):
    user = personas["lead_reviewer"]
    export, data = _export(user, "sub_report", review_a, "docx", world["round"])
    document = _docx(data)
    text = _text(document)
    paragraphs = [p.text.replace("\n", "") for p in document.paragraphs]
    assert "测试单位甲2017年度定点扶贫工作考核子报告" in paragraphs
    assert "中央单位定点扶贫考核工作组：" in paragraphs  # the plan's name, from the round
    assert world["lead_a"].name in paragraphs  # the issuer
    # The plan's parts of a report; the findings recorded belong to 突出问题与不足.
    for heading in ("一、考核基本情况", "二、各项考核内容等次", "三、突出问题与不足",
                    "四、意见与建议"):
        assert heading in paragraphs
    assert "考核中记录的突出问题和重大涉贫事件如下：" in paragraphs
    grades = _table_rows(document.tables[0])
    assert grades[0] == ["考核内容", "等次", "评定理由"]
    assert [row[0] for row in grades[1:]] == ["帮扶成效", "组织领导", "选派干部", "督促检查",
                                             "基层满意情况", "工作创新"]
    assert grades[2][1:] == ["较好", "leadership：材料齐全"]
    assert grades[6][1:] == ["好", "创新消费扶贫模式"]
    findings = _table_rows(document.tables[1])
    kind = world["round"].problem_kinds.get(code="neglect").name
    assert ["突出问题", world["county_a"].name, f"{kind}：帮扶工作流于形式", "牵头部门"] in findings
    assert any(row[0] == "重大涉贫事件" and "冒领扶贫资金" in row[2] for row in findings)
    assert "考核组审阅了书面材料。" in text and "资金拨付偏慢。" in text
    assert "加强挂职干部管理。" in text and "张三、李四" in text
    _assert_gbt9704_page(document)
    _assert_marked(document, user, export)


def test_sub_report_pdf(world, personas, review_a):
    user = personas["working_group"]
    export, data = _export(user, "sub_report", review_a, "pdf", world["round"])
    reader, text = _pdf(data)
    _assert_pdf_is_a4_and_marked(reader, text, user, export)
    assert "考核子报告" in text and "创新消费扶贫模式" in text


def test_sub_report_scope_grades_never_reach_units_or_provinces(world, personas, review_a):
    exporter, round_ = get_exporter("sub_report"), world["round"]
    review_b = reviews.review_for(round=round_, unit=world["unit_b"])
    key = str(review_a.pk)
    for persona in ("lead_reviewer", "office", "working_group", "leading_group"):
        assert exporter.get_object(personas[persona], round_, key) == review_a
    assert list(exporter.objects_for(personas["lead_reviewer"], round_)) == [review_a]
    assert set(exporter.objects_for(personas["office"], round_)) == {review_a, review_b}
    # Another lead department, and everyone outside the review.
    for persona in ("lead_reviewer_b", "unit", "unit_b", "province", "province_b",
                    "org_department", "military_inspector", "auditor"):
        with pytest.raises(Http404):
            exporter.get_object(personas[persona], round_, key)
        assert review_a not in list(exporter.objects_for(personas[persona], round_))
    for persona in ("unit", "unit_b", "province", "province_b"):
        assert not list(exporter.objects_for(personas[persona], round_))
        assert not list(get_exporter("category_report").objects_for(personas[persona], round_))


# Category report ----------------------------------------------------------------------------------


@pytest.fixture
def category_a(world, personas, review_a):
    """Category A with two units: unit_a graded (review_a), 测试单位丙 not yet graded."""
    second_unit_a(world)
    submission = reviews.category_submission_for(round=world["round"],
                                                 lead_department=world["lead_a"])
    write_category_report(submission, personas["lead_reviewer"], text="本类别总体较好")
    submission.refresh_from_db()
    return submission


def test_category_report_before_submission_shows_the_live_grades(world, personas, category_a):
    user = personas["lead_reviewer"]
    export, data = _export(user, "category_report", category_a, "docx", world["round"])
    document = _docx(data)
    text = _text(document)
    assert f"{world['lead_a'].name}2017年度中央单位定点扶贫工作分类考核报告" in text
    assert "报送状态：考核中。" in text and "共2家中央单位" in text
    assert "概况：本类别总体较好" in text and "问题：本类别总体较好" in text
    assert "建议：本类别总体较好" in text and "尚未报送考核工作组" in text
    rows = _table_rows(document.tables[0])
    assert rows[0][:3] == ["序号", "单位", "帮扶成效"] and len(rows[0]) == 8
    assert rows[1] == ["1", "测试单位甲", "较好", "较好", "较好", "较好", "较好", "好"]
    assert rows[2] == ["2", "测试单位丙", "—", "—", "—", "—", "—", "—"]
    findings = _table_rows(document.tables[1])
    assert {row[0] for row in findings[1:]} == {"测试单位甲"}
    _assert_gbt9704_page(document)
    _assert_marked(document, user, export)


def test_category_report_after_submission_shows_the_grades_as_submitted(world, personas,
                                                                        category_a):
    from tests.reviews.conftest import complete_review

    actor = personas["lead_reviewer"]
    complete_review(world["round"], category_a.lead_department.categories.first().units.get(
        code="A002"), actor, Grade.AVERAGE)
    submission = reviews.category_submit(submission=category_a, actor=actor)
    assert submission.status == CategorySubmissionStatus.SUBMITTED
    # A later change in the database is not what the working group received.
    AreaGrade.objects.filter(review__unit=world["unit_a"]).update(grade=Grade.POOR)
    exporter = get_exporter("category_report")
    document = _docx(exporter.render("docx", submission, None).data)
    rows = _table_rows(document.tables[0])
    assert rows[1] == ["1", "测试单位甲", "较好", "较好", "较好", "较好", "较好", "好"]
    assert rows[2] == ["2", "测试单位丙", *(["一般"] * 6)]
    text = _text(document)
    assert "已报送考核工作组（报送时间：" in text and "报送考核工作组时的初步考核结果" in text


def test_category_report_pdf(world, personas, category_a):
    user = personas["office"]
    export, data = _export(user, "category_report", category_a, "pdf", world["round"])
    reader, text = _pdf(data)
    _assert_pdf_is_a4_and_marked(reader, text, user, export)
    assert "分类考核报告" in text and "测试单位丙" in text


def test_a_lead_department_gets_only_its_own_category_report(world, personas, category_a):
    exporter, round_ = get_exporter("category_report"), world["round"]
    other = reviews.category_submission_for(round=round_, lead_department=world["lead_b"])
    key = str(category_a.pk)
    assert list(exporter.objects_for(personas["lead_reviewer"], round_)) == [category_a]
    assert list(exporter.objects_for(personas["lead_reviewer_b"], round_)) == [other]
    assert set(exporter.objects_for(personas["working_group"], round_)) == {category_a, other}
    assert exporter.get_object(personas["leading_group"], round_, key) == category_a
    for persona in ("lead_reviewer_b", "unit", "unit_b", "province", "province_b",
                    "org_department", "military_inspector", "auditor"):
        with pytest.raises(Http404):
            exporter.get_object(personas[persona], round_, key)

