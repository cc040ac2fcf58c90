"""Bearer-token protection shared by the HTTP faces (REST adapter, MCP over HTTP).

Both read Letta with the key they hold, so whoever reaches them reads the runs: beyond loopback
they refuse to start without a token (:func:`guard_http`), and with one they require
``Authorization: Bearer`` (:class:`BearerTokenGuard`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ._exceptions import InvalidArgumentError, register_secret

__all__ = ["ENV_SERVE_TOKEN", "BearerTokenGuard", "guard_http", "is_loopback"]

ENV_SERVE_TOKEN = "LETTA_RUNS_SERVE_TOKEN"
"""The bearer token HTTP callers must send (REST adapter and MCP over HTTP)."""

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str) -> bool:
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def guard_http(token: str | None, *, host: str, what: str) -> str | None:
    """The token an HTTP face will require (``None``: none), checked before it starts.

    Without a token only loopback is served: anyone who reaches the face reads the runs with
    the key it holds. The token is registered as a secret, so no message ever shows it.
    """
    if token is not None and not token.strip():
        token = None
    if token is None and not is_loopback(host):
        raise InvalidArgumentError(
            f"refusing to {what} on {host} without a token: anyone who can reach it could read "
            "your Letta runs with this server's key",
            hint=f"set {ENV_SERVE_TOKEN} (or --token), or listen on 127.0.0.1",
        )
    register_secret(token)
    return token


class BearerTokenGuard:
    """Pure ASGI middleware: every HTTP route but ``open_paths`` needs the bearer token."""

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        *,
        open_paths: Iterable[str] = (),
        token_env: str = ENV_SERVE_TOKEN,
    ) -> None:
        self.app = app
        self._token = token.encode()
        self._open = frozenset(open_paths)
        self._env = token_env

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open:
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, presented = header.partition(b" ")
        if scheme.lower() == b"bearer" and secrets.compare_digest(presented.strip(), self._token):
            await self.app(scope, receive, send)
            return
        detail = (
            "missing or wrong bearer token for this letta-runs server"
            if header
            else "this letta-runs server needs 'Authorization: Bearer <token>'"
        )
        response = JSONResponse(
            {"detail": detail, "hint": f"send the token the server was started with ({self._env})"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)
