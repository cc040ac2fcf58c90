"""The REST adapter: Letta's Runs API, plus the composites, behind one local port.

Every route is generated from the operation catalog (:mod:`letta_runs.operations`). The Runs
API routes are Letta's own contract: the same paths, operation ids (``list_runs``,
``retrieve_run``, …), query parameters and bodies, validated exactly as Letta validates them (a
bad value gets Letta's status and Letta's body, ``{"trace_id": "", "detail": "…"}`` for a 422),
and answered with the server's own JSON bytes — so a tool written against Letta works against
the adapter unchanged. The composites (diagnosis, timeline, triage, stuck runs, comparison,
watch) are served beside them as JSON or Markdown (``?format=markdown``).

The adapter adds what a shared service needs: the Letta API key stays on this side, callers
present their own bearer token (the ``HTTPBearer`` security scheme of the OpenAPI; required
beyond loopback), deletes are refused (403) unless enabled, an unreachable Letta is a 502 and a
Letta that does not answer in time a 504. OpenAPI is at ``/openapi.json`` and ``/docs``.

>>> app = create_app(lambda: AsyncRunsClient(base_url="demo"))  # doctest: +SKIP
>>> run_rest(port=8080)  # http://127.0.0.1:8080/docs  # doctest: +SKIP

Needs the optional ``rest`` dependency (``pip install 'letta-runs[rest]'``).
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from inspect import Parameter, Signature
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Body, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, create_model

from ._constants import STREAM_IDLE_TIMEOUT
from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    InvalidArgumentError,
    LettaRunsError,
    ReadOnlyError,
)
from ._http_auth import ENV_SERVE_TOKEN, guard_http
from ._raw import captured_responses
from ._secrets import redact_data, secret_safe_logger
from .operations import FACES, OPERATIONS, Operation, Page
from .params import validate_run_id

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

logger = secret_safe_logger(__name__)

DEFAULT_REST_HOST = "127.0.0.1"
DEFAULT_REST_PORT = 8080
OPEN_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""Routes that answer without the caller's token: liveness and the API description."""

ClientFactory = Callable[[], "AsyncRunsClient"]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="HTTPBearer",
    description=f"The token the adapter was started with (${ENV_SERVE_TOKEN}); required "
    "unless it listens on loopback without one. The Letta API key stays on the adapter.",
)


def _default_client_factory() -> AsyncRunsClient:
    from ._client import AsyncRunsClient

    return AsyncRunsClient()


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


# --------------------------------------------------------------------------- errors, Letta's way


def _letta_422(detail: Any) -> JSONResponse:
    """Letta's 422 body: a ``trace_id`` and the error list as text."""
    return JSONResponse({"trace_id": "", "detail": detail}, status_code=422)


def _error_response(exc: LettaRunsError) -> JSONResponse:
    if isinstance(exc, APIStatusError):
        # Letta's own answer, so callers see what they would see talking to Letta directly.
        detail = redact_data(exc.detail)
        if exc.status_code == 422:
            return _letta_422(detail)
        return JSONResponse({"detail": detail}, status_code=exc.status_code)
    if isinstance(exc, InvalidArgumentError) and not isinstance(exc, ConfigurationError):
        if exc.letta_status is not None:
            return JSONResponse({"detail": exc.letta_detail}, status_code=exc.letta_status)
        return _letta_422(exc.message)
    status = 500  # also the adapter's own bad settings (its key, its base URL): not the caller's
    if isinstance(exc, ReadOnlyError):
        status = 403
    elif isinstance(exc, APITimeoutError):
        status = 504
    elif isinstance(exc, APIConnectionError | APIResponseError):
        status = 502
    if status >= 500:
        logger.warning("%s", exc)
    body: dict[str, Any] = {"detail": exc.message}
    if exc.hint:
        body["hint"] = exc.hint
    return JSONResponse(body, status_code=status)


# --------------------------------------------------------------------------- routes from the catalog


def _query_model(op: Operation, *, formats: bool) -> type[BaseModel]:
    """The route's query: the operation's arguments but its path ones; unknown keys are ignored,
    as Letta ignores them."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in op.args_model.model_fields.items()
        if name not in op.route.path_params
    }
    if formats:
        fields["format"] = (Literal["json", "markdown"], "json")
    return create_model(
        op.args_model.__name__.removesuffix("Args") + "Query",
        __config__=ConfigDict(extra="ignore", use_enum_values=True),
        **fields,
    )


def _response_model(op: Operation) -> Any:
    """What the route answers, for the OpenAPI: Letta's list of items where the catalog pages."""
    model = op.result_model
    if isinstance(model, type) and issubclass(model, Page):
        return model.model_fields["items"].annotation
    return None if op.destructive else model


