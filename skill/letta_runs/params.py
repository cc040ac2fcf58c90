"""The Runs API's parameters, declared once: ids, the runs filter, child-list paging, trace, stream.

Each model mirrors what Letta 0.16.8 itself declares for the route (names, types, bounds, and
``None`` standing for the server's own default), so the same declaration serves the client's
keyword arguments, the CLI's options, the REST adapter's query (it validates exactly as Letta
does) and the MCP and LangChain argument schemas.

>>> RunsFilter(statuses=["failed"], limit=5).query()
{'statuses': ['failed'], 'limit': 5}
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from inspect import Parameter, Signature
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._exceptions import InvalidArgumentError
from ._validation import RUN_ID_PATTERN, is_run_id, validate_run_id
from .models import KNOWN_RUN_STATUSES, KNOWN_STOP_REASONS

__all__ = [
    "RUN_ID_PATTERN",
    "RunId",
    "RunItemsQuery",
    "RunStatusName",
    "RunsFilter",
    "StopReasonType",
    "StreamRequest",
    "TraceQuery",
    "accepts",
    "check_statuses",
    "invalid_arguments",
    "is_run_id",
    "validate_run_id",
]

RunId = Annotated[
    str,
    Field(
        description="The run id, exactly as Letta gives it: 'run-' followed by a UUID4, "
        "e.g. 'run-39e39189-9b0f-49e1-aa16-49a02c1268f4'.",
        pattern=RUN_ID_PATTERN,
    ),
]


def check_statuses(statuses: list[str] | None) -> None:
    """Refuse an unknown run status before any I/O, carrying Letta's own answer (400)."""
    for value in statuses or []:
        if value not in KNOWN_RUN_STATUSES:
            raise InvalidArgumentError(
                f"unknown run status {value!r}",
                hint="valid statuses (case-sensitive): " + ", ".join(KNOWN_RUN_STATUSES),
                letta_status=400,
                letta_detail=f"'{value}' is not a valid RunStatus",
            )


StopReasonType = Enum(  # type: ignore[misc]  # Letta's own enum, built from the one list of values
    "StopReasonType", {value: value for value in KNOWN_STOP_REASONS}, type=str
)
"""Letta's ``StopReasonType`` (a string enum: a wrong value is refused the way Letta refuses it)."""

Order = Literal["asc", "desc"]
RunStatusName = Literal["created", "running", "completed", "failed", "cancelled"]
"""Letta's ``RunStatus`` values (``KNOWN_RUN_STATUSES``), for arguments that take one."""


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    def query(self) -> dict[str, Any]:
        """The parameters that were given (``None`` is the server's default and is left out)."""
        return {k: v for k, v in self.model_dump(mode="json").items() if v is not None}


class RunsFilter(_Params):
    """What ``GET /v1/runs/`` filters and pages by (Letta's ``list_runs`` query)."""

    agent_id: str | None = Field(
        default=None, description="Only runs of this agent ('agent-<uuid>')."
    )
    agent_ids: list[str] | None = Field(
        default=None,
        description="Only runs of these agents. Deprecated by Letta in favour of agent_id.",
        json_schema_extra={"deprecated": True},
    )
    statuses: list[str] | None = Field(
        default=None,
        description="Only runs in these statuses: "
        + ", ".join(KNOWN_RUN_STATUSES)
        + ". Sync and async runs stay 'created' (not 'running') while they execute.",
    )
    background: bool | None = Field(
        default=None, description="True for background (streamable) runs only, False for others."
    )
    stop_reason: StopReasonType | None = Field(
        default=None,
        description="Only runs with this run-level stop reason. Failed sync runs have none, so "
        "find failures with statuses=['failed'].",
    )
    conversation_id: str | None = Field(
        default=None, description="Only runs of this conversation ('conv-<uuid>')."
    )
    before: str | None = Field(
        default=None,
        description="Run id cursor: the page after this run in the current order (pass the last "
        "id of the previous page).",
    )
    after: str | None = Field(
        default=None,
        description="Run id cursor: Letta returns the head of the list up to this run, so do not "
        "page with it; page with before.",
    )
    limit: int | None = Field(
        default=None, ge=1, le=1000, description="How many runs (1-1000; server default 100)."
    )
    order: Order | None = Field(
        default=None, description="'desc' newest first (server default) or 'asc' oldest first."
    )
    order_by: Literal["created_at"] | None = Field(
        default=None, description="Sort field; Letta only accepts 'created_at'."
    )
    active: bool | None = Field(default=None, description="True for runs still created or running.")
    ascending: bool | None = Field(
        default=None,
        description="Deprecated by Letta in favour of order.",
        json_schema_extra={"deprecated": True},
    )

    @field_validator("statuses", "agent_ids", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RunItemsQuery(_Params):
    """Paging of a run's messages or steps (Letta's ``list_messages_for_run`` and
    ``list_steps_for_run`` query).

    Message cursors are chronological whatever the order (``after`` is later, ``before`` earlier);
    for steps, ``after`` is the next page in the chosen order.
    """

    before: str | None = Field(
        default=None, description="Item id cursor: items before it (see the result's next page)."
    )
    after: str | None = Field(
        default=None, description="Item id cursor: items after it (see the result's next page)."
    )
    limit: int | None = Field(
        default=None,
        description="How many items (server default 100; for messages Letta counts internal "
        "messages, one of which can become several items).",
    )
    order: Order | None = Field(
        default=None,
        description="'asc' oldest first or 'desc' newest first (server default: asc for "
        "messages, desc for steps).",
    )
    order_by: Literal["created_at"] | None = Field(
        default=None, description="Sort field; Letta only accepts 'created_at'."
    )


class TraceQuery(_Params):
    """Letta's ``retrieve_trace_for_run`` query."""

    limit: int | None = Field(
        default=None, ge=1, le=5000, description="Maximum number of spans (1-5000; default 1000)."
    )


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
        default=None, description="Seconds the server waits between polls (default 0.1)."
    )
    batch_size: int | None = Field(
        default=None, description="Entries per server read (default 100)."
    )


F = TypeVar("F", bound=Callable[..., Any])


def accepts(model: type[BaseModel], *, after: tuple[Parameter, ...] = ()) -> Callable[[F], F]:
    """Give a ``**kwargs`` method the keyword signature of ``model`` (``help()``, ``inspect``).

    The method validates its keywords with ``model`` itself; this only makes the parameters
    visible where people and tools look for them.
    """

    def decorate(func: F) -> F:
        params = [
            Parameter(name, Parameter.KEYWORD_ONLY, default=None, annotation=field.annotation)
            for name, field in model.model_fields.items()
        ]
        head = [p for p in Signature.from_callable(func).parameters.values() if p.kind < 3]
        func.__signature__ = Signature([*head, *params, *after])  # type: ignore[attr-defined]
        return func

    return decorate


def parse_params(model: type[_ParamsT], values: dict[str, Any], *, what: str = "") -> _ParamsT:
    """``values`` as ``model``, or an ``InvalidArgumentError`` naming each wrong argument."""
    from pydantic import ValidationError

    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_arguments(exc, what=what) from None


def invalid_arguments(exc: Any, *, what: str = "") -> InvalidArgumentError:
    """A pydantic ``ValidationError`` as the error every face shows: each wrong argument named."""
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{loc}: {err.get('msg')}")
    return InvalidArgumentError(
        f"invalid arguments{' for ' + what if what else ''}: " + "; ".join(parts),
        hint="check the argument names and types",
    )


_ParamsT = TypeVar("_ParamsT", bound=BaseModel)
