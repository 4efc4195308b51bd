"""Charts for documents, drawn with matplotlib (no browser, no network) with a CJK font."""

from __future__ import annotations

import io
from functools import cache

# The installed CJK fonts to draw Chinese labels with, in order of preference.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "SimHei")


@cache
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    family = _cjk_family(font_manager)
    if family:
        pyplot.rcParams["font.family"] = [family]
    pyplot.rcParams["axes.unicode_minus"] = False
    return pyplot


def _cjk_family(font_manager) -> str | None:
    """The first of CJK_FAMILIES matplotlib knows. Its list of fonts is cached on disk
    (~/.cache/matplotlib) when first built: a CJK font installed afterwards (by `make setup`,
    or an administrator) is missing from it, so the system's fonts it has not seen are added
    before giving up."""
    def known() -> str | None:
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FAMILIES if name in installed), None)

    if (family := known()) is None:
        seen = {font.fname for font in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in seen:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # a file FreeType cannot read is not a font to draw with
        family = known()
    return family


def stacked_bars(categories: list[str], series: dict[str, list[int]], title: str) -> bytes:
    """A horizontal stacked bar per category (grade counts), as PNG bytes."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(7.5, 0.5 * len(categories) + 1.6), dpi=150)
    colours = ["#2e7d32", "#66bb6a", "#90a4ae", "#e53935", "#ffb300"]
    left = [0] * len(categories)
    # The categories' names exactly as they are (中央企业, not 企业); a long one on two lines.
    labels = [c if len(c) <= 8 else f"{c[:len(c) // 2]}\n{c[len(c) // 2:]}"
              for c in categories]
    totals = [sum(values) for values in zip(*series.values(), strict=True)] or [0]
    # A count is written inside its segment only where it fits; the table beside the chart
    # has every count, and each bar ends with its total.
    room = max(totals) * 0.045
    for (name, values), colour in zip(series.items(), colours, strict=False):
        axes.barh(labels, values, left=left, label=name, color=colour)
        for index, value in enumerate(values):
            if value and value >= room:
                axes.text(left[index] + value / 2, index, str(value), ha="center",
                          va="center", fontsize=8, color="white")
        left = [a + b for a, b in zip(left, values, strict=True)]
    for index, total in enumerate(left):
        axes.text(total + max(totals) * 0.01, index, str(total), ha="left", va="center",
                  fontsize=8)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=11)
    axes.set_xlabel("单位数")
    axes.legend(ncol=len(series), loc="lower center", bbox_to_anchor=(0.5, -0.45 if len(
        categories) < 5 else -0.25), frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()
