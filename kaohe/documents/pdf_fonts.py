"""The font programs of a PDF cut down to the glyphs its text uses (issue 18: letters of at
most 100 KB).

WeasyPrint subsets each face but keeps every glyph slot below the highest one used
(HarfBuzz's retain-gids) inside a whole OpenType file: a letter set in the Fandol faces
carried some 4,700 empty slots per face with their metrics (hmtx, vmtx) and CFF offsets,
about 35 KB of a 126 KB letter. ``compact_fonts``, WeasyPrint's finisher, re-subsets every
CID-keyed CFF face (Fandol, Noto CJK) to the glyphs the pages use and embeds it as bare CFF
(FontFile3 /CIDFontType0C). The text's codes are CIDs and the CFF charset keeps each glyph's
CID, so the content streams, widths and ToUnicode maps stay as they are.

Name-keyed CFF and TrueType faces (possible with the office's own fonts) address glyphs by
their index and are left as WeasyPrint wrote them.

What then remains is outlines: a FandolFang glyph is some 480 bytes of curves, which
pydyf's deflate (level 9) only brings to 385; subroutines (Adobe's tx) make the deflated
program larger, zopfli saves 1.5 % for half a second a letter. Many of the curves are traced
strokes straight within a hair: ``straighten`` draws such a curve as a line, and merges
lines, wherever the new path stays within STRAIGHT_TOLERANCE of the old one (1/1000 em:
5.6 µm at 3号, about one font unit, the grid the outlines are already rounded to). That
takes a fifth off a letter.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import defaultdict
from functools import lru_cache

logger = logging.getLogger(__name__)

_CID_NAME = re.compile(r"cid(\d+)")

# How far (in em) a path redrawn by ``straighten`` may stray from the glyph's own outline.
STRAIGHT_TOLERANCE = 0.001


def compact_fonts(_document, pdf) -> None:
    """WeasyPrint finisher: every embedded CID-keyed OpenType/CFF face to bare CFF holding only
    the glyphs used (the CIDs in the /W arrays of the fonts that use it)."""
    import pydyf  # type: ignore[import-untyped]

    programs = {obj.reference: obj for obj in pdf.objects
                if isinstance(obj, pydyf.Stream) and obj.extra.get("Subtype") == "/OpenType"}
    descriptors = {obj.reference: obj["FontFile3"] for obj in pdf.objects
                   if isinstance(obj, pydyf.Dictionary) and obj.get("FontFile3") in programs}
    used: dict[bytes, set[int]] = defaultdict(set)
    for obj in pdf.objects:
        if (isinstance(obj, pydyf.Dictionary) and obj.get("Subtype") == "/CIDFontType0"
                and obj.get("FontDescriptor") in descriptors):
            used[descriptors[obj["FontDescriptor"]]] |= widths_cids(obj.get("W", ()))
    for reference, cids in used.items():
        stream = programs[reference]
        compact = bare_cff(b"".join(stream.stream), cids)
        if compact is not None:
            stream.stream = [compact]
            stream.extra["Subtype"] = "/CIDFontType0C"


def widths_cids(widths) -> set[int]:
    """The CIDs of a /W array as WeasyPrint writes it: ``first [w1 w2 …] first [w …] …``."""
    cids: set[int] = set()
    items = list(widths)
    for first, run in zip(items[::2], items[1::2], strict=False):
        cids.update(range(int(first), int(first) + len(run)))
    return cids


def bare_cff(program: bytes, cids: set[int]) -> bytes | None:
    """The CFF of an OpenType font program with only the glyphs of ``cids`` (and .notdef),
    each keeping its CID and its outline straightened (``straight_charstring``); None when
    the program is not a CID-keyed CFF font.

    The glyphs' charstrings are taken as they are (WeasyPrint has already removed their
    subroutines), without fontTools' subsetter, which would run every one of them and
    double the time a letter takes."""
    from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]

    try:
        font = TTFont(io.BytesIO(program), recalcBBoxes=False, lazy=True)
        if "CFF " not in font:
            return None
        cff = font["CFF "].cff
        top = cff.topDictIndex[0]
        charstrings = top.CharStrings
        if not hasattr(top, "ROS") or not charstrings.charStringsAreIndexed:
            return None
        charset = list(top.charset)
        indices = [index for index, name in enumerate(charset)
                   if index == 0 or _cid(name) in cids]
        store = charstrings.charStringsIndex
        tolerance = STRAIGHT_TOLERANCE * (font["head"].unitsPerEm if "head" in font else 1000)
        store.items = [straight_charstring(store[index], tolerance) for index in indices]
        del store.file, store.offsets
        if hasattr(top, "FDSelect"):
            top.FDSelect.format = None
            top.FDSelect.gidArray = [top.FDSelect.gidArray[index] for index in indices]
        top.charset = [charset[index] for index in indices]
        charstrings.charStrings = {name: new for new, name in enumerate(top.charset)}
        top.numGlyphs = len(indices)
        out = io.BytesIO()
        cff.compile(out, font)
    except (TTLibError, KeyError, ValueError, AssertionError, IndexError) as error:
        logger.warning("font program left as it was: %s", error)
        return None
    return out.getvalue()


def _cid(name: str) -> int | None:
    found = _CID_NAME.fullmatch(name)
    return int(found.group(1)) if found else None


# The charstring operators ``straighten`` redraws: paths only. A glyph with hints, subroutine
# calls or an accent (endchar with four arguments, seac) is kept as it is.
_PATH_OPERATORS = frozenset((
    "rmoveto", "hmoveto", "vmoveto", "rlineto", "hlineto", "vlineto", "rrcurveto",
    "hhcurveto", "vvcurveto", "hvcurveto", "vhcurveto", "rcurveline", "rlinecurve", "flex",
    "hflex", "hflex1", "flex1", "endchar"))


def straight_charstring(charstring, tolerance: float):
    """The Type 2 charstring with its outline straightened (``straighten``) within
    ``tolerance`` font units; the charstring itself when it is not a plain path."""
    from fontTools.misc.psCharStrings import T2CharString  # type: ignore[import-untyped]

    if tolerance <= 0:
        return charstring
    if charstring.bytecode is None:
        charstring.compile()
    private = charstring.private
    bytecode = _straight_bytecode(charstring.bytecode, private.nominalWidthX,
                                  private.defaultWidthX, tolerance)
    if bytecode is charstring.bytecode:
        return charstring
    return T2CharString(bytecode=bytecode, private=private,
                        globalSubrs=charstring.globalSubrs)


class _Widths:
    """The part of a private dict a charstring without subroutines is drawn with."""

    Subrs: tuple = ()

    def __init__(self, nominal: float, default: float):
        self.nominalWidthX, self.defaultWidthX = nominal, default


@lru_cache(maxsize=8192)
def _straight_bytecode(bytecode: bytes, nominal: float, default: float,
                       tolerance: float) -> bytes:
    """Cached by the glyph's own bytes: the letters of a batch draw the same glyphs (a letter
    draws some 250 to 280; the demo's 310 letters 460 between them)."""
    from fontTools.misc.psCharStrings import T2CharString
    from fontTools.pens.recordingPen import RecordingPen  # type: ignore[import-untyped]
    from fontTools.pens.t2CharStringPen import T2CharStringPen  # type: ignore[import-untyped]

    charstring = T2CharString(bytecode=bytecode, private=_Widths(nominal, default),
                              globalSubrs=[])
    recording = RecordingPen()
    try:
        charstring.draw(recording)      # decompiles it too
    except (IndexError, KeyError, TypeError, ValueError):      # a subroutine call
        return bytecode
    program = charstring.program
    if not {token for token in program if isinstance(token, str)} <= _PATH_OPERATORS:
        return bytecode
    trailing = 0
    for token in reversed(program[:-1]):
        if isinstance(token, str):
            break
        trailing += 1
    if trailing >= 4:       # seac
        return bytecode
    path = straighten(recording.value, tolerance)
    if path == recording.value:
        return bytecode
    width = charstring.width
    # Coordinates as they are: no rounding beyond the tolerance.
    pen = T2CharStringPen(None if width == default else width - nominal, None,
                          roundTolerance=0)
    recording.value = path
    recording.replay(pen)
    new = pen.getCharString()
    new.compile()
    return new.bytecode


