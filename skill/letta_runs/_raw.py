"""The server's own responses, as the official ``letta-client`` exposes them.

``client.runs.with_raw_response.retrieve(run_id)`` returns an :class:`APIResponse`: the HTTP
response as the server sent it (status, headers, the exact JSON bytes) and ``parse()`` for the
typed result. ``with_streaming_response`` gives the same object as a context manager. Both work
on every method of ``client.runs`` and its sub-resources.

>>> raw = client.runs.with_raw_response.retrieve("run-…")      # doctest: +SKIP
>>> raw.status_code, raw.json()["status"], raw.parse().is_terminal    # doctest: +SKIP
"""

from __future__ import annotations

import bisect
import functools
import inspect
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import httpx

__all__ = ["APIResponse", "RawResponses", "Resource", "captured_responses"]

T = TypeVar("T")

_CAPTURED: ContextVar[list[tuple[int, httpx.Response]] | None] = ContextVar(
    "letta_runs_captured", default=None
)
_SENT = itertools.count()


def sent() -> int:
    """A number for a request about to be sent: requests are numbered in the order they start."""
    return next(_SENT)


def record(response: httpx.Response, number: int) -> None:
    """Called by the clients for every successful response (kept only inside a capture)."""
    captured = _CAPTURED.get()
    if captured is not None:
        bisect.insort(captured, (number, response), key=lambda pair: pair[0])


@contextmanager
def captured_responses() -> Iterator[list[httpx.Response]]:
    """Collect the successful HTTP responses the clients receive inside this block (in this
    task and the tasks it starts), in the order their requests were sent — concurrent requests
    may answer in any order, the first request's answer stays first."""
    pairs: list[tuple[int, httpx.Response]] = []
    responses: list[httpx.Response] = []
    token = _CAPTURED.set(pairs)
    try:
        yield responses
    finally:
        _CAPTURED.reset(token)
        responses.extend(response for _, response in pairs)


class APIResponse(Generic[T]):
    """One call's HTTP response and its typed result (letta-client's ``APIResponse``)."""

    def __init__(self, http_response: httpx.Response, parsed: T) -> None:
        self.http_response = http_response
        self._parsed = parsed

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def url(self) -> httpx.URL:
        return self.http_response.url

    @property
    def method(self) -> str:
        return self.http_response.request.method

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    def json(self) -> Any:
        return self.http_response.json()

    def parse(self) -> T:
        """The typed result (a model, a page, a list of spans)."""
        return self._parsed

    def __enter__(self) -> APIResponse[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> APIResponse[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code}] {self.method} {self.url}>"


class RawResponses:
    """``resource.with_raw_response``: the resource's methods, returning :class:`APIResponse`."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._resource, name)
        if name.startswith("_") or not callable(target):
            return RawResponses(target)
        if inspect.iscoroutinefunction(target):

            @functools.wraps(target, updated=())
            async def call_async(*args: Any, **kwargs: Any) -> APIResponse[Any]:
                with captured_responses() as responses:
                    parsed = await target(*args, **kwargs)
                return APIResponse(_first(responses, name), parsed)

            return call_async

        @functools.wraps(target, updated=())
        def call(*args: Any, **kwargs: Any) -> APIResponse[Any]:
            with captured_responses() as responses:
                parsed = target(*args, **kwargs)
            return APIResponse(_first(responses, name), parsed)

        return call


def _first(responses: list[httpx.Response], name: str) -> httpx.Response:
    if not responses:
        raise TypeError(f"{name} does not answer with one HTTP response (a stream?)")
    return responses[0]


class Resource:
    """Base of the client's resources (``client.runs``, ``client.runs.messages`` …)."""

    @property
    def with_raw_response(self) -> Any:
        """This resource's methods, answering :class:`APIResponse` (the server's response)."""
        return RawResponses(self)

    @property
    def with_streaming_response(self) -> Any:
        """As ``with_raw_response``, usable as a context manager (the body is already read)."""
        return RawResponses(self)
