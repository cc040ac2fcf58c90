"""The catalog's machinery: what an operation is, how one is registered, and how a next step is
spelled in each face's names.

An operation is an ``async`` function of an :class:`~letta_runs.AsyncRunsClient` decorated with
:func:`operation`. As the MCP SDK's ``Tool.from_function`` and LangChain's
``StructuredTool.from_function`` do, the decorator reads everything a face needs from the
function itself — the description from its docstring, the argument model from its parameter
annotations (a parameter typed with a model of :mod:`letta_runs.params` contributes that model's
fields), the result model from its return annotation — and takes the rest as arguments: the
title, the safety hints, the Letta route (its path and Letta's own operation id), and how the CLI
spells the call.

Lists are pages the way Letta pages them (:class:`Page`: ``has_more``, ``next_cursor`` and the
arguments of the next call). Next steps are data (:class:`NextStep`) that each face renders in
its own names (:func:`render_next_step`).
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, computed_field, create_model

from ..params import parse_params, validate_run_id

if TYPE_CHECKING:
    from .._client import AsyncRunsClient

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
    from ..diagnosis.compare import RunComparison
    from ..diagnosis.engine import RunDiagnosis
    from ..diagnosis.timeline import RunTimeline
    from ..diagnosis.triage import StuckReport, TriageReport
    from ..report import HtmlReport

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
        # Named for the package the catalog is imported from (letta_runs.operations).
        __module__=__package__ or __name__,
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
