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
"""

from __future__ import annotations

import io
import logging
import re
from collections import defaultdict

logger = logging.getLogger(__name__)

_CID_NAME = re.compile(r"cid(\d+)")


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
    each keeping its CID; None when the program is not a CID-keyed CFF font.

    The glyphs' charstrings are copied as they are (WeasyPrint has already removed their
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
        store.items = [store[index] for index in indices]
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
