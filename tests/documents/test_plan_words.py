"""Every document quotes the plan's own words, taken from the round's data (issue 18).

The 2017 papers cited a 办法 that does not exist ("成效考核办法") with the 文号 of the notice
that issued the 实施方案, signed as a "成效考核工作组", paraphrased the grading rule and had
the leading group summon "有关负责同志". These tests render every registered document (every
format, as whoever is offered it) for a released round and read what it says.
"""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from kaohe.documents import exporters, services
from kaohe.documents.base import REGISTRY
from kaohe.documents.exporters.common import plan_citation
from kaohe.outcomes.services import rectification_for
from kaohe.rounds.services import load_plan_data
from kaohe.submissions.services import self_report_for
from tests.documents.test_scope_of_every_export import _text
from tests.submissions.conftest import matrix_provincial_report

WRONG = [
    "成效考核办法",
    "成效考核工作组",
    "将约谈有关负责同志",
    "约谈你单位有关负责同志",
    "一般不超过10%",
    "一般不超过20%",
    "存在严重问题的后10%",
    "未发现突出问题",
    # The plan's assessment is the 定点扶贫工作考核 (成效考核 is the provinces' own, which an
    # evidence basis may name: "本省脱贫攻坚工作成效考核排名情况").
    "定点扶贫工作成效考核",
    "定点扶贫工作成效分类考核",
]
PERSONAS = ["office", "working_group", "leading_group", "org_department", "lead_reviewer",
            "unit", "unit_b", "province"]


def _flat(text: str) -> str:
    """The text without line breaks and spaces (PDF text breaks lines mid-sentence)."""
    return re.sub(r"\s+", "", text)


# Lines a PDF page draws around the text (page numbers, the 版记's date, the maker's mark
# at the head of each page), which pypdf may read in the middle of a sentence that runs on
# to the next page; and on the first page the 发文字号 line and a draft's 草稿 box, drawn
# after the text and so read after its last line.
FURNITURE = re.compile(r"\s*(—\s*\d+\s*—|\d{4}年\d{1,2}月\d{1,2}日印发"
                       r"|.*制作\s*·\s*编号\s*K\d+|草\s*稿"
                       r"|(?:签发人：\S*\s*)?[^\s（《》]*〔\d{4}〕\s*\d*\s*号(?:\s*签发人：.*)?)\s*")
# The 发文机关标志 (the issuer's name, with 文件 in the 文件格式): drawn after the first
# page's text too, but the issuer's name also stands alone as the 署名, so only the last
# such line of the first page is the 版头's.
_ISSUERS = "|".join(re.escape(load_plan_data()[key])
                    for key in ("issuer_name", "leading_group_name"))
MASTHEAD = re.compile(rf"\s*(?:{_ISSUERS})(?:文件)?\s*")


def _document_text(data: bytes, kind: str) -> str:
    if kind != "pdf":
        return _text(data, kind)
    out = []
    for index, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        found = [line for line in page.extract_text().splitlines()
                 if not FURNITURE.fullmatch(line)]
        masthead = [i for i, line in enumerate(found) if MASTHEAD.fullmatch(line)]
        if index == 0 and masthead:
            del found[masthead[-1]]
        out += found
    return "\n".join(out)


@pytest.fixture
def documents(released, personas, world):
    """identifier -> {fmt: text} for every registered exporter, made by the first persona
    offered something (the poor unit's letter for the single letter)."""
    round_ = world["round"]
    for unit in ("unit_a", "unit_b"):
        matrix_provincial_report(world, world[unit], submitted=True)
        self_report_for(round=round_, unit=world[unit])
        rectification_for(round=round_, unit=world[unit])
    made = {}
    for identifier, cls in sorted(REGISTRY.items()):
        exporter = cls()
        for persona in PERSONAS:
            user = personas[persona]
            objects = list(exporter.objects_for(user, round_))
            if identifier == "feedback_letter":
                objects = [o for o in objects if o.unit == world["unit_b"]]
            if not objects:
                continue
            made[identifier] = {}
            for fmt in exporter.formats:
                _, rendered = services.export_now(user, exporter, objects[0], fmt,
                                                  round_=round_)
                kind = rendered.file_name.rsplit(".", 1)[1]  # a bulk document is a ZIP
                made[identifier][fmt] = _flat(_document_text(rendered.data, kind))
            break
    return made


def test_every_document_quotes_the_plan_and_none_has_the_wrong_words(documents, world):
    round_ = world["round"]
    words = load_plan_data()
    citation = _flat(plan_citation(round_))
    assert citation == ("《中央单位定点扶贫工作考核办法》和"
                        "《2017年中央单位定点扶贫工作考核实施方案》（国开办发〔2017〕59号）")
    # Every registered document was made (none left out because nobody was offered it),
    # but the credential and code letters: they issue passwords and codes and are made
    # only from the accounts pages (tests/accounts/test_bulk_accounts.py), never offered.
    assert set(documents) == set(REGISTRY) - {"credential_letters", "enrolment_code_letters"}
    expected = {
        "circular": [citation, words["summons_text"], words["leading_group_name"]],
        "feedback_letter": [citation, words["summons_text"], words["issuer_name"]],
        "feedback_letters": [citation, words["summons_text"]],
        "review_report": [citation, words["grading_rule_text"].rstrip("。"),
                          words["working_group_name"],
                          words["leading_group_name"], words["summons_text"]],
        "sub_report": [citation, words["working_group_name"]],
        "category_report": [citation, words["working_group_name"]],
        "org_department_list": [citation, words["issuer_name"]],
        "provincial_report": [citation, words["issuer_name"]],
        # The report to 党中央、国务院 and the notice to summon a 较差 unit (issue 18).
        "results_report": [citation, words["grading_rule_text"].rstrip("。"),
                           words["summons_text"], words["leading_group_name"],
                           words["working_group_name"], words["issuer_name"]],
        "summons_notice": [citation, words["summons_text"], words["leading_group_name"],
                           words["issuer_name"]],
    }
    for identifier, texts in documents.items():
        for fmt, text in texts.items():
            for wrong in WRONG:
                assert wrong not in text, (identifier, fmt, wrong)
            if "考核办法" in text or "实施方案》" in text:
                assert citation in text, (identifier, fmt)  # cited, then cited whole
            if fmt == "xlsx":
                continue
            for phrase in expected.get(identifier, []):
                assert _flat(phrase) in text, (identifier, fmt, phrase)


