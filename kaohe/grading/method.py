"""The comprehensive evaluation method (综合评价方法) of a round: every setting of the grading
engine that the office may change, with the 2017 defaults.

A round stores its method as this dict (JSON), and ``kaohe evaluate --method FILE`` reads the
same keys from a JSON or TOML file::

    {
      "points": {"good": 4, "fairly_good": 3, "average": 2, "poor": 1},
      "weights": {"effectiveness": 1, "leadership": 1, "cadres": 1,
                  "supervision": 1, "satisfaction": 1, "innovation": 1},
      "shares": {"good": "0.10", "fairly_good": "0.30", "poor": "0.10"},
      "rounding": "floor",
      "tie_break": ["area:effectiveness", "area:satisfaction", "count_good",
                    "recommended_grade"],
      "incident_cap": "fairly_good",
      "backfill": false
    }

- ``points``: points per area grade (好, 较好, 一般, 较差), strictly decreasing.
- ``weights``: weight per area, each >= 0, at least one > 0.
- ``shares``: ``good`` is the top share (好); ``fairly_good`` the *cumulative* top share (好 or
  较好), not below ``good``; ``poor`` the bottom share (较差 if the unit has a serious
  problem). Each between 0 and 1.
- Numbers may be integers, decimals or decimal strings ("0.10"); they are read as exact
  decimals (``Decimal(str(x))``), never as binary floats, so 0.1 x 30 is exactly 3.
- ``rounding``: how share x N becomes a number of places: ``floor``, ``round`` (half up) or
  ``ceil``.
- ``tie_break``: the keys that order units with equal scores, in turn: ``area:<area code>``
  (better grade in that area first), ``count_good`` (more 好 areas first), ``count_poor``
  (fewer 较差 areas first), ``recommended_grade`` (better provincial recommendation first; none
  counts lowest). May be empty; no key may repeat.
- ``incident_cap``: the best grade a unit with a major incident can get: ``fairly_good``
  (default) or ``average``.
- ``backfill``: whether the 好 places freed by capped units go to the next units (see
  kaohe.grading.engine).

A partial dict or file overrides the defaults key by key, also inside ``points``, ``weights``
and ``shares``: ``{"weights": {"effectiveness": 2}}`` doubles one weight and keeps the rest.
Unknown keys and bad values raise ``MethodError`` naming the key (``weights.leadership``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kaohe.grading.vocabulary import AREA_CODES, AREA_GRADES, AREA_NAMES, Grade


class MethodError(ValueError):
    """A method dict or file that cannot be used; the message names the bad key."""


GRADE_CODES: tuple[str, ...] = tuple(grade.value for grade in AREA_GRADES)
SHARE_KEYS: tuple[str, ...] = ("good", "fairly_good", "poor")
ROUNDING_MODES: tuple[str, ...] = ("floor", "round", "ceil")
TIE_BREAK_KEYS: tuple[str, ...] = (
    *(f"area:{area}" for area in AREA_CODES),
    "count_good",
    "count_poor",
    "recommended_grade",
)
CAP_GRADES: tuple[str, ...] = (Grade.FAIRLY_GOOD.value, Grade.AVERAGE.value)
TIE_BREAK_LABELS: dict[str, str] = {
    **{f"area:{area}": f"{AREA_NAMES[area]}等次" for area in AREA_CODES},
    "count_good": "「好」的项数（多者在前）",
    "count_poor": "「较差」的项数（少者在前）",
    "recommended_grade": "省级推荐等次",
}

# The 2017 defaults (docs/mission.md, "Decisions where the text is silent").
DEFAULT_METHOD: dict[str, Any] = {
    "points": {"good": 4, "fairly_good": 3, "average": 2, "poor": 1},
    "weights": {
        "effectiveness": 1,
        "leadership": 1,
        "cadres": 1,
        "supervision": 1,
        "satisfaction": 1,
        "innovation": 1,
    },
    "shares": {"good": "0.10", "fairly_good": "0.30", "poor": "0.10"},
    "rounding": "floor",
    "tie_break": ["area:effectiveness", "area:satisfaction", "count_good", "recommended_grade"],
    "incident_cap": "fairly_good",
    "backfill": False,
}
_TABLES = ("points", "weights", "shares")
_TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "points": GRADE_CODES,
    "weights": AREA_CODES,
    "shares": SHARE_KEYS,
}


def _error(key: str, problem_zh: str, problem_en: str) -> MethodError:
    return MethodError(
        f"评价方法设置「{key}」有误：{problem_zh} (method setting '{key}': {problem_en})"
    )


def _number(value: object, key: str) -> Decimal:
    not_a_number = _error(key, f"应为数字，而不是 {value!r}", f"must be a number, not {value!r}")
    # bool is an int in Python; True as a weight is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise not_a_number
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise not_a_number from None
    if not number.is_finite():
        raise _error(key, f"应为有限的数字，而不是 {value!r}", f"must be finite, not {value!r}")
    return number


def _plain(number: Decimal) -> int | str:
    """How a number is stored: an int when integral, else its exact decimal string."""
    if number == number.to_integral_value():
        return int(number)
    return str(number)


@dataclass(frozen=True)
class Method:
    """A validated method. Build it with ``from_dict`` (or ``default``); constructing it
    directly also validates, so a Method that exists is always usable."""

    points: dict[str, Decimal]
    weights: dict[str, Decimal]
    shares: dict[str, Decimal]
    rounding: str = "floor"
    tie_break: tuple[str, ...] = field(default_factory=tuple)
    incident_cap: str = Grade.FAIRLY_GOOD.value
    backfill: bool = False

    def __post_init__(self) -> None:
        for table in _TABLES:
            values = getattr(self, table)
            expected = _TABLE_KEYS[table]
            for key in values:
                if key not in expected:
                    raise _error(f"{table}.{key}", "未知的项", "unknown key")
            for key in expected:
                if key not in values:
                    raise _error(f"{table}.{key}", "缺少此项", "missing")
                if not isinstance(values[key], Decimal):
                    raise _error(f"{table}.{key}", "应为 Decimal", "must be a Decimal")

        points = [self.points[code] for code in GRADE_CODES]
        if any(better <= worse for better, worse in itertools.pairwise(points)):
            raise _error(
                "points",
                "分值须按 好 > 较好 > 一般 > 较差 严格递减",
                "points must strictly decrease from good to poor",
            )

        for area in AREA_CODES:
            if self.weights[area] < 0:
                raise _error(f"weights.{area}", "权重不能为负数", "must be >= 0")
        if not any(self.weights.values()):
            raise _error("weights", "至少一项权重须大于0", "at least one weight must be > 0")

        for key in SHARE_KEYS:
            if not 0 <= self.shares[key] <= 1:
                raise _error(f"shares.{key}", "比例须在0到1之间", "must be between 0 and 1")
        if self.shares["fairly_good"] < self.shares["good"]:
            raise _error(
                "shares.fairly_good",
                "「较好」为累计比例（含「好」），不能小于 shares.good",
                "is the cumulative top share and cannot be below shares.good",
            )

        if self.rounding not in ROUNDING_MODES:
            raise _error(
                "rounding",
                f"应为 {' / '.join(ROUNDING_MODES)}，而不是 {self.rounding!r}",
                f"must be one of {', '.join(ROUNDING_MODES)}, not {self.rounding!r}",
            )

        if not isinstance(self.tie_break, tuple):
            raise _error("tie_break", "应为列表", "must be a list")
        for key in self.tie_break:
            if key not in TIE_BREAK_KEYS:
                raise _error(
                    "tie_break",
                    f"未知的比较规则 {key!r}，可用：{', '.join(TIE_BREAK_KEYS)}",
                    f"unknown key {key!r}; known: {', '.join(TIE_BREAK_KEYS)}",
                )
        if len(set(self.tie_break)) != len(self.tie_break):
            raise _error("tie_break", "比较规则不能重复", "keys must not repeat")

        if self.incident_cap not in CAP_GRADES:
            raise _error(
                "incident_cap",
                f"应为 {' / '.join(CAP_GRADES)}，而不是 {self.incident_cap!r}",
                f"must be one of {', '.join(CAP_GRADES)}, not {self.incident_cap!r}",
            )
        if not isinstance(self.backfill, bool):
            raise _error("backfill", "应为 true 或 false", "must be true or false")

    @classmethod
    def default(cls) -> Method:
        return cls.from_dict({})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> Method:
        """A method from ``data`` laid over ``base`` (default: DEFAULT_METHOD), key by key."""
        if not isinstance(data, Mapping):
            raise MethodError("评价方法应为键值表 (the method must be a mapping of settings)")
        base = DEFAULT_METHOD if base is None else base
        for key in data:
            if key not in DEFAULT_METHOD:
                raise _error(str(key), "未知的设置项", "unknown setting")
        merged: dict[str, Any] = {**base, **data}

        tables: dict[str, dict[str, Decimal]] = {}
        for table in _TABLES:
            override = data.get(table, {})
            if not isinstance(override, Mapping):
                raise _error(table, "应为键值表", "must be a table of values")
            values = {**base[table], **override}
            for key in values:
                if key not in _TABLE_KEYS[table]:
                    raise _error(f"{table}.{key}", "未知的项", "unknown key")
            tables[table] = {key: _number(values[key], f"{table}.{key}") for key in values}

        rounding = merged["rounding"]
        if not isinstance(rounding, str):
            raise _error("rounding", "应为文字", "must be a string")
        tie_break = merged["tie_break"]
        if isinstance(tie_break, str) or not isinstance(tie_break, list | tuple):
            raise _error("tie_break", "应为列表", "must be a list")
        if not all(isinstance(key, str) for key in tie_break):
            raise _error("tie_break", "每一项应为文字", "every key must be a string")
        cap = merged["incident_cap"]
        if isinstance(cap, str):
            # Accept the Chinese label too: 较好 / 一般.
            with contextlib.suppress(ValueError):
                cap = Grade.parse(cap).value
        points, weights, shares = tables["points"], tables["weights"], tables["shares"]
        return cls(
            # In the canonical key order, so that to_dict and messages read the same every time.
            points={code: points[code] for code in GRADE_CODES if code in points},
            weights={area: weights[area] for area in AREA_CODES if area in weights},
            shares={key: shares[key] for key in SHARE_KEYS if key in shares},
            rounding=rounding.strip().lower(),
            tie_break=tuple(key.strip() for key in tie_break),
            incident_cap=cap,
            backfill=merged["backfill"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-ready); ``Method.from_dict(m.to_dict()) == m``."""
        return {
            "points": {code: _plain(self.points[code]) for code in GRADE_CODES},
            "weights": {area: _plain(self.weights[area]) for area in AREA_CODES},
            # Shares stay strings so "0.10" is stored as written.
            "shares": {key: str(self.shares[key]) for key in SHARE_KEYS},
            "rounding": self.rounding,
            "tie_break": list(self.tie_break),
            "incident_cap": self.incident_cap,
            "backfill": self.backfill,
        }


def load_method_file(path: str | Path) -> Method:
    """A method from a JSON (.json) or TOML (.toml) file, over the defaults."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise MethodError(
            f"评价方法文件应为 .json 或 .toml：{path} (method file must be .json or .toml)"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MethodError(f"找不到评价方法文件：{path} (method file not found)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MethodError(
            f"无法读取评价方法文件：{path} (cannot read method file: {exc})"
        ) from None
    try:
        # JSON floats as Decimal, not float, so "0.1" in the file stays exactly 0.1.
        data = json.loads(text, parse_float=Decimal) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise MethodError(
            f"评价方法文件格式错误：{path} 第{exc.lineno}行 "
            f"(invalid JSON in method file, line {exc.lineno}: {exc.msg})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise MethodError(
            f"评价方法文件格式错误：{path} (invalid TOML in method file: {exc})"
        ) from None
    return Method.from_dict(data)
