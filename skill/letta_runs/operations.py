"""The operation catalog: every Runs API operation and composite, written once, next to its metadata.

An operation is an ``async`` function of an :class:`~letta_runs.AsyncRunsClient` decorated with
:func:`operation`. As the MCP SDK's ``Tool.from_function`` and LangChain's
``StructuredTool.from_function`` do, the decorator reads everything a face needs from the
function itself — the description from its docstring, the argument model from its parameter
annotations (a parameter typed with a model of :mod:`letta_runs.params` contributes that model's
fields), the result model from its return annotation — and takes the rest as arguments: the
title, the safety hints, the Letta route (its path and Letta's own operation id), and how the CLI
spells the call. The CLI, the LangChain tools, the MCP server and the REST adapter all run these
operations through :meth:`Operation.run`, so they cannot drift apart and none holds logic of its
own.

A result is presented for the face that asked (:class:`Face`): JSON-ready ``data``, compact
``text`` for a model and the typed ``artifact``. Lists are pages the way Letta pages them
(``has_more``, ``next_cursor`` and the arguments of the next call); a face with a size budget gets
fewer items and the cursor to the rest, never a list silently cut. Next steps are data
(:class:`NextStep`) that each face renders in its own names (:func:`render_next_step`).

>>> from letta_runs.operations import OPERATIONS
>>> [op.name for op in OPERATIONS][:3]
['list_runs', 'list_active_runs', 'retrieve_run']
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, computed_field, create_model

from ._text import truncate
from .models import Message, Run, RunMetrics, Step, StreamEvent, TraceSpan, Usage
from .output import to_jsonable
from .params import (
    RUN_ID_PATTERN,
    RunId,
    RunItemsQuery,
    RunsFilter,
    RunStatusName,
    StreamRequest,
    TraceQuery,
    parse_params,
    validate_run_id,
)

if TYPE_CHECKING:
    from ._client import AsyncRunsClient
    from .diagnosis.compare import RunComparison
    from .diagnosis.engine import RunDiagnosis
    from .diagnosis.timeline import RunTimeline
    from .diagnosis.triage import StuckReport, TriageReport
    from .report import HtmlReport

__all__ = [
    "COMPOSITE_OPERATIONS",
    "FACES",
    "OPERATIONS",
    "CliCommand",
    "Face",
    "FaceName",
    "NextStep",
    "Operation",
    "OperationResult",
    "Page",
    "Route",
    "StreamCapture",
    "get_operation",
    "operation",
    "render_next_step",
]

DEFAULT_TEXT_BUDGET = 4_000
"""Characters of compact text handed to a model for one tool result."""
DEFAULT_JSON_BUDGET = 16_000
"""Characters of JSON in one structured tool result."""

FaceName = Literal["cli", "mcp", "langchain", "rest"]
Detail = Literal["summary", "standard", "full"]

T = TypeVar("T")


# --------------------------------------------------------------------------- results


class NextStep(BaseModel):
    """A drill-down, face-neutral: a catalog operation and its arguments.

    Each face renders it in its own names (:func:`render_next_step`).
    """

    model_config = ConfigDict(extra="forbid")

    operation: str = Field(description="The operation to call, as the reader names it.")
    args: dict[str, Any] = Field(default_factory=dict, description="Its arguments.")
    why: str = Field(default="", description="What it shows.")


class Page(BaseModel, Generic[T]):
    """One page of a list, the way Letta pages its lists: the items, whether more exist, and the
    cursor of the next page (``next_arguments`` are the full arguments of that call)."""

    items: list[T]
    has_more: bool = Field(description="True when more items exist after this page.")
    next_cursor: str | None = Field(
        default=None, description="The id to continue after (see next_arguments)."
    )
    next_arguments: dict[str, Any] | None = Field(
        default=None,
        description="Call the same operation with exactly these arguments for the next page.",
    )
    capped: str | None = Field(
        default=None,
        description="Set when long strings were shortened to fit: how to read one whole.",
    )

    _operation: str = PrivateAttr(default="")
    _cursor_param: str | None = PrivateAttr(default=None)
    _arguments: dict[str, Any] = PrivateAttr(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        """How many items this page holds."""
        return len(self.items)

    def continued_after(self, index: int) -> dict[str, Any] | None:
        """The arguments of the call that returns the items after ``items[index]``."""
        item_id = _item_id(self.items[index]) if index >= 0 else None
        if self._cursor_param is None:
            return None
        if item_id is None:
            return dict(self._arguments)
        return {**self._arguments, self._cursor_param: item_id}

    def first(self, n: int) -> Page[T]:
        """This page cut to its first ``n`` items (never splitting items that share an id), with
        the cursor moved to the last one kept."""
        n = _group_boundary(self.items, n)
        if n >= len(self.items):
            return self
        kept = self.model_copy(update={"items": self.items[:n], "has_more": True})
        kept.next_cursor = _item_id(self.items[n - 1]) if n else self.next_cursor
        kept.next_arguments = self.continued_after(n - 1) if n else self.next_arguments
        return kept


class StreamCapture(BaseModel):
    """Events collected from a background run's stream within a time and count budget."""

    run_id: str
    events: list[Any]
    last_seq_id: int | None = Field(
        default=None, description="Pass as starting_after to continue after these events."
    )
    end_reason: str | None = None
    complete: bool = Field(description="True when the stream ended (the run finished).")
    seconds: float = 0.0


class DeletedRun(BaseModel):
    """What deleting a run returned: the client's answer (``confirmed_by`` and ``note`` when a
    follow-up read settled it, the server's ``response`` otherwise)."""

    model_config = ConfigDict(extra="allow")

    deleted: str = Field(description="The run id that was deleted.")
    note: str | None = Field(
        default=None,
        description="When the DELETE itself failed (a reset, a timeout, a 5xx) and a follow-up "
        "read found the run gone: how the deletion was confirmed.",
    )


