"""The typed environment readers: a value they cannot parse stops start-up, naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from kaohe.lib.env import envbool, envint, envlist, envsecret, envstr

VAR = "KAOHE_TEST_SETTING"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in (VAR, f"{VAR}_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_envstr_returns_the_value_or_the_default(monkeypatch):
    assert envstr(VAR, "fallback") == "fallback"
    monkeypatch.setenv(VAR, "value")
    assert envstr(VAR, "fallback") == "value"


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "Yes", "on", " true "])
def test_envbool_reads_true_values(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    assert envbool(VAR, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "OFF", " no "])
def test_envbool_reads_false_values(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    assert envbool(VAR, True) is False


@pytest.mark.parametrize("default", [True, False])
def test_envbool_returns_the_default_when_unset(default):
    assert envbool(VAR, default) is default


@pytest.mark.parametrize("raw", ["maybe", "tru", "2", "y", "是"])
def test_envbool_refuses_a_value_it_cannot_read_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR) as excinfo:
        envbool(VAR, True)
    assert repr(raw) in str(excinfo.value)


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("42", 42), ("-3", -3), (" 7 ", 7)])
def test_envint_reads_integers(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)
    assert envint(VAR, 99) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_envint_returns_the_default_when_unset_or_blank(monkeypatch, raw):
    if raw is not None:
        monkeypatch.setenv(VAR, raw)
    assert envint(VAR, 99) == 99


@pytest.mark.parametrize("raw", ["abc", "1.5", "12a", "0x10", "1e3"])
def test_envint_refuses_a_non_integer_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR) as excinfo:
        envint(VAR, 99)
    assert repr(raw) in str(excinfo.value)


def test_envlist_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv(VAR, " a.example , b.example,,  ,c ")
    assert envlist(VAR, ["default"]) == ["a.example", "b.example", "c"]


def test_envlist_returns_the_default_when_unset():
    assert envlist(VAR, ["x", "y"]) == ["x", "y"]


def test_envlist_reads_an_empty_value_as_an_empty_list(monkeypatch):
    monkeypatch.setenv(VAR, "")
    assert envlist(VAR, ["x"]) == []


def test_envsecret_reads_the_variable(monkeypatch):
    monkeypatch.setenv(VAR, "s3cret")
    assert envsecret(VAR) == "s3cret"


def test_envsecret_reads_the_file_named_by_the_file_variable(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("  from-file\n", encoding="utf-8")
    monkeypatch.setenv(f"{VAR}_FILE", str(secret))
    assert envsecret(VAR) == "from-file"


def test_envsecret_prefers_the_file_over_the_variable(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file", encoding="utf-8")
    monkeypatch.setenv(VAR, "from-env")
    monkeypatch.setenv(f"{VAR}_FILE", str(secret))
    assert envsecret(VAR, "default") == "from-file"


def test_envsecret_refuses_an_unreadable_file_naming_the_variable(monkeypatch, tmp_path):
    missing = tmp_path / "does-not-exist"
    monkeypatch.setenv(VAR, "from-env")
    monkeypatch.setenv(f"{VAR}_FILE", str(missing))
    with pytest.raises(ImproperlyConfigured, match=f"{VAR}_FILE") as excinfo:
        envsecret(VAR, "default")
    assert str(missing) in str(excinfo.value)


def test_envsecret_refuses_a_directory_as_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv(f"{VAR}_FILE", str(tmp_path))
    with pytest.raises(ImproperlyConfigured, match=f"{VAR}_FILE"):
        envsecret(VAR, "default")


def test_envsecret_returns_the_default_when_unset():
    assert envsecret(VAR, "fallback") == "fallback"


@pytest.mark.parametrize("raw", [None, ""])
def test_envsecret_without_default_refuses_a_missing_secret_naming_the_variable(monkeypatch, raw):
    if raw is not None:
        monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR) as excinfo:
        envsecret(VAR)
    assert f"{VAR}_FILE" in str(excinfo.value)


@pytest.mark.parametrize("content", ["", "\n", "   \n"])
def test_envsecret_refuses_an_empty_secret_file(monkeypatch, tmp_path, content):
    secret = tmp_path / "secret"
    secret.write_text(content, encoding="utf-8")
    monkeypatch.setenv(f"{VAR}_FILE", str(secret))
    with pytest.raises(ImproperlyConfigured, match=f"{VAR}_FILE"):
        envsecret(VAR)
