"""The result set's life from draft to release (issue 16): decisions bound by section 七,
a later approval supersedes the earlier version, only the newest approved version is
released, sealed data independent of the reader's language, units named by name, and the
leading group's view with every manual change and every comment."""

import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation

from kaohe.grading import services
from kaohe.grading.models import Decision, ResultSet, ResultSetStatus
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import Feedback

pytestmark = pytest.mark.django_db


def _decide(result_set, unit, grade, actor, reason="工作组研究确定"):
    return services.decision_record(result_set=result_set, unit_code=unit, grade=grade,
                                    reason=reason, actor=actor)


def _complete(result_set, wg):
    """Settle the two pending ties within the rules."""
    _decide(result_set, "M003", "fairly_good", wg, "帮扶成效更突出")
    _decide(result_set, "M004", "average", wg, "帮扶成效相对较弱")
    _decide(result_set, "M009", "poor", wg, "存在突出问题")
    return result_set


def _approved(mixed, personas, comments="同意"):
    wg = personas["working_group"]
    result_set = _complete(services.result_set_compute(round=mixed["round"], actor=wg), wg)
    services.result_set_submit(result_set=result_set, actor=wg)
    return services.result_set_approve(result_set=result_set, actor=personas["leading_group"],
                                       comments=comments)


# 4. Manual decisions ignore section 七 ------------------------------------------------------


@pytest.mark.parametrize(("unit", "grade", "why"), [
    ("M002", "good", "重大涉贫事件"),          # a major incident: never 好
    ("M010", "poor", "不存在突出问题"),         # 较差 needs a serious problem
    ("A001", "poor", "不在较差区间"),           # the rank-1 unit is not in the bottom band
    ("M003", "good", "只能确定为「较好」或「一般」"),  # 待定 between 较好 and 一般
])
def test_a_decision_outside_section_seven_is_refused_citing_the_rule(mixed, personas, unit,
                                                                     grade, why):
    result_set = services.result_set_compute(round=mixed["round"],
                                             actor=personas["working_group"])
    with pytest.raises(services.GradingError, match=why) as refused:
        _decide(result_set, unit, grade, personas["working_group"])
    message = str(refused.value)
    assert "考核实施方案第七部分" in message
    assert mixed["units"][unit].name in message and unit not in message
    assert not Decision.objects.exists()


def test_decisions_may_not_exceed_the_quota_of_good_and_fairly_good(mixed, personas):
    wg = personas["working_group"]
    result_set = services.result_set_compute(round=mixed["round"], actor=wg)
    _decide(result_set, "M003", "fairly_good", wg)
    with pytest.raises(services.GradingError, match="合计4家，超过名额3家"):
        _decide(result_set, "M004", "fairly_good", wg)
    # Lowering with a reason stays possible; then the place is free.
    _decide(result_set, "M002", "average", wg, "重大涉贫事件影响恶劣")
    _decide(result_set, "M004", "fairly_good", wg)
    assert result_set.final_grades()["M004"] == "fairly_good"


def test_submission_is_blocked_while_any_rule_is_broken(mixed, personas):
    wg = personas["working_group"]
    result_set = services.result_set_compute(round=mixed["round"], actor=wg)
    with pytest.raises(services.GradingError, match="等次待定") as pending:
        services.result_set_submit(result_set=result_set, actor=wg)
    # 7. The blocked submission names units by their names, not their codes.
    assert "示例并列单位丙" in str(pending.value) and "M003" not in str(pending.value)
    _complete(result_set, wg)
    # A decision written behind the services' back (or before the rules existed).
    Decision.objects.create(result_set=result_set, unit_code="M010", kind="adjustment",
                            previous="average", grade="poor", reason="x", decided_by=wg,
                            decided_at=result_set.created_at)
    with pytest.raises(services.GradingError, match="示例末位单位十") as broken:
        services.result_set_submit(result_set=result_set, actor=wg)
    assert "考核实施方案第七部分" in str(broken.value)
    result_set.refresh_from_db()
    assert result_set.status == ResultSetStatus.DRAFT


# 3. A superseded version can be released ----------------------------------------------------


def test_approving_a_later_version_supersedes_the_earlier_one(mixed, personas):
    wg, leader = personas["working_group"], personas["leading_group"]
    first = _approved(mixed, personas)
    second = services.result_set_compute(round=mixed["round"], actor=wg)
    _decide(second, "M003", "average", wg, "以第2版为准")
    _decide(second, "M004", "fairly_good", wg, "以第2版为准")
    _decide(second, "M009", "poor", wg, "存在突出问题")
    services.result_set_submit(result_set=second, actor=wg)
    services.result_set_approve(result_set=second, actor=leader, comments="以第2版为准")
    first.refresh_from_db()
    assert first.status == ResultSetStatus.SUPERSEDED
    assert first.superseded_by_id == second.pk
    with pytest.raises(outcomes.OutcomeError, match="已被第2版取代"):
        outcomes.release(result_set=first, actor=personas["office"])
    with pytest.raises(services.GradingError, match="已被第2版取代"):
        services.result_set_release(result_set=first, actor=personas["office"])
    with pytest.raises(outcomes.OutcomeError):
        outcomes.feedback_prepare(result_set=first, actor=personas["office"])
    outcomes.release(result_set=second, actor=personas["office"])
    assert Feedback.objects.get(unit__code="M003").grade == "average"
    assert Feedback.objects.get(unit__code="M004").grade == "fairly_good"


