"""The REST adapter: Letta's Runs API routes, plus diagnosis and timeline, behind one local port.

Every route of the seed answers what Letta answers for the same request — same path, same query
parameters (``statuses`` repeated, ``before``/``after``/``limit``/``order``…), same JSON body for
``POST …/stream``, same JSON back (the server's own items, unknown fields included) — so a tool
written against Letta works against the adapter unchanged. The adapter adds what a shared
service needs: the Letta API key stays on this side, callers present their own bearer token,
deletes are refused unless enabled, and ``GET /v1/runs/{run_id}/diagnosis`` and ``/timeline``
serve the core composites. OpenAPI is at ``/openapi.json`` and ``/docs``.

Errors keep Letta's status codes with a JSON ``{"detail": …}`` body (plus ``hint`` when there
is one): a malformed run id is 400 like Letta, a bad query value 422, a refused delete 403,
an unreachable Letta 502 and a Letta that does not answer in time 504.

>>> app = create_app(lambda: AsyncRunsClient(base_url="demo"))  # doctest: +SKIP
>>> run_rest(port=8080)  # http://127.0.0.1:8080/docs  # doctest: +SKIP

Needs the optional ``rest`` dependency (``pip install 'letta-runs[rest]'``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ._constants import STREAM_IDLE_TIMEOUT
from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    InvalidArgumentError,
    LettaRunsError,
    ReadOnlyError,
    redact,
    register_secret,
)
from ._http_auth import BearerTokenGuard, is_loopback
from .operations import RUN_ID_PATTERN, get_operation

if TYPE_CHECKING:
    from ._client import AsyncRunsClient
    from .models import StreamEvent

__all__ = [
    "DEFAULT_REST_HOST",
    "DEFAULT_REST_PORT",
    "ENV_SERVE_TOKEN",
    "create_app",
    "run_rest",
]

logger = logging.getLogger(__name__)

DEFAULT_REST_HOST = "127.0.0.1"
DEFAULT_REST_PORT = 8080
ENV_SERVE_TOKEN = "LETTA_RUNS_SERVE_TOKEN"
"""Bearer token callers must present (required when the adapter listens beyond loopback)."""
OPEN_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""Routes that answer without the caller's token: liveness and the API description."""
_RUN_ID = re.compile(RUN_ID_PATTERN)

ClientFactory = Callable[[], "AsyncRunsClient"]


def _default_client_factory() -> AsyncRunsClient:
    from ._client import AsyncRunsClient

    return AsyncRunsClient()


# --------------------------------------------------------------------------- plumbing


class _ClientSlot:
    """One client per app, made on first use (ASGI test transports never send lifespan)."""

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        self._client: AsyncRunsClient | None = None

    def get(self) -> AsyncRunsClient:
        if self._client is None:
            self._client = self._factory()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def _status_for(exc: LettaRunsError) -> int:
    if isinstance(exc, APIStatusError):
        return exc.status_code
    if isinstance(exc, ReadOnlyError):
        return 403
    if isinstance(exc, InvalidArgumentError):
        return 422
    if isinstance(exc, APITimeoutError):
        return 504
    if isinstance(exc, APIConnectionError | APIResponseError):
        return 502
    return 500


def _error_body(exc: LettaRunsError) -> dict[str, Any]:
    detail: Any = exc.message
    if isinstance(exc, APIStatusError) and exc.detail not in (None, ""):
        # Letta's own detail, so callers see what they would see talking to Letta directly.
        detail = redact(exc.detail) if isinstance(exc.detail, str) else exc.detail
    body: dict[str, Any] = {"detail": detail}
    if exc.hint:
        body["hint"] = exc.hint
    return body


def _bad_run_id(run_id: str) -> JSONResponse | None:
    """Letta's own 400 for a malformed id, answered before any call."""
    if _RUN_ID.match(run_id):
        return None
    return JSONResponse(
        {
            "detail": f"INVALID_ARGUMENT: Invalid run ID format: {run_id}. Expected format: 'run-<uuid4>'"
        },
        status_code=400,
    )


