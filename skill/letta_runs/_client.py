"""The typed HTTP client for Letta's Runs API: ``RunsClient`` and ``AsyncRunsClient``.

``BaseRunsClient`` makes every decision that needs no I/O — configuration, validation, request
building, response parsing, error messages, retry decisions, debug logging — and the two twins
only send. Resource namespaces follow the official ``letta-client``::

    client.runs.list(...)            GET  /v1/runs/          (SyncPage[Run]; iterating walks all)
    client.runs.list_active(...)     GET  /v1/runs/active
    client.runs.retrieve(run_id)     GET  /v1/runs/{id}
    client.runs.delete(run_id)       DELETE /v1/runs/{id}
    client.runs.messages.list(id)    GET  /v1/runs/{id}/messages
    client.runs.steps.list(id)       GET  /v1/runs/{id}/steps
    client.runs.usage.retrieve(id)   GET  /v1/runs/{id}/usage
    client.runs.metrics.retrieve(id) GET  /v1/runs/{id}/metrics
    client.runs.trace.retrieve(id)   GET  /v1/runs/{id}/trace
    client.runs.stream(id)           POST /v1/runs/{id}/stream  (RunStream of StreamEvent)

Reads across runs (``letta_runs._bulk``): ``client.messages.list()`` (every agent),
``client.agents.messages.list(agent_id)``, ``client.agents.retrieve(agent_id)`` and
``client.steps.list(start_date=…)``.

>>> with RunsClient(base_url="demo") as client:
...     failed = [run.id for run in client.runs.list(statuses=["failed"])]
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import ssl
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

import httpx
import pydantic

from ._bulk import (
    Agents,
    AllMessages,
    AsyncAgents,
    AsyncAllMessages,
    AsyncSteps,
    Steps,
)
from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_TIMEOUT,
    DEMO_BASE_URL,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_PROJECT,
    ENV_READ_ONLY,
    STREAM_IDLE_TIMEOUT,
    STREAM_MAX_RECONNECTS,
)
from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    InvalidArgumentError,
    LettaRunsError,
    NotFoundError,
    ReadOnlyError,
    status_error_class,
)
from ._pagination import (
    AsyncPage,
    ListKind,
    PageSpec,
    SyncPage,
    last_item_probe_params,
    settles_at_fetch,
)
from ._raw import Resource, record, sent
from ._retry import (
    backoff_delay,
    is_retryable_exception,
    may_have_reached_server,
    may_resend,
    retry_delay,
    should_retry_response,
)
from ._secrets import (
    headers_for_log,
    looks_secret_header,
    protect_http_stack_loggers,
    redact,
    register_secret,
    secret_safe_logger,
)
from ._streaming import AsyncRunStream, RunStream, StreamState
from ._text import truncate
from ._validation import (
    RUN_ID_PATTERN,
    check_base_url,
    check_header_name,
    check_header_value,
    check_seconds,
    validate_run_id,
)
from ._version import __version__
from .models import (
    Message,
    Run,
    RunMetrics,
    Step,
    TraceSpan,
    Usage,
    parse_message,
)
from .params import (
    RunItemsQuery,
    RunsFilter,
    accepts,
    check_statuses,
    parse_params,
)

__all__ = [
    "ENV_CUSTOM_HEADERS",
    "RUN_ID_PATTERN",
    "AsyncRunsClient",
    "BaseRunsClient",
    "RunsClient",
    "validate_run_id",
]

ENV_CUSTOM_HEADERS = "LETTA_CUSTOM_HEADERS"
DEMO_HTTP_BASE = "http://demo.letta-runs.invalid"
"""Where demo requests go; the embedded transport answers them and nothing leaves the process."""

TRACE_LIMIT_MAX = 5000
BROKEN_DELETE_VERSION = "0.16.8"
"""The Letta version whose run delete always fails (checked against its source and a server)."""
MAX_DETAIL_CHARS = 2000
"""An error body kept as ``detail`` is cut to this (an HTML error page can be megabytes)."""

logger = secret_safe_logger("letta_runs")
protect_http_stack_loggers()

M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class _Call:
    """One API call, described before it is sent (used for requests and error messages)."""

    method: str
    path: str
    what: str
    params: dict[str, Any] = field(default_factory=dict)
    json_body: Any = None
    run_id: str | None = None


def _encode_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs as the server expects: lists repeat the key, booleans are lowercase, None is
    omitted."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        values: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, bool):
                pairs.append((key, "true" if item else "false"))
            else:
                pairs.append((key, str(item)))
    return pairs


def _detail_text(detail: Any) -> str:
    """Readable text of a ``detail`` that may be a string, a list of errors or an object."""
    if detail is None:
        return ""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = item.get("loc")
                where = ".".join(str(x) for x in loc) if isinstance(loc, list | tuple) else ""
                parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
            else:
                parts.append(_detail_text(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        for key in ("message", "msg", "error", "detail"):
            if isinstance(detail.get(key), str):
                code = detail.get("code")
                return f"{code}: {detail[key]}" if isinstance(code, str) else str(detail[key])
        return json.dumps(detail, default=str)
    return str(detail)


def _env_flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _parse_custom_headers(text: str | None) -> dict[str, str]:
    """``LETTA_CUSTOM_HEADERS``: one ``Name: value`` per line (as the official SDK reads it).

    Lines end with LF or CRLF; spaces around names and values are not part of them.
    """
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out[name.strip()] = value.strip()
    return out


def _checked_headers(headers: Mapping[str, str], *, source: str) -> dict[str, str]:
    """Extra headers validated like the key: a secret-looking one is registered and never shown.

    Every custom header's value is treated as possibly secret in messages (names are shown).
    """
    out: dict[str, str] = {}
    for name, value in headers.items():
        check_header_name(name, what=source)
        check_header_value(value, what=f"the value of header {name!r} in {source}", secret=True)
        if looks_secret_header(name):
            register_secret(value)
        out[name] = value
    return out


class BaseRunsClient:
    """Configuration and every non-I/O decision shared by the sync and async clients."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        project: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        debug: bool = False,
        read_only: bool | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        # Registered before it is checked, so not even the check's message can show it.
        register_secret(key)
        self.api_key = (
            check_header_value(key, what=f"the API key ({ENV_API_KEY} / --api-key)", secret=True)
            if key
            else None
        )
        self.is_demo, self.base_url = _resolve_base_url(base_url)
        self._http_base = DEMO_HTTP_BASE if self.is_demo else self.base_url
        project = project if project is not None else os.environ.get(ENV_PROJECT)
        self.project = (
            check_header_value(
                project, what=f"the project ({ENV_PROJECT} / --project)", secret=False
            )
            if project
            else None
        )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        self.max_retries = max_retries
        self.timeout = _resolve_timeout(timeout)
        self.read_only = (
            read_only if read_only is not None else _env_flag(os.environ.get(ENV_READ_ONLY))
        )
        self.debug = debug
        if debug:
            _enable_debug_logging()
        self._extra_headers = _checked_headers(dict(headers or {}), source="headers")
        self._custom_headers = _checked_headers(
            _parse_custom_headers(os.environ.get(ENV_CUSTOM_HEADERS)), source=ENV_CUSTOM_HEADERS
        )
        self.default_headers = self._build_headers(self._extra_headers)

    def settings(self) -> dict[str, Any]:
        """Constructor arguments that rebuild an equivalent client (sync or async twin).

        Holds the API key: never print or log it. The transport is kept when both twins can use it
        (``httpx.MockTransport``, the demo data); a sync-only or async-only one is not.
        """
        transport = getattr(self, "_transport", None)
        shared = isinstance(transport, httpx.BaseTransport) and isinstance(
            transport, httpx.AsyncBaseTransport
        )
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "project": self.project,
            "headers": dict(self._extra_headers) or None,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "debug": self.debug,
            "read_only": self.read_only,
            **({"transport": transport} if shared else {}),
        }

    # -- configuration ---------------------------------------------------------------------

    def _build_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        out = {
            "Accept": "application/json",
            "User-Agent": f"letta-runs/{__version__}",
        }
        if self.api_key:
            out["Authorization"] = f"Bearer {self.api_key}"
        if self.project:
            out["X-Project"] = self.project
        out.update(self._custom_headers)
        out.update(dict(extra or {}))
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"

    # -- validation ------------------------------------------------------------------------

    @staticmethod
    def _check_limit(name: str, value: int | None, low: int, high: int | None) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(f"{name} must be an integer, got {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f">= {low}"
            raise InvalidArgumentError(f"{name} must be {bounds}, got {value}")

    @staticmethod
    def _check_order(order: str | None, order_by: str | None) -> None:
        if order is not None and order not in ("asc", "desc"):
            raise InvalidArgumentError(f"order must be 'asc' or 'desc', got {order!r}")
        if order_by is not None and order_by != "created_at":
            raise InvalidArgumentError(
                f"order_by must be 'created_at' (the only value the server accepts), got {order_by!r}"
            )

    # -- calls -----------------------------------------------------------------------------

    def _list_runs_call(self, filters: dict[str, Any]) -> _Call:
        query = parse_params(RunsFilter, filters, what="runs.list").query()
        check_statuses(query.get("statuses"))
        return _Call("GET", "/v1/runs/", "runs.list", query)

    def _list_active_call(self, *, agent_id: str | None, background: bool | None) -> _Call:
        params = _compact({"agent_id": agent_id, "background": background})
        return _Call("GET", "/v1/runs/active", "runs.list_active", params)

    def _run_call(self, what: str, run_id: str, suffix: str = "", method: str = "GET") -> _Call:
        validate_run_id(run_id)
        return _Call(method, f"/v1/runs/{run_id}{suffix}", what, run_id=run_id)

    def _child_list_call(self, kind: ListKind, run_id: str, paging: dict[str, Any]) -> _Call:
        validate_run_id(run_id)
        query = parse_params(RunItemsQuery, paging, what=f"runs.{kind}.list").query()
        if query.get("limit", 0) < 0:
            # Letta answers 500 to a negative limit (and an empty list to 0).
            raise InvalidArgumentError(
                f"limit must be >= 0, got {query['limit']}",
                letta_status=500,
                letta_detail="A database error occurred.",
            )
        return _Call("GET", f"/v1/runs/{run_id}/{kind}", f"runs.{kind}.list", query, run_id=run_id)

    def _trace_call(self, run_id: str, limit: int | None) -> _Call:
        validate_run_id(run_id)
        self._check_limit("limit", limit, 1, TRACE_LIMIT_MAX)
        params = _compact({"limit": limit})
        return _Call("GET", f"/v1/runs/{run_id}/trace", "runs.trace", params, run_id=run_id)

    def _stream_call(
        self,
        run_id: str,
        *,
        starting_after: int | None,
        include_pings: bool | None,
        poll_interval: float | None,
        batch_size: int | None,
        idle_timeout: float,
        max_reconnects: int,
        max_events: int | None,
        max_seconds: float | None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> _Call:
        validate_run_id(run_id)
        if starting_after is not None and (
            isinstance(starting_after, bool) or not isinstance(starting_after, int)
        ):
            raise InvalidArgumentError(
                f"starting_after must be an integer seq_id, got {starting_after!r}"
            )
        self._check_limit("batch_size", batch_size, 1, None)
        self._check_limit("max_reconnects", max_reconnects, 0, None)
        self._check_limit("max_events", max_events, 1, None)
        if poll_interval is not None and poll_interval <= 0:
            raise InvalidArgumentError("poll_interval must be > 0 seconds")
        if idle_timeout <= 0:
            raise InvalidArgumentError("idle_timeout must be > 0 seconds")
        if max_seconds is not None and max_seconds <= 0:
            raise InvalidArgumentError("max_seconds must be > 0 seconds")
        # Always a JSON object: without a body the server answers 500.
        body = dict(extra_body or {}) | _compact(
            {
                "starting_after": starting_after,
                "include_pings": include_pings,
                "poll_interval": poll_interval,
                "batch_size": batch_size,
            }
        )
        return _Call(
            "POST", f"/v1/runs/{run_id}/stream", "runs.stream", json_body=body, run_id=run_id
        )

    def _delete_call(self, run_id: str) -> _Call:
        validate_run_id(run_id)
        if self.read_only:
            raise ReadOnlyError(
                f"refusing to delete run {run_id}: the client is read-only",
                hint=f"unset {ENV_READ_ONLY} (or pass read_only=False) to allow deletes",
            )
        return _Call("DELETE", f"/v1/runs/{run_id}", "runs.delete", run_id=run_id)

    # -- deletes ---------------------------------------------------------------------------

    @staticmethod
    def _delete_may_have_acted(failure: LettaRunsError) -> bool:
        """Whether a failed DELETE may still have deleted the run (then a read must tell)."""
        if isinstance(failure, APIConnectionError):
            return failure.reached_server
        if isinstance(failure, APIStatusError):
            return failure.status_code >= 500 and failure.status_code != 501
        return False

    @staticmethod
    def _health_call() -> _Call:
        return _Call("GET", "/v1/health/", "health")

    @staticmethod
    def _version_from_health(data: Any) -> str | None:
        version = data.get("version") if isinstance(data, dict) else None
        return version if isinstance(version, str) and version.strip() else None

    def _delete_outcome(
        self,
        run_id: str,
        failure: LettaRunsError,
        gone: bool | LettaRunsError,
        server_version: str | None,
    ) -> dict[str, Any] | LettaRunsError:
        """What a DELETE that failed ambiguously did, from a follow-up read of the run.

        ``gone``: True (the read answered 404), False (the run is still there), or the error of
        the read. Returns the result to hand back (deleted) or the error to raise."""
        what = failure.message
        if gone is True:
            return {
                "deleted": run_id,
                "confirmed_by": "retrieve",
                "note": f"the DELETE failed ({what}), but a follow-up read finds no run "
                f"{run_id}: it is deleted",
            }
        if gone is False:
            message = (
                f"run {run_id} was not deleted: {what}; a follow-up read shows it is still there"
            )
            if isinstance(failure, APIStatusError) and failure.status_code == 500:
                hint = self._delete_500_hint(server_version)
            elif isinstance(failure, APIStatusError):
                hint = "the server failed; retry the delete later"
            else:
                hint = "the connection failed after the request was sent; retry the delete"
            facts: dict[str, Any] = {"deleted": False, "run_id": run_id}
            if server_version:
                facts["server_version"] = server_version
            return failure.restated(message, hint=hint, facts=facts)
        return failure.restated(
            f"whether run {run_id} was deleted is unknown: the DELETE failed ({what}) and the "
            f"follow-up read failed too ({gone.message})",
            hint=f"check with `letta-runs runs get {run_id}` before deleting again",
            facts={"deleted": None, "run_id": run_id},
        )

    @staticmethod
    def _delete_500_hint(server_version: str | None) -> str:
        if server_version == BROKEN_DELETE_VERSION:
            return (
                f"this server is Letta {server_version}, whose DELETE /v1/runs/{{id}} fails with "
                "500 for every run (its handler calls a run-manager method that does not "
                "exist); runs cannot be deleted there — upgrade the server"
            )
        version = f"Letta {server_version}" if server_version else "its version is unknown"
        return f"the server ({version}) failed to delete it; its logs say why — retry later"

    # -- requests and responses ------------------------------------------------------------

    def _url(self, call: _Call) -> str:
        return self._http_base + call.path

    def _display_url(self, request: httpx.Request) -> str:
        url = str(request.url)
        if self.is_demo:
            url = url.replace(DEMO_HTTP_BASE, DEMO_BASE_URL, 1)
        return redact(url)

    def _request_kwargs(self, call: _Call, read_timeout: float | None = None) -> dict[str, Any]:
        timeout = self.timeout
        if read_timeout is not None:
            timeout = httpx.Timeout(
                connect=self.timeout.connect,
                read=read_timeout,
                write=self.timeout.write,
                pool=self.timeout.pool,
            )
        kwargs: dict[str, Any] = {
            "method": call.method,
            "url": self._url(call),
            "params": _encode_params(call.params),
            "headers": self.default_headers,
            "timeout": timeout,
        }
        if call.method == "POST":
            kwargs["json"] = call.json_body if call.json_body is not None else {}
        return kwargs

    def _log_request(self, request: httpx.Request, attempt: int) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        headers = headers_for_log(request.headers)
        retry = f" (retry {attempt})" if attempt else ""
        logger.debug(
            redact(f"→ {request.method} {self._display_url(request)}{retry} headers={headers}")
        )

    def _log_response(self, response: httpx.Response, elapsed: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                redact(
                    f"← {response.status_code} {response.request.method} "
                    f"{self._display_url(response.request)} ({elapsed:.3f}s)"
                )
            )

    def _retry_wait(
        self,
        attempt: int,
        call: _Call,
        response: httpx.Response | None = None,
        exc: BaseException | None = None,
    ) -> float | None:
        """Seconds to wait before retrying, or None when this failure is final.

        A DELETE is sent again only when it certainly did not act (see ``_retry``)."""
        if attempt >= self.max_retries:
            return None
        if response is None:
            if exc is not None and not is_retryable_exception(exc):
                return None
            if not may_resend(call.method, exc=exc):
                return None
            return retry_delay(attempt)
        if not may_resend(call.method, status_code=response.status_code, headers=response.headers):
            return None
        if not should_retry_response(response.status_code, response.headers):
            return None
        return retry_delay(attempt, response.headers)

    def _transport_error(
        self, exc: Exception, call: _Call, *, attempts: int = 1
    ) -> APIConnectionError:
        where = self.base_url
        sent = may_have_reached_server(exc)
        error: APIConnectionError
        if isinstance(exc, httpx.TimeoutException):
            error = APITimeoutError(
                f"{call.method} {call.path} timed out on {where} ({type(exc).__name__})",
                hint="the server may be overloaded; retry, or raise the timeout",
            )
        elif sent:
            error = APIConnectionError(
                f"the connection to {where} failed during {call.method} {call.path} "
                f"({type(exc).__name__}: {exc or 'no detail'})",
                hint="the server or a proxy dropped it; retry, and check the network or the "
                "server's logs if it persists",
            )
        else:
            error = APIConnectionError(
                f"could not reach {where} ({type(exc).__name__}: {exc or 'no detail'})",
                hint=f"check {ENV_BASE_URL} and the network; use base_url 'demo' to try "
                "without a server",
            )
        if attempts > 1:
            error = error.restated(f"{error.message} (after {attempts} attempts)", hint=error.hint)
        error.reached_server = sent
        return error

    def _status_error(
        self, response: httpx.Response, call: _Call, *, attempts: int = 1
    ) -> APIStatusError:
        status = response.status_code
        try:
            body: Any = response.json()
        except (ValueError, UnicodeDecodeError):
            body = response.text
        detail = body.get("detail", body) if isinstance(body, dict) else body
        if isinstance(detail, str):
            detail = truncate(detail, MAX_DETAIL_CHARS)  # an HTML error page is not a detail
        text = truncate(redact(_detail_text(detail)), 300)
        message, hint = self._explain(status, call, text, location=response.headers.get("location"))
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        cls = status_error_class(status)
        return cls(
            message,
            status_code=status,
            detail=detail,
            hint=hint,
            method=call.method,
            url=self._display_url(response.request),
        )

    def _explain(
        self, status: int, call: _Call, text: str, *, location: str | None = None
    ) -> tuple[str, str]:
        """What went wrong, and what to try, for one error status of one call (every status
        gets a hint)."""
        run = call.run_id
        where = self.base_url
        lowered = text.lower()
        said = f": {text}" if text else ""
        if 300 <= status < 400:
            target = f" to {truncate(redact(location), 120)}" if location else ""
            return (
                f"{where} redirected {call.method} {call.path} ({status}){target}",
                f"set {ENV_BASE_URL} to the address the server redirects to (letta-runs does "
                "not follow redirects), e.g. https:// instead of http://",
            )
        if status in (401, 403):
            what = "rejected the credentials" if status == 401 else "denied access"
            return (
                f"{where} {what} ({status}) for {call.method} {call.path}",
                f"check {ENV_API_KEY} (and the project header for Letta Cloud)",
            )
        if status == 404:
            cursor_problem = "no message found" in lowered or "no step found" in lowered
            if run and cursor_problem:
                return (
                    f"the cursor of {call.what} was not found for run {run}: {text}",
                    "pass an id taken from this run's own list as before/after",
                )
            if cursor_problem:
                return (
                    f"the cursor of {call.what} was not found: {text}",
                    "pass an id taken from a page of the same list as before/after",
                )
            if call.what.startswith("agents.") and "agent not found" in lowered:
                agent = call.path.split("/")[3]
                return (
                    f"agent {agent} not found on {where}",
                    f"check the id, {ENV_BASE_URL}, or the project header",
                )
            if run:
                return (
                    f"run {run} not found on {where}",
                    f"check the id, {ENV_BASE_URL}, or the project header",
                )
            return (
                f"{call.method} {call.path} not found on {where}",
                f"check {ENV_BASE_URL}: it should be the server root, without /v1",
            )
        if status == 400 and call.what == "runs.stream" and "background" in lowered:
            return (
                f"run {run} cannot be streamed: it was not created in background mode",
                "only runs started by a streaming request with background=true can be "
                "streamed; read its steps and messages instead",
            )
        if status == 405 and call.method == "DELETE" and self.is_demo:
            return (f"cannot delete run {run}{said}", "deletes need a real server")
        if status == 410 and call.what == "runs.stream":
            return (
                f"the stream of run {run} has expired: background streams are kept for 3 hours "
                "after the run was created",
                "read its steps and messages instead",
            )
        if status == 501 and call.what == "runs.trace":
            return (
                "traces are not available on this server (it has no ClickHouse/OTEL store)",
                "use steps and messages instead",
            )
        template = _STATUS_EXPLANATIONS.get(status)
        if template is not None:
            fields = {
                "where": where,
                "method": call.method,
                "path": call.path,
                "what": call.what,
                "said": said,
                "text": text,
                "status": status,
                "base_url_env": ENV_BASE_URL,
            }
            return (template[0].format(**fields), template[1].format(**fields))
        if status >= 500:
            return (
                f"{where} failed on {call.method} {call.path} ({status}){said or ': no detail'}",
                "retry later; if it persists, check the server logs",
            )
        return (
            f"{call.method} {call.path} failed with HTTP {status}{said}",
            f"check the arguments, and that {ENV_BASE_URL} points at a Letta server",
        )

    def _delete_result(
        self, run_id: str, response: httpx.Response, call: _Call
    ) -> Run | dict[str, Any]:
        data = self._json(response, call) if response.content else None
        if isinstance(data, dict) and "id" in data:
            return self._model(Run, data, call)
        return data if isinstance(data, dict) else {"deleted": run_id, "response": data}

    def _json(self, response: httpx.Response, call: _Call) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            content_type = response.headers.get("content-type", "?")
            raise APIResponseError(
                f"{call.method} {call.path} answered {response.status_code} with a body that is "
                f"not JSON (content-type {content_type}): {truncate(redact(response.text), 120)!r}",
                hint=f"check that {ENV_BASE_URL} points at a Letta server",
            ) from None

    def _json_list(self, response: httpx.Response, call: _Call) -> list[dict[str, Any]]:
        data = self._json(response, call)
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise APIResponseError(
                f"{call.method} {call.path} answered {type(data).__name__} where a JSON array of "
                "objects was expected",
                hint=f"check that {ENV_BASE_URL} points at a Letta server",
            )
        return data

    def _model(self, cls: type[M], data: Any, call: _Call) -> M:
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise APIResponseError(
                f"{call.method} {call.path} answered a {cls.__name__} that does not validate: "
                f"{truncate(str(exc), 200)}",
                hint="the server may be a newer version; please report it",
            ) from None

    def _page_spec(self, call: _Call, kind: ListKind) -> PageSpec[Any]:
        parse: Callable[[dict[str, Any]], Any]
        if kind in ("messages", "bulk_messages"):
            parse = parse_message
        elif kind == "steps":
            parse = lambda raw: self._model(Step, raw, call)  # noqa: E731
        else:
            parse = lambda raw: self._model(Run, raw, call)  # noqa: E731
        return PageSpec(kind=kind, path=call.path, params=call.params, parse=parse)

    def _with_params(self, call: _Call, params: dict[str, Any]) -> _Call:
        return _Call(call.method, call.path, call.what, params, call.json_body, call.run_id)


_PROXY_FAILURE = (
    "{where} (or a proxy in front of it) could not serve {method} {path} ({status}){said}",
    "the server is unavailable or overloaded; retry later",
)
_TOO_LARGE = (
    "{where} refused {what} as too large ({status}){said}",
    "ask for less at once (a smaller limit), or check a proxy's size limits",
)
_STATUS_EXPLANATIONS: dict[int, tuple[str, str]] = {
    400: ("the server rejected {what} (400){said}", "check the arguments"),
    405: (
        "{where} does not allow {method} {path} (405){said}",
        "this server does not offer the operation; check that {base_url_env} is a Letta "
        "server root (without /v1)",
    ),
    408: (
        "{where} timed out waiting for the request of {what} (408)",
        "retry; if it keeps happening, a proxy between you and the server may be too slow or "
        "the network congested",
    ),
    409: (
        "conflict on {what} (409){said}",
        "the server is busy with the same data; retry in a moment",
    ),
    410: (
        "{where} says {method} {path} is gone (410){said}",
        "the resource no longer exists on this server; check the id",
    ),
    413: _TOO_LARGE,
    414: _TOO_LARGE,
    431: _TOO_LARGE,
    422: ("the server rejected the parameters of {what}: {text}", "fix the argument it names"),
    429: (
        "rate limited by {where} on {what}",
        "wait a little and retry, or lower the request rate",
    ),
    501: (
        "{where} does not implement {method} {path} (501){said}",
        "this server version lacks the operation (not retried: it will not change); use another "
        "operation, or upgrade the server",
    ),
    502: _PROXY_FAILURE,
    503: _PROXY_FAILURE,
    504: _PROXY_FAILURE,
}
"""What a status means and what to do, for the statuses without a call-specific explanation
(texts are ``str.format`` templates; ``_explain`` handles the others)."""


def _resolve_base_url(base_url: str | None) -> tuple[bool, str]:
    """(is_demo, base URL): an explicit argument wins, then ``LETTA_BASE_URL`` (unset or empty:
    Letta Cloud). An explicit empty string is an error, not Letta Cloud in disguise."""
    if base_url is None:
        base_url = os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    what = f"base URL ({ENV_BASE_URL} / --base-url)"
    if isinstance(base_url, str) and base_url.strip().lower() == DEMO_BASE_URL:
        return True, DEMO_BASE_URL
    return False, check_base_url(base_url, what=what)


def _resolve_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if timeout is None:
        return httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
    if isinstance(timeout, httpx.Timeout):
        for name in ("connect", "read", "write", "pool"):
            value = getattr(timeout, name)
            if value is not None:
                check_seconds(f"timeout.{name}", value, error=ConfigurationError)
        return timeout
    seconds = check_seconds("timeout", timeout, error=ConfigurationError)
    return httpx.Timeout(seconds, connect=DEFAULT_CONNECT_TIMEOUT)


def _compact(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (not the stream of the
    moment debug was turned on, which a test runner or a redirect may have closed since)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _enable_debug_logging() -> None:
    logger.setLevel(logging.DEBUG)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("letta_runs %(levelname)s %(message)s"))
        logger.addHandler(handler)


# ---------------------------------------------------------------------------------------------
# sync


@cache
def _default_ssl_context() -> ssl.SSLContext:
    # Building a verifying context costs ~0.1 s (it loads the CA bundle); share one per process.
    return ssl.create_default_context(cafile=_certifi_where())


def _certifi_where() -> str | None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return None
    return str(certifi.where())


def _tls_verify(base_url: str) -> ssl.SSLContext | bool:
    """TLS settings for ``base_url``: a shared verifying context for https.

    A plain-http base URL never opens a TLS connection (requests use relative paths and
    redirects are not followed), so no context is built for it at all.
    """
    return _default_ssl_context() if base_url.startswith("https://") else False


class RunsClient(BaseRunsClient):
    """Synchronous client. Arguments fall back to ``LETTA_API_KEY``, ``LETTA_BASE_URL``
    (``demo`` = embedded recorded runs), ``LETTA_PROJECT`` and ``LETTA_CUSTOM_HEADERS``.

    >>> with RunsClient(base_url="demo") as client:
    ...     run = client.runs.retrieve("run-39e39189-9b0f-49e1-aa16-49a02c1268f4")
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        project: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        debug: bool = False,
        *,
        read_only: bool | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            project=project,
            headers=headers,
            timeout=timeout,
            max_retries=max_retries,
            debug=debug,
            read_only=read_only,
        )
        self._owns_http = http_client is None
        self._transport = transport
        if http_client is None:
            if transport is None and self.is_demo:
                from ._demo import demo_transport

                transport = demo_transport()
            http_client = httpx.Client(
                transport=transport, timeout=self.timeout, verify=_tls_verify(self.base_url)
            )
        self._http = http_client
        self._sleep: Callable[[float], None] = time.sleep
        self.runs = Runs(self)
        self.messages = AllMessages(self)
        self.agents = Agents(self)
        self.steps = Steps(self)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> RunsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, call: _Call, *, stream: bool = False, read_timeout: float | None = None
    ) -> httpx.Response:
        request = self._http.build_request(**self._request_kwargs(call, read_timeout))
        number = sent()
        attempt = 0
        while True:
            self._log_request(request, attempt)
            started = time.monotonic()
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if stream:
                    raise  # the stream reader decides: idle, resume, or give up
                wait = self._retry_wait(attempt, call, exc=exc)
                if wait is None:
                    raise self._transport_error(exc, call, attempts=attempt + 1) from exc
                self._sleep(wait)
                attempt += 1
                continue
            self._log_response(response, time.monotonic() - started)
            if response.status_code < 300:
                if not stream:
                    record(response, number)
                return response
            wait = self._retry_wait(attempt, call, response)
            if stream:
                response.read()
                response.close()
            if wait is None:
                raise self._status_error(response, call, attempts=attempt + 1)
            self._sleep(wait)
            attempt += 1

    def _get_json(self, call: _Call) -> Any:
        return self._json(self._send(call), call)

    def _fetch_list(self, call: _Call) -> Callable[[str, dict[str, Any]], list[dict[str, Any]]]:
        def fetch(path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            page_call = self._with_params(call, params)
            return self._json_list(self._send(page_call), page_call)

        return fetch

    def _page(self, call: _Call, kind: ListKind) -> SyncPage[Any]:
        fetch = self._fetch_list(call)
        raw = fetch(call.path, call.params)
        probe = last_item_probe_params(kind, call.params) if settles_at_fetch(kind) else None
        last = fetch(call.path, probe) if probe is not None else None
        return SyncPage(self._page_spec(call, kind), raw, call.params, fetch, last)


class Runs(Resource):
    """``client.runs``: list, retrieve, delete, stream, and the per-run sub-resources."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client
        self.messages = RunMessages(client)
        self.steps = RunSteps(client)
        self.usage = RunUsage(client)
        self.metrics = RunMetricsResource(client)
        self.trace = RunTrace(client)

    @accepts(RunsFilter)
    def list(self, **filters: Any) -> SyncPage[Run]:
        """Runs, newest first by default. Iterate the page to walk all pages (``before=`` cursors). Filters: see ``letta_runs.params.RunsFilter``."""
        call = self._client._list_runs_call(filters)
        return self._client._page(call, "runs")

    def list_active(
        self, *, agent_id: str | None = None, background: bool | None = None
    ) -> builtins.list[Run]:
        """Runs in ``created`` or ``running`` (the server returns at most 100)."""
        call = self._client._list_active_call(agent_id=agent_id, background=background)
        data = self._client._json_list(self._client._send(call), call)
        return [self._client._model(Run, item, call) for item in data]

    def retrieve(self, run_id: str) -> Run:
        call = self._client._run_call("runs.retrieve", run_id)
        return self._client._model(Run, self._client._get_json(call), call)

    def delete(self, run_id: str) -> Run | dict[str, Any]:
        """Delete a run, and know whether it is gone.

        The run is read first (an unknown id is ``NotFoundError`` and nothing is deleted). A
        DELETE that fails after it may have reached the server is never sent again: a follow-up
        read decides — gone: the result says so; still there: the error says it was not deleted
        (``facts["deleted"] is False``); unreadable: the error says the outcome is unknown.
        Letta 0.16.8 answers 500 to every DELETE and deletes nothing.
        """
        client = self._client
        call = client._delete_call(run_id)
        self.retrieve(run_id)
        try:
            response = client._send(call)
        except LettaRunsError as failure:
            if not client._delete_may_have_acted(failure):
                raise failure.restated(facts={"deleted": False, "run_id": run_id}) from None
            gone = self._gone(run_id)
            version = (
                self._server_version()
                if gone is False and isinstance(failure, APIStatusError)
                else None
            )
            outcome = client._delete_outcome(run_id, failure, gone, version)
            if isinstance(outcome, LettaRunsError):
                raise outcome from None
            return outcome
        return client._delete_result(run_id, response, call)

    def _gone(self, run_id: str) -> bool | LettaRunsError:
        try:
            self.retrieve(run_id)
        except NotFoundError:
            return True
        except LettaRunsError as exc:
            return exc
        return False

    def _server_version(self) -> str | None:
        try:
            return self._client._version_from_health(
                self._client._get_json(self._client._health_call())
            )
        except LettaRunsError:
            return None

    def stream(
        self,
        run_id: str,
        *,
        starting_after: int | None = None,
        include_pings: bool | None = None,
        poll_interval: float | None = None,
        batch_size: int | None = None,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
        max_reconnects: int = STREAM_MAX_RECONNECTS,
        stop_when_terminal: bool = True,
        max_events: int | None = None,
        max_seconds: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> RunStream:
        """Replay or tail a background run's stream; resumes after drops, ends on its own.

        After iteration ``.end_reason`` is one of ``done``, ``error``, ``cancelled``,
        ``terminal`` (only keep-alives, and the run is finished), ``idle_timeout``,
        ``max_events``, ``max_seconds``. ``max_seconds`` is checked between reads: a read
        already waiting ends by the read timeout fixed when its connection opened, so the stream
        can end up to that much later (never more than ``idle_timeout``).
        """
        client = self._client
        call = client._stream_call(
            run_id,
            starting_after=starting_after,
            include_pings=include_pings,
            poll_interval=poll_interval,
            batch_size=batch_size,
            idle_timeout=idle_timeout,
            max_reconnects=max_reconnects,
            max_events=max_events,
            max_seconds=max_seconds,
            extra_body=extra_body,
        )
        body = {k: v for k, v in (call.json_body or {}).items() if k != "starting_after"}

        def connect(json_body: dict[str, Any], read_timeout: float) -> httpx.Response:
            this = _Call(call.method, call.path, call.what, {}, json_body, run_id)
            return client._send(this, stream=True, read_timeout=read_timeout)

        def is_terminal() -> bool:
            try:
                return self.retrieve(run_id).is_terminal
            except LettaRunsError:
                return False  # unknown: keep reading; the idle timeout still bounds the wait

        def pause(reconnect: int) -> None:
            client._sleep(backoff_delay(reconnect))

        state = StreamState(
            starting_after=starting_after,
            max_events=max_events,
            max_seconds=max_seconds,
            idle_timeout=idle_timeout,
        )
        return RunStream(
            connect=connect,
            is_terminal=is_terminal if stop_when_terminal else None,
            body=body,
            state=state,
            max_reconnects=max_reconnects,
            pause=pause,
            path=call.path,
        )


class RunMessages(Resource):
    """``client.runs.messages``."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client

    @accepts(RunItemsQuery)
    def list(self, run_id: str, **paging: Any) -> SyncPage[Message]:
        """A run's messages, oldest first by default; iterating walks every page, deduplicated. Paging: see ``letta_runs.params.RunItemsQuery``."""
        call = self._client._child_list_call("messages", run_id, paging)
        return self._client._page(call, "messages")

    def stream(
        self,
        run_id: str,
        *,
        agent_id: str | None = None,
        otid: str | None = None,
        body_run_id: str | None = None,
        **options: Any,
    ) -> RunStream:
        """The run's event stream, under letta-client's name (``client.runs.stream``).

        ``agent_id``, ``otid`` and ``body_run_id`` go into the request body as the SDK sends
        them; ``options`` are those of ``client.runs.stream``.
        """
        extra = _compact({"agent_id": agent_id, "otid": otid, "run_id": body_run_id})
        return self._client.runs.stream(run_id, extra_body=extra or None, **options)


class RunSteps(Resource):
    """``client.runs.steps``."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client

    @accepts(RunItemsQuery)
    def list(self, run_id: str, **paging: Any) -> SyncPage[Step]:
        """A run's steps, newest first by default; iterating walks every page. Paging: see ``letta_runs.params.RunItemsQuery``."""
        call = self._client._child_list_call("steps", run_id, paging)
        return self._client._page(call, "steps")


class RunUsage(Resource):
    """``client.runs.usage``."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client

    def retrieve(self, run_id: str) -> Usage:
        """Token totals (Letta sums only the newest 50 steps; use steps for exact totals)."""
        call = self._client._run_call("runs.usage", run_id, "/usage")
        return self._client._model(Usage, self._client._get_json(call), call)


class RunMetricsResource(Resource):
    """``client.runs.metrics``."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client

    def retrieve(self, run_id: str) -> RunMetrics:
        """Duration and step count (``num_steps`` is capped at 50 by the server)."""
        call = self._client._run_call("runs.metrics", run_id, "/metrics")
        return self._client._model(RunMetrics, self._client._get_json(call), call)


class RunTrace(Resource):
    """``client.runs.trace``."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client

    def retrieve(self, run_id: str, *, limit: int | None = None) -> builtins.list[TraceSpan]:
        """OTEL spans; ``NotSupportedError`` (501) on servers without ClickHouse."""
        call = self._client._trace_call(run_id, limit)
        return self._client._json_list(self._client._send(call), call)


# ---------------------------------------------------------------------------------------------
# async


class AsyncRunsClient(BaseRunsClient):
    """Asynchronous twin of ``RunsClient`` (same arguments, same resources, awaitable)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        project: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        debug: bool = False,
        *,
        read_only: bool | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            project=project,
            headers=headers,
            timeout=timeout,
            max_retries=max_retries,
            debug=debug,
            read_only=read_only,
        )
        self._owns_http = http_client is None
        self._transport = transport
        if http_client is None:
            if transport is None and self.is_demo:
                from ._demo import demo_transport

                transport = demo_transport()
            http_client = httpx.AsyncClient(
                transport=transport, timeout=self.timeout, verify=_tls_verify(self.base_url)
            )
        self._http = http_client
        import asyncio  # here, not at module level: the sync client and the CLI do without it

        self._asleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.runs = AsyncRuns(self)
        self.messages = AsyncAllMessages(self)
        self.agents = AsyncAgents(self)
        self.steps = AsyncSteps(self)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncRunsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(
        self, call: _Call, *, stream: bool = False, read_timeout: float | None = None
    ) -> httpx.Response:
        request = self._http.build_request(**self._request_kwargs(call, read_timeout))
        number = sent()
        attempt = 0
        while True:
            self._log_request(request, attempt)
            started = time.monotonic()
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if stream:
                    raise
                wait = self._retry_wait(attempt, call, exc=exc)
                if wait is None:
                    raise self._transport_error(exc, call, attempts=attempt + 1) from exc
                await self._asleep(wait)
                attempt += 1
                continue
            self._log_response(response, time.monotonic() - started)
            if response.status_code < 300:
                if not stream:
                    record(response, number)
                return response
            wait = self._retry_wait(attempt, call, response)
            if stream:
                await response.aread()
                await response.aclose()
            if wait is None:
                raise self._status_error(response, call, attempts=attempt + 1)
            await self._asleep(wait)
            attempt += 1

    async def _get_json(self, call: _Call) -> Any:
        return self._json(await self._send(call), call)

    def _fetch_list(
        self, call: _Call
    ) -> Callable[[str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]:
        async def fetch(path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            page_call = self._with_params(call, params)
            return self._json_list(await self._send(page_call), page_call)

        return fetch

    async def _page(self, call: _Call, kind: ListKind) -> AsyncPage[Any]:
        fetch = self._fetch_list(call)
        probe = last_item_probe_params(kind, call.params) if settles_at_fetch(kind) else None
        if probe is None:
            raw, last = await fetch(call.path, call.params), None
        else:  # the page and its listing's last item, at once
            import asyncio

            raw, last = await asyncio.gather(fetch(call.path, call.params), fetch(call.path, probe))
        return AsyncPage(self._page_spec(call, kind), raw, call.params, fetch, last)


class AsyncRuns(Resource):
    """``client.runs`` of ``AsyncRunsClient``."""

    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client
        self.messages = AsyncRunMessages(client)
        self.steps = AsyncRunSteps(client)
        self.usage = AsyncRunUsage(client)
        self.metrics = AsyncRunMetricsResource(client)
        self.trace = AsyncRunTrace(client)

    @accepts(RunsFilter)
    async def list(self, **filters: Any) -> AsyncPage[Run]:
        """Runs, newest first by default; ``async for`` over the page walks all pages. Filters: see ``letta_runs.params.RunsFilter``."""
        call = self._client._list_runs_call(filters)
        return await self._client._page(call, "runs")

    async def list_active(
        self, *, agent_id: str | None = None, background: bool | None = None
    ) -> builtins.list[Run]:
        call = self._client._list_active_call(agent_id=agent_id, background=background)
        data = self._client._json_list(await self._client._send(call), call)
        return [self._client._model(Run, item, call) for item in data]

    async def retrieve(self, run_id: str) -> Run:
        call = self._client._run_call("runs.retrieve", run_id)
        return self._client._model(Run, await self._client._get_json(call), call)

    async def delete(self, run_id: str) -> Run | dict[str, Any]:
        """Delete a run, and know whether it is gone (see ``RunsClient.runs.delete``)."""
        client = self._client
        call = client._delete_call(run_id)
        await self.retrieve(run_id)
        try:
            response = await client._send(call)
        except LettaRunsError as failure:
            if not client._delete_may_have_acted(failure):
                raise failure.restated(facts={"deleted": False, "run_id": run_id}) from None
            gone = await self._gone(run_id)
            version = (
                await self._server_version()
                if gone is False and isinstance(failure, APIStatusError)
                else None
            )
            outcome = client._delete_outcome(run_id, failure, gone, version)
            if isinstance(outcome, LettaRunsError):
                raise outcome from None
            return outcome
        return client._delete_result(run_id, response, call)

    async def _gone(self, run_id: str) -> bool | LettaRunsError:
        try:
            await self.retrieve(run_id)
        except NotFoundError:
            return True
        except LettaRunsError as exc:
            return exc
        return False

    async def _server_version(self) -> str | None:
        try:
            return self._client._version_from_health(
                await self._client._get_json(self._client._health_call())
            )
        except LettaRunsError:
            return None

    def stream(
        self,
        run_id: str,
        *,
        starting_after: int | None = None,
        include_pings: bool | None = None,
        poll_interval: float | None = None,
        batch_size: int | None = None,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
        max_reconnects: int = STREAM_MAX_RECONNECTS,
        stop_when_terminal: bool = True,
        max_events: int | None = None,
        max_seconds: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> AsyncRunStream:
        """``async for event in client.runs.stream(run_id)`` (see ``RunsClient.runs.stream``)."""
        client = self._client
        call = client._stream_call(
            run_id,
            starting_after=starting_after,
            include_pings=include_pings,
            poll_interval=poll_interval,
            batch_size=batch_size,
            idle_timeout=idle_timeout,
            max_reconnects=max_reconnects,
            max_events=max_events,
            max_seconds=max_seconds,
            extra_body=extra_body,
        )
        body = {k: v for k, v in (call.json_body or {}).items() if k != "starting_after"}

        async def connect(json_body: dict[str, Any], read_timeout: float) -> httpx.Response:
            this = _Call(call.method, call.path, call.what, {}, json_body, run_id)
            return await client._send(this, stream=True, read_timeout=read_timeout)

        async def is_terminal() -> bool:
            try:
                return (await self.retrieve(run_id)).is_terminal
            except LettaRunsError:
                return False  # unknown: keep reading; the idle timeout still bounds the wait

        async def pause(reconnect: int) -> None:
            await client._asleep(backoff_delay(reconnect))

        state = StreamState(
            starting_after=starting_after,
            max_events=max_events,
            max_seconds=max_seconds,
            idle_timeout=idle_timeout,
        )
        return AsyncRunStream(
            connect=connect,
            is_terminal=is_terminal if stop_when_terminal else None,
            body=body,
            state=state,
            max_reconnects=max_reconnects,
            pause=pause,
            path=call.path,
        )


class AsyncRunMessages(Resource):
    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client

    @accepts(RunItemsQuery)
    async def list(self, run_id: str, **paging: Any) -> AsyncPage[Message]:
        call = self._client._child_list_call("messages", run_id, paging)
        return await self._client._page(call, "messages")

    def stream(
        self,
        run_id: str,
        *,
        agent_id: str | None = None,
        otid: str | None = None,
        body_run_id: str | None = None,
        **options: Any,
    ) -> AsyncRunStream:
        """The run's event stream, under letta-client's name (``client.runs.stream``).

        ``agent_id``, ``otid`` and ``body_run_id`` go into the request body as the SDK sends
        them; ``options`` are those of ``client.runs.stream``.
        """
        extra = _compact({"agent_id": agent_id, "otid": otid, "run_id": body_run_id})
        return self._client.runs.stream(run_id, extra_body=extra or None, **options)


class AsyncRunSteps(Resource):
    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client

    @accepts(RunItemsQuery)
    async def list(self, run_id: str, **paging: Any) -> AsyncPage[Step]:
        call = self._client._child_list_call("steps", run_id, paging)
        return await self._client._page(call, "steps")


class AsyncRunUsage(Resource):
    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client

    async def retrieve(self, run_id: str) -> Usage:
        call = self._client._run_call("runs.usage", run_id, "/usage")
        return self._client._model(Usage, await self._client._get_json(call), call)


class AsyncRunMetricsResource(Resource):
    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client

    async def retrieve(self, run_id: str) -> RunMetrics:
        call = self._client._run_call("runs.metrics", run_id, "/metrics")
        return self._client._model(RunMetrics, await self._client._get_json(call), call)


class AsyncRunTrace(Resource):
    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client

    async def retrieve(self, run_id: str, *, limit: int | None = None) -> builtins.list[TraceSpan]:
        call = self._client._trace_call(run_id, limit)
        return self._client._json_list(await self._client._send(call), call)