Point = tuple[float, float]


def straighten(path: list, tolerance: float) -> list:
    """A RecordingPen path with each curve that stays within ``tolerance`` of its chord drawn
    as that chord, and each run of lines that stays within ``tolerance`` of one line drawn as
    that line. Every point of the new path is within ``tolerance`` of the old one and the
    reverse: a curve lies within its deviation (``curve_deviation``) of its chord, a chord
    within its ends' distance of the merged line, and every point of a run (ends and control
    points) projects inside the merged line."""
    out: list = []
    current: Point = (0, 0)
    # The last line drawn, while more may join it: its start and the (start, end, deviation,
    # control points) of each segment it stands for.
    run: tuple[Point, list] | None = None
    for operator, points in path:
        if operator not in ("lineTo", "curveTo"):
            out.append((operator, points))
            run = None
            if operator == "moveTo":
                current = points[0]
            continue
        end = points[-1]
        deviation: float | None
        if operator == "lineTo":
            if end == current:
                continue
            deviation = 0.0
        else:
            deviation = curve_deviation(current, *points)
            if deviation is not None and deviation > tolerance:
                deviation = None
        if deviation is None:
            out.append((operator, points))
            current, run = end, None
            continue
        segment = (current, end, deviation, tuple(points[:-1]))
        if run is not None and _joins(run[0], end, [*run[1], segment], tolerance):
            out[-1] = ("lineTo", (end,))
            run[1].append(segment)
        else:
            out.append(("lineTo", (end,)))
            run = (current, [segment])
        current = end
    return out


