"""Issue 21's smaller points and accessibility failures, page by page (no browser needed)."""

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

import kaohe
from kaohe.directory.models import County
from kaohe.submissions.models import ReportStatus, SelfReport

pytestmark = pytest.mark.django_db
STATIC = Path(kaohe.__file__).parent / "static" / "kaohe"


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(content: str):
    parser = Elements()
    parser.feed(content)
    return parser.tags


def test_every_page_has_a_skip_link_to_the_main_content_and_chinese_is_zh_cn(client, personas):
    client.force_login(personas["office"])
    content = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-CN">' in content
    tags = elements(content)
    first_link = next(attrs for tag, attrs in tags if tag == "a")
    assert first_link["href"] == "#main"
    assert "跳到主要内容" in content
    assert any(tag == "main" and attrs.get("id") == "main" for tag, attrs in tags)
    client.logout()
    login_page = client.get(reverse("login")).content.decode()
    assert "跳到主要内容" in login_page


def test_the_language_switch_names_each_language_in_that_language(client):
    content = client.get(reverse("login")).content.decode()
    assert ">English</button>" in content
    assert ">简体中文</button>" in content
    assert "英语" not in content
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    content = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in content
    assert ">English</button>" in content and ">简体中文</button>" in content


def test_aria_describedby_targets_exist_on_the_password_change_page(client, personas):
    client.force_login(personas["unit"])
    url = reverse("accounts:password_change")
    for response in (client.get(url), client.post(url, {"old_password": "wrong"})):
        content = response.content.decode()
        tags = elements(content)
        ids = {attrs["id"] for _tag, attrs in tags if "id" in attrs}
        described = [ref for _tag, attrs in tags if attrs.get("aria-describedby")
                     for ref in attrs["aria-describedby"].split()]
        assert described, "the form should describe its fields"
        assert set(described) <= ids, set(described) - ids
    assert any(ref.endswith("_error") for ref in described)


def test_drafts_never_checked_show_not_checked_instead_of_zero_gaps(client, world, personas):
    SelfReport.objects.create(round=world["round"], unit=world["unit_a"],
                              status=ReportStatus.DRAFT)
    client.force_login(personas["office"])
    content = client.get(reverse("submissions:self_reports")).content.decode()
    row = content[content.index("测试单位甲"):].split("</tr>")[0]
    assert "未检查" in row
    assert not re.search(r"<td>0</td>", row)


def test_the_data_source_label_uses_chinese_punctuation(client, world, personas):
    area = world["round"].areas.get(source="unit", number=2)
    assert area.source_text == "本单位提供，牵头部门核实。"
    assert not world["round"].areas.filter(source_text__contains=",").exists()


def test_training_materials_carry_an_icon_not_an_emoji(client, world, personas):
    import datetime

    from kaohe.launch import services
    from tests.launch.conftest import Upload

    session = services.session_add(round=world["round"], held_on=datetime.date(2017, 11, 24),
                                   place="会议室", topic="考核培训", actor=personas["office"])
    client.force_login(personas["office"])
    client.post(reverse("launch:material_add", kwargs={"pk": session.pk}),
                {"file": Upload("课件.pdf")})
    content = client.get(reverse("launch:training")).content.decode()
    assert "课件.pdf" in content
    assert "📄" not in content
    link = re.search(r'<a [^>]*href="/[^"]*material[^"]*"[^>]*>(.*?)</a>', content, re.S)
    assert "课件.pdf" in link.group(1)
    assert "<svg" in link.group(1) and 'aria-hidden="true"' in link.group(1)


def test_county_names_are_those_in_force_in_2017(round_2017):
    names = dict(County.objects.values_list("code", "name"))
    assert names["513201"] == "马尔康市"
    assert names["513301"] == "康定市"
    assert names["130705"] == "宣化区"
    assert "宣化县" not in names.values()


