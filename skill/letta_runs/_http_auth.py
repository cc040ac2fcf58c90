"""Bearer-token protection shared by the HTTP faces (REST adapter, MCP over HTTP).

Both read Letta with the key they hold, so whoever reaches them reads the runs: beyond loopback
they refuse to start without a token, and with one they require ``Authorization: Bearer``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerTokenGuard", "is_loopback"]

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str) -> bool:
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


class BearerTokenGuard:
    """Pure ASGI middleware: every HTTP route but ``open_paths`` needs the bearer token."""

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        *,
        open_paths: Iterable[str] = (),
        token_env: str = "LETTA_RUNS_SERVE_TOKEN",
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
