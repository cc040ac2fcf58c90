"""Secrets never show: a key with a stray line ending is a usage error that does not print it, and
every face, log and error path redacts keys and secret headers — even in the HTTP stack's own
exception texts, which quote header values as escaped bytes.

The CLI cases talk to a real loopback HTTP server, so the request would go through the same
HTTP/1.1 stack that rejects a header value with a line ending (and quotes it in its error).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from asgi_server import serve_asgi
from click.testing import CliRunner, Result
from letta_runs import AsyncRunsClient, ConfigurationError, RunsClient
from letta_runs._secrets import redact, redact_data, register_secret, secret_safe_logger
from letta_runs.cli import CLIState, cli

RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
KEY = "sk-let-Zm9vYmFyYmF6cXV4LXNlY3JldC1rZXk"
"""The key's core; the tests add the line endings a CRLF .env file or a file-made secret adds."""
HEADER_SECRET = "hdr-secret-value-7f3a9c"
RUN_JSON = {"id": RUN, "status": "completed", "agent_id": "agent-1", "stop_reason": "end_turn"}


class RecordingApp:
    """A loopback 'Letta' that answers a run and remembers every request it got."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.requests.append({"path": scope["path"], "headers": dict(scope["headers"])})
        body = json.dumps(RUN_JSON).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def letta() -> Iterator[tuple[str, RecordingApp]]:
    app = RecordingApp()
    with serve_asgi(app, what="the recording server") as url:
        yield url, app


def run_cli(*args: str, env: dict[str, str]) -> Result:
    base = {"LETTA_RUNS_READ_ONLY": "", "LETTA_CUSTOM_HEADERS": "", "LETTA_PROJECT": ""}
    return CliRunner().invoke(cli, list(args), obj=CLIState(), env={**base, **env})


def shown(result: Result) -> str:
    return result.stdout + result.stderr


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
@pytest.mark.parametrize("mode", [[], ["--json"], ["--debug"]], ids=["plain", "json", "debug"])
def test_key_with_a_stray_line_ending_is_a_usage_error_that_never_shows_it(
    letta: tuple[str, RecordingApp], ending: str, mode: list[str]
) -> None:
    url, app = letta
    before = len(app.requests)
    result = run_cli(
        "--base-url", url, "runs", "get", RUN, *mode, env={"LETTA_API_KEY": KEY + ending}
    )
    assert result.exit_code == 2, shown(result)
    assert "stray newline at its end" in result.stderr
    assert "not shown" in result.stderr
    assert KEY not in shown(result)
    assert "network" not in result.stderr  # the old message blamed the network
    assert len(app.requests) == before  # refused before any request
    if mode == ["--json"]:
        payload = json.loads(result.stderr.strip().splitlines()[-1])
        assert payload["error"] == "invalid_configuration" and payload["exit_code"] == 2


def test_key_given_as_a_flag_is_checked_the_same_way(letta: tuple[str, RecordingApp]) -> None:
    url, _ = letta
    result = run_cli("--base-url", url, "--api-key", KEY + "\n", "runs", "get", RUN, env={})
    assert result.exit_code == 2
    assert "stray newline" in result.stderr and KEY not in shown(result)


@pytest.mark.parametrize(
    ("env", "what"),
    [
        ({"LETTA_API_KEY": "sk-lét-" + KEY}, "API key"),
        ({"LETTA_API_KEY": KEY, "LETTA_PROJECT": "prøject"}, "project"),
        ({"LETTA_API_KEY": KEY + " "}, "API key"),
    ],
    ids=["non-ascii-key", "non-ascii-project", "trailing-space-key"],
)
def test_keys_and_projects_that_cannot_be_a_header_are_usage_errors(
    letta: tuple[str, RecordingApp], env: dict[str, str], what: str
) -> None:
    url, app = letta
    before = len(app.requests)
    result = run_cli("--base-url", url, "runs", "get", RUN, env=env)
    assert result.exit_code == 2, shown(result)
    assert what in result.stderr
    assert "Traceback" not in shown(result) and "unexpected" not in result.stderr
    assert KEY not in shown(result)
    assert len(app.requests) == before


def test_debug_shows_custom_header_names_never_their_values(
    letta: tuple[str, RecordingApp],
) -> None:
    url, app = letta
    headers = f"X-Secret-Token: {HEADER_SECRET}\nuser_id: user-4b1d-plain-header"
    result = run_cli(
        "--base-url",
        url,
        "--debug",
        "runs",
        "get",
        RUN,
        env={"LETTA_API_KEY": KEY, "LETTA_CUSTOM_HEADERS": headers},
    )
    assert result.exit_code == 0, shown(result)
    assert "x-secret-token" in result.stderr.lower() and "user_id" in result.stderr
    assert HEADER_SECRET not in shown(result)
    assert "user-4b1d-plain-header" not in shown(result)
    assert KEY not in shown(result)
    sent = app.requests[-1]["headers"]
    assert sent[b"x-secret-token"] == HEADER_SECRET.encode()  # still sent, only never shown


def test_custom_header_with_a_control_character_is_a_usage_error_without_its_value(
    letta: tuple[str, RecordingApp],
) -> None:
    url, _ = letta
    result = run_cli(
        "--base-url",
        url,
        "runs",
        "get",
        RUN,
        env={"LETTA_API_KEY": KEY, "LETTA_CUSTOM_HEADERS": f"X-Api-Key: {HEADER_SECRET}\x1b"},
    )
    assert result.exit_code == 2, shown(result)
    assert "X-Api-Key" in result.stderr and "stray control character" in result.stderr
    assert HEADER_SECRET not in shown(result)


def test_serve_and_mcp_refuse_to_start_with_a_bad_key() -> None:
    # Beyond loopback without a token they would refuse anyway, after the settings check:
    # nothing here can start a server.
    for command in (
        ["serve", "--host", "0.0.0.0"],
        ["mcp", "--transport", "http", "--host", "0.0.0.0"],
    ):
        result = run_cli(
            "--base-url", "http://127.0.0.1:9", *command, env={"LETTA_API_KEY": KEY + "\r\n"}
        )
        assert result.exit_code == 2, (command, shown(result))
        assert "stray newline" in result.stderr and KEY not in shown(result)


# --------------------------------------------------------------------------- the HTTP faces


def echoing_letta(request: httpx.Request) -> httpx.Response:
    """A server that quotes the credentials it got back, in every shape a detail can take."""
    auth = request.headers.get("authorization", "")
    detail = {"message": f"bad token {auth}", "errors": [{"msg": auth, "loc": ["header"]}]}
    return httpx.Response(401, json={"detail": detail})


async def test_rest_answers_500_for_its_own_bad_key_and_never_shows_it(
    letta: tuple[str, RecordingApp], caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("fastapi")
    from letta_runs.rest import create_app

    url, _ = letta
    app = create_app(lambda: AsyncRunsClient(api_key=KEY + "\r\n", base_url=url))
    transport = httpx.ASGITransport(app=app)
    with caplog.at_level(logging.DEBUG):
        async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as http:
            response = await http.get(f"/v1/runs/{RUN}")
    assert response.status_code == 500, response.text
    assert "stray newline" in response.json()["detail"]
    assert KEY not in response.text
    assert KEY not in caplog.text


async def test_rest_redacts_a_key_the_server_echoes_in_a_structured_detail() -> None:
    pytest.importorskip("fastapi")
    from letta_runs.rest import create_app

    def factory() -> AsyncRunsClient:
        return AsyncRunsClient(
            api_key=KEY, base_url="http://letta.test", transport=httpx.MockTransport(echoing_letta)
        )

    transport = httpx.ASGITransport(app=create_app(factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as http:
        response = await http.get(f"/v1/runs/{RUN}")
    assert response.status_code == 401
    assert KEY not in response.text
    assert "***" in response.text


async def test_mcp_tool_error_never_shows_an_echoed_key() -> None:
    pytest.importorskip("mcp")
    from letta_runs.mcp_server import create_server
    from mcp import Client

    def factory() -> AsyncRunsClient:
        return AsyncRunsClient(
            api_key=KEY, base_url="http://letta.test", transport=httpx.MockTransport(echoing_letta)
        )

    async with Client(create_server(factory)) as client:
        result = await client.call_tool("retrieve-run", {"run_id": RUN})
    assert result.is_error is True
    dumped = json.dumps(result.model_dump(mode="json"))
    assert KEY not in dumped and "rejected the credentials" in dumped


async def test_langchain_tool_exception_never_shows_an_echoed_key() -> None:
    pytest.importorskip("langchain_core")
    from letta_runs.langchain import LettaRunsToolkit

    client = AsyncRunsClient(
        api_key=KEY, base_url="http://letta.test", transport=httpx.MockTransport(echoing_letta)
    )
    tool = {t.name: t for t in LettaRunsToolkit(client).get_tools()}["retrieve_run"]
    message = await tool.ainvoke(
        {"name": "retrieve_run", "args": {"run_id": RUN}, "id": "c1", "type": "tool_call"}
    )
    assert message.status == "error"
    assert KEY not in str(message.content)
    await client.aclose()


def test_langchain_toolkit_with_a_bad_key_fails_at_construction_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("langchain_core")
    from letta_runs.langchain import LettaRunsToolkit

    monkeypatch.setenv("LETTA_API_KEY", KEY + "\n")
    monkeypatch.setenv("LETTA_BASE_URL", "http://letta.test")
    with pytest.raises(ConfigurationError) as info:
        LettaRunsToolkit()
    assert "stray newline" in str(info.value) and KEY not in str(info.value)


def test_the_json_error_of_an_echoed_key_is_redacted_at_every_depth() -> None:
    client = RunsClient(
        api_key=KEY, base_url="http://letta.test", transport=httpx.MockTransport(echoing_letta)
    )
    with pytest.raises(Exception) as info:
        client.runs.retrieve(RUN)
    err: Any = info.value
    assert KEY not in json.dumps(err.to_dict()) and KEY not in str(err.detail)


# --------------------------------------------------------------------------- the mechanism


def test_redact_removes_a_secret_in_every_spelling_an_error_text_uses() -> None:
    secret = "sk-let-spelling-check-0042\r\n"
    register_secret(secret)
    texts = [
        secret,
        repr(secret),
        json.dumps(secret),
        str(("Bearer " + secret).encode()),  # how h11 and httpx quote a header value
        "https://x.test/?key=sk-let-spelling-check-0042%0D%0A",
        f"Authorization: Bearer {secret.strip()}",
    ]
    for text in texts:
        assert "spelling-check-0042" not in redact(text), text
    assert redact_data({"a": [f"x {secret.strip()}"], secret.strip(): 1}) == {
        "a": ["x ***"],
        "***": 1,
    }


def test_secret_safe_logger_redacts_message_arguments_and_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "sk-let-logged-secret-9911"
    register_secret(secret)
    log = secret_safe_logger("letta_runs.test_secrets")
    with caplog.at_level(logging.INFO, logger="letta_runs.test_secrets"):
        try:
            raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {secret}\\r\\n'")
        except httpx.LocalProtocolError as exc:
            log.error("request failed: %s", exc, exc_info=exc)
    handler_text = "\n".join(
        logging.Formatter("%(message)s").format(record) for record in caplog.records
    )
    assert "Illegal header value" in handler_text
    assert secret not in handler_text and secret not in caplog.text


def test_base_url_password_is_a_secret() -> None:
    client = RunsClient(
        base_url="http://user:pw-very-secret-31@letta.test",
        transport=httpx.MockTransport(lambda r: httpx.Response(500, json={"detail": "x"})),
        max_retries=0,
    )
    with pytest.raises(Exception) as info:
        client.runs.retrieve(RUN)
    assert "pw-very-secret-31" not in json.dumps(info.value.to_dict())  # type: ignore[attr-defined]
