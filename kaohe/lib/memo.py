"""Answers a request asks for more than once, read once per request (issue 19).

Several parts of one page ask the same question of the database: which round is current,
whether its results are released, which version of them is approved, which extension a
unit has. On SQLite building a query costs more than running it (about a millisecond of
Python each), so a page that asks five times pays five times.

A function decorated with ``@per_request`` answers from a memo while one is open, keyed by
its arguments (a model instance by its class and primary key), and reads every time
otherwise. ``ReadOnceMiddleware`` opens a memo for GET and HEAD requests only: they change
nothing these answers depend on (a GET may write an audit entry or create a unit's empty
report, never a round, a result set or an extension). A POST, a command, a task and a test
calling a selector directly always read afresh. Only functions whose answer is an immutable
fact for the length of a page view are decorated; what a page reads once is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from inspect import signature
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponseBase

F = TypeVar("F", bound=Callable[..., Any])

_memo: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("kaohe_memo", default=None)


def _key(value: Any) -> Any:
    meta = getattr(value, "_meta", None)
    if meta is not None and getattr(value, "pk", None) is not None:
        return (meta.label, value.pk)
    return value


def per_request(func: F) -> F:
    name = f"{func.__module__}.{func.__qualname__}"
    # f(step, unit=u) and f(step, unit=u, province=None) ask the same question.
    none_by_default = {parameter.name for parameter in signature(func).parameters.values()
                       if parameter.default is None}

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        memo = _memo.get()
        if memo is None:
            return func(*args, **kwargs)
        try:
            key = (name, tuple(_key(a) for a in args),
                   tuple(sorted((k, _key(v)) for k, v in kwargs.items()
                                if not (v is None and k in none_by_default))))
            hash(key)
        except TypeError:  # an argument that cannot be a key: read as usual
            return func(*args, **kwargs)
        if key not in memo:
            memo[key] = func(*args, **kwargs)
        return memo[key]

    return wrapper  # type: ignore[return-value]


@contextmanager
def reading() -> Iterator[None]:
    """A memo for the block: decorated functions read once inside it."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


class ReadOnceMiddleware:
    """Opens a memo for the length of each GET or HEAD request's view and template."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with reading():
            return self.get_response(request)
