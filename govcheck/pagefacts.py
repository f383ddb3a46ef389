"""What the page-local checks find on one page, computed once when the page is parsed.

The crawl parses each page once and runs the checks that read one page alone (错敏词 and
personal data in its visible text) right there, so the analysis after the crawl never
re-parses every page, and an unchanged page (304, or the same body) carries its results into
the next scan without being parsed at all. Those results stay valid while the wordlists are
the same and the as-of day has not crossed the birth date of an ID-card number on the page
(the only way the as-of day changes a privacy verdict: a birth date must not be in the future).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from checks.inputs import TextInput
from checks.privacy import ID_CARD, id_card_valid
from checks.registry import run_checks
from govcheck.dates import article_date
from govcheck.findings import Finding
from govcheck.page import ParsedPage

FACTS_VERSION = 2


def _birth_dates(text: str) -> list[str]:
    """Birth dates of checksum-valid ID-card numbers in the text (whatever the as-of day)."""
    out = set()
    for m in ID_CARD.finditer(text):
        number = m.group(1)
        if id_card_valid(number, dt.date.max):
            out.add(f"{number[6:10]}-{number[10:12]}-{number[12:14]}")
    return sorted(out)


def page_facts(page: ParsedPage, automaton, wordlists: str | None, as_of: dt.date) -> dict:
    """Every check that runs on one page's text (the catalogue's "page" runners), as data."""
    text = page.visible_text
    ran: set[str] = set()
    dated = article_date(page, as_of)  # date-limited wordlist entries (南朝鲜|before:1992-08-24)
    published = dated.date if dated else None
    findings = run_checks("page", TextInput(page.url, text, as_of, published=published), {"wordlists": automaton}, ran)
    return {"v": FACTS_VERSION, "wordlists": wordlists if automaton is not None else None, "as_of": as_of.isoformat(),
            "published": published.isoformat() if published else None,
            "births": _birth_dates(text), "findings": [asdict(f) for f in findings], "ran": sorted(ran),
            "includes": page.footer_includes}


def facts_hold(facts: dict | None, wordlists: str, as_of: dt.date, url: str) -> bool:
    """Whether stored facts give this scan exactly what checking the page again would."""
    if not facts or facts.get("v") != FACTS_VERSION or facts.get("wordlists") != wordlists:
        return False
    if any(f.get("url") != url for f in facts["findings"]):
        return False  # the same body at another address: findings name the page they are on
    then = facts["as_of"]
    now = as_of.isoformat()
    lo, hi = min(then, now), max(then, now)
    if facts.get("published") and facts["published"] > lo:
        return False   # the page's own date as read on one as-of day may not be read on the other
    return not any(lo < b <= hi for b in facts["births"])


def facts_findings(facts: dict, ran: set[str]) -> list[Finding]:
    ran.update(facts["ran"])
    return [Finding(**f) for f in facts["findings"]]
