"""Output formatting shared by the CLI and the ``tools/`` scripts.

Agents read JSON; people read plain-text tables. Both come from the same data: every model turns
into JSON-ready data with ``to_jsonable``, and a table is just a few columns of that data.
No terminal library is needed: tables are fixed-width text, cells are shortened, and every list
printed for a person is bounded. This module does not import pydantic: a value can only be a
pydantic model once pydantic is loaded, so a command that prints only help never loads it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ._text import truncate

__all__ = [
    "MAX_CELL_WIDTH",
    "dump_json",
    "render_mapping",
    "render_table",
    "shorten",
    "to_jsonable",
]

MAX_CELL_WIDTH = 60
"""Widest cell in a table; longer text ends with an ellipsis (the JSON keeps it whole)."""


def to_jsonable(value: Any) -> Any:
    """``value`` as data ``json.dumps`` accepts: models, dataclasses, dates and paths included.

    >>> to_jsonable({"when": datetime(2026, 1, 1)})
    {'when': '2026-01-01T00:00:00'}
    """
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        to_json_dict = getattr(value, "to_json_dict", None)
        if callable(to_json_dict):
            return to_json_dict()
        return value.model_dump(mode="json", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def dump_json(value: Any, *, indent: int | None = 2) -> str:
    """Serialize ``value`` (models welcome) as JSON text, non-ASCII kept readable."""
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)


def shorten(value: Any, width: int = MAX_CELL_WIDTH) -> str:
    """One line of at most ``width`` characters (``None`` becomes ``-``)."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, (dict, list)):
        text = json.dumps(to_jsonable(value), ensure_ascii=False)
    else:
        text = str(value)
    return truncate(text, width, one_line=True)


def render_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    headers: Sequence[str] | None = None,
    max_width: int = MAX_CELL_WIDTH,
) -> str:
    """A fixed-width text table of ``columns`` picked from each row.

    >>> print(render_table([{"id": "run-1", "status": "failed"}], ["id", "status"]))
    ID     STATUS
    run-1  failed
    """
    titles = [h.upper() for h in (headers or [c.replace("_", " ") for c in columns])]
    cells = [[shorten(row.get(col), max_width) for col in columns] for row in rows]
    widths = [len(t) for t in titles]
    for line in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, line, strict=True)]
    out = ["  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)).rstrip()]
    out.extend(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )
    return "\n".join(out)


def render_mapping(
    data: Mapping[str, Any], *, keys: Sequence[str] | None = None, max_width: int = 100
) -> str:
    """``key: value`` lines, values shortened to one line; ``keys`` picks and orders them.

    >>> print(render_mapping({"id": "run-1", "status": None}))
    id      run-1
    status  -
    """
    picked = [k for k in (keys or list(data)) if k in data]
    if not picked:
        return ""
    width = max(len(k) for k in picked)
    return "\n".join(f"{k.ljust(width)}  {shorten(data[k], max_width)}" for k in picked)
