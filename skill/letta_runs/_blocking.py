"""The one bridge from blocking code to the async core.

Every composite, the catalog's operations and the evidence gathering are ``async`` over an
:class:`~letta_runs.AsyncRunsClient`. Blocking callers — the CLI, a LangChain tool's ``invoke``,
scripts holding a :class:`~letta_runs.RunsClient` — run them here, on an async twin built from the
same settings (key, base URL, project, headers, timeouts, retries, read-only mode, and the
transport when it serves both twins, like ``httpx.MockTransport`` and the demo data).

>>> from letta_runs import RunsClient
>>> from letta_runs.composites import diagnose_run
>>> with RunsClient(base_url="demo") as client:                         # doctest: +SKIP
...     diag = run_blocking(client, lambda c: diagnose_run(c, "run-…"))
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

if TYPE_CHECKING:
    from ._client import AsyncRunsClient, BaseRunsClient, RunsClient

__all__ = ["blocking", "run_blocking"]

T = TypeVar("T")
P = ParamSpec("P")


def run_blocking(
    source: BaseRunsClient | Mapping[str, Any] | None,
    fn: Callable[[AsyncRunsClient], Awaitable[T]],
) -> T:
    """Run ``fn(client)`` to completion on a fresh async client and return its result.

    ``source`` is a client whose settings are copied (it stays open and yours), the settings
    themselves (``BaseRunsClient.settings()``), or ``None`` for the environment's. Called from
    inside a running event loop (a notebook, an async framework calling a blocking API), the work
    runs on a loop of its own in a worker thread, since the running loop cannot be blocked on.
    """
    from ._client import AsyncRunsClient, BaseRunsClient

    if source is None:
        source = BaseRunsClient()
    settings = source.settings() if isinstance(source, BaseRunsClient) else dict(source)

    async def go() -> T:
        async with AsyncRunsClient(**settings) as client:
            return await fn(client)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(go())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, go()).result()


def blocking(
    fn: Callable[Concatenate[AsyncRunsClient, P], Awaitable[T]],
) -> Callable[Concatenate[RunsClient, P], T]:
    """The blocking twin of an ``async def fn(client, …)``: it takes a ``RunsClient`` instead.

    >>> diagnose_run_sync = blocking(diagnose_run)                       # doctest: +SKIP
    """

    @functools.wraps(fn)
    def twin(client: RunsClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return run_blocking(client, lambda c: fn(c, *args, **kwargs))

    twin.__doc__ = f"Blocking twin of ``{fn.__name__}``: the same arguments, a ``RunsClient``."
    return twin
