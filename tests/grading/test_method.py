"""The method settings: defaults, partial overrides, files, and errors that name the key."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from kaohe.grading.engine import AREA_CODES
from kaohe.grading.method import DEFAULT_METHOD, Method, MethodError, load_method_file


def test_defaults_are_the_2017_method_and_round_trip_exactly():
    method = Method.default()
    assert method.to_dict() == DEFAULT_METHOD
    assert Method.from_dict(method.to_dict()) == method
    assert method.points["good"] == 4 and method.shares["fairly_good"] == Decimal("0.30")
    assert method.tie_break == (
        "area:effectiveness",
        "area:satisfaction",
        "count_good",
        "recommended_grade",
    )
    assert (method.rounding, method.incident_cap, method.backfill) == (
        "floor",
        "fairly_good",
        False,
    )


def test_default_dict_is_json_serialisable_as_stored():
    assert json.loads(json.dumps(Method.default().to_dict())) == DEFAULT_METHOD


def test_partial_dict_overrides_key_by_key_inside_tables():
    method = Method.from_dict({"weights": {"effectiveness": 2}, "backfill": True})
    assert method.weights["effectiveness"] == 2
    assert all(method.weights[area] == 1 for area in AREA_CODES[1:])
    assert method.backfill is True
    assert method.points == Method.default().points


def test_numbers_are_exact_decimals_whether_given_as_floats_or_strings():
    method = Method.from_dict(
        {"shares": {"good": 0.1, "fairly_good": "0.3"}, "weights": {"cadres": 1.5}}
    )
    assert method.shares["good"] == Decimal("0.1")
    assert method.shares["fairly_good"] == Decimal("0.3")
    assert method.to_dict()["weights"]["cadres"] == "1.5"
    assert method.to_dict()["weights"]["leadership"] == 1


def test_incident_cap_accepts_the_chinese_label():
    assert Method.from_dict({"incident_cap": "一般"}).incident_cap == "average"


def test_json_file(tmp_path):
    path = tmp_path / "method.json"
    path.write_text(json.dumps({"rounding": "round", "shares": {"poor": 0.05}}), encoding="utf-8")
    method = load_method_file(path)
    assert method.rounding == "round"
    assert method.shares["poor"] == Decimal("0.05")
    assert method.shares["good"] == Decimal("0.10")


def test_toml_file(tmp_path):
    path = tmp_path / "method.toml"
    path.write_text(
        'rounding = "ceil"\n'
        'tie_break = ["count_poor", "area:leadership"]\n'
        "backfill = true\n"
        "[points]\ngood = 5\n"
        "[weights]\nsatisfaction = 2\n",
        encoding="utf-8",
    )
    method = load_method_file(path)
    assert method.rounding == "ceil"
    assert method.tie_break == ("count_poor", "area:leadership")
    assert method.backfill is True
    assert method.points["good"] == 5 and method.points["poor"] == 1
    assert method.weights["satisfaction"] == 2


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"points": {"excellent": 5}}, "points.excellent"),
        ({"points": {"good": "four"}}, "points.good"),
        ({"points": {"good": True}}, "points.good"),
        ({"points": {"fairly_good": 4}}, "points"),  # equal to good: not strictly decreasing
        ({"points": "4,3,2,1"}, "points"),
        ({"weights": {"leadership": -1}}, "weights.leadership"),
        ({"weights": {"effectiveness": "NaN"}}, "weights.effectiveness"),
        ({"weights": dict.fromkeys(AREA_CODES, 0)}, "weights"),
        ({"weights": {"teamwork": 1}}, "weights.teamwork"),
        ({"shares": {"good": "1.5"}}, "shares.good"),
        ({"shares": {"poor": -0.1}}, "shares.poor"),
        ({"shares": {"good": "0.4"}}, "shares.fairly_good"),  # cumulative share below good
        ({"shares": {"average": "0.5"}}, "shares.average"),
        ({"rounding": "bankers"}, "rounding"),
        ({"rounding": 1}, "rounding"),
        ({"tie_break": ["area:effectiveness", "seniority"]}, "tie_break"),
        ({"tie_break": ["area:happiness"]}, "tie_break"),
        ({"tie_break": ["count_good", "count_good"]}, "tie_break"),
        ({"tie_break": "count_good"}, "tie_break"),
        ({"incident_cap": "good"}, "incident_cap"),
        ({"incident_cap": "poor"}, "incident_cap"),
        ({"backfill": "yes"}, "backfill"),
    ],
)
def test_bad_settings_raise_method_error_naming_the_key(data, key):
    with pytest.raises(MethodError, match=re.escape(f"'{key}'")):
        Method.from_dict(data)


def test_bad_json_file_names_the_line(tmp_path):
    path = tmp_path / "method.json"
    path.write_text('{\n  "rounding": "floor",\n  oops\n}', encoding="utf-8")
    with pytest.raises(MethodError, match="line 3"):
        load_method_file(path)


def test_bad_toml_file_is_refused(tmp_path):
    path = tmp_path / "method.toml"
    path.write_text("rounding = \n", encoding="utf-8")
    with pytest.raises(MethodError, match="invalid TOML"):
        load_method_file(path)


def test_bad_value_in_a_file_names_the_key(tmp_path):
    path = tmp_path / "method.toml"
    path.write_text("[shares]\npoor = 2\n", encoding="utf-8")
    with pytest.raises(MethodError, match=re.escape("'shares.poor'")):
        load_method_file(path)


def test_method_file_must_be_json_or_toml(tmp_path):
    path = tmp_path / "method.yaml"
    path.write_text("rounding: floor\n", encoding="utf-8")
    with pytest.raises(MethodError, match=r"\.json or \.toml"):
        load_method_file(path)


def test_method_file_must_hold_a_table(tmp_path):
    path = tmp_path / "method.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(MethodError, match="mapping"):
        load_method_file(path)


def test_constructing_a_method_directly_also_validates():
    method = Method.default()
    with pytest.raises(MethodError, match="'points'"):
        Method(
            points={**method.points, "poor": Decimal(9)},
            weights=method.weights,
            shares=method.shares,
        )