class OperationArgs(BaseModel):
    """Base of every argument model: unknown arguments are refused.

    Validators are built on first use (``defer_build``): a command runs one operation and
    should not pay for building the catalog's other argument models.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)


@dataclass(frozen=True)
class OperationResult:
    """What an operation returns to a face.

    ``data`` is JSON-ready (MCP structured content, REST bodies, CLI ``--json``), ``text`` is
    compact prose for a model in the face's own names, ``artifact`` is the full typed result for
    programs, ``next_steps`` are the calls that continue it (the next page, a whole text).
    """

    data: Any
    text: str
    artifact: Any = None
    next_steps: tuple[NextStep, ...] = ()


# --------------------------------------------------------------------------- faces


@dataclass(frozen=True)
class Face:
    """Who asks: the names results use, and how much a result may hold.

    ``cli_options`` are the global options a rendered command keeps (``--demo``,
    ``--base-url URL``); ``json_budget``/``text_budget`` bound one result in characters.
    """

    name: FaceName = "cli"
    cli_options: tuple[str, ...] = ()
    json_budget: int | None = None
    text_budget: int | None = None

    def step(self, step: NextStep) -> str:
        return render_next_step(step, self.name, cli_options=self.cli_options)

    def steps(self, steps: Iterable[NextStep]) -> list[str]:
        return [self.step(s) for s in steps]

    def named(self, step: NextStep) -> NextStep:
        """``step`` with its operation under this face's name (MCP tools have their own)."""
        if self.name != "mcp":
            return step
        return step.model_copy(update={"operation": get_operation(step.operation).mcp_name})


FACES: dict[FaceName, Face] = {
    "cli": Face("cli"),
    "mcp": Face("mcp", json_budget=DEFAULT_JSON_BUDGET, text_budget=DEFAULT_TEXT_BUDGET),
    "langchain": Face("langchain", text_budget=DEFAULT_TEXT_BUDGET),
    "rest": Face("rest"),
}


# --------------------------------------------------------------------------- the catalog entry


@dataclass(frozen=True)
class Route:
    """The HTTP route of an operation: Letta's own for the Runs API, ours for composites.

    ``stream_body`` is set on a route that answers with Letta's own event stream: the model of
    its JSON body.
    """

    method: str
    path: str
    stream_body: type[BaseModel] | None = None
    media_type: str = "application/json"
    """What the route answers: JSON, or ``text/html`` for a page (the HTML report)."""

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{(\w+)\}", self.path))


@dataclass(frozen=True)
class CliCommand:
    """How the ``letta-runs`` command line spells an operation.

    ``words`` are the command (``("runs", "steps")``), ``arguments`` the positional arguments in
    order, ``options`` the option of an argument whose name is not ``--arg-name`` and ``units``
    a suffix written after a value (``stuck_after_seconds=600`` → ``--stuck-after 600s``).
    """

    words: tuple[str, ...]
    arguments: tuple[str, ...] = ("run_id",)
    options: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)

    def option(self, arg: str) -> str:
        return self.options.get(arg, "--" + arg.replace("_", "-"))


class Local:
    """Marks a parameter only in-process callers pass (a file path, a callback): it is in no
    face's argument schema."""


Presenter = Callable[[Any, Any, Face], OperationResult]


@dataclass(frozen=True)
class Operation:
    """One operation, as every face sees it."""

    name: str
    """The catalog name; for the Runs API it is Letta's own operation id (``list_runs``)."""
    mcp_name: str
    title: str
    description: str
    args_model: type[OperationArgs]
    func: Callable[..., Awaitable[Any]]
    route: Route
    cli: CliCommand
    present: Presenter
    read_only: bool = True
    destructive: bool = False
    idempotent: bool = True
    composite: bool = False
    tags: Sequence[str] = ()
    groups: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    local: frozenset[str] = frozenset()

    @property
    def hints(self) -> dict[str, bool]:
        """The safety hints, under their MCP names."""
        return {
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": True,
        }

    @property
    def http_method(self) -> str:
        return self.route.method

    @property
    def http_path(self) -> str:
        return self.route.path

    @property
    def result_model(self) -> Any:
        """The type the function returns (its return annotation, resolved)."""
        return _resolve(inspect.signature(self.func).return_annotation, self.func, lazy=True)

    def parse(self, arguments: Mapping[str, Any]) -> OperationArgs:
        """``arguments`` validated (an :class:`InvalidArgumentError` names each wrong one).

        Run ids in the route's path are checked first, as Letta checks them (its 400).
        """
        for name in self.route.path_params:
            if name == "run_id" and isinstance(arguments.get(name), str):
                validate_run_id(arguments[name], name=name)
        return parse_params(self.args_model, dict(arguments))

    async def call(self, client: AsyncRunsClient, args: OperationArgs, **local: Any) -> Any:
        """Run the function on validated ``args``; ``local`` are the in-process-only parameters."""
        unknown = set(local) - self.local
        if unknown:
            raise TypeError(f"{self.name} takes no local parameter {', '.join(sorted(unknown))}")
        values = args.model_dump()
        kwargs: dict[str, Any] = {}
        for group, model in self.groups.items():
            kwargs[group] = model.model_validate({k: values.pop(k) for k in model.model_fields})
        return await self.func(client, **kwargs, **values, **local)

    async def run(
        self,
        client: AsyncRunsClient,
        arguments: Mapping[str, Any],
        *,
        face: Face | FaceName = "cli",
        **local: Any,
    ) -> OperationResult:
        """Validate ``arguments``, call the operation and present the result for ``face``."""
        args = self.parse(arguments)
        result = await self.call(client, args, **local)
        return self.present(result, args, face if isinstance(face, Face) else FACES[face])

    async def walk(
        self,
        client: AsyncRunsClient,
        arguments: Mapping[str, Any],
        *,
        max_items: int | None = None,
    ) -> AsyncIterator[Page[Any]]:
        """Every page of a list operation, following each page's ``next_arguments``."""
        args = dict(arguments)
        seen = 0
        while True:
            page = await self.call(client, self.parse(args))
            if not isinstance(page, Page):
                raise TypeError(f"{self.name} is not a list operation")
            if max_items is not None and seen + len(page.items) >= max_items:
                yield page.first(max_items - seen)
                return
            seen += len(page.items)
            yield page
            if not page.has_more or not page.next_arguments or not page.items:
                return
            args = page.next_arguments


OPERATIONS: list[Operation] = []
"""Every operation, in catalog order: the Runs API first, then the composites."""


def get_operation(name: str) -> Operation:
    """Find an operation by its catalog (``list_runs``) or MCP (``list-runs``) name."""
    for op in OPERATIONS:
        if name in (op.name, op.mcp_name):
            return op
    raise KeyError(name)


