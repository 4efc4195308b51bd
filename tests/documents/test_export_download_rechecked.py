"""A finished export is handed out only to whoever made it and may still read it: the
download asks again, as the worker did before making it. A working-group member whose
account becomes a unit's no longer downloads the whole ranking (security.md 9: no unit sees
any grade or rank but its own, after release only)."""

from django.urls import reverse

from kaohe.accounts import services as accounts
from kaohe.accounts.models import Role
from kaohe.documents.base import get_exporter
from kaohe.documents.models import Export, ExportStatus
from tests.outcomes.test_outcomes import approved  # noqa: F401 - fixture


def test_a_bulk_export_is_not_handed_out_once_its_maker_lost_the_right_to_read_it(
        approved, personas, world, login, client,  # noqa: F811
        django_capture_on_commit_callbacks):
    wg = personas["working_group"]
    key = get_exporter("review_report").object_key(approved)
    web = login(wg)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(reverse("documents:make", args=["review_report", key, "pdf"]))
    assert response.status_code == 302
    export = Export.objects.get(identifier="review_report")
    assert export.status == ExportStatus.DONE
    client.logout()

    # The person moves to a central unit: the security administrator changes the account.
    accounts.account_role_change(account=wg, actor=personas["security_admin"],
                                 role=Role.UNIT, unit=world["unit_b"])
    wg.refresh_from_db()
    web = login(wg)
    assert web.get(reverse("documents:index")).status_code == 200  # a unit now
    download = web.get(reverse("documents:export_download", args=[export.pk]))
    assert download.status_code == 404
