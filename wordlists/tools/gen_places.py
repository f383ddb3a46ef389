"""Generate wordlists/terms/places.txt (provinces, prefectures, counties) and townships.txt (乡, 镇, 街道).

    pip install --no-deps cpca==0.5.5
    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz     # its dist/ folder
    python wordlists/tools/gen_places.py package/dist                       # writes both files

The source is the administrative-division table cpca ships (cpca/resources/adcodes.csv, MIT
licence): every province-, prefecture- and county-level unit with its 行政区划代码. It is read as
a data file of the installed package (cpca itself is not imported: it pulls pandas). For each
unit the full name is kept (鄂尔多斯市, 东胜区, 本溪满族自治县) and, when it is three characters or
more, the name without its administrative suffix and ethnic designation (鄂尔多斯, 乌鲁木齐);
shorter names (忠县, 东胜) are left to the registry: their homophones are ordinary words.

The second source is the npm package china-division 2.7.0 (modood/Administrative-divisions-of-China,
WTFPL licence): the 国家统计局's 统计用区划代码 of 2023 (cut-off 2023-06-30), read from its dist/
CSV files. It adds the county-level divisions created or renamed since cpca's data (滦州市, 襄都区,
汤旺县; its statistical units numbered x70–x99 — 开发区, 管理区 — are no divisions and are left out)
and gives townships.txt: the 41,352 township-level units (镇, 乡, 街道, 苏木, and the 农场, 开发区… that
the statistics count as such) as names the checks must not "correct" (category name), and those
whose stem is distinctive as guarded terms (category typo) — see township_guarded.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import sys
from pathlib import Path

TERMS = Path(__file__).resolve().parents[1] / "terms"

SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "省", "市", "县", "区", "旗", "盟")
MIN_LEN = 3


def resources() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.origin:
        sys.exit("needs cpca's data: pip install --no-deps cpca==0.5.5")
    return Path(spec.origin).parent / "resources"


def bare(name: str, nations: list[str]) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[:-len(suffix)]
            break
    # 本溪满族自治县 → 本溪, 延边朝鲜族自治州 → 延边: the ethnic designation is not part of the place
    cut = min((i for n in nations for i in [name.find(n)] if i > 0), default=len(name))
    return name[:cut]


def county_additions(division: Path, known: set[str]) -> list[str]:
    """County- and prefecture-level divisions of the 2023 codes that cpca's table lacks."""
    out = []
    for file in ("cities.csv", "areas.csv"):
        for row in csv.DictReader(io.StringIO((division / file).read_text(encoding="utf-8"))):
            code, name = row["code"], row["name"].strip()
            # x70–x99: 统计用 units (经济技术开发区, 管理区), not administrative divisions
            if len(code) == 6 and int(code[4:]) >= 70 or name in known or name.endswith(("行政区划", "市辖区")):
                continue
            out.append(name)
    return out


TOWNSHIP_KINDS = ("街道", "苏木", "镇", "乡")
# a 乡 becomes a 镇, a 镇 a 街道: an older page prints the stem under the kind it had then
TOWNSHIP_FORMS = ("乡", "镇", "街道")


def township_stem(name: str, nations: list[str]) -> tuple[str, str] | None:
    """(stem, kind) of a township's name (城关镇 → 城关, 镇; 塔尔气镇; 鄂伦春民族乡 → none)."""
    kind = next((k for k in TOWNSHIP_KINDS if name.endswith(k)), None)
    if kind is None:
        return None
    stem = name[:-len(kind)]
    stem = re.sub("民族$", "", stem)
    cut = min((i for n in nations for i in [stem.find(n)] if i > 0), default=len(stem))
    stem = stem[:cut]
    return (stem, kind) if len(stem) >= 2 else None


def township_guarded(stem: str, is_word) -> bool:
    """Whether a township's name is distinctive enough that its confusable variants are slips:
    a stem of three characters or more that is no dictionary word (塔尔气镇, 纳林陶亥镇). Two-character
    stems (城关, 新华, 李庄) are shared by many places and villages the list does not hold, and
    their one-character variants are names of their own: those are names only."""
    return len(stem) >= 3 and not is_word(stem)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    division = Path(sys.argv[1])
    res = resources()
    nations = [r.strip().split(",")[0] for r in (res / "56_nations.csv").read_text(encoding="utf-8").splitlines() if r.strip()]
    nations = sorted({n for n in nations if n and n != "name"} | {n[:-1] for n in nations if n.endswith("族") and len(n) > 2},
                     key=len, reverse=True)
    rows = list(csv.DictReader(io.StringIO((res / "adcodes.csv").read_text(encoding="utf-8"))))
    known = {row["name"].strip() for row in rows}
    added = county_additions(division, known)
    names: list[str] = []
    for name in [row["name"].strip() for row in sorted(rows, key=lambda r: r["adcode"])] + added:
        if name.endswith(("行政区划", "市辖区")) or not name:
            continue
        for form in (name, bare(name, nations)):
            if len(form) >= MIN_LEN:
                names.append(form)
    lines = ["# govcheck term guard — 行政区划名称 (variants reported as word_typo)",
             "# Generated by wordlists/tools/gen_places.py from cpca 0.5.5's resources/adcodes.csv (MIT licence):",
             "#   provinces, prefectures and counties with and without their administrative suffix;",
             f"#   then the {len(added)} county- and prefecture-level divisions of china-division 2.7.0 (2023 codes,",
             "#   WTFPL licence) that cpca's table lacks.",
             "# category: typo"] + list(dict.fromkeys(names))
    (TERMS / "places.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_townships(division, nations)


def write_townships(division: Path, nations: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from checks.words import tokenizer

    freq = tokenizer().FREQ
    is_word = lambda w: bool(freq.get(w))
    guarded, names = [], []
    rows = list(csv.DictReader(io.StringIO((division / "streets.csv").read_text(encoding="utf-8"))))
    for row in sorted(rows, key=lambda r: r["code"]):
        name = row["name"].strip()
        found = township_stem(name, nations)
        if found is None:
            if len(name) >= MIN_LEN:
                names.append(name)
            continue
        stem, kind = found
        (guarded if township_guarded(stem, is_word) else names).append(name)
        names.extend(stem + k for k in TOWNSHIP_FORMS if kind in TOWNSHIP_FORMS and stem + k != name)
    guarded = list(dict.fromkeys(guarded))
    names = [n for n in dict.fromkeys(names) if n not in set(guarded)]
    lines = ["# govcheck term guard — 乡级行政区划 (township-level divisions)",
             "# Generated by wordlists/tools/gen_places.py from china-division 2.7.0 (npm; modood/Administrative-",
             "#   divisions-of-China, WTFPL licence): 国家统计局 2023年统计用区划代码 (cut-off 2023-06-30), dist/streets.csv.",
             "# Guarded (variants reported as word_typo): townships whose stem is three characters or more and no word.",
             "# category: typo"] + guarded + [
             "# Names only (never \"corrected\" by any method; stems under the kinds 乡, 镇, 街道 as well).",
             "# category: name"] + names
    (TERMS / "townships.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"places.txt written; townships.txt: {len(guarded)} guarded, {len(names)} names", file=sys.stderr)


if __name__ == "__main__":
    main()
