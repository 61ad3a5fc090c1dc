"""The passport page: one self-contained HTML file that verifies a passport in the browser.

``viewer/`` (JS sources, bundled by esbuild with ``node viewer/build.mjs``) builds ``viewer.js``
here, beside the page template (``page.html``) and its CSS (``page.css``); ``tests/viewer`` keeps
the bundle equal to a fresh build. The page
embeds the passport, the trust anchor, the script and the CSS, and loads nothing (its Content
Security Policy forbids any fetch).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any


def _asset(name: str) -> str:
    return resources.files("passport.viewer").joinpath(name).read_text(encoding="utf-8")


def _json_in_script(value: Any) -> str:
    """JSON safe inside a <script> element: no "</" (so no "</script>") and no "<!--"."""
    return (
        json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        .replace("</", "<\\/")
        .replace("<!--", "<\\u0021--")
    )


def render_page(passport: dict[str, Any], trust: dict[str, Any], title: str) -> str:
    """The page for ``passport`` (its JSON form) checked against ``trust`` (the anchor's)."""
    parts = {
        "TITLE": _html(title),
        "CSS": _asset("page.css"),
        "PASSPORT": _json_in_script(passport),
        "TRUST": _json_in_script(trust),
        "SCRIPT": _asset("viewer.js").replace("</script", "<\\/script"),
    }
    # One pass over the template: what is filled in is never scanned for placeholders.
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], _asset("page.html"))


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def page_title(passport: dict[str, Any]) -> str:
    product = passport.get("product") or {}
    return f"Mineral passport: {product.get('stage', '?')} batch {product.get('batch_id', '?')}"
