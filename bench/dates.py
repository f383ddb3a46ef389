"""Date-extraction accuracy on labelled pages: our own corpus (tests/fixtures/dates, every
format and decoy the issue lists) and the hand-labelled real government pages
(../shared/realpages/labels_dev.csv).  python bench/dates.py"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govcheck.dates import article_date  # noqa: E402
from govcheck.listing import main_list, newest_item, page_items  # noqa: E402
from govcheck.page import ParsedPage, decode_html  # noqa: E402

OWN = ROOT / "tests" / "fixtures" / "dates"
REAL = ROOT.parent / "shared" / "realpages"


def predict(page: ParsedPage, kind: str, as_of: dt.date | None) -> str:
    """What govcheck reads off a page: the article's date, or the newest item of a list/home."""
    if kind == "article":
        found = article_date(page, as_of)
        return found.date.isoformat() if found else ""
    items = main_list(page, as_of) if kind == "list" else page_items(page, as_of)
    if kind == "list" and not items:
        return "blank"
    best = newest_item(items)
    return best.date.isoformat() if best else ""


def load(path: Path, url: str) -> ParsedPage:
    return ParsedPage(url, decode_html(path.read_bytes(), None)[0])


def own_cases(as_of=dt.date(2024, 4, 19)):
    with open(OWN / "labels.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            yield row["file"], predict(load(OWN / row["file"], row["url"]), row["kind"], as_of), row["expected"]


def real_cases():
    with open(REAL / "labels_dev.csv", encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    with open(REAL / "SOURCES.csv", encoding="utf-8") as fh:
        urls = {r["file"]: r["original_url"] for r in csv.DictReader(fh)}
    for row in labels:
        kind = row["page_type"]
        if kind not in ("article", "list", "home"):
            continue
        expected = row["pub_date"] if kind == "article" else row["newest_item_date"]
        page = load(REAL / "pages" / row["file"], urls.get(row["file"]) or f"http://unknown.gov.cn/{row['file']}")
        yield row["file"], predict(page, kind, None), expected


def report(name: str, cases) -> None:
    cases = list(cases)
    right = sum(1 for _f, got, want in cases if got == want)
    print(f"{name}: {right}/{len(cases)} correct ({right / len(cases):.0%})")
    for f, got, want in cases:
        if got != want:
            print(f"  MISS {f}: got {got or '∅'} expected {want or '∅'}")


if __name__ == "__main__":
    report("own labelled pages", own_cases())
    if REAL.is_dir():
        report("real pages (labels_dev)", real_cases())
