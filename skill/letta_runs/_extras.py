"""The optional faces and the extras that bring their dependencies.

The base install (``pip install letta-runs``) holds the client, the diagnosis, the CLI and the
skill's scripts. LangChain, MCP and REST are extras; a face whose extra is missing says which
one to install, both to the CLI user (``error:``/``hint:``, exit 2) and to Python code (an
``ImportError``, so ``except ImportError`` keeps working).

>>> require_extra("mcp")                                    # doctest: +SKIP
MissingExtraError: the MCP server needs the 'mcp' extra (missing: mcp) — pip install 'letta-runs[mcp]'
"""

from __future__ import annotations

import importlib.util

from ._exceptions import LettaRunsError

__all__ = ["EXTRAS", "MissingExtraError", "missing_extra", "require_extra"]

EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "langchain": ("the LangChain toolkit", ("langchain_core",)),
    "mcp": ("the MCP server", ("mcp",)),
    "rest": ("the REST adapter", ("fastapi", "uvicorn")),
}
"""extra name → (the face it enables, the top-level modules it must provide)."""


class MissingExtraError(LettaRunsError, ImportError):
    """A face was asked for whose extra is not installed (exit code 2: fix the install)."""

    exit_code = 2
    kind = "missing_extra"


def missing_extra(extra: str) -> MissingExtraError:
    """The error that names ``extra`` and the modules of it that cannot be imported."""
    face, modules = EXTRAS[extra]
    missing = [m for m in modules if importlib.util.find_spec(m) is None] or list(modules)
    return MissingExtraError(
        f"{face} needs the '{extra}' extra (missing: {', '.join(missing)})",
        hint=f"pip install 'letta-runs[{extra}]' (or 'letta-runs[all]')",
    )


def require_extra(extra: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` can be imported."""
    if any(importlib.util.find_spec(m) is None for m in EXTRAS[extra][1]):
        raise missing_extra(extra)
