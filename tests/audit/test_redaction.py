"""The auditor audits actions, not results (security.md 27): grades, scores, ranks, counts,
decisions and feedback text are hidden in every page and export the auditor sees, before
and after release, while the entry, its actor, its object and which fields changed stay
visible. The stored entries keep their values (the hash chain covers them)."""

import csv
import io
import re

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.audit.redaction import HIDDEN, for_auditor, visible_data
from kaohe.audit.services import log_action, verify_chain
from kaohe.grading import services as grading
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import Summons
from kaohe.reviews import services as reviews
from kaohe.reviews.models import FindingSource, SubReport
from tests.grading.test_result_sets import AVERAGE_ALL, GOOD_ALL, _review, _submit_category

# Every grade as the pages write it and as the code stores it, and the texts that carry a
# judgement: reasons, the working group's adjustment, feedback and a reviewer's note.
GRADE_WORDS = ["好", "较好", "一般", "较差", "待定"]
GRADE_CODES = ["good", "fairly_good", "average", "poor", "pending"]
JUDGEMENTS = ["理由effectiveness", "工作组调整：材料不完整", "帮扶资金到位慢", "加大资金投入",
              "整改措施未落实", "不重视定点扶贫工作"]


@pytest.fixture
def approved(world, personas):
    """unit_a 好 in every area, unit_b 一般 with a serious problem (so 较差); the working
    group decides unit_a's grade with a reason; the leading group approves. Not yet
    released."""
    round_ = world["round"]
    round_.method = {**round_.method, "shares": {**round_.method["shares"], "poor": "0.5"}}
    round_.save()
    _review(round_, world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    _review(round_, world["unit_b"], personas["lead_reviewer_b"], AVERAGE_ALL)
    reviews.serious_problem_add(round=round_, unit=world["unit_b"],
                                actor=personas["lead_reviewer_b"],
                                kind=round_.problem_kinds.get(code="neglect"), county=None,
                                description="不重视", source=FindingSource.REVIEWER)
    SubReport.objects.filter(review__unit=world["unit_b"]).update(
        problems="帮扶资金到位慢", suggestions="加大资金投入")
    _submit_category(round_, world["lead_a"], personas["lead_reviewer"])
    _submit_category(round_, world["lead_b"], personas["lead_reviewer_b"])
    wg = personas["working_group"]
    result_set = grading.result_set_compute(round=round_, actor=wg)
    grading.decision_record(result_set=result_set, unit_code="A001", grade="average",
                            reason="工作组调整：材料不完整", actor=wg)
    grading.result_set_submit(result_set=result_set, actor=wg)
    return grading.result_set_approve(result_set=result_set, actor=personas["leading_group"])


@pytest.fixture
def released(approved, personas, world, settings):
    """The same, released; unit_b's rectification is under way and its summons recorded."""
    settings.KAOHE_TODAY = "2018-03-01"
    outcomes.release(result_set=approved, actor=personas["office"])
    report = outcomes.rectification_for(round=world["round"], unit=world["unit_b"])
    items = list(report.items.all())
    outcomes.rectification_save(report=report, actor=personas["unit_b"], summary="已整改",
                                items={i.pk: {"measures": "措施", "status": "done"}
                                       for i in items})
    outcomes.summons_update(summons=Summons.objects.get(), actor=personas["lead_reviewer_b"],
                            closed=True)
    outcomes.rectification_submit(report=report, actor=personas["unit_b"])  # then reviewed
    outcomes.item_review(item=items[0], actor=personas["lead_reviewer_b"], accepted=False,
                         note="整改措施未落实")
    return approved


def _everything_the_auditor_sees(client) -> str:
    """Every page of the log, the CSV export and the auditor's home page, as one text."""
    seen = []
    page = 1
    while True:
        response = client.get(reverse("audit:list"), {"page": page})
        assert response.status_code == 200
        seen.append(response.content.decode())
        if not response.context["page"].has_next():
            break
        page += 1
    export = client.get(reverse("audit:export"))
    seen.append(b"".join(export.streaming_content).decode("utf-8-sig"))
    seen.append(client.get(reverse("home")).content.decode())
    return "\n".join(seen)


def _leaks(text: str) -> list[str]:
    found = [word for word in GRADE_WORDS + JUDGEMENTS if word in text]
    found += [code for code in GRADE_CODES if re.search(rf"\b{code}\b", text)]
    return found


def _assert_actions_stay_visible(text: str):
    for shown in ["review.grade.changed", "grading.decision.recorded",
                  "grading.result_set.computed", "lead_a", "wg", "测试单位甲 · 2017",
                  "effectiveness", HIDDEN]:
        assert shown in text, shown


def test_before_release_the_auditor_sees_who_changed_which_grade_but_no_grade(
        approved, personas, login):
    seen = _everything_the_auditor_sees(login(personas["auditor"]))
    assert _leaks(seen) == []
    _assert_actions_stay_visible(seen)
    # The working group adjusted A001: which unit it adjusted is hidden too.
    assert "A001" not in seen


def test_after_release_the_auditor_still_sees_no_result(released, personas, login):
    assert AuditEntry.objects.filter(action="outcomes.item.reviewed").exists()
    seen = _everything_the_auditor_sees(login(personas["auditor"]))
    assert _leaks(seen) == []
    _assert_actions_stay_visible(seen)
    for shown in ["outcomes.released", "outcomes.item.status_changed", "outcomes.item.reviewed",
                  "outcomes.rectificationitem", "outcomes.summons.updated", "unit_b"]:
        assert shown in seen.lower(), shown


def test_the_stored_entries_keep_their_values(released):
    grade = AuditEntry.objects.filter(action="review.grade.changed").first()
    assert grade.data["effectiveness"]["new"] in GRADE_CODES
    decision = AuditEntry.objects.get(action="grading.decision.recorded")
    assert decision.data["reason"] == "工作组调整：材料不完整"
    assert verify_chain().ok


def test_the_csv_names_the_fields_that_changed_but_not_their_values(approved, personas,
                                                                   login):
    export = login(personas["auditor"]).get(reverse("audit:export"),
                                            {"action": "review.grade.changed"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    header, *body = rows
    details = header.index("详情")
    changed = [row for row in body if row[5] == "review.grade.changed"]
    assert changed
    assert '"effectiveness": {"new": "［已隐去］", "old": "［已隐去］"}' in changed[0][details]


@pytest.mark.parametrize("query", [{"q": "帮扶资金到位慢"}, {"target": "帮扶资金到位慢"},
                                   {"q": "不重视"}, {"target": "不重视"}])
def test_searching_for_a_hidden_value_finds_nothing(released, personas, login, query):
    response = login(personas["auditor"]).get(reverse("audit:list"), query)
    assert [e.action for e in response.context["page"] if e.actor_repr != "aud"] == []


# -- The rule itself ----------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "data", "shown"), [
    ("review.grade.changed", {"leadership": {"old": "good", "new": "poor"}},
     {"leadership": {"old": HIDDEN, "new": HIDDEN}}),
    ("grading.result_set.computed", {"version": 2, "units": 40,
                                     "counts": {"good": 3, "poor": 1}},
     {"version": 2, "units": 40, "counts": HIDDEN}),
    ("grading.decision.recorded", {"unit": "A001", "old": "good", "new": "average",
                                   "reason": "x"},
     # Which units the working group adjusted is itself a result (found by review).
     {"unit": HIDDEN, "old": HIDDEN, "new": HIDDEN, "reason": HIDDEN}),
    ("outcomes.correction.released", {"version": 3, "units": ["B001"]},
     {"version": 3, "units": HIDDEN}),
    ("review.verification.set", {"indicator": "1.2", "status": "failed"},
     {"indicator": "1.2", "status": HIDDEN}),
    ("outcomes.item.reviewed", {"old": "done", "new": "not_accepted", "note": "x"},
     {"old": HIDDEN, "new": HIDDEN, "note": HIDDEN}),
    ("self_report.saved", {"changed": ["1.1", "summary"]}, {"changed": ["1.1", "summary"]}),
    # A key nobody has classified yet is hidden: redaction is the default.
    ("review.something_new", {"score": 97.5}, {"score": HIDDEN}),
    # Accounts, sign-ins, the log itself and files record no result: shown whole.
    ("account.role_changed", {"from": "unit:A001", "to": "office"},
     {"from": "unit:A001", "to": "office"}),
    ("auth.session_expired", {"reason": "idle"}, {"reason": "idle"}),
    ("evidence.uploaded", {"name": "a.pdf", "size": 3, "sha256": "ab"},
     {"name": "a.pdf", "size": 3, "sha256": "ab"}),
    # A withdrawn paper's reason may quote the paper: what and when stay, the reason goes.
    ("document.withdrawn", {"doc_number": "国开办函〔2018〕12号", "reason": "误写问题"},
     {"doc_number": "国开办函〔2018〕12号", "reason": HIDDEN}),
    ("document.signed_off", {"doc_number": "国开办函〔2018〕12号", "issued_on": "2018-02-20"},
     {"doc_number": "国开办函〔2018〕12号", "issued_on": "2018-02-20"}),
])
def test_values_are_hidden_unless_their_key_is_known_to_hold_no_result(action, data, shown):
    assert visible_data(action, data) == shown


@pytest.mark.django_db
def test_the_object_of_a_finding_or_feedback_item_is_named_by_type_and_number_only():
    entry = log_action("outcomes.item.status_changed", data={"old": "open", "new": "done"})
    entry.target_type, entry.target_id, entry.target_repr = (
        "outcomes.RectificationItem", "7", "帮扶资金到位慢")
    (shown,) = for_auditor([entry])
    assert (shown.target_type, shown.target_id, shown.target_repr) == (
        "outcomes.RectificationItem", "7", HIDDEN)
    assert entry.target_repr == "帮扶资金到位慢"  # the entry itself is left alone


def test_a_summons_notice_does_not_name_its_unit_to_the_auditor(released, personas, world,
                                                               login, client):
    """A summons notice exists only for a unit graded 较差: the auditor sees that one was
    exported, not which (name, number, key, 份号), and searching the name finds nothing."""
    from kaohe.documents.base import get_exporter

    key = get_exporter("summons_notice").object_key(Summons.objects.get(unit=world["unit_b"]))
    response = login(personas["office"]).get(reverse("documents:make", kwargs={
        "identifier": "summons_notice", "key": key, "fmt": "docx"}))
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="document.export", data__document="summons_notice")
    assert "测试单位乙" in entry.target_repr  # stored whole: the chain covers it
    client.logout()
    auditor = login(personas["auditor"])
    seen = _everything_the_auditor_sees(auditor)
    assert "约谈通知（测试单位乙）" not in seen and "summons_notice" in seen
    shown = next(e for e in for_auditor([entry]))
    assert shown.target_repr == HIDDEN and shown.target_id == ""
    assert shown.data["object"] == HIDDEN and shown.data["document"] == "summons_notice"
    found = auditor.get(reverse("audit:list"), {"target": "测试单位乙"})
    assert entry.pk not in [e.id for e in found.context["page"]]
    assert AuditEntry.objects.filter(target_repr__contains="测试单位乙").exclude(
        pk=entry.pk).exists()  # the search itself works for what may be shown
