"""Every audit action code has Chinese words, and the auditor reads them (issue 16, item 7)."""

import ast
import csv
import io
import re
from pathlib import Path

from django.urls import reverse

from kaohe.audit.labels import ACTION_LABELS, action_label
from kaohe.audit.services import log_action

SOURCE = Path(__file__).resolve().parents[2] / "kaohe"
# Expressions that name no code themselves: the callers pass the code as a literal
# ``action=`` keyword, which the scan collects.
PASSED_THROUGH = {("evidence/views.py", "action")}


def _module_constants(trees) -> dict[str, str]:
    """NAME -> string of every module-level ``NAME = "…"`` in the package."""
    constants = {}
    for tree in trees.values():
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = node.value.value
    return constants


def _codes(expr, constants) -> tuple[set[str], set[str], bool]:
    """(codes, f-string patterns, resolved) of an expression passed as an action."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}, set(), True
    if isinstance(expr, ast.IfExp):
        a, pa, ra = _codes(expr.body, constants)
        b, pb, rb = _codes(expr.orelse, constants)
        return a | b, pa | pb, ra and rb
    if isinstance(expr, ast.JoinedStr):
        pattern = "".join(re.escape(part.value) if isinstance(part, ast.Constant)
                          else "[a-z_]+" for part in expr.values)
        return set(), {pattern}, True
    name = (expr.id if isinstance(expr, ast.Name)
            else expr.attr if isinstance(expr, ast.Attribute) else None)
    if name in constants:
        return {constants[name]}, set(), True
    return set(), set(), False


def recorded_actions() -> tuple[set[str], set[str], list[tuple[str, str]]]:
    """Every action code the source records: the first argument of ``log_action`` (or its
    ``action=``) and every dotted code given as ``action=`` to any call (an entry built by
    hand, a view helper that logs what it is told)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8"))
             for path in SOURCE.rglob("*.py") if "migrations" not in path.parts}
    constants = _module_constants(trees)
    codes, patterns, unresolved = set(), set(), []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (func.id if isinstance(func, ast.Name)
                    else func.attr if isinstance(func, ast.Attribute) else None)
            keyword = next((k.value for k in node.keywords if k.arg == "action"), None)
            if name == "log_action":
                expr = node.args[0] if node.args else keyword
            elif keyword is not None and any("." in code
                                             for code in _codes(keyword, constants)[0]):
                expr = keyword  # a dotted code given as action=, to log or to store
            else:
                continue
            found, found_patterns, resolved = _codes(expr, constants)
            codes |= found
            patterns |= found_patterns
            where = (str(path.relative_to(SOURCE)), ast.unparse(expr))
            if not resolved and where not in PASSED_THROUGH:
                unresolved.append(where)
    return codes, patterns, unresolved


def test_every_action_code_recorded_in_the_source_has_a_label():
    codes, patterns, unresolved = recorded_actions()
    assert not unresolved, f"action codes the scan cannot read: {unresolved}"
    assert len(codes) > 100  # the scan reads the source, not nothing
    assert {"grading.result_set.seal_broken", "evidence.downloaded",
            "audit.anchor.written", "audit.chain.keyed"} <= codes
    assert sorted(codes - set(ACTION_LABELS)) == []
    for pattern in patterns:
        assert any(re.fullmatch(pattern, code) for code in ACTION_LABELS), pattern


def test_every_result_set_event_has_a_label():
    from kaohe.grading.services import lifecycle

    for event in lifecycle._EVENTS.values():
        assert f"grading.result_set.{event}" in ACTION_LABELS


def test_labels_are_chinese_and_unknown_codes_stay_readable():
    for code, label in ACTION_LABELS.items():
        assert re.search(r"[\u4e00-\u9fff]", str(label)), code
    assert action_label("grading.result_set.seal_broken") == "等次建议与封存校验值不符"
    assert action_label("some.old.code") == "some.old.code"


def test_the_auditor_page_and_export_show_the_label_beside_the_code(personas, client):
    log_action("grading.result_set.seal_broken", actor=personas["working_group"],
               success=False)
    client.force_login(personas["auditor"])
    page = client.get(reverse("audit:list")).content.decode()
    assert "等次建议与封存校验值不符" in page
    assert "<code class=\"small text-muted\">grading.result_set.seal_broken</code>" in page
    response = client.get(reverse("audit:export"))
    rows = list(csv.reader(io.StringIO(
        b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][5] == "操作" and rows[0][-1] == "操作说明"
    broken = next(row for row in rows if row[5] == "grading.result_set.seal_broken")
    assert broken[-1] == "等次建议与封存校验值不符"


def test_the_administrators_home_shows_labels(personas, client):
    log_action("round.closed", actor=personas["office"])
    client.force_login(personas["auditor"])
    page = client.get(reverse("home")).content.decode()
    assert "结束年度考核" in page
