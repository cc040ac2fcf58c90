"""Errors: one class per status, messages that say what to do, no secrets, retries."""

from __future__ import annotations

import json

import httpx
import pytest
from client_fixtures import FIXTURES, RUN, Recorder
from letta_runs import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    AsyncRunsClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GoneError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    RateLimitError,
    RunsClient,
    ServerError,
    ValidationError,
)

KEY = "sk-let-very-secret-000111"
BASE = "http://letta.test"


def respond(status: int, body: object = None, headers: dict[str, str] | None = None) -> Recorder:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return Recorder(handler)


def client_for(rec: Recorder, **kwargs: object) -> tuple[RunsClient, list[float]]:
    client = RunsClient(api_key=KEY, base_url=BASE, transport=httpx.MockTransport(rec), **kwargs)  # type: ignore[arg-type]
    sleeps: list[float] = []
    client._sleep = sleeps.append
    return client, sleeps


def recorded_error(folder: str, name: str) -> dict[str, object]:
    path = next(FIXTURES.glob(f"*/{folder}/{name}"))
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (410, GoneError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (501, NotSupportedError),
        (503, ServerError),
    ],
)
def test_status_classes(status: int, cls: type[Exception]) -> None:
    client, _ = client_for(respond(status, {"detail": f"boom {KEY}"}), max_retries=0)
    with pytest.raises(cls) as info:
        client.runs.retrieve(RUN)
    err = info.value
    assert err.status_code == status  # type: ignore[attr-defined]
    assert KEY not in str(err)
    assert KEY not in json.dumps(err.to_dict(), default=str)  # type: ignore[attr-defined]


def test_404_message_names_run_and_base_url() -> None:
    detail = f"Run not found with id='['{RUN}']', access level in ['read'] for actor='id='user-0…'"
    client, _ = client_for(respond(404, {"detail": detail}))
    with pytest.raises(NotFoundError) as info:
        client.runs.retrieve(RUN)
    text = str(info.value)
    assert f"run {RUN} not found on {BASE}" in text
    assert "LETTA_BASE_URL" in text and "project header" in text
    assert info.value.detail == detail


def test_404_unknown_cursor_is_explained() -> None:
    body = {
        "detail": "No message found with id 'message-00000000-0000-4000-8000-000000000000' for agent 'None'."
    }
    client, _ = client_for(respond(404, body))
    with pytest.raises(NotFoundError, match="cursor"):
        client.runs.messages.list(RUN, before="message-00000000-0000-4000-8000-000000000000")


def test_501_trace_recorded_body() -> None:
    recorded = recorded_error(RUN, "trace.error.json")
    client, sleeps = client_for(respond(501, recorded["body"]))
    with pytest.raises(NotSupportedError) as info:
        client.runs.trace.retrieve(RUN)
    assert "traces are not available on this server (it has no ClickHouse/OTEL store)" in str(
        info.value
    )
    assert "use steps and messages instead" in str(info.value)
    assert sleeps == []  # 501 is never retried


def test_400_stream_non_background_recorded_body() -> None:
    recorded = recorded_error(RUN, "stream.error.json")
    client, _ = client_for(respond(400, recorded["body"]))
    with pytest.raises(BadRequestError) as info:
        list(client.runs.stream(RUN))
    assert "not created in background mode" in str(info.value)
    assert "only runs started by a streaming request" in str(info.value)


def test_410_stream_expired() -> None:
    recorded = recorded_error("run-d5dfe0b5-bfaf-41ea-9a42-d4eb8aeec60b", "stream.error.json")
    client, _ = client_for(respond(410, recorded["body"]))
    with pytest.raises(GoneError, match="3 hours"):
        list(client.runs.stream("run-d5dfe0b5-bfaf-41ea-9a42-d4eb8aeec60b"))


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_point_at_api_key(status: int) -> None:
    client, _ = client_for(respond(status, {"detail": "Unauthorized"}))
    with pytest.raises((AuthenticationError, PermissionDeniedError)) as info:
        client.runs.retrieve(RUN)
    assert "LETTA_API_KEY" in str(info.value)
    assert KEY not in str(info.value)


def test_422_detail_string_list_and_dict() -> None:
    repr_detail = "[{'type': 'less_than_equal', 'loc': ('query', 'limit'), 'msg': 'Input should be less than or equal to 1000'}]"
    client, _ = client_for(respond(422, {"trace_id": "", "detail": repr_detail}))
    with pytest.raises(ValidationError, match="less than or equal to 1000"):
        client.runs.list()
    listed = [{"loc": ["query", "limit"], "msg": "too big", "type": "x"}]
    client, _ = client_for(respond(422, {"detail": listed}))
    with pytest.raises(ValidationError, match=r"query\.limit: too big") as info:
        client.runs.list()
    assert info.value.detail == listed
    obj = {"code": "PENDING_APPROVAL", "message": "CONFLICT: waiting", "pending_request_id": "m"}
    client, _ = client_for(respond(409, {"detail": obj}), max_retries=0)
    with pytest.raises(ConflictError, match="PENDING_APPROVAL: CONFLICT: waiting"):
        client.runs.retrieve(RUN)


