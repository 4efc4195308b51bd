"""kaohe.lib.memo: a GET reads a repeated answer once; a POST and code outside a request
read afresh every time."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.grading import selectors as grading
from kaohe.lib import memo
from kaohe.outcomes.selectors import results_released
from kaohe.rounds.selectors import current_round


def _queries(func, *args, **kwargs):
    with CaptureQueriesContext(connection) as queries:
        value = func(*args, **kwargs)
    return len(queries), value


def test_inside_a_memo_an_answer_is_read_once_per_arguments(world):
    round_ = world["round"]
    with memo.reading():
        first, value = _queries(results_released, round_)
        again, same = _queries(results_released, round_)
        one, _value = _queries(grading.approved_result_set, round_)
        copy = type(round_).objects.get(pk=round_.pk)
        other, _value = _queries(grading.approved_result_set, copy)
    assert (first, again, value, same) == (1, 0, False, False)
    assert one == 1 and other == 0  # a model instance is keyed by its class and pk


def test_outside_a_memo_every_call_reads(world):
    assert _queries(current_round)[0] >= 1
    assert _queries(current_round)[0] >= 1


def test_a_memo_ends_with_its_block_and_never_outlives_a_change(world, personas):
    from kaohe.grading.models import ResultSet, ResultSetStatus

    round_ = world["round"]
    with memo.reading():
        assert results_released(round_) is False
    ResultSet.objects.create(round=round_, version=1, status=ResultSetStatus.RELEASED,
                             inputs=[], method=round_.method,
                             outputs={"results": [], "warnings": [], "counts": {}},
                             created_by=personas["office"])
    with memo.reading():
        assert results_released(round_) is True


def test_only_safe_requests_open_a_memo():
    seen = []

    def view(request):
        seen.append(memo._memo.get() is not None)
        from django.http import HttpResponse
        return HttpResponse()

    from django.test import RequestFactory

    middleware = memo.ReadOnceMiddleware(view)
    factory = RequestFactory()
    for request in (factory.get("/"), factory.head("/"), factory.post("/"),
                    factory.put("/"), factory.delete("/")):
        middleware(request)
    assert seen == [True, True, False, False, False]
    assert memo._memo.get() is None


def test_a_page_asks_the_database_once_for_a_repeated_answer(world, personas, client):
    client.force_login(personas["office"])
    url = reverse("documents:index")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    released = [q for q in queries.captured_queries
                if "grading_resultset" in q["sql"] and "'released'" in q["sql"]
                and "LIMIT 1" in q["sql"] and "SELECT 1" in q["sql"]]
    assert len(released) <= 1, [q["sql"] for q in released]


def test_a_keyword_left_at_its_default_of_none_asks_the_same_question(world):
    from kaohe.submissions.deadlines import extension_for

    step = world["round"].steps.get(code="self_report")
    with memo.reading():
        first, _value = _queries(extension_for, step, unit=world["unit_a"])
        same, _value = _queries(extension_for, step, unit=world["unit_a"], province=None,
                                lead_department=None)
        other, _value = _queries(extension_for, step, unit=world["unit_b"])
    assert (first, same, other) == (1, 0, 1)
