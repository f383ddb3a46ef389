"""Our own real-page corpus (tests/realpages): footer values and dates against the hand labels.
The page files are not committed (tests/realpages/README.md); the test skips without them."""

import csv
from pathlib import Path

import pytest

from checks.footer import footer_identifiers
from govcheck.dates import article_date
from govcheck.page import ParsedPage, decode_html

CORPUS = Path(__file__).parent / "realpages"
with open(CORPUS / "labels.csv", encoding="utf-8") as fh:
    LABELS = list(csv.DictReader(fh))
PRESENT = [r for r in LABELS if (CORPUS / "pages" / r["file"]).is_file()]


def norm(value):
    return "".join((value or "").split())


@pytest.mark.skipif(not PRESENT, reason="tests/realpages/pages not restored (see its README)")
@pytest.mark.parametrize("row", PRESENT, ids=[r["file"] for r in PRESENT])
def test_labels(row):
    page = ParsedPage(f"http://unknown.gov.cn/{row['file']}", decode_html((CORPUS / "pages" / row["file"]).read_bytes(), None)[0])
    i = footer_identifiers(page)
    got = (norm(i.site_code_footer), norm(i.site_code_meta), norm(i.icp), norm(i.psb), norm(i.sponsor),
           str(i.conac).lower(), str(i.jiucuo).lower())
    want = (row["site_code_footer"], row["site_code_meta"], norm(row["icp"]), norm(row["psb"]), norm(row["sponsor"]),
            row["has_conac"], row["has_jiucuo"])
    assert got == want
    if row["page_type"] == "article":
        assert article_date(page).date.isoformat() == row["pub_date"]


def test_sources_name_every_labelled_page():
    with open(CORPUS / "SOURCES.csv", encoding="utf-8") as fh:
        sources = {r["file"]: r for r in csv.DictReader(fh)}
    assert {r["file"] for r in LABELS} == set(sources)
    assert all(s["repo"] and s["commit"] and s["blob"] for s in sources.values())
