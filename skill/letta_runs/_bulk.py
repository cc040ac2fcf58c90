"""Reads across runs: every agent's messages, one agent's messages, steps by date, agents.

    client.messages.list(...)              GET /v1/messages/                  (every agent)
    client.agents.messages.list(agent_id)  GET /v1/agents/{agent_id}/messages
    client.agents.retrieve(agent_id)       GET /v1/agents/{agent_id}          (no relationships)
    client.steps.list(...)                 GET /v1/steps/   (start_date, end_date, agent_id)

They carry ``run_id`` on every item, so a window of runs can be read in a few pages instead of
several requests per run. What Letta 0.16.8 really does (pinned against the real server in the
integration suite):

* **messages** (both lists): a page always comes back oldest → newest, whatever ``order`` says;
  ``order=desc`` (the default) picks the *newest* ``limit`` internal messages, ``order=asc`` the
  oldest. ``before=X`` / ``after=X`` mean older / newer than X in the global insertion sequence in
  either order, so paging back in time is ``order=desc`` + ``before=<first id of the page>``.
  ``limit`` counts internal messages (one can render as several items), and has no upper bound.
  An unknown cursor is a 404. System messages (one per agent) carry no ``run_id``.
  The all-agents list renders every text as ``assistant_message`` (it assumes a
  ``letta_v1_agent``); ``/v1/runs/{id}/messages`` and the agent's own list render text as
  ``reasoning_message`` for other agent types.
* **steps**: every query answers 400 ``Argument order does not match type…`` on 0.16.8 (a server
  bug; ``/v1/runs/{id}/steps`` works). The first such answer marks the endpoint unsupported for
  the client (``client.steps.supported is False``), later calls raise ``NotSupportedError`` without
  a request, and callers read steps per run instead. Where it works its cursors are the normal
  ones (``after=<last id>`` is the next page), and ``start_date``/``end_date`` are exclusive.

>>> with RunsClient(base_url="demo") as client:                # doctest: +SKIP
...     newest = client.messages.list(limit=500).items          # the newest 500, oldest first
...     for message in client.messages.list(limit=500):         # walks back to the beginning
...         ...
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._exceptions import BadRequestError, InvalidArgumentError, NotSupportedError
from ._pagination import AsyncPage, SyncPage
from .models import Agent, Message, Step

if TYPE_CHECKING:
    from ._client import AsyncRunsClient, BaseRunsClient, RunsClient, _Call

__all__ = [
    "AGENT_ID_PATTERN",
    "MESSAGE_TYPES",
    "STEPS_ORDER_BUG",
    "Agents",
    "AllMessages",
    "AsyncAgents",
    "AsyncAllMessages",
    "AsyncSteps",
    "Steps",
    "validate_agent_id",
]

AGENT_ID_PATTERN = re.compile(
    r"^agent-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
MESSAGE_TYPES = (
    "system_message",
    "user_message",
    "assistant_message",
    "reasoning_message",
    "hidden_reasoning_message",
    "tool_call_message",
    "tool_return_message",
    "approval_request_message",
    "approval_response_message",
    "summary_message",
    "event_message",
)
"""The values ``include_return_message_types`` accepts (anything else is a 422)."""
STEPS_ORDER_BUG = "Argument order does not match type"
"""The start of the 400 that Letta 0.16.8's ``GET /v1/steps/`` answers to every query."""


def validate_agent_id(agent_id: str) -> str:
    """Check an agent id has the server's ``agent-<uuid4>`` form (before any I/O)."""
    if not isinstance(agent_id, str) or not AGENT_ID_PATTERN.match(agent_id):
        raise InvalidArgumentError(
            f"invalid agent id {agent_id!r}: expected 'agent-<uuid4>' in lowercase",
            hint="copy the id from a run's agent_id",
        )
    return agent_id


# --- calls (no I/O) -------------------------------------------------------------------------


def _message_types(values: Iterable[str] | str | None) -> builtins.list[str] | None:
    if values is None:
        return None
    out = [values] if isinstance(values, str) else list(values)
    for value in out:
        if value not in MESSAGE_TYPES:
            raise InvalidArgumentError(
                f"unknown message type {value!r}", hint="valid types: " + ", ".join(MESSAGE_TYPES)
            )
    return out


def _iso(name: str, value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"{name} must be an ISO 8601 date-time, got {value!r}",
            hint="e.g. 2026-01-29T15:01:19+00:00",
        ) from None
    return value