@override_settings(DEBUG=True)
def test_a_denied_object_shows_the_project_404_page_even_in_debug(client, world, personas):
    client.force_login(personas["unit"])
    # Another unit's page: out of this user's scope, so the view answers 404.
    response = client.get(reverse("directory:unit_detail", args=[world["unit_b"].pk]))
    assert response.status_code == 404
    content = response.content.decode()
    assert "页面不存在" in content
    assert "No Unit matches" not in content and "Django" not in content
    # A path no URL pattern matches still gets the developer's page under DEBUG.
    assert "Django" in client.get("/no-such-page/").content.decode()


def test_error_pages_are_the_projects_own_chinese_pages(client, personas):
    client.force_login(personas["office"])
    response = client.get(reverse("directory:unit_detail", args=[999999]))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    assert '<html lang="zh-CN">' in response.content.decode()


def test_the_upload_control_is_reachable_by_keyboard_and_its_progress_is_named(
        client, world, personas, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    client.force_login(personas["unit"])
    from kaohe.submissions import services
    report = services.self_report_for(round=world["round"], unit=world["unit_a"])
    content = client.get(reverse("submissions:self_report", args=[report.pk])).content.decode()
    inputs = [attrs for tag, attrs in elements(content)
              if tag == "input" and attrs.get("type") == "file" and "data-tus-endpoint" in attrs]
    assert inputs
    for attrs in inputs:
        classes = attrs.get("class", "").split()
        assert "d-none" not in classes and "visually-hidden" in classes
        assert "tabindex" not in attrs and "disabled" not in attrs
    script = (STATIC / "upload.js").read_text(encoding="utf-8")
    assert 'setAttribute("aria-label"' in script


def test_key_pages_have_their_own_title(client, personas):
    client.force_login(personas["office"])
    for name, title in (("home", "首页"), ("submissions:self_reports", "自评报告"),
                        ("launch:training", "组织培训")):
        content = client.get(reverse(name)).content.decode()
        page_title = re.search(r"<title>(.*?)</title>", content, re.S).group(1)
        assert title in page_title, name


def test_no_inline_script_or_style_in_the_pages_touched(client, world, personas):
    client.force_login(personas["office"])
    for url in (reverse("home"), reverse("login"), reverse("launch:training")):
        tags = elements(client.get(url).content.decode())
        assert not any("style" in attrs for _tag, attrs in tags), url
        assert all("src" in attrs or attrs.get("type") == "application/json"
                   for tag, attrs in tags if tag == "script"), url


def test_ids_are_unique_on_every_page_touched(client, personas):
    client.force_login(personas["office"])
    for url in (reverse("home"), reverse("accounts:password_change")):
        ids = Counter(attrs["id"] for _tag, attrs in elements(client.get(url).content.decode())
                      if "id" in attrs)
        assert [i for i, n in ids.items() if n > 1] == [], url


@pytest.mark.parametrize(("persona", "url", "query"), [
    ("auditor", "audit:list", {"since": "2018-02-01", "until": "2018-01-01"}),
    ("unit", "accounts:two_factor", {}),
])
def test_aria_describedby_targets_exist_on_the_audit_search_and_two_factor_pages(
        client, personas, persona, url, query):
    client.force_login(personas[persona])
    tags = elements(client.get(reverse(url), query).content.decode())
    ids = {attrs["id"] for _tag, attrs in tags if "id" in attrs}
    described = {ref for _tag, attrs in tags if attrs.get("aria-describedby")
                 for ref in attrs["aria-describedby"].split()}
    assert described <= ids, described - ids


def test_a_late_province_is_told_how_many_reports_are_still_due(personas, settings):
    from kaohe.submissions.reminders import reminder_for

    settings.KAOHE_TODAY = "2018-01-20"
    user = personas["province"]
    message = reminder_for(user, user.province.counties.first().pairings.first().round).message
    assert "还有1份未报送（已报送0份，共1份）" in message
    assert "尚未报送" not in message
