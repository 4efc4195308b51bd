"""The contact list of every unit's and province's liaison (issue 20, item 1): kept and
edited by the office, exported to Excel with the maker's mark."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from kaohe.audit.models import AuditEntry
from kaohe.directory import services

LIST = reverse("directory:liaisons")


def _edit(kind, pk):
    return reverse("directory:liaison_edit", kwargs={"kind": kind, "pk": pk})


def test_the_office_edits_a_units_liaison_and_it_is_logged(personas, world, login):
    client = login(personas["office"])
    assert world["unit_a"].name in client.get(LIST).content.decode()
    response = client.post(_edit("unit", world["unit_a"].pk), {
        "liaison_name": "周九", "liaison_phone": "010-88886666",
        "liaison_email": "zhou@example.org"})
    assert response.status_code == 302
    world["unit_a"].refresh_from_db()
    assert world["unit_a"].liaison_name == "周九"
    entry = AuditEntry.objects.get(action="directory.liaison_changed")
    assert entry.data["changed"]["liaison_name"] == ["", "周九"]
    assert "周九" in client.get(LIST).content.decode()


def test_a_bad_email_is_refused_in_chinese_and_changes_nothing(personas, world, login):
    client = login(personas["office"])
    response = client.post(_edit("province", world["province_a"].pk), {
        "liaison_name": "吴十", "liaison_phone": "", "liaison_email": "not-an-email"})
    assert response.status_code == 200
    assert "有效的电子邮件" in response.content.decode() or "电子邮箱" in response.content.decode()
    world["province_a"].refresh_from_db()
    assert world["province_a"].liaison_name == ""


def test_the_contact_list_exports_to_excel_with_the_mark(personas, world, login):
    services.liaison_update(target=world["unit_a"], actor=personas["office"],
                            liaison_name="=HYPERLINK(\"x\")", liaison_phone="010-1",
                            liaison_email="a@example.org")
    services.liaison_update(target=world["province_b"], actor=personas["office"],
                            liaison_name="郑十一", liaison_phone="0871-1",
                            liaison_email="b@example.org")
    client = login(personas["office"])
    response = client.get(reverse("documents:make", kwargs={
        "identifier": "liaison_contacts", "key": "all", "fmt": "xlsx"}))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response)))
    rows = [[c.value for c in row] for row in workbook.worksheets[0].iter_rows()]
    flat = [str(v) for row in rows for v in row if v is not None]
    assert world["unit_a"].name in flat and world["province_b"].name in flat
    assert "郑十一" in flat
    # A formula typed as a name stays text.
    typed = next(c for row in workbook.worksheets[0].iter_rows() for c in row
                 if c.value == "=HYPERLINK(\"x\")")
    assert typed.data_type == "s"
    assert "内部资料" in workbook.worksheets[0].oddHeader.center.text


def test_only_the_office_sees_or_edits_the_list(personas, world, login):
    for persona in ("unit", "province", "system_admin", "security_admin", "lead_reviewer"):
        client = login(personas[persona])
        assert client.get(LIST).status_code == 404
        assert client.post(_edit("unit", world["unit_a"].pk),
                           {"liaison_name": "x"}).status_code == 404


# One page of units (issue 19: 35 ms at 310 units, 251 ms at 3,100) ----------------------


def _units(n, start=0):
    from kaohe.directory.models import Category, Unit

    category = Category.objects.get(code="enterprises")
    for i in range(start, start + n):
        Unit.objects.create(code=f"E{i:03d}", name=f"测试企业{i}", category=category)


def test_the_contact_list_shows_one_page_of_units_and_the_next_page_the_rest(
        personas, world, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kaohe.directory.views import PAGE_SIZE

    client.force_login(personas["office"])
    _units(5)

    def get(**params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, params)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    before, _page = get()
    _units(PAGE_SIZE + 10, start=5)  # two pages
    after, page = get()
    assert after == before, (before, after)
    assert page.count("/liaisons/unit/") == PAGE_SIZE
    provinces = page.count("/liaisons/province/")
    assert provinces > 0  # every province, on every page
    assert "第 1/2 页" in page and "page=2" in page
    _count, second = get(page=2)
    assert "第 2/2 页" in second and f"测试企业{PAGE_SIZE + 14}" in second
    assert 0 < second.count("/liaisons/unit/") < PAGE_SIZE
    assert second.count("/liaisons/province/") == provinces