def test_delete_500_explained_by_what_the_server_is() -> None:
    def letta(version: str) -> Recorder:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/health/":
                return httpx.Response(200, json={"version": version, "status": "ok"})
            if request.method == "DELETE":
                return httpx.Response(500, json={"detail": "An unknown error occurred"})
            return httpx.Response(200, json={"id": RUN, "status": "completed"})

        return Recorder(handler)

    for version, says in (("0.16.8", "Letta 0.16.8, whose DELETE"), ("0.17.2", "Letta 0.17.2")):
        client, _ = client_for(letta(version))
        with pytest.raises(ServerError) as info:
            client.runs.delete(RUN)
        err = info.value
        assert f"run {RUN} was not deleted" in str(err) and "still there" in str(err)
        assert says in str(err)
        assert err.to_dict()["deleted"] is False  # type: ignore[attr-defined]
    assert "0.16.8" not in str(err)  # a newer server is not blamed on 0.16.8's bug


def test_non_json_body_is_response_error() -> None:
    client, _ = client_for(respond(200, "<html>login</html>"))
    with pytest.raises(APIResponseError, match="not JSON"):
        client.runs.retrieve(RUN)
    client, _ = client_for(respond(200, {"not": "a list"}))
    with pytest.raises(APIResponseError, match="array"):
        client.runs.list()


def test_non_json_error_body() -> None:
    client, _ = client_for(respond(502, "Bad gateway"), max_retries=0)
    with pytest.raises(ServerError, match="Bad gateway"):
        client.runs.retrieve(RUN)


# -- retries


def flaky(statuses: list[int], headers: dict[str, str] | None = None) -> Recorder:
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status = queue.pop(0) if queue else 200
        if status == 200:
            return httpx.Response(200, json={"id": RUN})
        return httpx.Response(status, json={"detail": "try again"}, headers=headers)

    return Recorder(handler)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_retried_then_succeeds(status: int) -> None:
    rec = flaky([status, status])
    client, sleeps = client_for(rec)
    assert client.runs.retrieve(RUN).id == RUN
    assert len(rec.requests) == 3
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0


def test_retries_exhausted() -> None:
    rec = flaky([503] * 10)
    client, sleeps = client_for(rec, max_retries=3)
    with pytest.raises(ServerError):
        client.runs.retrieve(RUN)
    assert len(rec.requests) == 4 and len(sleeps) == 3


def test_retry_after_honoured_and_capped() -> None:
    client, sleeps = client_for(flaky([409], {"Retry-After": "1"}))
    client.runs.retrieve(RUN)
    assert sleeps == [1.0]
    client, sleeps = client_for(flaky([429], {"retry-after-ms": "1500"}))
    client.runs.retrieve(RUN)
    assert sleeps == [1.5]
    client, sleeps = client_for(flaky([429], {"Retry-After": "3600"}))
    client.runs.retrieve(RUN)
    assert sleeps == [60.0]


@pytest.mark.parametrize("status", [400, 404, 422, 501])
def test_not_retried(status: int) -> None:
    rec = flaky([status])
    client, sleeps = client_for(rec)
    with pytest.raises(Exception):  # noqa: B017
        client.runs.retrieve(RUN)
    assert len(rec.requests) == 1 and sleeps == []


def test_connection_errors_retried_then_reported() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError(f"refused {KEY}", request=request)

    client, sleeps = client_for(Recorder(handler))
    with pytest.raises(APIConnectionError) as info:
        client.runs.retrieve(RUN)
    assert len(calls) == 3 and len(sleeps) == 2
    assert BASE in str(info.value) and KEY not in str(info.value)


def test_timeouts_become_timeout_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, sleeps = client_for(Recorder(handler), max_retries=1)
    with pytest.raises(APITimeoutError):
        client.runs.retrieve(RUN)
    assert len(sleeps) == 1


async def test_async_retries_use_injected_sleep() -> None:
    rec = flaky([503, 429], {"Retry-After": "2"})
    client = AsyncRunsClient(base_url=BASE, transport=httpx.MockTransport(rec))
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client._asleep = fake_sleep
    assert (await client.runs.retrieve(RUN)).id == RUN
    assert sleeps == [2.0, 2.0]
    rec404 = respond(404, {"detail": "nope"})
    client = AsyncRunsClient(base_url=BASE, transport=httpx.MockTransport(rec404))
    with pytest.raises(NotFoundError, match=r"not found on http://letta\.test"):
        await client.runs.retrieve(RUN)
