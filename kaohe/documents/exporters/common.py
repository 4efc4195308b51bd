"""Pieces several exporters share: the office's name, paragraphs from free text, grade labels."""

from kaohe.documents.officialdoc import Paragraph
from kaohe.grading.engine import GRADE_LABELS, Grade

OFFICE = "国务院扶贫开发领导小组办公室"
LEADING_GROUP = "国务院扶贫开发领导小组"
WORKING_GROUP = "中央单位定点扶贫工作成效考核工作组"
PLAN_REFERENCE = "《中央单位定点扶贫工作成效考核办法》"


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
    number = f"（{round_.document_number}）" if round_.document_number else ""
    return f"{PLAN_REFERENCE}{number}"