# 8. The superseded version's status and the leader's view ------------------------------------


def test_a_submitted_version_is_superseded_when_a_later_one_is_approved(mixed, personas):
    wg = personas["working_group"]
    stale = _complete(services.result_set_compute(round=mixed["round"], actor=wg), wg)
    services.result_set_submit(result_set=stale, actor=wg)
    _approved(mixed, personas)
    stale.refresh_from_db()
    assert stale.status == ResultSetStatus.SUPERSEDED
    assert stale.get_status_display() != "已报领导小组审定"


def test_the_leader_sees_a_summary_of_manual_changes_before_the_detail(mixed, personas,
                                                                        client):
    wg, leader = personas["working_group"], personas["leading_group"]
    result_set = _complete(services.result_set_compute(round=mixed["round"], actor=wg), wg)
    _decide(result_set, "M002", "average", wg, "重大涉贫事件影响恶劣")
    services.result_set_submit(result_set=result_set, actor=wg)
    client.force_login(leader)
    html = client.get(reverse("grading:detail", args=[result_set.pk])).content.decode()
    summary = html.index('id="summary"')
    approve = html.index(reverse("grading:approve", args=[result_set.pk]))
    ranking = html.index('id="ranking"')
    assert summary < approve < ranking
    head = html[summary:ranking]
    for text in ("重大涉贫事件影响恶劣", "示例出事单位", "较好→一般", wg.full_name,
                 "帮扶成效更突出", "等次分布", "敏感性"):
        assert text in head, text


def test_every_return_and_approval_comment_stays_in_the_history(mixed, personas, client):
    wg, leader = personas["working_group"], personas["leading_group"]
    result_set = _complete(services.result_set_compute(round=mixed["round"], actor=wg), wg)
    services.result_set_submit(result_set=result_set, actor=wg)
    services.result_set_return(result_set=result_set, actor=leader,
                               comments="请再研究示例并列单位丙的等次")
    services.result_set_submit(result_set=result_set, actor=wg)
    services.result_set_approve(result_set=result_set, actor=leader, comments="同意报送方案")
    client.force_login(wg)
    html = client.get(reverse("grading:detail", args=[result_set.pk])).content.decode()
    assert "请再研究示例并列单位丙的等次" in html and "同意报送方案" in html
    assert [e.action for e in result_set.events.order_by("pk")] == [
        "submitted", "returned", "submitted", "approved"]


# 6. Sealed inputs depend on the user's language ----------------------------------------------


def test_sealed_inputs_are_the_same_in_every_language(mixed, personas):
    wg = personas["working_group"]
    with translation.override("en"):
        english = services.result_set_compute(round=mixed["round"], actor=wg)
    with translation.override("zh-hans"):
        chinese = services.result_set_compute(round=mixed["round"], actor=wg)
    assert english.inputs == chinese.inputs
    assert english.outputs == chinese.outputs
    problem = next(i for i in chinese.inputs if i["unit"] == "M009")["serious_problems"][0]
    assert problem["kind"] == "neglect" and problem["source"] == "reviewer"


# 7. Units and people shown as codes -----------------------------------------------------------


def test_warnings_and_tie_reasons_name_units(mixed, personas, client):
    wg = personas["working_group"]
    result_set = services.result_set_compute(round=mixed["round"], actor=wg)
    reasons = {r["unit"]: r["reasons"] for r in result_set.outputs["results"]}
    tie = next(m for m in reasons["M003"] if "完全并列" in m)
    assert "示例并列单位丁" in tie and "M004" not in tie
    client.force_login(wg)
    html = client.get(reverse("grading:detail", args=[result_set.pk])).content.decode()
    warnings = html[html.index('id="warnings"'):html.index('id="ranking"')]
    assert "示例一般单位五" in warnings  # its warning (a problem outside the bottom band)


def test_a_broken_seal_is_reported_in_chinese_with_the_version(mixed, personas, client):
    result_set = _approved(mixed, personas)
    ResultSet.objects.filter(pk=result_set.pk).update(leader_comments="改过")
    client.force_login(personas["office"])
    response = client.post(reverse("grading:release", args=[result_set.pk]), follow=True)
    text = response.content.decode()
    assert "第1版" in text and "封存校验值" in text
    assert "does not match" not in text
    result_set.refresh_from_db()
    assert result_set.status == ResultSetStatus.APPROVED


# Double click: numbering locks the round ------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers; the race needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_computations_at_once_get_two_versions(mixed, personas):
    wg = personas["working_group"]
    barrier, errors, versions = threading.Barrier(2), [], []

    def compute():
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                versions.append(services.result_set_compute(round=mixed["round"],
                                                             actor=wg).version)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=compute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(versions) == [1, 2]