def _endpoint(
    op: Operation,
    client: Callable[[], AsyncRunsClient],
    *,
    allow_delete: bool,
    stream_idle_timeout: float,
) -> Callable[..., Awaitable[Response]]:
    """The route function of ``op``, with the signature FastAPI reads its parameters from."""
    body_model = op.route.stream_body
    html = op.route.media_type == "text/html"
    query = None if body_model is not None else _query_model(op, formats=op.composite and not html)

    async def endpoint(**params: Any) -> Response:
        path = {name: params[name] for name in op.route.path_params}
        if op.destructive and not allow_delete:
            return JSONResponse(
                {
                    "detail": f"{op.title.lower()} is disabled on this letta-runs adapter",
                    "hint": "start it with --allow-delete to pass it through to Letta",
                },
                status_code=403,
            )
        if body_model is not None:
            return await _event_stream(client(), path, params.get("body"), stream_idle_timeout)
        args = params["query"].model_dump(exclude_none=True)
        fmt = args.pop("format", "json")
        if not op.composite:
            # The server's own bytes: the same JSON Letta sends, key order and timestamps kept.
            with captured_responses() as responses:
                await op.call(client(), op.parse({**path, **args}))
            first = responses[0]
            return Response(
                first.content, status_code=first.status_code, media_type="application/json"
            )
        result = await op.run(client(), {**path, **args}, face=FACES["rest"])
        if html:
            return _html_page(result.artifact.html)
        if fmt == "markdown":
            return PlainTextResponse(result.text, media_type="text/markdown; charset=utf-8")
        return JSONResponse(result.data)

    parameters = [
        Parameter(name, Parameter.KEYWORD_ONLY, annotation=str) for name in op.route.path_params
    ]
    if body_model is not None:
        parameters.append(
            Parameter(
                "body",
                Parameter.KEYWORD_ONLY,
                annotation=Annotated[body_model | None, Body()],
                default=None,
            )
        )
    else:
        parameters.append(
            Parameter("query", Parameter.KEYWORD_ONLY, annotation=Annotated[query, Query()])
        )
    endpoint.__signature__ = Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = op.name
    return endpoint


def _html_page(page: str) -> HTMLResponse:
    """A report page, with the policy its own meta tag declares also sent as a header."""
    match = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if match:
        headers["Content-Security-Policy"] = html_lib.unescape(match.group(1))
    return HTMLResponse(page, headers=headers)


async def _event_stream(
    client: AsyncRunsClient, path: dict[str, str], body: BaseModel | None, idle_timeout: float
) -> Response:
    """Letta's event stream of a background run, passed through frame by frame."""
    run_id = validate_run_id(path["run_id"])
    request = body.model_dump(exclude_none=True) if body is not None else {}
    stream = client.runs.stream(
        run_id,
        starting_after=request.get("starting_after"),
        include_pings=request.get("include_pings"),
        poll_interval=request.get("poll_interval"),
        batch_size=request.get("batch_size"),
        idle_timeout=idle_timeout,
    )
    events = stream.__aiter__()
    # Read the first event before answering, so a refused stream (400 not background, 410 too
    # old, 404) keeps its status code instead of becoming an empty 200 stream.
    try:
        first: StreamEvent | None = await events.__anext__()
    except StopAsyncIteration:
        first = None
    except BaseException:
        await stream.aclose()
        raise

    async def frames() -> AsyncIterator[bytes]:
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
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
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
    token = guard_http(token, host=host, what="serve")
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
            "Letta's Runs API (same paths, operation ids, parameters, validation and JSON) plus "
            "run diagnosis, timelines, triage, stuck runs, comparison and watch. Callers "
            "authenticate with their own bearer token when one is configured; the Letta API key "
            "stays on the adapter."
        ),
        lifespan=lifespan,
    )
    if token is not None:
        from ._http_auth import BearerTokenGuard

        app.add_middleware(
            BearerTokenGuard, token=token, open_paths=OPEN_PATHS, token_env=ENV_SERVE_TOKEN
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Letta's own 422: the error list as Python text under ``detail``, and a trace id.
        return _letta_422(repr(exc.errors()))

    @app.exception_handler(LettaRunsError)
    async def letta_runs_error(_request: Request, exc: LettaRunsError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(
            {"detail": f"internal error in the letta-runs adapter ({type(exc).__name__})"},
            status_code=500,
        )

    @app.get("/health", tags=["adapter"], summary="Liveness (no token needed)")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "delete_enabled": allow_delete}

    # Fixed paths first, so /v1/runs/triage is not read as a run id.
    for op in sorted(OPERATIONS, key=lambda o: bool(o.route.path_params)):
        endpoint = _endpoint(
            op, slot.get, allow_delete=allow_delete, stream_idle_timeout=stream_idle_timeout
        )
        stream = op.route.stream_body is not None
        page = op.route.media_type == "text/html"
        app.add_api_route(
            op.route.path,
            endpoint,
            methods=[op.route.method],
            operation_id=op.name,
            summary=op.title,
            description=op.description,
            tags=["diagnosis" if op.composite else "runs"],
            response_model=None if stream or page else _response_model(op),
            response_class=StreamingResponse
            if stream
            else (HTMLResponse if page else JSONResponse),
            responses={200: {"content": {"text/event-stream": {}}}} if stream else None,
            dependencies=[Security(bearer)],
        )
        if op.route.path == "/v1/runs/":
            # Letta redirects the slash-less path; serve it directly with the same answer.
            app.add_api_route("/v1/runs", endpoint, methods=["GET"], include_in_schema=False)
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
