"""Time the grading engine (no Django): a 310-unit round and a 100,000-unit round.

    python bench/bench_grading.py [OUTPUT.json]

Prints {"P4": {"n310_ms": ..., "n100000_s": ..., "targets": {...}, "met": {...}}} and, given
a path, writes the same JSON there. Each figure is the best of several runs, so that a
momentarily busy machine does not count against the engine.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kaohe.grading.engine import AREA_CODES, AREA_GRADES, UnitInput, evaluate, no_gc_pauses
from kaohe.grading.method import Method

TARGETS = {"n310_ms": 20.0, "n100000_s": 3.0}


def synthetic_round(n: int, seed: int) -> list[UnitInput]:
    """Realistic enough: mostly 较好/一般, some problems, a few incidents and recommendations."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    weights = (3, 5, 4, 1)  # 好, 较好, 一般, 较差
    units = []
    for index in range(n):
        units.append(
            UnitInput(
                unit=f"单位{index:06d}",
                grades={area: rng.choices(AREA_GRADES, weights=weights)[0] for area in AREA_CODES},
                serious_problems=("定点扶贫县未完成年度脱贫攻坚任务",)
                if rng.random() < 0.08
                else (),
                major_incident=rng.random() < 0.02,
                recommended_grade=rng.choice(AREA_GRADES) if rng.random() < 0.7 else None,
                category=rng.choice(("机关", "高校", "企业", "金融", "民主党派", "统战")),
            )
        )
    return units


def best_of(runs: int, units: list[UnitInput], method: Method) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        with no_gc_pauses():  # as `kaohe evaluate` runs it
            evaluate(units, method)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    method = Method.default()
    small = synthetic_round(310, seed=2017)
    large = synthetic_round(100_000, seed=2018)
    n310_ms = best_of(30, small, method) * 1000
    n100000_s = best_of(5, large, method)
    report = {
        "P4": {
            "n310_ms": round(n310_ms, 3),
            "n100000_s": round(n100000_s, 3),
            "targets": TARGETS,
            "met": {
                "n310_ms": n310_ms < TARGETS["n310_ms"],
                "n100000_s": n100000_s < TARGETS["n100000_s"],
            },
        }
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
