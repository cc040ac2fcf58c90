"""The diagnosis engine stays a set of short named passes, not one long function."""

from __future__ import annotations

import ast
from pathlib import Path

import letta_runs.diagnosis as diagnosis

MAX_FUNCTION_LINES = 80
PACKAGE = Path(diagnosis.__file__).resolve().parent


def _functions() -> list[tuple[str, str, int]]:
    out = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((path.name, node.name, node.end_lineno - node.lineno + 1))  # type: ignore[operator]
    return out


def test_every_function_in_the_engine_is_short() -> None:
    functions = _functions()
    assert len(functions) > 20
    too_long = [(f, n, lines) for f, n, lines in functions if lines > MAX_FUNCTION_LINES]
    assert not too_long


def test_diagnose_is_composed_of_named_passes() -> None:
    engine = (PACKAGE / "engine.py").read_text()
    for module in ("facts", "outcome", "failures", "tool_calls", "measurements", "verdict"):
        assert f"from .{module} import" in engine
