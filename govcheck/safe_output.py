"""Output safety for everything govcheck writes from crawled text (HTML reports, CSV, XLSX).

Crawled titles, anchors, feed links and evidence are attacker-controlled: a feed post link
`javascript:alert(document.domain)` must not become a live link in a 问题清单, and
`=HYPERLINK("http://…")` must not become a live formula in a spreadsheet (CSV/formula
injection, OWASP). Every exporter goes through these helpers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# Generated pages are self-contained: inline CSS and inline SVG only, no script, nothing
# fetched from anywhere (a report opened by a unit must not call home or run page code).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

# Spreadsheet programs start a formula (or DDE) with these; tab and CR too (a cell that
# starts with them is trimmed and then read as a formula by some importers).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_href(url: Any) -> str | None:
    """The URL when it may become a link (http/https only), else None (shown as text)."""
    if not isinstance(url, str):
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def neutralise_cell(value: Any) -> Any:
    """A CSV field / spreadsheet cell that is always data: text starting with a formula
    character gets a leading apostrophe; control characters openpyxl rejects are dropped;
    numbers, dates and None pass unchanged."""
    if not isinstance(value, str):
        return value
    value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
    if value.startswith(FORMULA_START):
        value = "'" + value
    return value[:32000]