def _aware(text: str) -> datetime:
    # The server reads a date without an offset as UTC.
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _messages_call(
    client: BaseRunsClient,
    path: str,
    what: str,
    *,
    before: str | None,
    after: str | None,
    limit: int | None,
    order: str | None,
    conversation_id: str | None,
    include_return_message_types: Iterable[str] | str | None,
) -> _Call:
    from ._client import _Call, _compact

    # 0 answers [] and a negative limit a 500; there is no upper bound.
    client._check_limit("limit", limit, 1, None)
    client._check_order(order, None)
    params = _compact(
        {
            "before": before,
            "after": after,
            "limit": limit,
            "order": order,
            "conversation_id": conversation_id,
            "include_return_message_types": _message_types(include_return_message_types),
        }
    )
    return _Call("GET", path, what, params)


def _all_messages_call(client: BaseRunsClient, **kwargs: Any) -> _Call:
    return _messages_call(client, "/v1/messages/", "messages.list", **kwargs)


def _agent_messages_call(client: BaseRunsClient, agent_id: str, **kwargs: Any) -> _Call:
    validate_agent_id(agent_id)
    return _messages_call(
        client, f"/v1/agents/{agent_id}/messages", "agents.messages.list", **kwargs
    )


def _agent_call(agent_id: str, *, include_tools: bool = False) -> _Call:
    from ._client import _Call

    validate_agent_id(agent_id)
    # A relationship that does not exist keeps the answer small: the agent's own fields only.
    params = {"include_relationships": ["tools" if include_tools else "none"]}
    return _Call("GET", f"/v1/agents/{agent_id}", "agents.retrieve", params)


def _steps_call(
    client: BaseRunsClient,
    *,
    start_date: datetime | str | None,
    end_date: datetime | str | None,
    agent_id: str | None,
    model: str | None,
    before: str | None,
    after: str | None,
    limit: int | None,
    order: str | None,
) -> _Call:
    from ._client import _Call, _compact

    client._check_limit("limit", limit, 1, None)
    client._check_order(order, None)
    if agent_id is not None:
        validate_agent_id(agent_id)
    start, end = _iso("start_date", start_date), _iso("end_date", end_date)
    if start and end and _aware(start) > _aware(end):
        raise InvalidArgumentError("start_date must be earlier than or equal to end_date")
    params = _compact(
        {
            "start_date": start,
            "end_date": end,
            "agent_id": agent_id,
            "model": model,
            "before": before,
            "after": after,
            "limit": limit,
            "order": order,
        }
    )
    return _Call("GET", "/v1/steps/", "steps.list", params)


class _StepsSupport:
    """Whether ``GET /v1/steps/`` works on this client's server, learnt from its first answer."""

    def __init__(self) -> None:
        self.supported: bool | None = None

    def check(self, call: _Call) -> None:
        if self.supported is False:
            raise _steps_unsupported(call, None)

    def learn(self, call: _Call, exc: BadRequestError | None) -> NotSupportedError | None:
        """Record the first answer; the error to raise instead of ``exc`` when it is the bug."""
        if exc is None:
            self.supported = True
            return None
        if STEPS_ORDER_BUG not in str(exc.detail or exc.message):
            return None
        self.supported = False
        return _steps_unsupported(call, exc)


def _steps_unsupported(call: _Call, cause: BadRequestError | None) -> NotSupportedError:
    return NotSupportedError(
        "GET /v1/steps/ does not work on this server: it answers 400 "
        f"'{STEPS_ORDER_BUG} …' to every query (a bug of Letta 0.16.8)",
        status_code=400,
        detail=cause.detail if cause is not None else None,
        hint="read steps per run with runs.steps.list(run_id)",
        method=call.method,
        url=cause.url if cause is not None else None,
    )


# --- sync resources ---------------------------------------------------------------------------


class AllMessages:
    """``client.messages``: every agent's messages (``GET /v1/messages/``)."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client

    def list(
        self,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
        conversation_id: str | None = None,
        include_return_message_types: Iterable[str] | str | None = None,
    ) -> SyncPage[Message]:
        """The newest ``limit`` messages of every agent (``order="asc"``: the oldest), the page
        oldest first; iterating walks on in the order asked for (``desc``: back in time)."""
        call = _all_messages_call(
            self._client,
            before=before,
            after=after,
            limit=limit,
            order=order,
            conversation_id=conversation_id,
            include_return_message_types=include_return_message_types,
        )
        return self._client._page(call, "bulk_messages")


class AgentMessages:
    """``client.agents.messages``: one agent's messages (``GET /v1/agents/{id}/messages``)."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client

    def list(
        self,
        agent_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
        conversation_id: str | None = None,
        include_return_message_types: Iterable[str] | str | None = None,
    ) -> SyncPage[Message]:
        """Like ``client.messages.list`` restricted to one agent (same cursors and order)."""
        call = _agent_messages_call(
            self._client,
            agent_id,
            before=before,
            after=after,
            limit=limit,
            order=order,
            conversation_id=conversation_id,
            include_return_message_types=include_return_message_types,
        )
        return self._client._page(call, "bulk_messages")


