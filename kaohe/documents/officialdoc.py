"""An official document as plain data, independent of Word or PDF.

Exporters build an OfficialDocument; the renderers in docx_render and pdf_render lay it out
following GB/T 9704-2012 (党政机关公文格式). Headings carry only their level: the renderers
number them 一、（一）1.（1） so that no exporter numbers by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

CHINESE_NUMERALS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (up to 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CHINESE_NUMERALS[ones]
    head = "" if tens == 1 else CHINESE_NUMERALS[tens]
    return head + "十" + (CHINESE_NUMERALS[ones] if ones else "")


def heading_label(level: int, n: int) -> str:
    """The GB/T 9704 sequence: 一、 （一） 1. （1）"""
    if level == 1:
        return f"{chinese_number(n)}、"
    if level == 2:
        return f"（{chinese_number(n)}）"
    if level == 3:
        return f"{n}."
    return f"（{n}）"


def official_date(value: date | datetime | None) -> str:
    """GB/T 9704-2012 writes dates with Arabic numerals: 2017年12月20日."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    text: str
    indent: bool = True
    bold: bool = False


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    # Relative column widths; equal when empty.
    widths: list[float] = field(default_factory=list)


@dataclass
class Figure:
    png: bytes
    caption: str
    width_mm: float = 150


@dataclass
class PageBreak:
    pass


Block = Heading | Paragraph | Table | Figure | PageBreak


@dataclass
class Annex:
    """A 附件: set on its own pages after the 落款 and before the 版记 (GB/T 9704 8), its
    label 附件N top left, its title centred on the third line; `landscape` for wide tables."""

    title: str
    blocks: list[Block]
    landscape: bool = False


def numbered(blocks):
    """Yield (block, label) with heading labels filled in; other blocks get ''."""
    counters = [0, 0, 0, 0]
    for block in blocks:
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 4)
            counters[level - 1] += 1
            for lower in range(level, 4):
                counters[lower] = 0
            yield block, heading_label(level, counters[level - 1])
        else:
            yield block, ""


@dataclass
class Mark:
    """Who made a confidential copy and when: printed on every page and in the properties."""

    maker: str
    username: str
    made_at: datetime
    export_code: str

    @property
    def text(self) -> str:
        stamp = self.made_at.strftime("%Y-%m-%d %H:%M")
        return f"{self.maker}（{self.username}）于 {stamp} 制作 · 编号 {self.export_code}"


@dataclass
class OfficialDocument:
    title: str
    blocks: list[Block]
    recipient: str = ""          # 主送机关
    issuer: str = ""             # 发文机关署名
    issued_on: date | None = None
    reference: str = ""          # 发文字号
    attachments: list[str] = field(default_factory=list)   # 附件说明
    copy_to: str = ""            # 抄送机关
    printed_by: str = ""         # 印发机关
    printed_on: date | None = None
    # 密级 or 内部 mark, top left of the first page; empty for a public document.
    classification: str = "内部资料 注意保密"
    subject: str = ""
    mark: Mark | None = None
    landscape: bool = False
    # The 版头 (GB/T 9704 7.2), set by the sign-off step; each is optional.
    # kind: "notice", "circular", "report" (文件格式) or "letter" (信函格式); "" has no 版头.
    kind: str = ""
    issuer_mark: str = ""        # 发文机关标志; empty: the issuer's name (+ "文件")
    doc_number: str = ""         # 发文字号, e.g. 国开办函〔2018〕12号
    copy_number: str = ""        # 份号, six digits
    secrecy_period: str = ""     # 保密期限, printed after the 密级 with ★
    urgency: str = ""            # 紧急程度: 特急 or 加急
    signer: str = ""             # 签发人 of a 上行文 (report)
    sealed: bool | None = None   # 加盖印章 (7.3.5.1); None: sealed when there is a 版头
    # Not signed off yet: laid out as it will be sent, its 发文字号 left blank, and marked
    # 草稿 on every page so that no copy passes for the paper itself.
    draft: bool = False
    annexes: list[Annex] = field(default_factory=list)

    @property
    def paper_kind(self) -> str:
        """The kind, or for a numbered paper without one, the kind its title names."""
        if self.kind or not self.number:
            return self.kind
        for suffix, kind in (("函", "letter"), ("报告", "report"), ("通报", "circular")):
            if self.title.endswith(suffix):
                return kind
        return "notice"

    @property
    def letter_format(self) -> bool:
        return self.paper_kind == "letter"

    @property
    def has_masthead(self) -> bool:
        return bool(self.paper_kind and (self.issuer_mark or self.issuer))

    @property
    def masthead(self) -> str:
        """The 发文机关标志: the issuer's name, followed by 文件 in the 文件格式."""
        if self.issuer_mark:
            return self.issuer_mark
        return self.issuer if self.letter_format else f"{self.issuer}文件"

    @property
    def is_sealed(self) -> bool:
        return self.has_masthead if self.sealed is None else self.sealed

    @property
    def number(self) -> str:
        return self.doc_number or self.reference

    @property
    def secrecy(self) -> str:
        """The top-left 密级 line: 秘密★1年, or the internal mark as given."""
        if self.secrecy_period and self.classification:
            return f"{self.classification}★{self.secrecy_period}"
        return self.classification

    @property
    def confidential(self) -> bool:
        return bool(self.classification)

    def numbered_blocks(self):
        """Yield (block, label) with heading labels filled in; other blocks get ''."""
        return numbered(self.blocks)

    def as_context(self) -> dict:
        """What an office-supplied Word template (docxtpl) can use."""
        sections = []
        for block, label in self.numbered_blocks():
            if isinstance(block, Heading):
                sections.append({"kind": "heading", "level": block.level, "label": label,
                                 "text": block.text})
            elif isinstance(block, Paragraph):
                sections.append({"kind": "paragraph", "text": block.text})
            elif isinstance(block, Table):
                sections.append({"kind": "table", "caption": block.caption,
                                 "headers": block.headers, "rows": block.rows})
            elif isinstance(block, Figure):
                sections.append({"kind": "figure", "caption": block.caption})
        return {
            "title": self.title,
            "recipient": self.recipient,
            "issuer": self.issuer,
            "issued_on": official_date(self.issued_on),
            "reference": self.number,
            "doc_number": self.number,
            "copy_number": self.copy_number,
            "urgency": self.urgency,
            "signer": self.signer,
            "masthead": self.masthead if self.has_masthead else "",
            "attachments": self.attachments,
            "copy_to": self.copy_to,
            "printed_by": self.printed_by,
            "printed_on": official_date(self.printed_on),
            "classification": self.classification,
            "mark": self.mark.text if self.mark else "",
            "sections": sections,
        }
