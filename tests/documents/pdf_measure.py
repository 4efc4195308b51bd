"""Measuring a PDF with pypdf: where each piece of text sits, in which font and colour, and
the filled rectangles (lines) with their colour. Millimetres from the page's top left."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from pypdf import PdfReader

PT = 25.4 / 72


@dataclass
class Glyphs:
    text: str
    x: float        # mm from the left edge, at the start of the run
    y: float        # mm from the top edge, of the baseline
    size: float     # pt, the effective size
    font: str
    colour: tuple
    angle: float = 0.0  # degrees, anticlockwise, of the text's direction on the page


@dataclass
class Rect:
    x: float
    y: float        # mm from the top, of the upper edge
    width: float
    height: float
    colour: tuple


def _mul(a, b):
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def measure(page) -> tuple[list[Glyphs], list[Rect]]:
    height = float(page.mediabox.height)
    runs: list[Glyphs] = []
    rects: list[Rect] = []
    state = {"fill": (0.0, 0.0, 0.0), "stack": [], "pending": []}

    def before(op, args, cm, tm):
        if op == b"q":
            state["stack"].append(state["fill"])
        elif op == b"Q" and state["stack"]:
            state["fill"] = state["stack"].pop()
        elif op in (b"rg", b"sc", b"scn") and len(args) == 3:
            state["fill"] = tuple(round(float(v), 2) for v in args)
        elif op == b"g" and len(args) == 1:
            state["fill"] = (round(float(args[0]), 2),) * 3
        elif op == b"re":
            x, y, w, h = (float(v) for v in args)
            x0, y0 = x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5]
            x1, y1 = ((x + w) * cm[0] + (y + h) * cm[2] + cm[4],
                      (x + w) * cm[1] + (y + h) * cm[3] + cm[5])
            state["pending"].append((min(x0, x1), max(y0, y1), abs(x1 - x0), abs(y1 - y0)))
        elif op in (b"f", b"f*", b"F", b"B", b"B*"):
            for x, top, w, h in state["pending"]:
                rects.append(Rect(x * PT, (height - top) * PT, w * PT, h * PT, state["fill"]))
            state["pending"] = []
        elif op in (b"n", b"W", b"W*", b"S"):
            state["pending"] = []

    def text(t, cm, tm, font, size):
        if not t.strip():
            return
        m = _mul(tm, cm)
        scale = (m[2] ** 2 + m[3] ** 2) ** 0.5
        name = str(font.get("/BaseFont", "")) if font else ""
        runs.append(Glyphs(t, m[4] * PT, (height - m[5]) * PT, size * scale, name,
                           state["fill"], round(math.degrees(math.atan2(m[1], m[0])), 1)))

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return runs, rects


def pages(data: bytes):
    return PdfReader(io.BytesIO(data)).pages


def lines(runs: list[Glyphs], tolerance: float = 0.8) -> list[tuple[float, str, float]]:
    """Text runs joined into lines by baseline: (y, text, x of the first run)."""
    out: list[list] = []
    for run in sorted(runs, key=lambda r: (round(r.y, 1), r.x)):
        if out and abs(out[-1][0] - run.y) < tolerance:
            out[-1][1] += run.text
        else:
            out.append([run.y, run.text, run.x])
    return [(y, text.replace("\n", ""), x) for y, text, x in out]


def is_red(colour) -> bool:
    return len(colour) == 3 and colour[0] > 0.8 and colour[1] < 0.2 and colour[2] < 0.2
