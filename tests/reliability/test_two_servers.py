"""Two app servers on one database and one file store (security.md 2, 6 and 12).

Two gunicorn processes share the installation's database (PostgreSQL when the suite runs
on it, else the SQLite file) and its data directory, as two hosts would share the database
server and a network file store. Evidence uploaded through one is downloaded through the
other; a submission replayed to both at the same moment makes one record; a lockout made
on one server holds on the other.
"""

import hashlib
import threading

import pytest
import requests
from django.conf import settings

from tests.reliability.harness import PASSWORD, mp4_bytes, tus_create, tus_patch

pytestmark = pytest.mark.reliability

SETUP = f"""
from kaohe.accounts.models import Role, User
from kaohe.directory.models import Category, County, Pairing, Unit
from kaohe.rounds.models import Round
round_ = Round.objects.get(year=2017)
county = County.objects.order_by("code").first()
for n in (1, 2, 3):
    unit = Unit.objects.create(code=f"T00{{n}}", name=f"双机测试单位{{n}}",
                               category=Category.objects.get(code="party_organs"))
    Pairing.objects.create(round=round_, unit=unit, county=county)
    user = User(username=f"unit-t{{n}}", role=Role.UNIT, unit=unit, full_name=f"双机{{n}}")
    user.set_password({PASSWORD!r})
    user.save()
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory, installation_databases, installation_template):
    from tests.reliability.fixtures import make_installation

    installation = make_installation(tmp_path_factory.mktemp("two-servers"),
                                     installation_databases, installation_template)
    installation.shell(SETUP)
    a = installation.start_server(workers=2)
    b = installation.start_server(workers=2)
    yield installation, a, b
    installation.close()


def test_evidence_uploaded_through_one_server_downloads_through_the_other(servers):
    _installation, a, b = servers
    source = mp4_bytes(3 * 1024 * 1024 + 17, seed=2)
    on_a = a.sign_in("unit-t1")
    location = tus_create(on_a, a, "甲机上传.mp4", len(source))
    half = len(source) // 2
    assert tus_patch(on_a, a, location, 0, source[:half]).status_code == 204
    # The second half goes to the other server: the upload's state is shared, not per host.
    on_b = b.sign_in("unit-t1")
    done = tus_patch(on_b, b, location, half, source[half:])
    assert done.status_code == 204, done.text
    evidence_id = done.headers["Kaohe-Evidence"]

    for server, session in ((b, on_b), (a, on_a)):
        download = session.get(server.url(f"/evidence/{evidence_id}/download/"), timeout=30)
        assert download.status_code == 200
        assert hashlib.sha256(download.content).digest() == hashlib.sha256(source).digest()
    # Another unit sees nothing of it on either server.
    other = b.sign_in("unit-t3")
    assert other.get(b.url(f"/evidence/{evidence_id}/download/"), timeout=30).status_code == 404


def test_a_submission_replayed_to_both_servers_at_once_makes_one_record(servers):
    installation, a, b = servers
    on_a, on_b = a.sign_in("unit-t2"), b.sign_in("unit-t2")
    opened = on_a.get(a.url("/reports/self/"), timeout=30)
    assert opened.status_code == 200
    report_path = opened.url.removeprefix(a.base)
    token = on_a.cookies["csrftoken"]
    on_b.cookies.set("csrftoken", token)
    on_b.headers["X-CSRFToken"] = token

    answers, start = [], threading.Barrier(2)

    def submit(server, session):
        start.wait()
        answers.append(session.post(server.url(f"{report_path}submit/"), timeout=60,
                                    allow_redirects=False,
                                    data={"confirm_gaps": "1", "csrfmiddlewaretoken": token}))

    threads = [threading.Thread(target=submit, args=pair) for pair in ((a, on_a), (b, on_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [302, 302]

    report_id = int(report_path.strip("/").rsplit("/", 1)[1])
    assert installation.sql("SELECT status FROM submissions_selfreport WHERE id = ?",
                            (report_id,)) == [("submitted",)]
    assert installation.count("submissions_reportversion", "WHERE self_report_id = ?",
                              (report_id,)) == 1
    assert installation.count("audit_auditentry", "WHERE action = ? AND target_id = ?",
                              ("self_report.submitted", str(report_id))) == 1


@pytest.mark.xfail("axes" not in settings.INSTALLED_APPS, strict=True,
                   reason="login lockout (django-axes) is not installed yet")
def test_a_lockout_made_on_one_server_holds_on_the_other(servers):
    _installation, a, b = servers

    # Five wrong passwords for one username from one address, all sent to server A.
    attempts = requests.Session()
    for _ in range(5):
        answer = a.post_login(attempts, "unit-t3", "wrong-password-1")
        assert answer.status_code != 302
    # Server B refuses the right password for the same username and address.
    on_b = requests.Session()
    refused = b.post_login(on_b, "unit-t3", PASSWORD)
    assert refused.status_code == 429
    assert on_b.get(b.url("/"), timeout=30, allow_redirects=False).headers.get(
        "Location", "").startswith("/accounts/login/")
    # The lock is per username and address: another unit signs in through B as usual.
    b.sign_in("unit-t1")