class Agents:
    """``client.agents``: an agent's type and settings, and its messages."""

    def __init__(self, client: RunsClient) -> None:
        self._client = client
        self.messages = AgentMessages(client)

    def retrieve(self, agent_id: str, *, include_tools: bool = False) -> Agent:
        """The agent without its relationships (memory blocks, tools, sources); with
        ``include_tools`` its attached tools too (``Agent.tool_names``)."""
        call = _agent_call(agent_id, include_tools=include_tools)
        return self._client._model(Agent, self._client._get_json(call), call)


class Steps(_StepsSupport):
    """``client.steps``: steps of every run, filtered by date and agent (``GET /v1/steps/``).

    ``supported`` is ``None`` until the first call, then whether the endpoint works here.
    """

    def __init__(self, client: RunsClient) -> None:
        super().__init__()
        self._client = client

    def list(
        self,
        *,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        agent_id: str | None = None,
        model: str | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
    ) -> SyncPage[Step]:
        """Steps newest first by default; iterating walks every page (``after=<last id>``).

        Raises ``NotSupportedError`` where the server's endpoint is broken (Letta 0.16.8)."""
        call = _steps_call(
            self._client,
            start_date=start_date,
            end_date=end_date,
            agent_id=agent_id,
            model=model,
            before=before,
            after=after,
            limit=limit,
            order=order,
        )
        self.check(call)
        try:
            page: SyncPage[Step] = self._client._page(call, "steps")
        except BadRequestError as exc:
            unsupported = self.learn(call, exc)
            if unsupported is None:
                raise
            raise unsupported from exc
        self.learn(call, None)
        return page


# --- async resources --------------------------------------------------------------------------


class AsyncAllMessages:
    """``client.messages`` of ``AsyncRunsClient``."""

    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client

    async def list(
        self,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
        conversation_id: str | None = None,
        include_return_message_types: Iterable[str] | str | None = None,
    ) -> AsyncPage[Message]:
        call = _all_messages_call(
            self._client,
            before=before,
            after=after,
            limit=limit,
            order=order,
            conversation_id=conversation_id,
            include_return_message_types=include_return_message_types,
        )
        return await self._client._page(call, "bulk_messages")


class AsyncAgentMessages:
    """``client.agents.messages`` of ``AsyncRunsClient``."""

    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client

    async def list(
        self,
        agent_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
        conversation_id: str | None = None,
        include_return_message_types: Iterable[str] | str | None = None,
    ) -> AsyncPage[Message]:
        call = _agent_messages_call(
            self._client,
            agent_id,
            before=before,
            after=after,
            limit=limit,
            order=order,
            conversation_id=conversation_id,
            include_return_message_types=include_return_message_types,
        )
        return await self._client._page(call, "bulk_messages")


class AsyncAgents:
    """``client.agents`` of ``AsyncRunsClient``."""

    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client
        self.messages = AsyncAgentMessages(client)

    async def retrieve(self, agent_id: str, *, include_tools: bool = False) -> Agent:
        call = _agent_call(agent_id, include_tools=include_tools)
        return self._client._model(Agent, await self._client._get_json(call), call)


class AsyncSteps(_StepsSupport):
    """``client.steps`` of ``AsyncRunsClient`` (see ``Steps``)."""

    def __init__(self, client: AsyncRunsClient) -> None:
        super().__init__()
        self._client = client

    async def list(
        self,
        *,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        agent_id: str | None = None,
        model: str | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
    ) -> AsyncPage[Step]:
        call = _steps_call(
            self._client,
            start_date=start_date,
            end_date=end_date,
            agent_id=agent_id,
            model=model,
            before=before,
            after=after,
            limit=limit,
            order=order,
        )
        self.check(call)
        try:
            page: AsyncPage[Step] = await self._client._page(call, "steps")
        except BadRequestError as exc:
            unsupported = self.learn(call, exc)
            if unsupported is None:
                raise
            raise unsupported from exc
        self.learn(call, None)
        return page