def _sse_frame(event: StreamEvent) -> bytes:
    payload = event.raw or ("[DONE]" if event.kind == "done" else json.dumps(event.data))
    lines = [f"event: {event.event}"] if event.event else []
    lines += [f"data: {line}" for line in payload.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


def _sse_error_frame(exc: BaseException) -> bytes:
    if isinstance(exc, LettaRunsError):
        payload: dict[str, Any] = {"error": exc.kind, "message": exc.message, "hint": exc.hint}
    else:
        payload = {"error": "unexpected", "message": type(exc).__name__, "hint": None}
    return f"event: error\ndata: {json.dumps(payload)}\n\n".encode()


class StreamRequest(BaseModel):
    """Body of ``POST /v1/runs/{run_id}/stream`` (Letta's ``RetrieveStreamRequest``)."""

    model_config = ConfigDict(extra="allow")

    starting_after: int | None = Field(
        default=None, description="Stream only chunks after this seq_id (default: from the start)."
    )
    include_pings: bool | None = Field(
        default=None, description="Include keep-alive pings (the server's default is true)."
    )
    poll_interval: float | None = Field(
        default=None, gt=0, description="Seconds the server waits between polls."
    )
    batch_size: int | None = Field(default=None, ge=1, description="Entries per server read.")


# --------------------------------------------------------------------------- the app


def create_app(
    client_factory: ClientFactory | None = None,
    *,
    token: str | None = None,
    allow_delete: bool = False,
    host: str = DEFAULT_REST_HOST,
    stream_idle_timeout: float = STREAM_IDLE_TIMEOUT,
) -> FastAPI:
    """The adapter as an ASGI app.

    ``client_factory`` makes the one ``AsyncRunsClient`` the app uses (default: configured from
    the environment). ``token`` is the bearer token callers must send; it is required when
    ``host`` is not a loopback address, so the Letta key is never served to the network openly.
    """
    if token is not None and not token.strip():
        token = None
    if token is None and not is_loopback(host):
        raise InvalidArgumentError(
            f"refusing to serve on {host} without a token: anyone who can reach it could read "
            "your Letta runs with this server's key",
            hint=f"set {ENV_SERVE_TOKEN} (or --token), or listen on 127.0.0.1",
        )
    if token is not None:
        register_secret(token)
    slot = _ClientSlot(client_factory or _default_client_factory)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await slot.aclose()

    from ._version import __version__

    app = FastAPI(
        title="letta-runs REST adapter",
        version=__version__,
        description=(
            "Letta's Runs API (same paths, parameters and JSON) plus run diagnosis and "
            "timelines. Callers authenticate with their own bearer token when one is configured; "
            "the Letta API key stays on the adapter."
        ),
        lifespan=lifespan,
    )
    if token is not None:
        app.add_middleware(
            BearerTokenGuard, token=token, open_paths=OPEN_PATHS, token_env=ENV_SERVE_TOKEN
        )

    @app.exception_handler(LettaRunsError)
    async def letta_runs_error(_request: Request, exc: LettaRunsError) -> JSONResponse:
        status = _status_for(exc)
        # Letta's own refusals are the caller's business; failing to reach Letta is ours.
        if not isinstance(exc, APIStatusError) and status >= 500:
            logger.warning("%s", exc)
        return JSONResponse(_error_body(exc), status_code=status)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(
            {"detail": f"internal error in the letta-runs adapter ({type(exc).__name__})"},
            status_code=500,
        )

    def client() -> AsyncRunsClient:
        return slot.get()

    async def raw_json(build: Callable[[AsyncRunsClient], Any]) -> Any:
        # The server's JSON as it came (no model round trip changes a timestamp or a key).
        c = client()
        call = build(c)
        return await c._get_json(call)

    @app.get("/health", tags=["adapter"], summary="Liveness (no token needed)")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "delete_enabled": allow_delete}

    # ----------------------------------------------------------------------- pass-through

    async def list_runs(
        agent_id: Annotated[str | None, Query(description="Only runs of this agent.")] = None,
        agent_ids: Annotated[
            list[str] | None,
            Query(description="Deprecated by Letta in favour of agent_id.", deprecated=True),
        ] = None,
        statuses: Annotated[
            list[str] | None,
            Query(description="Repeat the key: statuses=failed&statuses=cancelled."),
        ] = None,
        background: Annotated[
            bool | None, Query(description="Only background (or other) runs.")
        ] = None,
        stop_reason: Annotated[
            str | None, Query(description="Only runs with this stop reason.")
        ] = None,
        conversation_id: Annotated[
            str | None, Query(description="Only runs of this conversation.")
        ] = None,
        before: Annotated[
            str | None,
            Query(
                description="Run id cursor: on Letta this is the next page in the current order."
            ),
        ] = None,
        after: Annotated[
            str | None, Query(description="Run id cursor (head of the list up to it).")
        ] = None,
        limit: Annotated[
            int | None, Query(ge=1, le=1000, description="1-1000, server default 100.")
        ] = None,
        order: Annotated[
            Literal["asc", "desc"] | None, Query(description="Server default 'desc'.")
        ] = None,
        order_by: Annotated[Literal["created_at"] | None, Query()] = None,
        active: Annotated[bool | None, Query(description="Only created or running runs.")] = None,
        ascending: Annotated[bool | None, Query(deprecated=True)] = None,
    ) -> Any:
        page = await client().runs.list(
            agent_id=agent_id,
            agent_ids=agent_ids,
            statuses=statuses,
            background=background,
            stop_reason=stop_reason,
            conversation_id=conversation_id,
            before=before,
            after=after,
            limit=limit,
            order=order,
            order_by=order_by,
            active=active,
            ascending=ascending,
        )
        return page.raw_items

    app.get("/v1/runs/", tags=["runs"], summary="List runs", operation_id="list_runs")(list_runs)
    app.get("/v1/runs", include_in_schema=False)(list_runs)

    @app.get("/v1/runs/active", tags=["runs"], summary="List active runs")
    async def list_active_runs(
        agent_id: Annotated[
            str | None, Query(description="Only active runs of this agent.")
        ] = None,
        background: Annotated[
            bool | None, Query(description="Only background (or other) runs.")
        ] = None,
    ) -> Any:
        return await raw_json(
            lambda c: c._list_active_call(agent_id=agent_id, background=background)
        )

    @app.get("/v1/runs/{run_id}", tags=["runs"], summary="Retrieve a run")
    async def retrieve_run(run_id: str) -> Any:
        return _bad_run_id(run_id) or await raw_json(lambda c: c._run_call("runs.retrieve", run_id))

    @app.delete(
        "/v1/runs/{run_id}",
        tags=["runs"],
        summary="Delete a run (403 unless the adapter was started with --allow-delete)",
    )
    async def delete_run(run_id: str) -> Any:
        if not allow_delete:
            return JSONResponse(
                {
                    "detail": "deleting runs is disabled on this letta-runs adapter",
                    "hint": "start it with --allow-delete to pass deletes through to Letta",
                },
                status_code=403,
            )
        bad = _bad_run_id(run_id)
        if bad is not None:
            return bad
        result = await client().runs.delete(run_id)
        return result if isinstance(result, dict) else result.to_json_dict()

    @app.get("/v1/runs/{run_id}/messages", tags=["runs"], summary="List a run's messages")
    async def list_messages_for_run(
        run_id: str,
        before: Annotated[
            str | None, Query(description="Message id: items earlier than it.")
        ] = None,
        after: Annotated[str | None, Query(description="Message id: items later than it.")] = None,
        limit: Annotated[int | None, Query(ge=1, description="Server default 100.")] = None,
        order: Annotated[
            Literal["asc", "desc"] | None, Query(description="Server default 'asc'.")
        ] = None,
        order_by: Annotated[Literal["created_at"] | None, Query()] = None,
    ) -> Any:
        bad = _bad_run_id(run_id)
        if bad is not None:
            return bad
        page = await client().runs.messages.list(
            run_id, before=before, after=after, limit=limit, order=order, order_by=order_by
        )
        return page.raw_items

    @app.get("/v1/runs/{run_id}/usage", tags=["runs"], summary="Token usage of a run")
    async def retrieve_usage_for_run(run_id: str) -> Any:
        return _bad_run_id(run_id) or await raw_json(
            lambda c: c._run_call("runs.usage", run_id, "/usage")
        )

    @app.get("/v1/runs/{run_id}/metrics", tags=["runs"], summary="Metrics of a run")
    async def retrieve_metrics_for_run(run_id: str) -> Any:
        return _bad_run_id(run_id) or await raw_json(
            lambda c: c._run_call("runs.metrics", run_id, "/metrics")
        )

    @app.get("/v1/runs/{run_id}/steps", tags=["runs"], summary="List a run's steps")
    async def list_steps_for_run(
        run_id: str,
        before: Annotated[str | None, Query(description="Step id cursor.")] = None,
        after: Annotated[
            str | None, Query(description="Step id cursor (next page in the order).")
        ] = None,
        limit: Annotated[int | None, Query(ge=1, description="Server default 100.")] = None,
        order: Annotated[
            Literal["asc", "desc"] | None, Query(description="Server default 'desc'.")
        ] = None,
        order_by: Annotated[Literal["created_at"] | None, Query()] = None,
    ) -> Any:
        bad = _bad_run_id(run_id)
        if bad is not None:
            return bad
        page = await client().runs.steps.list(
            run_id, before=before, after=after, limit=limit, order=order, order_by=order_by
        )
        return page.raw_items

    @app.get("/v1/runs/{run_id}/trace", tags=["runs"], summary="OTEL trace of a run")
    async def retrieve_trace_for_run(
        run_id: str,
        limit: Annotated[
            int | None, Query(ge=1, le=5000, description="Server default 1000.")
        ] = None,
    ) -> Any:
        bad = _bad_run_id(run_id)
        if bad is not None:
            return bad
        return await client().runs.trace.retrieve(run_id, limit=limit)

    @app.post(
        "/v1/runs/{run_id}/stream",
        tags=["runs"],
        summary="Stream a background run (server-sent events, passed through)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def retrieve_stream_for_run(
        run_id: str, body: Annotated[StreamRequest | None, Body()] = None
    ) -> Response:
        bad = _bad_run_id(run_id)
        if bad is not None:
            return bad
        req = body or StreamRequest()
        stream = client().runs.stream(
            run_id,
            starting_after=req.starting_after,
            include_pings=req.include_pings,
            poll_interval=req.poll_interval,
            batch_size=req.batch_size,
            idle_timeout=stream_idle_timeout,
        )
        events = stream.__aiter__()
        # Read the first event before answering, so a refused stream (400 not background,
        # 410 too old, 404) keeps its status code instead of becoming an empty 200 stream.
        try:
            first: StreamEvent | None = await events.__anext__()
        except StopAsyncIteration:
            first = None
        except BaseException:
            await stream.aclose()
            raise

        async def body_bytes() -> AsyncIterator[bytes]:
            try:
                if first is not None:
                    yield _sse_frame(first)
                    async for event in events:
                        yield _sse_frame(event)
            except Exception as exc:  # the status line is gone: report in-band, like Letta
                logger.warning("stream of %s ended by %s", run_id, type(exc).__name__)
                yield _sse_error_frame(exc)
            finally:
                await stream.aclose()

        return StreamingResponse(
            body_bytes(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # ----------------------------------------------------------------------- composites

    async def composite(
        name: str, arguments: dict[str, Any], fmt: str
    ) -> Response | dict[str, Any] | list[Any]:
        try:
            op = get_operation(name)
        except KeyError:
            return JSONResponse(
                {"detail": f"{name} is not available in this version of letta-runs"},
                status_code=501,
            )
        result = await op.run(client(), arguments)
        if fmt == "markdown":
            return PlainTextResponse(result.text, media_type="text/markdown; charset=utf-8")
        artifact = result.artifact
        if isinstance(artifact, BaseModel):
            # The full typed result: a REST caller is a program, not a model with a budget.
            dumped: dict[str, Any] = artifact.model_dump(mode="json", by_alias=True)
            return dumped
        data = result.data
        return data if isinstance(data, dict | list) else {"result": data}

    @app.get(
        "/v1/runs/{run_id}/diagnosis",
        tags=["diagnosis"],
        summary="Diagnose a run: what went wrong, the evidence, and what to do next",
    )
    async def diagnose_run(
        run_id: str,
        detail: Annotated[Literal["summary", "standard", "full"], Query()] = "standard",
        format: Annotated[Literal["json", "markdown"], Query()] = "json",
        stuck_after_seconds: Annotated[
            float | None,
            Query(gt=0, description="A created/running run older than this is stuck (600)."),
        ] = None,
    ) -> Any:
        bad = _bad_run_id(run_id)
        if bad is not None:
            return bad
        arguments: dict[str, Any] = {"run_id": run_id, "detail": detail}
        if stuck_after_seconds is not None:
            arguments["stuck_after_seconds"] = stuck_after_seconds
        return await composite("diagnose-run", arguments, format)

    @app.get(
        "/v1/runs/{run_id}/timeline",
        tags=["diagnosis"],
        summary="A run's steps, messages and errors as one timeline",
    )
    async def run_timeline(
        run_id: str,
        detail: Annotated[Literal["summary", "standard", "full"], Query()] = "standard",
        format: Annotated[Literal["json", "markdown"], Query()] = "json",
    ) -> Any:
        bad = _bad_run_id(run_id)
        if bad is not None:
            return bad
        return await composite("run-timeline", {"run_id": run_id, "detail": detail}, format)

    return app


def run_rest(
    host: str = DEFAULT_REST_HOST,
    port: int = DEFAULT_REST_PORT,
    token: str | None = None,
    allow_delete: bool = False,
    client_factory: ClientFactory | None = None,
) -> None:
    """Serve the adapter with uvicorn until interrupted (blocking).

    ``token`` defaults to ``$LETTA_RUNS_SERVE_TOKEN``; without one the adapter only listens on
    loopback.
    """
    import uvicorn

    token = token or os.environ.get(ENV_SERVE_TOKEN) or None
    app = create_app(client_factory, token=token, allow_delete=allow_delete, host=host)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"letta-runs REST adapter on http://{shown}:{port} (OpenAPI: /docs)"
        + ("" if token else " — no token: loopback only"),
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
