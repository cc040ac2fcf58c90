"""Cutting text to a size: the one truncator every renderer, message and result uses.

Run content is untrusted: control and bidi-override characters are dropped before it is shown.

>>> truncate("a long   line\\nof text", 12, one_line=True)
'a long line…'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["clean_text", "truncate"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def clean_text(value: Any) -> str:
    """Text from untrusted run content with control and bidi characters removed."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub("", text)


def truncate(value: Any, limit: int, *, one_line: bool = False) -> str:
    """``value`` as control-free text of at most ``limit`` characters (``…`` marks a cut);
    ``one_line`` folds every run of white space into one space first."""
    text = clean_text(value)
    if one_line:
        text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text
