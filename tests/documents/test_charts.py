"""The charts' CJK font, when matplotlib's cached list of fonts predates it."""

import copy

from kaohe.documents import charts


def test_a_cjk_font_installed_after_matplotlib_cached_its_fonts_is_found(monkeypatch):
    from matplotlib import font_manager

    stale = copy.copy(font_manager.fontManager)
    # The cache as built before the CJK fonts were installed.
    cjk_files = {f.fname for f in font_manager.fontManager.ttflist
                 if f.name in charts.CJK_FAMILIES}
    stale.ttflist = [f for f in font_manager.fontManager.ttflist if f.fname not in cjk_files]
    monkeypatch.setattr(font_manager, "fontManager", stale)
    assert charts._cjk_family(font_manager) in charts.CJK_FAMILIES
    assert any(f.name in charts.CJK_FAMILIES for f in stale.ttflist)