def test_the_sub_report_never_says_none_found_above_a_list_of_problems(documents):
    for text in documents["sub_report"].values():
        assert "未发现" not in text
        # The plan's three parts of a report, in its order.
        parts = [text.index(part) for part in ("考核基本情况", "突出问题与不足", "意见与建议")]
        assert parts == sorted(parts)


def test_documents_follow_the_round_when_the_office_changes_its_words(released, personas,
                                                                      world):
    """Words come from the round: a changed summons sentence is what the letter says."""
    round_ = world["round"]
    round_.summons_text = "对考核结果为较差等次的单位，由牵头部门约谈分管负责同志（测试）。"
    round_.working_group_name = "测试考核工作组"
    round_.save()
    exporter = REGISTRY["circular"]()
    _, rendered = services.export_now(personas["office"], exporter, round_, "pdf",
                                      round_=round_)
    assert "由牵头部门约谈分管负责同志（测试）" in _flat(_document_text(rendered.data, "pdf"))
    exporter = REGISTRY["review_report"]()
    obj = exporter.objects_for(personas["office"], round_)[0]
    _, rendered = services.export_now(personas["office"], exporter, obj, "docx", round_=round_)
    assert "测试考核工作组" in _flat(_text(rendered.data, "docx"))


def _plan_phrases() -> list[str]:
    words = load_plan_data()
    phrases = [words[key] for key in ("measures_title", "issuer_name", "leading_group_name",
                                      "working_group_name", "plan_title", "document_number")]
    # Each clause of the plan's sentences, so that a retyped fragment is caught as well.
    for key in ("grading_rule_text", "summons_text", "major_incident_text"):
        phrases += [part for part in re.split(r"[，,。]", words[key]) if len(part) >= 6]
    phrases += ["定点扶贫工作成效考核", "成效分类考核", "国务院扶贫办"]
    return phrases


def test_no_exporter_types_the_plans_words():
    folder = Path(exporters.__file__).parent
    sources = sorted(folder.glob("*.py"))
    assert len(sources) >= 5
    for path in sources:
        source = path.read_text(encoding="utf-8")
        for phrase in _plan_phrases():
            assert phrase not in source, (path.name, phrase)


def test_the_engine_does_not_type_the_plans_sentences():
    from kaohe.grading import engine

    # The engine is a package: every module of it.
    modules = Path(engine.__file__).parent.glob("*.py")
    source = "".join(p.read_text(encoding="utf-8") for p in modules)
    words = load_plan_data()
    for key in ("grading_rule_text", "major_incident_text"):
        for part in re.split(r"[，,。]", words[key]):
            if len(part) >= 8:
                assert part not in source, part


def test_the_new_papers_name_their_recipients_and_the_person_summoned(documents, world):
    report = documents["results_report"]["pdf"]
    assert "党中央、国务院" in report and "特此报告" in report
    notice = documents["summons_notice"]["docx"]
    # To the lead department of the 较差 unit, to summon its 分管负责同志.
    assert world["lead_b"].name in notice
    assert f"约谈{world['unit_b'].name}分管负责同志" in notice
    assert "帮扶资金到位慢" in notice  # the problems fed back to the unit


def _plan_sentences() -> list[str]:
    """Each clause of the plan's sentences (grading rule, summons, major incidents)."""
    words = load_plan_data()
    return [part for key in ("grading_rule_text", "summons_text", "major_incident_text")
            for part in re.split(r"[，,。；;]", words[key]) if len(part) >= 6]


def test_no_page_or_module_types_the_plans_sentences():
    """Pages quote the round's words as well: a sentence retyped in a template (or in any
    module) would not follow the office's edit for a new year."""
    package = Path(exporters.__file__).parents[2]
    sources = [p for p in sorted(package.rglob("*"))
               if p.suffix in (".html", ".txt", ".py")
               and "migrations" not in p.parts and "locale" not in p.parts]
    assert any(p.name == "summons.html" for p in sources)
    for path in sources:
        source = _flat(path.read_text(encoding="utf-8"))
        for clause in _plan_sentences():
            assert _flat(clause) not in source, (str(path.relative_to(package)), clause)


def test_the_summons_page_quotes_the_rounds_summons_sentence(released, personas, world,
                                                             client):
    from django.urls import reverse

    round_ = world["round"]
    for persona in ("office", "leading_group"):
        client.force_login(personas[persona])
        page = _flat(client.get(reverse("outcomes:summons")).content.decode())
        assert _flat(round_.summons_text) in page, persona
    round_.summons_text = "对考核结果为较差等次的单位，由牵头部门约谈分管负责同志（测试）。"
    round_.save()
    page = _flat(client.get(reverse("outcomes:summons")).content.decode())
    assert "由牵头部门约谈分管负责同志（测试）" in page
    assert "经报党中央、国务院同意" not in page
