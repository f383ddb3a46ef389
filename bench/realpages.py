"""Footer, date, 错敏词 and personal-data extraction on real saved government pages, in one run:
our own corpus (tests/realpages: labels.csv + SOURCES.csv; the page files themselves are not
committed, see tests/realpages/README.md) and ../shared/realpages (labels_dev.csv).

    python bench/realpages.py [--corpus DIR]…

Footer items are scored by value as printed (whitespace ignored): a page's item counts as a
true positive when the label and the extraction agree, a false positive when something else
(or something where the label is empty) is extracted, a false negative when a labelled item is
not found or found with another value. Every word and privacy hit is printed with its context,
so a reviewer can tell real errors from false alarms.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks.footer import footer_identifiers  # noqa: E402
from checks.privacy import find_personal_data  # noqa: E402
from checks.words import check_words  # noqa: E402
from govcheck.dates import article_date  # noqa: E402
from govcheck.listing import main_list, newest_item, page_items  # noqa: E402
from govcheck.page import ParsedPage, decode_html  # noqa: E402
from govcheck.wordlists import load_matcher  # noqa: E402

CORPORA = [("own (tests/realpages)", ROOT / "tests" / "realpages", "labels.csv"),
           ("shared (../shared/realpages, labels_dev)", ROOT.parent / "shared" / "realpages", "labels_dev.csv")]
ITEMS = ("site_code", "icp", "psb", "sponsor", "contact", "conac", "jiucuo")


def _norm(value: str | None) -> str:
    """Whitespace out and NFKC folded: labels keep the page's full-width （）and ：, the
    extraction reads folded text; the value is the same."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))


def footer_values(page: ParsedPage) -> dict[str, str]:
    info = footer_identifiers(page)
    return {"site_code": info.site_code_footer or "", "icp": info.icp or "", "psb": info.psb or "",
            "sponsor": info.sponsor or "", "contact": info.contact or "",
            "conac": "true" if info.conac else "", "jiucuo": "true" if info.jiucuo else ""}


def label_values(row: dict) -> dict[str, str | None]:
    """None for an item the corpus does not label (../shared/realpages has no contact column)."""
    return {"site_code": row.get("site_code_footer", ""), "icp": row.get("icp", ""), "psb": row.get("psb", ""),
            "sponsor": row.get("sponsor", ""), "contact": row.get("contact"),
            "conac": "true" if row.get("has_conac") == "true" else "",
            "jiucuo": "true" if row.get("has_jiucuo") == "true" else ""}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, name: str, item: str, want: str, got: str) -> None:
        want, got = _norm(want), _norm(got)
        if want and got == want:
            self.tp += 1
            return
        if got:
            self.fp += 1
        if want:
            self.fn += 1
        if want or got:
            self.misses.append(f"{name} {item}: got {got or '∅'} expected {want or '∅'}")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_page(folder: Path, name: str, url: str) -> ParsedPage:
    return ParsedPage(url, decode_html((folder / "pages" / name).read_bytes(), None)[0])


def predicted_date(page: ParsedPage, kind: str) -> str:
    if kind == "article":
        found = article_date(page)
        return found.date.isoformat() if found else ""
    items = main_list(page) if kind == "list" else page_items(page)
    best = newest_item(items)
    return best.date.isoformat() if best else ""


