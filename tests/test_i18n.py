"""English as the second language: the switch on the login page, and a complete, compiled catalogue.

The source strings are Chinese; kaohe/locale/en/LC_MESSAGES/django.po holds their English
translations and django.mo, compiled from it, is committed so that installations without GNU
gettext still show English.
"""

import ast
import gettext
import html
import re
from pathlib import Path

import pytest
from django.urls import reverse

import kaohe

LOCALE = Path(kaohe.__file__).parent / "locale" / "en" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
TITLE_ZH = "中央单位定点扶贫工作考核系统"
TITLE_EN = "Central Units' Targeted Poverty Alleviation Assessment System"


def _tag_text(content: str, tag: str) -> str:
    match = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}>", content, re.S)
    assert match, f"no <{tag}> in the page"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def _choose_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_login_page_in_english_after_choosing_english(client):
    _choose_english(client)
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert TITLE_EN in _tag_text(content, "title")
    h1 = _tag_text(content, "h1")
    assert h1 == TITLE_EN
    assert not CJK.search(h1)
    assert "Password" in content
    assert "Sign in" in content


@pytest.mark.django_db
def test_default_language_is_chinese(client):
    response = client.get(reverse("login"))
    content = response.content.decode()
    assert '<html lang="zh-CN">' in content
    assert _tag_text(content, "h1") == TITLE_ZH
    assert TITLE_EN not in content


def test_office_home_in_english(client, personas):
    client.force_login(personas["office"])
    _choose_english(client)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    content = response.content.decode()
    # The heading is followed by the round's name, which is data and stays Chinese.
    assert _tag_text(content, "h1").startswith("Assessment overview")
    assert "考核工作总览" not in content
    assert "Sign out" in content


def test_office_home_in_chinese_by_default(client, personas):
    client.force_login(personas["office"])
    content = client.get(reverse("home")).content.decode()
    assert _tag_text(content, "h1").startswith("考核工作总览")


# The catalogue -------------------------------------------------------------------------


def _po_entries(path: Path) -> list[dict]:
    """msgid, msgid_plural and msgstr / msgstr[n] of each live entry (no polib needed)."""
    entries, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line or line.startswith("#~"):
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if line.startswith("#"):
            if entry is not None and "msgid" in entry:
                entries.append(entry)
                entry = None
            entry = entry or {"flags": set()}
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            entry[field] += ast.literal_eval(line)
            continue
        entry = entry if entry is not None else {"flags": set()}
        field = keyword
        entry[field] = ast.literal_eval(rest)
    return [e for e in entries if e.get("msgid")]


def test_every_msgid_is_translated():
    entries = _po_entries(PO)
    assert len(entries) > 500
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == [], "check these translations and remove their fuzzy flag"
    untranslated = []
    for e in entries:
        forms = [e[k] for k in e if k.startswith("msgstr")]
        if ("msgid_plural" in e and set(k for k in e if k.startswith("msgstr")) != {
                "msgstr[0]", "msgstr[1]"}) or not forms or not all(f.strip() for f in forms):
            untranslated.append(e["msgid"])
    assert untranslated == [], "run makemessages, translate these, then compilemessages"


def test_compiled_catalogue_is_up_to_date():
    """django.mo is compiled from the current django.po (run `kaohe compilemessages -l en`)."""
    # A fresh checkout writes both files in the same moment, .mo first; allow for that.
    assert MO.stat().st_mtime >= PO.stat().st_mtime - 2, "django.po changed after compiling"
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for e in _po_entries(PO):
        if "msgid_plural" in e:
            for n, key in ((1, "msgstr[0]"), (2, "msgstr[1]")):
                if compiled.ngettext(e["msgid"], e["msgid_plural"], n) != e[key]:
                    stale.append(e["msgid"])
        elif compiled.gettext(e["msgid"]) != e["msgstr"]:
            stale.append(e["msgid"])
    assert stale == [], "django.mo does not match django.po: run compilemessages"
