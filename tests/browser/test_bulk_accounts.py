"""Through the pages (issue 20, item 1): the system administrator opens the accounts of all
the demo's units and provinces that have none in one act, the security administrator
grants their roles in one act and downloads the code letters, the system administrator
downloads the credential letters (one PDF, a page per account), and a unit signs in with
its one-time password and its code and is made to change it before anything else opens."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader

from kaohe.accounts.models import AccountOpening, Role, User
from kaohe.demo.builder import DEMO_PASSWORD, build_demo
from kaohe.directory.models import Unit
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW = "Xinmima-2018-kaohe"
# The letters of about 320 accounts take the worker (here, the request) half a minute.
SLOW = 180_000


@pytest.fixture
def demo(transactional_db, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    build_demo(today=datetime.date(2017, 12, 20))


def test_sysadmin_opens_all_accounts_secadmin_grants_and_a_unit_changes_its_password(
    demo, live_server, page, screenshot
):
    url = live_server.url
    without = Unit.objects.filter(active=True, users__isnull=True).count()
    assert without > 250  # the demo has accounts for a few units only

    # 1. The system administrator sees what has no account on the home page, then opens
    # all of them in one act.
    sign_in(page, url, "sysadmin", DEMO_PASSWORD)
    todo = page.locator("#accounts-todo")
    assert todo.get_by_text(f"尚无账户的中央单位（{without}）").is_visible()
    page.goto(f"{url}/accounts/users/bulk/")
    screenshot("bulk-accounts-1-open")
    page.get_by_role("button", name="一次开设全部账户").click()
    page.wait_for_selector("text=已开设")
    assert AccountOpening.objects.filter(unit__isnull=False).count() == without
    assert not User.objects.filter(opening__isnull=False).exclude(role="").exists()

    # 2. The security administrator grants the matching roles in one act.
    sign_in(page, url, "secadmin", DEMO_PASSWORD)
    page.goto(f"{url}/accounts/users/bulk/roles/")
    page.get_by_role("button", name=re.compile("授予角色")).click()
    page.wait_for_selector("text=对应角色")
    screenshot("bulk-accounts-2-roles")
    unit_opening = (AccountOpening.objects.filter(unit__isnull=False)
                    .select_related("user", "unit").order_by("unit__code").first())
    assert unit_opening.user.role == Role.UNIT
    assert User.objects.get(pk=unit_opening.user_id).unit == unit_opening.unit
    # ... and makes the code letters, the second secret of every account, downloaded once.
    page.get_by_role("button", name="生成账户绑定码通知书（PDF）").click(timeout=SLOW)
    link = page.get_by_role("link", name="下载（仅一次）")
    link.wait_for(timeout=SLOW)
    screenshot("bulk-accounts-2-codes")
    with page.expect_download() as info:
        link.click()
    coded = next(p.extract_text() for p in PdfReader(info.value.path()).pages
                 if unit_opening.unit.name in p.extract_text())
    code = re.search(r"([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", coded).group(1)

    # 3. The system administrator makes the credential letters and downloads them once.
    sign_in(page, url, "sysadmin", DEMO_PASSWORD)
    page.goto(f"{url}/accounts/users/bulk/letters/")
    page.get_by_role("button", name="生成账户开通通知书（PDF）").click(timeout=SLOW)
    link = page.get_by_role("link", name="下载（仅一次）")
    link.wait_for(timeout=SLOW)
    screenshot("bulk-accounts-3-letters")
    with page.expect_download() as info:
        link.click()
    reader = PdfReader(info.value.path())
    openings = AccountOpening.objects.count()
    assert len(reader.pages) == openings
    pages = [p.extract_text() for p in reader.pages]
    letter = next(p for p in pages if unit_opening.unit.name in p)
    assert unit_opening.user.username in letter
    password = re.search(r"一次性密码\s*[：:]?\s*([A-Za-z0-9]{16})", letter).group(1)
    # Downloaded once: the file is gone.
    page.reload()
    assert page.get_by_role("link", name="下载（仅一次）").count() == 0

    # 4. The unit signs in with its one-time password and must change it first.
    page.context.clear_cookies()
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", unit_opening.user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/accounts/password/"
    assert page.get_by_text("一次性密码").first.is_visible()
    page.goto(f"{url}/")
    assert urlsplit(page.url).path == "/accounts/password/"
    # The password form opens with the security administrator's code only.
    screenshot("bulk-accounts-4-code")
    page.fill("#id_enrolment_code", code)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_selector("#id_old_password")
    screenshot("bulk-accounts-4-change")
    page.fill("#id_old_password", password)
    page.fill("#id_new_password1", NEW)
    page.fill("#id_new_password2", NEW)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(f"{url}/accounts/password/done/")
    page.goto(f"{url}/")
    assert urlsplit(page.url).path == "/"
    assert unit_opening.unit.name in page.content()
    assert not User.objects.get(pk=unit_opening.user_id).must_change_password
