"""Render reports as one self-contained HTML file (templates in ``prompts/report/``).

The page carries its stylesheet and its few lines of script inline and loads nothing else: a
``Content-Security-Policy`` meta tag allows exactly those two blocks (by their SHA-256) and no
other source, so the page makes no network request when opened and a string that escaped the
template's HTML escaping still could not run. Charts are static SVG; without JavaScript only the
"expand all" buttons are missing.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from .._version import __version__
from ..rendering import environment

__all__ = ["page_assets", "render_page"]

ASSETS = ("report/report.css", "report/report.js")


@lru_cache(maxsize=1)
def page_assets() -> dict[str, Any]:
    """The inline stylesheet and script, and the CSP that allows exactly them."""
    env = environment()
    assert env.loader is not None
    css, _, _ = env.loader.get_source(env, ASSETS[0])
    js, _, _ = env.loader.get_source(env, ASSETS[1])
    css, js = css.strip("\n"), js.strip("\n")

    def digest(text: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    csp = (
        "default-src 'none'; "
        f"style-src '{digest(css)}'; script-src '{digest(js)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return {"css": Markup(css), "js": Markup(js), "csp": csp, "version": __version__}


def render_page(template: str, **ctx: Any) -> str:
    """Render ``prompts/report/<template>`` (autoescaped HTML) with the page assets."""
    text = environment().get_template(f"report/{template}").render(assets=page_assets(), **ctx)
    return text
