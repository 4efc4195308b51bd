"""Grade one round: rank, then write the reasons (``evaluate``)."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kaohe.grading.engine.ranking import _rank, _resolve_method
from kaohe.grading.engine.reasons import _ReasonWriter
from kaohe.grading.engine.results import Band, Evaluation, GradingWarning, UnitInput, UnitResult
from kaohe.grading.method import Method
from kaohe.grading.vocabulary import Grade


def evaluate(
    inputs: Iterable[UnitInput], method: Method | Mapping[str, Any] | None = None
) -> Evaluation:
    """Grade one round. ``method`` defaults to the 2017 method (DEFAULT_METHOD)."""
    method = _resolve_method(method)
    ranking = _rank(inputs, method)
    bands = ranking.bands
    band_ranges = bands.ranges()
    warnings: list[GradingWarning] = []
    n_poor = band_ranges[Band.POOR].size
    if n_poor < ranking.n_poor_nominal:
        warnings.append(
            GradingWarning(
                None,
                "bands.overlap",
                f"参加排名的单位只有{bands.n}个，较差区间（按比例应为{ranking.n_poor_nominal}个位次）"
                f"与好、较好区间重叠，重叠部分归好、较好区间，较差区间为{n_poor}个位次",
            )
        )

    writer = _ReasonWriter(ranking, band_ranges, method)
    results = []
    for p in ranking.placed:
        unit_warnings = writer.warnings(p)
        warnings.extend(unit_warnings)
        results.append(
            UnitResult(
                unit=p.unit.unit,
                category=p.unit.category,
                score=writer.public_score(p.score),
                rank=p.first,
                position=p.position,
                position_first=p.first,
                position_last=p.last,
                band=bands.band_of(p.position),
                bands=p.reached,
                grade=p.grade,
                candidates=p.candidates,
                reasons=writer.reasons(p, unit_warnings),
                tie_group=p.group,
            )
        )

    counts = dict.fromkeys(Grade, 0)
    for result in results:
        counts[result.grade] += 1
    return Evaluation(
        n=bands.n,
        n_good=bands.n_good,
        n_top=bands.n_top,
        n_poor=n_poor,
        n_poor_nominal=ranking.n_poor_nominal,
        bands=band_ranges,
        results=results,
        counts=counts,
        warnings=warnings,
    )


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block: for a program whose only work is grading
    (``kaohe evaluate``, the benchmark), which opts in. A 100,000-unit round makes about a
    million small objects, none in reference cycles; the collector would scan them over and
    over and more than double the run time. Nothing is lost: it runs when re-enabled. A library
    call never switches it off on its own: in a web process that is the process's business."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