def operation(
    *,
    title: str,
    route: Route,
    cli: CliCommand,
    present: Presenter,
    mcp_name: str | None = None,
    read_only: bool = True,
    destructive: bool = False,
    idempotent: bool = True,
    composite: bool = False,
    tags: Sequence[str] = (),
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register the decorated ``async def op(client, …)`` in the catalog.

    The description is the function's docstring; the argument model is built from its
    parameters after ``client`` (``Annotated[type, Field(...)]`` or a default; a parameter typed
    with a :mod:`letta_runs.params` model adds that model's fields; ``Annotated[..., Local]``
    parameters are for in-process callers only).
    """

    def register(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        name = func.__name__
        args_model, groups, local = _arguments_of(func)
        OPERATIONS.append(
            Operation(
                name=name,
                mcp_name=mcp_name or name.replace("_", "-"),
                title=title,
                description=inspect.cleandoc(func.__doc__ or title),
                args_model=args_model,
                func=func,
                route=route,
                cli=cli,
                present=present,
                read_only=read_only,
                destructive=destructive,
                idempotent=idempotent,
                composite=composite,
                tags=tuple(tags),
                groups=groups,
                local=local,
            )
        )
        return func

    return register


def _resolve(annotation: Any, func: Callable[..., Any], *, lazy: bool = False) -> Any:
    if not isinstance(annotation, str):
        return annotation
    namespace = dict(func.__globals__)
    if lazy:
        namespace.update(_result_types())
    return eval(annotation, namespace)  # annotations of our own functions, not input


def _result_types() -> dict[str, Any]:
    from .diagnosis.compare import RunComparison
    from .diagnosis.engine import RunDiagnosis
    from .diagnosis.timeline import RunTimeline
    from .diagnosis.triage import StuckReport, TriageReport
    from .report import HtmlReport

    return {
        "HtmlReport": HtmlReport,
        "RunComparison": RunComparison,
        "RunDiagnosis": RunDiagnosis,
        "RunTimeline": RunTimeline,
        "StuckReport": StuckReport,
        "TriageReport": TriageReport,
    }


def _arguments_of(
    func: Callable[..., Any],
) -> tuple[type[OperationArgs], dict[str, type[BaseModel]], frozenset[str]]:
    fields: dict[str, Any] = {}
    groups: dict[str, type[BaseModel]] = {}
    local: set[str] = set()
    for param in list(inspect.signature(func).parameters.values())[1:]:
        annotation = _resolve(param.annotation, func)
        if get_origin(annotation) is Annotated and Local in get_args(annotation)[1:]:
            local.add(param.name)
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            groups[param.name] = annotation
            for name, info in annotation.model_fields.items():
                fields[name] = (info.annotation, info)
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model = create_model(
        "".join(part.title() for part in func.__name__.split("_")) + "Args",
        __base__=OperationArgs,
        __module__=__name__,
        **fields,
    )
    return model, groups, frozenset(local)


# --------------------------------------------------------------------------- next steps


def render_next_step(
    step: NextStep | Mapping[str, Any], face: FaceName, *, cli_options: Sequence[str] = ()
) -> str:
    """``step`` as the face that shows it spells the call.

    >>> step = NextStep(operation="list_steps_for_run", args={"run_id": "run-1", "limit": 100})
    >>> render_next_step(step, "cli", cli_options=["--demo"])
    'letta-runs --demo runs steps run-1 --limit 100'
    >>> render_next_step(step, "mcp")
    'list-steps-run {"run_id": "run-1", "limit": 100}'
    >>> render_next_step(step, "rest")
    'GET /v1/runs/run-1/steps?limit=100'
    """
    if isinstance(step, Mapping):
        step = NextStep.model_validate(step)
    op = get_operation(step.operation)
    args = {k: v for k, v in step.args.items() if v is not None}
    if face == "mcp":
        return f"{op.mcp_name} {json.dumps(args, ensure_ascii=False)}"
    if face == "langchain":
        return f"{op.name} {json.dumps(args, ensure_ascii=False)}"
    if face == "rest":
        return _rest_call(op, args)
    return _cli_call(op, args, cli_options)


def _cli_call(op: Operation, args: dict[str, Any], cli_options: Sequence[str]) -> str:
    words = ["letta-runs", *cli_options, *op.cli.words]
    words += [str(args.pop(name)) for name in op.cli.arguments if name in args]
    for name, value in args.items():
        option = op.cli.option(name)
        if value is True:
            words.append(option)
        elif value is False:
            words.append("--no-" + option[2:])
        else:
            for item in value if isinstance(value, list | tuple) else [value]:
                words += [option, f"{_cli_value(item)}{op.cli.units.get(name, '')}"]
    return " ".join(shlex.quote(w) if w != "letta-runs" else w for w in words)


def _cli_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rest_call(op: Operation, args: dict[str, Any]) -> str:
    path = op.route.path
    for name in op.route.path_params:
        path = path.replace("{" + name + "}", str(args.pop(name, "{" + name + "}")))
    if op.route.method != "GET":
        body = f" {json.dumps(args, ensure_ascii=False)}" if args else ""
        return f"{op.route.method} {path}{body}"
    from urllib.parse import urlencode

    query = urlencode(
        [
            (k, str(v).lower() if isinstance(v, bool) else str(v))
            for k, value in args.items()
            for v in (value if isinstance(value, list | tuple) else [value])
        ]
    )
    return f"GET {path}" + (f"?{query}" if query else "")


# --------------------------------------------------------------------------- presenting


def _item_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
    return value if isinstance(value, str) else None


def _group_boundary(items: Sequence[Any], n: int) -> int:
    """``n`` moved back so the cut never splits items sharing an id (one internal message)."""
    if n <= 0 or n >= len(items):
        return max(0, min(n, len(items)))
    cut = n
    while (
        cut > 0
        and _item_id(items[cut]) is not None
        and _item_id(items[cut]) == _item_id(items[cut - 1])
    ):
        cut -= 1
    return cut or n


def _dumped_len(value: Any) -> int:
    return len(json.dumps(to_jsonable(value), ensure_ascii=False, default=str))


def _cap_strings(value: Any, max_len: int) -> tuple[Any, int]:
    """``value`` with every string longer than ``max_len`` cut; how many were cut."""
    if isinstance(value, str):
        if len(value) <= max_len:
            return value, 0
        return value[:max_len] + f"… [+{len(value) - max_len} chars]", 1
    if isinstance(value, list):
        pairs = [_cap_strings(v, max_len) for v in value]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        cut = 0
        for k, v in value.items():
            out[k], n = _cap_strings(v, max_len)
            cut += n
        return out, cut
    return value, 0


_CAPS = (4000, 2000, 1000, 500, 200, 80)


def _fit_json(data: Any, budget: int | None) -> tuple[Any, int | None]:
    """``data`` with long strings cut until it fits ``budget`` (and the length they were cut to)."""
    if budget is None or _dumped_len(data) <= budget:
        return data, None
    for max_len in _CAPS:
        capped, cut = _cap_strings(data, max_len)
        if cut and _dumped_len(capped) <= budget:
            return capped, max_len
    return _cap_strings(data, _CAPS[-1])[0], _CAPS[-1]


def _fit_lines(lines: list[str], budget: int | None) -> tuple[str, bool]:
    if budget is None:
        return "\n".join(lines), False
    out: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            return "\n".join(out), True
        out.append(line)
        used += len(line) + 1
    return "\n".join(out), False


def _with_steps(text: str, steps: Sequence[NextStep], face: Face) -> str:
    lines = [text] if text else []
    lines += [f"{step.why}: {face.step(step)}" for step in steps]
    return "\n".join(lines)


def _page_text(page: Page[Any], header: str, line: Callable[[Any], str]) -> list[str]:
    title = header.format(n=len(page.items), run_id=page._arguments.get("run_id", ""))
    return [title] + [line(item) for item in page.items]


def _present_page(header: str, line: Callable[[Any], str]) -> Presenter:
    """Pages: the items that fit the face's budgets, and the call that continues after them."""

    def present(page: Page[Any], args: Any, face: Face) -> OperationResult:
        shown = page
        if _too_big(page, header, line, face):
            # The most items whose JSON and text both fit (the check is monotone in the count).
            lo, hi = 1, len(page.items)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if _too_big(page.first(mid), header, line, face):
                    hi = mid - 1
                else:
                    lo = mid
            shown = page.first(lo)
        if not shown.items and page.items:
            shown = page.first(1)
        data, cut_to = _fit_json(shown.model_dump(mode="json", by_alias=True), face.json_budget)
        steps: list[NextStep] = []
        if cut_to is not None:
            first = _first_capped(shown, cut_to)
            again = shown.continued_after(first - 1)
            note = f"long strings were shortened to {cut_to} characters to fit"
            if again is not None and first >= 0:
                again["limit"] = 1
                steps.append(NextStep(operation=page._operation, args=again, why="one item whole"))
                note += "; ask for one item (limit=1) to read it whole"
            data["capped"] = note
        if shown.has_more and shown.next_arguments is not None:
            steps.insert(
                0, NextStep(operation=page._operation, args=shown.next_arguments, why="more")
            )
        text, _ = _fit_lines(_page_text(shown, header, line), face.text_budget)
        return OperationResult(data, _with_steps(text, steps, face), page, tuple(steps))

    return present


def _too_big(page: Page[Any], header: str, line: Callable[[Any], str], face: Face) -> bool:
    if face.text_budget is not None:
        _, cut = _fit_lines(_page_text(page, header, line), face.text_budget - 400)
        if cut:
            return True
    if face.json_budget is not None and len(page.items) > 1:
        return _dumped_len(page.model_dump(mode="json", by_alias=True)) > face.json_budget
    return False


def _first_capped(page: Page[Any], max_len: int) -> int:
    for i, item in enumerate(page.items):
        if _cap_strings(to_jsonable(item), max_len)[1]:
            return i
    return -1


def _present_value(line: Callable[[Any, Any], str]) -> Presenter:
    """A single object: its JSON, and one or a few lines of text."""

    def present(value: Any, args: Any, face: Face) -> OperationResult:
        data, cut_to = _fit_json(to_jsonable(value), face.json_budget)
        if cut_to is not None and isinstance(data, dict):
            data["capped"] = f"long strings were shortened to {cut_to} characters to fit"
        text, _ = _fit_lines(line(value, args).splitlines(), face.text_budget)
        return OperationResult(data, text, value)

    return present


def _run_line(run: Run) -> str:
    created = run.created_at.strftime("%Y-%m-%d %H:%M:%S") if run.created_at else "?"
    return (
        f"{run.id} {run.status or '?'} stop={run.stop_reason or '-'} agent={run.agent_id or '-'} "
        f"created={created}Z type={run.run_type or '-'}" + (" background" if run.background else "")
    )


def _message_line(m: Message) -> str:
    return (
        f"{m.id} {m.message_type} step={m.step_id or '-'}: {truncate(m.text, 200, one_line=True)}"
    )


def _step_line(s: Step) -> str:
    err = (
        f" error={s.error_type}: {truncate(s.error_message, 120, one_line=True)}"
        if s.error_type
        else ""
    )
    return f"{s.id} {s.status or '?'} stop={s.stop_reason or '-'} tokens={s.total_tokens or 0}{err}"


def _span_line(span: dict[str, Any]) -> str:
    name = span.get("span_name") or span.get("name") or "span"
    return truncate(f"{name} {json.dumps(span, default=str)}", 200, one_line=True)


async def _page(
    op_name: str, page: Any, arguments: dict[str, Any], *, has_more: bool | None = None
) -> Page[Any]:
    """A client page as a :class:`Page`: the server's items, ``has_more`` settled, the cursor."""
    from ._pagination import cursor_param

    settled = page.has_more if has_more is None else has_more
    more = bool(settled) if settled is not None else page.has_next_page()
    result: Page[Any] = Page(items=list(page.items), has_more=more)
    result._operation = op_name
    result._cursor_param = cursor_param(page.kind, page.params)
    result._arguments = dict(arguments)
    if result.items and more:
        result.next_cursor = _item_id(result.items[-1])
        result.next_arguments = result.continued_after(len(result.items) - 1)
    return result


# --------------------------------------------------------------------------- the Runs API


@operation(
    title="List runs",
    route=Route("GET", "/v1/runs/"),
    cli=CliCommand(("runs", "list"), arguments=(), options={"statuses": "--status"}),
    present=_present_page("{n} run(s):", _run_line),
)
async def list_runs(client: AsyncRunsClient, filters: RunsFilter) -> Page[Run]:
    """List Letta agent runs, newest first, filtered by agent, status, stop reason, background or
    active. Use it to find the runs to inspect; failed runs are best found with
    statuses=['failed'] (failed sync runs have no stop reason). The result says whether more
    runs exist and the arguments that fetch the next page."""
    query = filters.query()
    return await _page("list_runs", await client.runs.list(**query), query)


@operation(
    title="List active runs",
    route=Route("GET", "/v1/runs/active"),
    cli=CliCommand(("runs", "active"), arguments=()),
    present=_present_page("{n} active run(s) (status created or running):", _run_line),
)
async def list_active_runs(
    client: AsyncRunsClient,
    agent_id: Annotated[str | None, Field(description="Only active runs of this agent.")] = None,
    background: Annotated[
        bool | None, Field(description="True for background runs only, False for the others.")
    ] = None,
) -> Page[Run]:
    """List runs that are still created or running (not finished), at most 100 (the server's
    cap). A run that stays here for long is probably stuck; the stuck-runs check explains
    which."""
    runs = await client.runs.list_active(agent_id=agent_id, background=background)
    return Page(items=runs, has_more=len(runs) >= 100)


@operation(
    title="Retrieve a run",
    route=Route("GET", "/v1/runs/{run_id}"),
    cli=CliCommand(("runs", "get")),
    present=_present_value(
        lambda run, args: "\n".join(
            [_run_line(run)]
            + ([f"completed_at={run.completed_at.isoformat()}"] if run.completed_at else [])
            + ([f"error: {truncate(run.error_text, 300, one_line=True)}"] if run.error_text else [])
        )
    ),
)
async def retrieve_run(client: AsyncRunsClient, run_id: RunId) -> Run:
    """Get one run: status, stop reason, agent, timestamps and error metadata."""
    return await client.runs.retrieve(run_id)


@operation(
    title="Delete a run",
    route=Route("DELETE", "/v1/runs/{run_id}"),
    cli=CliCommand(("runs", "delete")),
    present=_present_value(
        lambda result, args: (
            f"deleted {result.deleted}" + (f" ({result.note})" if result.note else "")
        )
    ),
    read_only=False,
    destructive=True,
    idempotent=True,
)
async def delete_run(client: AsyncRunsClient, run_id: RunId) -> DeletedRun:
    """Delete a run permanently. Destructive: only call it when the user asked to delete this
    exact run."""
    answer = to_jsonable(await client.runs.delete(run_id))
    return DeletedRun.model_validate({**answer, "deleted": run_id})


@operation(
    title="List a run's messages",
    route=Route("GET", "/v1/runs/{run_id}/messages"),
    cli=CliCommand(("runs", "messages")),
    mcp_name="list-messages-run",
    present=_present_page("{n} message item(s) of {run_id}:", _message_line),
)
async def list_messages_for_run(
    client: AsyncRunsClient, run_id: RunId, paging: RunItemsQuery
) -> Page[Message]:
    """List the messages of a run (user input, reasoning, tool calls, tool returns, assistant
    answers), oldest first. Tool returns with status 'error' show tool failures. The result says
    whether more messages exist and the arguments that fetch the next page."""
    query = paging.query()
    page = await client.runs.messages.list(run_id, **query)
    return await _page("list_messages_for_run", page, {"run_id": run_id, **query})


@operation(
    title="Token usage of a run",
    route=Route("GET", "/v1/runs/{run_id}/usage"),
    cli=CliCommand(("runs", "usage")),
    mcp_name="retrieve-usage-run",
    present=_present_value(
        lambda u, args: (
            f"usage of {args.run_id}: prompt={u.prompt_tokens} completion={u.completion_tokens} "
            f"total={u.total_tokens} (the server sums only the newest 50 steps; the diagnosis sums "
            "every step)"
        )
    ),
)
async def retrieve_usage_for_run(client: AsyncRunsClient, run_id: RunId) -> Usage:
    """Token totals of a run (prompt, completion, total). The server sums only the newest 50
    steps; the diagnosis gives exact totals."""
    return await client.runs.usage.retrieve(run_id)


@operation(
    title="Metrics of a run",
    route=Route("GET", "/v1/runs/{run_id}/metrics"),
    cli=CliCommand(("runs", "metrics")),
    mcp_name="retrieve-metrics-run",
    present=_present_value(
        lambda m, args: (
            f"metrics of {args.run_id}: duration={_seconds(m.run_ns)} num_steps={m.num_steps} (capped at "
            f"50 by the server) tools_used={len(m.tools_used or [])} tool id(s)"
        )
    ),
)
async def retrieve_metrics_for_run(client: AsyncRunsClient, run_id: RunId) -> RunMetrics:
    """Run metrics: total duration, number of steps (capped at 50 by the server) and the ids of
    the tools used."""
    return await client.runs.metrics.retrieve(run_id)


def _seconds(ns: int | None) -> str:
    from .durations import format_duration

    return "unknown" if ns is None else format_duration(ns / 1e9, precise=True)


@operation(
    title="List a run's steps",
    route=Route("GET", "/v1/runs/{run_id}/steps"),
    cli=CliCommand(("runs", "steps")),
    mcp_name="list-steps-run",
    present=_present_page("{n} step(s) of {run_id}:", _step_line),
)
async def list_steps_for_run(
    client: AsyncRunsClient, run_id: RunId, paging: RunItemsQuery
) -> Page[Step]:
    """List the steps of a run (one LLM call each) with status, stop reason, tokens and error
    type/data, newest first unless order='asc'. Failures of the model provider show here, not on
    the run. The result says whether more steps exist and the arguments of the next page."""
    query = paging.query()
    page = await client.runs.steps.list(run_id, **query)
    return await _page("list_steps_for_run", page, {"run_id": run_id, **query})


@operation(
    title="OTEL trace of a run",
    route=Route("GET", "/v1/runs/{run_id}/trace"),
    cli=CliCommand(("runs", "trace")),
    mcp_name="retrieve-trace-run",
    present=_present_page("{n} trace span(s) of {run_id}:", _span_line),
)
async def retrieve_trace_for_run(
    client: AsyncRunsClient, run_id: RunId, trace: TraceQuery
) -> Page[TraceSpan]:
    """OpenTelemetry spans of a run. Self-hosted servers without ClickHouse answer 'not
    available'; then list the run's steps and messages instead."""
    spans = await client.runs.trace.retrieve(run_id, **trace.query())
    page: Page[TraceSpan] = Page(items=spans, has_more=False)
    page._arguments = {"run_id": run_id}
    return page


@operation(
    title="Read a background run's stream",
    route=Route("POST", "/v1/runs/{run_id}/stream", stream_body=StreamRequest),
    cli=CliCommand(("runs", "stream"), options={"include_pings": "--pings"}),
    mcp_name="retrieve-stream-run",
    present=lambda capture, args, face: _present_stream(capture, args, face),
    idempotent=False,
)
async def retrieve_stream_for_run(
    client: AsyncRunsClient,
    run_id: RunId,
    starting_after: Annotated[
        int | None,
        Field(
            description="Only events after this seq_id; pass the last_seq_id of a previous "
            "call to continue where it stopped."
        ),
    ] = None,
    include_pings: Annotated[bool, Field(description="Include keep-alive pings.")] = False,
    max_events: Annotated[
        int, Field(ge=1, le=1000, description="Stop after collecting this many events.")
    ] = 100,
    max_seconds: Annotated[
        float,
        Field(gt=0, le=120, description="Stop after this many seconds even if the run goes on."),
    ] = 15.0,
) -> StreamCapture:
    """Replay or follow the event stream of a background run (only runs started with background
    streaming, less than 3 hours old). Returns the events collected within max_seconds and
    max_events, and the last_seq_id to continue from. Reading consumes time on a live run, so
    two calls can return different events."""
    stream = client.runs.stream(
        run_id,
        starting_after=starting_after,
        include_pings=include_pings,
        max_events=max_events,
        max_seconds=max_seconds,
        idle_timeout=min(max_seconds, 30.0),
    )
    events: list[StreamEvent] = []
    started = time.monotonic()
    async for event in stream:
        events.append(event)
    capture = StreamCapture(
        run_id=run_id,
        events=events,
        last_seq_id=stream.last_seq_id,
        end_reason=stream.end_reason,
        complete=stream.end_reason in ("done", "error", "cancelled", "terminal"),
        seconds=round(time.monotonic() - started, 2),
    )
    return capture


def _event_line(e: StreamEvent) -> str:
    if e.kind == "message" and e.message is not None:
        return (
            f"[{e.seq_id}] {e.message.message_type}: {truncate(e.message.text, 160, one_line=True)}"
        )
    return f"[{e.seq_id}] {e.kind}: {truncate(e.raw, 160, one_line=True)}"


def _present_stream(capture: StreamCapture, args: Any, face: Face) -> OperationResult:
    events: list[StreamEvent] = list(capture.events)
    payloads = [e.data if e.kind != "done" else "[DONE]" for e in events]
    data: dict[str, Any] = capture.model_dump(mode="json")
    data["events"] = payloads
    # Keep the newest events that fit out of the reply, and continue after the last one kept.
    keep = len(events)
    while face.json_budget is not None and keep > 1 and _dumped_len(data) > face.json_budget:
        keep = max(1, keep * 3 // 4)
        data["events"] = payloads[:keep]
        last = next((e.seq_id for e in reversed(events[:keep]) if e.seq_id is not None), None)
        data["last_seq_id"] = last
        data["complete"] = False
    data, _ = _fit_json(data, face.json_budget)
    steps: list[NextStep] = []
    if not data["complete"] and data["last_seq_id"] is not None:
        again = args.model_dump(exclude_defaults=True)
        again["starting_after"] = data["last_seq_id"]
        steps.append(NextStep(operation="retrieve_stream_for_run", args=again, why="continue"))
    lines = [
        f"{keep} event(s); ended by {capture.end_reason}; last_seq_id={data['last_seq_id']}"
    ] + [_event_line(e) for e in events[:keep] if e.kind != "ping"]
    text, _ = _fit_lines(lines, face.text_budget)
    return OperationResult(data, _with_steps(text, steps, face), events, tuple(steps))


# --------------------------------------------------------------------------- composites

Bundle = Annotated[Path | str | None, Local]
"""A bundle file (from ``export``) to read instead of the server: in-process callers only."""
DetailArg = Annotated[
    Literal["summary", "standard", "full"],
    Field(
        description="'summary' for a few lines, 'standard' for a full post-mortem that fits in a "
        "chat (default), 'full' for everything."
    ),
]


def _present_report(
    to_data: Callable[[Any, Any, Face], dict[str, Any]],
    to_text: Callable[[Any, Any, Face], str],
) -> Presenter:
    def present(report: Any, args: Any, face: Face) -> OperationResult:
        data, cut_to = _fit_json(to_data(report, args, face), face.json_budget)
        if cut_to is not None:
            data["capped"] = (
                f"long strings were shortened to {cut_to} characters to fit; ask for less "
                "detail to read them whole"
            )
        text = to_text(report, args, face)
        if face.text_budget is not None and len(text) > face.text_budget:
            text = text[: face.text_budget] + "\n… (cut to fit; ask for less detail)"
        return OperationResult(data, text, report)

    return present


def _faced(report: Any, face: Face) -> Any:
    """``report`` with its next steps spelled in ``face``'s names."""
    actions = getattr(report, "next_actions", None)
    update: dict[str, Any] = {}
    if actions is not None:
        update["next_steps"] = face.steps(actions)
        update["next_actions"] = [face.named(a) for a in actions]
    stuck = getattr(report, "stuck", None)
    if stuck is not None:
        update["stuck"] = [
            s.model_copy(
                update={
                    "next_step": face.step(s.next_action),
                    "next_action": face.named(s.next_action),
                }
            )
            if getattr(s, "next_action", None) is not None
            else s
            for s in stuck
        ]
    return report.model_copy(update=update) if update else report


def _diagnosis_data(diag: RunDiagnosis, args: Any, face: Face) -> dict[str, Any]:
    from .rendering import diagnosis_dict

    return diagnosis_dict(_faced(diag, face), detail=args.detail)


def _diagnosis_text(diag: RunDiagnosis, args: Any, face: Face) -> str:
    from .rendering import render_diagnosis

    full = face.step(
        NextStep(operation="diagnose_run", args={"run_id": diag.run_id, "detail": "full"})
    )
    return render_diagnosis(
        _faced(diag, face), detail=args.detail, fmt="markdown", full_detail=full
    )


@operation(
    title="Diagnose a run (post-mortem)",
    route=Route("GET", "/v1/runs/{run_id}/diagnosis"),
    cli=CliCommand(
        ("diagnose",),
        options={"stuck_after_seconds": "--stuck-after"},
        units={"stuck_after_seconds": "s"},
    ),
    present=_present_report(_diagnosis_data, _diagnosis_text),
    composite=True,
)
async def diagnose_run(
    client: AsyncRunsClient,
    run_id: RunId,
    detail: DetailArg = "standard",
    stuck_after_seconds: Annotated[
        float,
        Field(
            gt=0,
            allow_inf_nan=False,
            description="A run still created/running after this many seconds is stuck.",
        ),
    ] = 600.0,
    bundle: Bundle = None,
) -> RunDiagnosis:
    """Post-mortem of one run: reads its steps, messages, usage, metrics and trace and returns
    the verdict (ok, failed, stuck, running, cancelled, awaiting_approval), the root cause with
    evidence ids, tool loops, tokens, latency and next steps. Start here when asked why a run
    failed or misbehaved. Runs the server calls 'completed' can still be failed (e.g. a tool loop
    that hit max_steps)."""
    from . import composites

    return await composites.diagnose_run(
        client, run_id, stuck_after=stuck_after_seconds, bundle=bundle
    )


def _present_html_report(report: HtmlReport, args: Any, face: Face) -> OperationResult:
    """The page's facts and where to read it; the HTML itself is the artifact (REST serves it as
    ``text/html``, MCP as a resource)."""
    data = report.model_dump(mode="json")
    # Each face names only its own way to the page.
    if face.name != "mcp":
        data.pop("uri")
    if face.name != "rest":
        data.pop("route")
    where = {
        "mcp": f"read the resource {report.uri}",
        "rest": f"GET {report.route}",
        "cli": f"{face.step(NextStep(operation='run_report', args={'run_id': report.run_id}))}"
        " -o run.html",
    }.get(face.name, "the artifact holds the page")
    text = (
        f"HTML report of {report.run_id} ({report.bytes:,} bytes): {report.headline}\n"
        f"The page (verdict, waterfall, tokens, tool calls, transcript) is for a person: {where}."
    )
    return OperationResult(data, text, report)


@operation(
    title="HTML report of a run (for a person)",
    route=Route("GET", "/v1/runs/{run_id}/report.html", media_type="text/html"),
    cli=CliCommand(
        ("report",),
        options={"stuck_after_seconds": "--stuck-after"},
        units={"stuck_after_seconds": "s"},
    ),
    present=_present_html_report,
    composite=True,
)
async def run_report(
    client: AsyncRunsClient,
    run_id: RunId,
    stuck_after_seconds: Annotated[
        float,
        Field(
            gt=0,
            allow_inf_nan=False,
            description="A run still created/running after this many seconds is stuck.",
        ),
    ] = 600.0,
    bundle: Bundle = None,
) -> HtmlReport:
    """The post-mortem of one run as a self-contained HTML page for a person to look at: the
    verdict and root cause, the remedy, key figures, a step waterfall (loops as one band), tokens
    per step against the context window, the tool calls and the transcript. The result gives its
    size and where to read the page; for the diagnosis itself, as data, use the diagnosis."""
    from .report import run_report as build

    return await build(client, run_id, stuck_after=stuck_after_seconds, bundle=bundle)


def _timeline_data(timeline: RunTimeline, args: Any, face: Face) -> dict[str, Any]:
    from .rendering import timeline_dict

    return timeline_dict(timeline, detail=args.detail)


def _timeline_text(timeline: RunTimeline, args: Any, face: Face) -> str:
    from .rendering import render_timeline

    full = face.step(
        NextStep(operation="run_timeline", args={"run_id": timeline.run_id, "detail": "full"})
    )
    return render_timeline(timeline, detail=args.detail, fmt="markdown", full_detail=full)


@operation(
    title="Timeline of a run",
    route=Route("GET", "/v1/runs/{run_id}/timeline"),
    cli=CliCommand(("timeline",)),
    present=_present_report(_timeline_data, _timeline_text),
    composite=True,
)
async def run_timeline(
    client: AsyncRunsClient,
    run_id: RunId,
    detail: Annotated[
        Literal["summary", "standard", "full"], Field(description="How much of each event to show.")
    ] = "standard",
    full: Annotated[bool, Field(description="Do not fold repeated steps.")] = False,
    bundle: Bundle = None,
) -> RunTimeline:
    """One ordered timeline of a run's steps, messages and trace spans with durations and tokens
    per step; repeated steps are folded. Use it after the diagnosis to see the order of
    events."""
    from . import composites

    compact = not full and detail != "full"
    return await composites.run_timeline(client, run_id, compact=compact, bundle=bundle)


def _triage_data(report: TriageReport, args: Any, face: Face) -> dict[str, Any]:
    from .rendering import triage_dict

    return triage_dict(_faced(report, face), detail=args.detail)


def _triage_text(report: TriageReport, args: Any, face: Face) -> str:
    from .rendering import render_triage

    return render_triage(_faced(report, face), detail=args.detail, fmt="markdown")


@operation(
    title="Triage recent runs",
    route=Route("GET", "/v1/runs/triage"),
    cli=CliCommand(("triage",), arguments=(), options={"statuses": "--status"}),
    present=_present_report(_triage_data, _triage_text),
    composite=True,
)
async def triage_runs(
    client: AsyncRunsClient,
    since: Annotated[
        str,
        Field(
            description="Look back this far, e.g. '30m', '6h', '2d', or 'all' for every run.",
            pattern=r"^\s*(all|ALL|\d+(\.\d+)?\s*[smhdwSMHDW]?)\s*$",
        ),
    ] = "24h",
    agent_id: Annotated[str | None, Field(description="Only runs of this agent.")] = None,
    statuses: Annotated[
        list[RunStatusName] | None,
        Field(
            description="Only runs in these statuses. Default: every run of the window, finished "
            "or still active, because runs the server calls 'completed' can still have failed (a "
            "tool loop that hit max_steps, no answer)."
        ),
    ] = None,
    limit: Annotated[
        int | None,
        Field(
            ge=1,
            description="Scan at most this many runs, newest first. Default: every run of the "
            "window (a cap is reported as 'truncated').",
        ),
    ] = None,
    concurrency: Annotated[
        int, Field(ge=1, le=64, description="Runs read on their own at the same time.")
    ] = 8,
    per_run: Annotated[
        bool,
        Field(
            description="Read every run on its own instead of the bulk lists (slower; for "
            "servers whose bulk lists misbehave)."
        ),
    ] = False,
    detail: DetailArg = "standard",
    progress: Annotated[Callable[[str], None] | None, Local] = None,
) -> TriageReport:
    """Scan the runs of a window (e.g. since='24h', or 'all') and group the problem runs by root
    cause, stop reason, error type and tool, with counts and example run ids. Runs still active
    are counted and listed (find the stuck ones next); an empty window names the newest run and
    a 'since' that reaches it; reads that failed are counted in 'failed_reads'. Use it for 'what
    went wrong last night' questions, then diagnose an example id."""
    from datetime import timedelta

    from . import composites
    from .durations import parse_duration

    window = None if since.strip().lower() == "all" else timedelta(seconds=parse_duration(since))
    return await composites.triage_runs(
        client,
        since=window,
        agent_id=agent_id,
        statuses=list(statuses) if statuses else None,
        limit=limit,
        concurrency=concurrency,
        bulk=not per_run,
        progress=progress,
    )


def _stuck_data(report: StuckReport, args: Any, face: Face) -> dict[str, Any]:
    return _faced(report, face).model_dump(mode="json")  # type: ignore[no-any-return]


def _stuck_text(report: StuckReport, args: Any, face: Face) -> str:
    from .rendering import render_stuck

    return render_stuck(_faced(report, face), fmt="markdown")


@operation(
    title="Find stuck runs",
    route=Route("GET", "/v1/runs/stuck"),
    cli=CliCommand(("stuck",), arguments=()),
    present=_present_report(_stuck_data, _stuck_text),
    composite=True,
)
async def find_stuck_runs(
    client: AsyncRunsClient,
    older_than: Annotated[
        str,
        Field(
            description="Active runs older than this are stuck, e.g. '10m', '1h'.",
            pattern=r"^\s*\d+(\.\d+)?\s*[smhdwSMHDW]?\s*$",
        ),
    ] = "10m",
    agent_id: Annotated[str | None, Field(description="Only runs of this agent.")] = None,
) -> StuckReport:
    """Active runs older than a threshold (default 10 minutes) and runs whose stop reason and
    status disagree. Sync and async runs stay 'created' while they execute."""
    from . import composites
    from .durations import parse_duration

    return await composites.find_stuck_runs(
        client, older_than=parse_duration(older_than), agent_id=agent_id
    )


def _comparison_data(cmp: RunComparison, args: Any, face: Face) -> dict[str, Any]:
    return cmp.model_dump(mode="json")


def _comparison_text(cmp: RunComparison, args: Any, face: Face) -> str:
    from .rendering import render_comparison

    return render_comparison(cmp, fmt="markdown")


@operation(
    title="Compare two runs",
    route=Route("GET", "/v1/runs/compare"),
    cli=CliCommand(("compare",), arguments=("run_id_a", "run_id_b")),
    present=_present_report(_comparison_data, _comparison_text),
    composite=True,
)
async def compare_runs(
    client: AsyncRunsClient,
    run_id_a: Annotated[
        str, Field(description="The first run id (e.g. a good run).", pattern=RUN_ID_PATTERN)
    ],
    run_id_b: Annotated[
        str, Field(description="The second run id (e.g. the bad run).", pattern=RUN_ID_PATTERN)
    ],
    bundle_a: Bundle = None,
    bundle_b: Bundle = None,
) -> RunComparison:
    """Differences between two runs: outcome, verdict, steps, tools used, tokens and durations.
    Useful to contrast a good run with a bad one of the same agent."""
    from . import composites

    return await composites.compare_runs_by_id(
        client, run_id_a, run_id_b, bundle_a=bundle_a, bundle_b=bundle_b
    )


@operation(
    title="Watch a run to its end",
    route=Route("GET", "/v1/runs/{run_id}/watch"),
    cli=CliCommand(
        ("watch",),
        options={
            "max_seconds": "--max-time",
            "stuck_after_seconds": "--stuck-after",
            "idle_timeout": "--idle-timeout",
        },
        units={"max_seconds": "s", "stuck_after_seconds": "s", "idle_timeout": "s"},
    ),
    present=_present_report(_diagnosis_data, _diagnosis_text),
    composite=True,
)
async def watch_run(
    client: AsyncRunsClient,
    run_id: RunId,
    max_seconds: Annotated[
        float | None,
        Field(
            gt=0,
            le=600,
            description="Stop following after this many seconds, then diagnose (null: when the "
            "run ends).",
        ),
    ] = 60.0,
    idle_timeout: Annotated[
        float, Field(gt=0, le=600, description="Give up following after this long without data.")
    ] = 30.0,
    stuck_after_seconds: Annotated[
        float,
        Field(
            gt=0,
            allow_inf_nan=False,
            description="A run still created/running after this many seconds is stuck.",
        ),
    ] = 600.0,
    detail: DetailArg = "standard",
    on_event: Annotated[Callable[[StreamEvent], Any] | None, Local] = None,
    on_notice: Annotated[Callable[[str], None] | None, Local] = None,
) -> RunDiagnosis:
    """Follow a running background run until it ends (or max_seconds pass), then diagnose it.
    Runs that cannot be streamed (not background, or older than 3 hours) are diagnosed at
    once. If the stream failed or the watch stopped before the run ended, the diagnosis's
    limitations say so."""
    from . import composites

    return await composites.watch_run(
        client,
        run_id,
        on_event=on_event,
        on_notice=on_notice,
        idle_timeout=idle_timeout,
        max_seconds=max_seconds,
        stuck_after=stuck_after_seconds,
    )


COMPOSITE_OPERATIONS: list[Operation] = [op for op in OPERATIONS if op.composite]
"""The operations that combine several calls with the diagnosis (kept for compatibility)."""
