"""HTML parsing: speed and browser conformance of the candidate parsers, side by side.

    python bench/parse.py [--rounds 5]        (pip install '.[bench]' for BeautifulSoup+html5lib)

Pages: the real saved government pages (../shared/realpages and tests/realpages when their
files are present) plus the markup errors real templates make (stray </html> in a header
include, 300-deep nesting, nested documents). For each parser: best-of-N time for the whole
set, pages per second, and whether the text after each markup error is still in the tree.
The last row puts parsing in context: everything the checks read off a page once parsed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402
from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from checks.footer import footer_identifiers  # noqa: E402
from govcheck.dates import article_date  # noqa: E402
from govcheck.listing import page_items  # noqa: E402
from govcheck.page import ParsedPage, decode_html, parse_html  # noqa: E402

FOLDERS = [ROOT.parent / "shared" / "realpages" / "pages", ROOT / "tests" / "realpages" / "pages"]
MARK = "页脚之后的可见文字"
BROKEN = {
    "stray </html>": "<html><body><div class=header>头部</div></body></html><div class=main>正文</div>"
                     f"<div class=footer>{MARK}</div></body></html>",
    "300-deep nesting": "<html><body>" + "<div>" * 300 + "深处" + "</div>" * 300 + f"<p>{MARK}</p></body></html>",
    "nested document": f"<html><body><p>外</p><html><head><title>无标题</title></head><body><p>内</p></body></html><p>{MARK}</p>",
}


def lxml_today(html: str):
    return lxml.html.document_fromstring(html)


def lexbor_only(html: str):
    return LexborHTMLParser(html)


def bs4_html5lib(html: str):
    from bs4 import BeautifulSoup
    return BeautifulSoup(html, "html5lib")


def text_of(tree) -> str:
    if isinstance(tree, LexborHTMLParser):
        return tree.root.text() if tree.root is not None else ""
    if isinstance(tree, lxml.html.HtmlElement):
        return tree.text_content()
    return tree.get_text()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = [decode_html(p.read_bytes(), None)[0] for folder in FOLDERS if folder.is_dir()
             for p in sorted(folder.glob("*.html"))]
    total = sum(len(p) for p in pages)
    print(f"{len(pages)} real pages, {total / 1e6:.2f} M characters; best of {args.rounds} rounds\n")
    candidates = [("lxml (libxml2, before)", lxml_today), ("lexbor (selectolax) alone", lexbor_only),
                  ("lexbor -> lxml tree (chosen)", parse_html)]
    try:
        import bs4  # noqa: F401
        import html5lib  # noqa: F401
        candidates.append(("BeautifulSoup + html5lib", bs4_html5lib))
    except ImportError:
        print("(BeautifulSoup + html5lib not installed: pip install '.[bench]' to measure it)\n")
    header = f"{'parser':30} {'ms/set':>9} {'pages/s':>9} {'MB/s':>7}  " + "  ".join(f"{k:>17}" for k in BROKEN)
    print(header)
    print("-" * len(header))
    for name, fn in candidates:
        rounds = 1 if "html5lib" in name else args.rounds
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            for html in pages:
                fn(html)
            best = min(best, time.perf_counter() - start)
        ok = ["keeps text" if MARK in text_of(fn(html)) else "LOSES TEXT" for html in BROKEN.values()]
        print(f"{name:30} {best * 1000:9.1f} {len(pages) / best:9.0f} {total / best / 1e6:7.2f}  "
              + "  ".join(f"{v:>17}" for v in ok))
    best = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        for html in pages:
            page = ParsedPage("http://www.example.gov.cn/a/index.html", html)
            page.visible_text, page.links, footer_identifiers(page), article_date(page), page_items(page)
        best = min(best, time.perf_counter() - start)
    print(f"{'parse + what the checks read':30} {best * 1000:9.1f} {len(pages) / best:9.0f} {total / best / 1e6:7.2f}"
          "  (ParsedPage: visible text, links, footer, date, lists)")


if __name__ == "__main__":
    main()
