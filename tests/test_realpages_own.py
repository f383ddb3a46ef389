"""Our own real-page corpus (tests/realpages): footer values and dates against the hand labels.

The page files are third-party content and not committed (tests/realpages/README.md): the tests
that read them skip when they are absent (a fresh clone); the ones on SOURCES.csv and the
labels always run."""

import csv
import importlib.util
import unicodedata
from pathlib import Path

import pytest

from checks.footer import footer_identifiers
from govcheck.dates import article_date
from govcheck.listing import main_list, newest_item, page_items
from govcheck.page import ParsedPage, decode_html

CORPUS = Path(__file__).parent / "realpages"
with open(CORPUS / "labels.csv", encoding="utf-8") as fh:
    LABELS = list(csv.DictReader(fh))
with open(CORPUS / "SOURCES.csv", encoding="utf-8") as fh:
    SOURCES = {r["file"]: r for r in csv.DictReader(fh)}
PRESENT = [r for r in LABELS if (CORPUS / "pages" / r["file"]).is_file()]
spec = importlib.util.spec_from_file_location("realpages_verify", CORPUS / "verify.py")
verify = importlib.util.module_from_spec(spec)
spec.loader.exec_module(verify)


def norm(value):
    """Labels keep full-width （）as printed; the extraction reads NFKC-folded text."""
    return "".join(unicodedata.normalize("NFKC", value or "").split())


def load(row):
    url = SOURCES[row["file"]]["original_url"] or f"http://unknown.gov.cn/{row['file']}"
    return ParsedPage(url, decode_html((CORPUS / "pages" / row["file"]).read_bytes(), None)[0])


@pytest.mark.skipif(not PRESENT, reason="tests/realpages/pages not restored (see its README)")
@pytest.mark.parametrize("row", PRESENT, ids=[r["file"] for r in PRESENT])
def test_labels(row):
    page = load(row)
    i = footer_identifiers(page)
    got = (norm(i.site_code_footer), norm(i.site_code_meta), norm(i.icp), norm(i.psb), norm(i.sponsor), norm(i.contact),
           str(i.conac).lower(), str(i.jiucuo).lower())
    want = (row["site_code_footer"], row["site_code_meta"], norm(row["icp"]), norm(row["psb"]), norm(row["sponsor"]),
            norm(row["contact"]), row["has_conac"], row["has_jiucuo"])
    assert got == want
    if row["page_type"] == "article":
        found = article_date(page)
        # An article that prints no publication date (r14: only historical years in the text).
        assert (found.date.isoformat() if found else "") == row["pub_date"]
    if row["newest_item_date"]:
        items = main_list(page) if row["page_type"] == "list" else page_items(page)
        assert newest_item(items).date.isoformat() == row["newest_item_date"]


@pytest.mark.skipif(not PRESENT, reason="tests/realpages/pages not restored (see its README)")
def test_restored_pages_are_the_labelled_bytes():
    status = verify.verify(CORPUS)
    assert {name: s for name, s in status.items() if s not in ("ok", "MISSING")} == {}


def test_sources_name_every_labelled_page():
    assert {r["file"] for r in LABELS} == set(SOURCES)
    assert all(s["repo"] and s["path"] and s["commit"] and s["blob"] and len(s["sha256"]) == 64 for s in SOURCES.values())
    assert {r["page_type"] for r in LABELS} <= {"home", "list", "article", "other"}
    assert all(r["pub_date"] for r in LABELS if r["page_type"] == "article")