def run_corpus(title: str, folder: Path, labels_name: str, automaton) -> dict | None:
    labels_path = folder / labels_name
    if not labels_path.is_file():
        print(f"\n== {title}: no {labels_name}, skipped")
        return None
    with open(labels_path, encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    with open(folder / "SOURCES.csv", encoding="utf-8") as fh:
        urls = {r["file"]: r.get("original_url") or "" for r in csv.DictReader(fh)}
    missing = [r["file"] for r in labels if not (folder / "pages" / r["file"]).is_file()]
    if missing:
        print(f"\n== {title}: {len(missing)} page files absent ({', '.join(missing[:5])}…), skipped")
        return None
    footer = Score()
    per_item = {item: Score() for item in ITEMS}
    dates = {"article": [0, 0], "list": [0, 0]}
    date_misses, word_hits, privacy_hits = [], [], []
    sites = set()
    for row in labels:
        name = row["file"]
        url = urls.get(name) or f"http://unknown.gov.cn/{name}"
        sites.add(row.get("site_name") or url)
        page = load_page(folder, name, url)
        got, want = footer_values(page), label_values(row)
        for item in ITEMS:
            if want[item] is None:
                continue
            footer.add(name, item, want[item], got[item])
            per_item[item].add(name, item, want[item], got[item])
        kind = row["page_type"]
        expected = row.get("pub_date") if kind == "article" else row.get("newest_item_date")
        if kind in ("article", "list", "home") and expected:
            bucket = "article" if kind == "article" else "list"
            found = predicted_date(page, kind)
            dates[bucket][1] += 1
            if found == expected:
                dates[bucket][0] += 1
            else:
                date_misses.append(f"{name} ({kind}): got {found or '∅'} expected {expected}")
    # Word and personal-data hits on every page of the corpus, labelled or not (no label is
    # needed to judge a hit: each is printed for a reader to decide).
    for path in sorted((folder / "pages").glob("*.html")):
        name = path.name
        text = load_page(folder, name, urls.get(name) or f"http://unknown.gov.cn/{name}").visible_text
        for f in check_words(name, text, automaton):   # lists, term guard and context detector
            fix = f"→{f.detail['correction']}" if f.detail["correction"] else ""
            for ctx in f.detail["contexts"]:
                word_hits.append(f"{name} {f.detail['category']} [{f.detail['method']}] 「{f.subject}{fix}」 …{ctx}…")
        for kind_, hits in find_personal_data(text).items():
            for masked, ctx in hits:
                privacy_hits.append(f"{name} {kind_} {masked} …{ctx}…")
    print(f"\n== {title}: {len(labels)} pages, {len(sites)} sites")
    print(f"footer precision {footer.precision:.3f}  recall {footer.recall:.3f}  (tp {footer.tp} fp {footer.fp} fn {footer.fn})")
    print("  per item: " + "  ".join(f"{i} P{s.precision:.2f}/R{s.recall:.2f}" if s.tp + s.fp + s.fn else f"{i} unlabelled"
                                     for i, s in per_item.items()))
    for miss in footer.misses:
        print(f"  FOOTER MISS {miss}")
    for bucket, (right, total) in dates.items():
        share = f"{right / total:.3f}" if total else "n/a"
        print(f"date accuracy {'list/home' if bucket == 'list' else bucket} pages: {right}/{total} ({share})")
    for miss in date_misses:
        print(f"  DATE MISS {miss}")
    pages_scanned = len(list((folder / "pages").glob("*.html")))
    print(f"word hits on all {pages_scanned} pages: {len(word_hits)}")
    for line in word_hits:
        print(f"  WORD {line}")
    print(f"privacy hits on all {pages_scanned} pages: {len(privacy_hits)}")
    for line in privacy_hits:
        print(f"  PRIVACY {line}")
    return {"footer": footer, "dates": dates, "words": len(word_hits), "privacy": len(privacy_hits)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", default=[], help="extra corpus folder with labels.csv, SOURCES.csv, pages/")
    args = parser.parse_args()
    automaton = load_matcher()
    corpora = CORPORA + [(f"extra {d}", Path(d), "labels.csv") for d in args.corpus]
    results = {title: run_corpus(title, folder, labels, automaton) for title, folder, labels in corpora}
    print("\n== summary (side by side)")
    print(f"{'corpus':45} {'footer P':>9} {'footer R':>9} {'article dates':>14} {'list/home dates':>16} {'word hits':>10} {'privacy hits':>13}")
    for title, res in results.items():
        if res is None:
            print(f"{title:45} {'—':>9} {'—':>9} {'—':>14} {'—':>16} {'—':>10} {'—':>13}")
            continue
        a, lst = res["dates"]["article"], res["dates"]["list"]
        print(f"{title:45} {res['footer'].precision:9.3f} {res['footer'].recall:9.3f} "
              f"{(f'{a[0]}/{a[1]}' if a[1] else 'n/a'):>14} {(f'{lst[0]}/{lst[1]}' if lst[1] else 'n/a'):>16} "
              f"{res['words']:>10} {res['privacy']:>13}")


if __name__ == "__main__":
    main()
