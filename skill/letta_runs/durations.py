"""Durations written the way people type them: ``30s``, ``10m``, ``1.5h``, ``2d``, ``1w``.

>>> parse_duration("10m")
600.0
>>> format_duration(5400)
'1h30m'
"""

from __future__ import annotations

import math
import re

from ._exceptions import InvalidArgumentError
from ._validation import MAX_DURATION_SECONDS

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_WORDS = (
    (120, "s", 1, 0),
    (7200, "min", 60, 0),
    (172800, "h", 3600, 1),
    (float("inf"), "d", 86400, 1),
)
"""(below this many seconds, the unit, its size in seconds, decimals) for prose."""
_PATTERN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", re.IGNORECASE)


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``text``: a number with an optional unit s/m/h/d/w (bare numbers are seconds).

    Positive, finite and at most 100 years (``99999999999d`` is a usage error, not an overflow).
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _PATTERN.fullmatch(str(text))
        if match is None:
            raise InvalidArgumentError(
                f"not a duration: {str(text)[:60]!r}",
                hint="write a number and a unit, e.g. 30s, 10m, 1h, 2d",
            )
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if math.isnan(seconds) or seconds <= 0:
        raise InvalidArgumentError(f"duration must be positive: {text!r}", hint="e.g. 10m")
    if seconds > MAX_DURATION_SECONDS:
        raise InvalidArgumentError(
            f"duration too long: {str(text)[:60]!r} (at most 100 years)", hint="e.g. 30d"
        )
    return seconds


def format_duration(seconds: float, *, precise: bool = False, words: bool = False) -> str:
    """A short human form: ``45s``, ``12m``, ``1h30m``, ``3d2h``; ``precise``: ``4.27s`` under a
    minute; ``words``, for prose: ``42 s``, ``17 min``, ``5.2 h``, ``3.1 d``.

    >>> format_duration(5400, words=True)
    '90 min'
    """
    if words:
        for limit, unit, size, digits in _WORDS:
            if seconds < limit:
                return f"{seconds / size:.{digits}f} {unit}"
    if precise and seconds < 59.995:
        return f"{seconds:.2f}s"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m{secs}s" if secs else f"{minutes}m"
