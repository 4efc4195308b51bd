"""Pieces several exporters share: the plan's words of a round (its citation, the issuer's
and the groups' names, the grading rule and the summons sentence), paragraphs from free text,
grade labels.

The plan's words are round data (kaohe.rounds.data, editable by the office with the scheme);
exporters take them from here and never type them.
"""

from kaohe.documents.officialdoc import Paragraph
from kaohe.grading.engine import GRADE_LABELS, Grade


def grade_label(code: str) -> str:
    try:
        return GRADE_LABELS[Grade(code)]
    except ValueError:
        return code


def paragraphs(text: str, empty: str = "无。") -> list[Paragraph]:
    """One paragraph per non-empty line of a text field."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return [Paragraph(line) for line in lines] or [Paragraph(empty)]


def plan_citation(round_) -> str:
    """The documents a round's papers cite: the 办法 and the year's 实施方案 followed by the
    文号 of the notice that issued it, all from the round's data."""
    number = f"（{round_.document_number}）" if round_.document_number else ""
    plan = f"《{round_.plan_title}》{number}" if round_.plan_title else ""
    measures = f"《{round_.measures_title}》" if round_.measures_title else ""
    return "和".join(part for part in (measures, plan) if part)


def office_name(round_) -> str:
    """The issuer of the office's papers (the 发文机关 of the round's plan)."""
    return round_.issuer_name


def leading_group_name(round_) -> str:
    return round_.leading_group_name


def working_group_name(round_) -> str:
    return round_.working_group_name


def grading_rule(round_) -> str:
    """The plan's sentence on how grades follow the ranking, quoted as written."""
    return round_.grading_rule_text


def summons_rule(round_) -> str:
    """The plan's sentence on who summons a unit graded 较差, quoted as written."""
    return round_.summons_text
