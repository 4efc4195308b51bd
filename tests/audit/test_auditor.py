"""The auditor searches the log by user, action, date range and object, and exports it as
CSV; each search and each export is itself logged."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kaohe.audit.guard import append_only_guard_lifted
from kaohe.audit.models import AuditEntry
from kaohe.audit.services import log_action
from kaohe.lib import clock


def _backdate(entry, days):
    """Move an entry into the past, as only the database owner could (test set-up)."""
    when = clock.now() - datetime.timedelta(days=days)  # entries are dated by the clock
    with append_only_guard_lifted(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET created_at = %s WHERE id = %s",
                       [when, entry.id])
    return timezone.localdate(when)


@pytest.fixture
def auditor(personas, login):
    """The auditor's client; signing in is logged before the entries below."""
    return login(personas["auditor"])


@pytest.fixture
def log(auditor, personas, world):
    office, unit = personas["office"], personas["unit"]
    return {
        "login": log_action("auth.login", actor=office, target=office),
        "upload": log_action("evidence.uploaded", actor=unit, target=world["unit_a"]),
        "failed": log_action("auth.login_failed", actor_repr="=HYPERLINK(\"x\")", success=False),
        "grade": log_action("review.grade.changed", actor=personas["lead_reviewer"],
                            target=world["unit_b"], data={"grade": "好"}),
    }


def _shown(response) -> set[str]:
    """The actions listed, leaving out the auditor's own sign-in and searches."""
    return {entry.action for entry in response.context["page"]
            if entry.actor_repr != "aud"}


@pytest.mark.parametrize(("query", "expected"), [
    ({"user": "office"}, {"auth.login"}),
    ({"user": "unit_a"}, {"evidence.uploaded"}),
    ({"action": "auth."}, {"auth.login", "auth.login_failed"}),
    ({"action": "review.grade.changed"}, {"review.grade.changed"}),
    ({"target": "测试单位乙"}, {"review.grade.changed"}),
    ({"target": "directory.unit"}, {"evidence.uploaded", "review.grade.changed"}),
    ({"failed": "on"}, {"auth.login_failed"}),
    ({"q": "evidence"}, {"evidence.uploaded"}),
    ({"user": "office", "action": "evidence."}, set()),
])
def test_the_auditor_searches_by_user_action_object_and_outcome(auditor, log, query, expected):
    response = auditor.get(reverse("audit:list"), query)
    assert response.status_code == 200
    assert _shown(response) - {"audit.log.viewed"} == expected


def test_the_auditor_searches_by_object_id(auditor, log, world):
    response = auditor.get(reverse("audit:list"), {"target": str(world["unit_a"].pk)})
    assert "evidence.uploaded" in _shown(response)


def test_the_auditor_searches_by_date_range(auditor, log):
    old_day = _backdate(log["login"], 40)
    mid_day = _backdate(log["upload"], 10)
    response = auditor.get(reverse("audit:list"),
                           {"since": old_day.isoformat(), "until": old_day.isoformat()})
    assert _shown(response) == {"auth.login"}
    response = auditor.get(reverse("audit:list"), {"since": mid_day.isoformat()})
    assert "auth.login" not in _shown(response)
    assert {"evidence.uploaded", "review.grade.changed"} <= _shown(response)
    response = auditor.get(reverse("audit:list"),
                           {"until": (mid_day - datetime.timedelta(days=1)).isoformat()})
    assert _shown(response) == {"auth.login"}


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"since": "2018-02-30"}, "since", ""),
    ({"since": "2018-03-01", "until": "2018-02-01"}, "until", "截止日期不能早于起始日期"),
    ({"user": "x" * 151}, "user", ""),
])
def test_a_bad_search_says_which_field_and_shows_nothing(auditor, log, query, field, message):
    response = auditor.get(reverse("audit:list"), query)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert list(response.context["page"]) == []


def test_each_search_is_logged_with_its_filters(auditor, personas, log):
    auditor.get(reverse("audit:list"), {"user": "office", "action": "auth.", "failed": "on",
                                        "since": "2017-12-01"})
    entry = AuditEntry.objects.filter(action="audit.log.viewed").get()
    assert entry.actor == personas["auditor"]
    assert entry.data == {"q": "", "verify": False, "user": "office", "action": "auth.",
                          "failed": True, "since": "2017-12-01"}


# -- Export -----------------------------------------------------------------------------------

def _csv(response) -> tuple[bytes, list[list[str]]]:
    """The bytes, and the rows (header first) without the auditor's own entries."""
    raw = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    return raw, [rows[0]] + [row for row in rows[1:] if row[2] != "aud"]


def test_the_export_is_utf8_csv_with_a_bom_and_every_column(auditor, log):
    response = auditor.get(reverse("audit:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=audit-log-")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    raw, rows = _csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *body = rows
    assert header[:6] == ["编号", "时间", "操作人", "操作人编号", "来源地址", "操作"]
    assert [row[5] for row in body] == ["auth.login", "evidence.uploaded", "auth.login_failed",
                                        "review.grade.changed"]
    grade = body[3]
    assert grade[8] == "测试单位乙"
    assert grade[9] == "成功"
    # Which field changed, not its value (security.md 27, tests/audit/test_redaction.py).
    assert grade[10] == '{"grade": "［已隐去］"}'
    assert grade[12] == log["grade"].hash and grade[11] == log["grade"].prev_hash


def test_the_export_defuses_spreadsheet_formulas(auditor, log):
    _raw, rows = _csv(auditor.get(reverse("audit:export"), {"failed": "on"}))
    failed = next(row for row in rows if row[5] == "auth.login_failed")
    assert failed[2] == "'=HYPERLINK(\"x\")"
    assert failed[9] == "失败"


def test_the_export_follows_the_search(auditor, log):
    _raw, rows = _csv(auditor.get(reverse("audit:export"), {"action": "auth."}))
    assert [row[5] for row in rows[1:]] == ["auth.login", "auth.login_failed"]


def test_the_export_is_itself_logged_with_its_filters_and_size(auditor, personas, log):
    response = auditor.get(reverse("audit:export"), {"action": "auth."})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    entry = AuditEntry.objects.get(action="audit.log.exported")
    assert entry.actor == personas["auditor"]
    # The auditor's own sign-in, the office's sign-in, the failed one.
    assert entry.data == {"filters": {"action": "auth."}, "rows": 3}
    assert len(rows) - 1 == 3
    # The file holds the log as it was when the export was recorded; the next one has it.
    _raw, rows = _csv(auditor.get(reverse("audit:export"), {"action": "audit."}))
    full = list(AuditEntry.objects.filter(action="audit.log.exported"))
    assert len(full) == 2
    assert full[1].data["rows"] == 1


def test_a_bad_export_request_is_refused_with_the_reason(auditor, log):
    response = auditor.get(reverse("audit:export"), {"since": "not-a-date"})
    assert response.status_code == 400
    assert "since" in response.context["form"].errors
    assert not AuditEntry.objects.filter(action="audit.log.exported").exists()


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "office", "unit"])
def test_only_the_auditor_exports(personas, login, log, persona):
    response = login(personas[persona]).get(reverse("audit:export"))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="audit.log.exported").exists()


def test_the_auditor_changes_nothing_through_the_log_pages(auditor, log):
    before = list(AuditEntry.objects.order_by("id").values_list("id", "hash"))
    auditor.post(reverse("audit:list"), {"action": "x"})
    auditor.post(reverse("audit:export"))
    after = list(AuditEntry.objects.order_by("id").values_list("id", "hash"))
    assert after[:len(before)] == before  # only appended to