def _joins(start: Point, end: Point, segments: list, tolerance: float) -> bool:
    if start == end:
        return False
    for first, last, deviation, controls in segments:
        d0, t0 = _offset(first, start, end)
        d1, t1 = _offset(last, start, end)
        if max(d0, d1) + deviation > tolerance or not (0 <= t0 <= 1 and 0 <= t1 <= 1):
            return False
        if not all(0 <= _offset(control, start, end)[1] <= 1 for control in controls):
            return False
    return True


def _offset(point: Point, start: Point, end: Point) -> tuple[float, float]:
    """The distance of ``point`` from the line through ``start`` and ``end`` (apart), and
    where it falls along it (0 at ``start``, 1 at ``end``)."""
    distance, along = _signed_offset(point, start, end)
    return abs(distance), along


def curve_deviation(p0: Point, p1: Point, p2: Point, p3: Point) -> float | None:
    """How far the cubic Bézier p0…p3 strays from its chord p0–p3 at most; None when it is
    not within the chord's span (a control point falls outside it) or the chord is a point.

    With s1, s2 the control points' signed distances from the chord, the curve's is
    d(t) = 3t(1-t)((1-t)s1 + t·s2), greatest where d'(t) = 0 inside (0, 1)."""
    if p0 == p3:
        return None
    s1, t1 = _signed_offset(p1, p0, p3)
    s2, t2 = _signed_offset(p2, p0, p3)
    if not (0 <= t1 <= 1 and 0 <= t2 <= 1):
        return None
    a, b, c = 3 * (s1 - s2), 2 * s2 - 4 * s1, s1
    if abs(a) < 1e-12:
        roots = [-c / b] if b else []
    else:
        discriminant = b * b - 4 * a * c
        if discriminant < 0:
            roots = []
        else:
            root = math.sqrt(discriminant)
            roots = [(-b + root) / (2 * a), (-b - root) / (2 * a)]
    return max((abs(3 * t * (1 - t) * ((1 - t) * s1 + t * s2)) for t in roots if 0 < t < 1),
               default=0.0)


def _signed_offset(point: Point, start: Point, end: Point) -> tuple[float, float]:
    dx, dy = end[0] - start[0], end[1] - start[1]
    px, py = point[0] - start[0], point[1] - start[1]
    length2 = dx * dx + dy * dy
    return (px * dy - py * dx) / math.sqrt(length2), (px * dx + py * dy) / length2
