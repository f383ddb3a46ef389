"""The government-domain part of bench/typos.py: slips planted in official text, figures per method.

Official text that is not the real pages (those stay the clean-text false-hit measure): the
seed notices (../shared/seeds) and 1,500 paragraphs of administrative, departmental and local
regulations that neither the context detector's character model nor its scorer has seen
(bench/data/official, see its SOURCES). Three planted sets, seeded:
- slips inside the terms the term guard lists (wordlists/terms, 成语): one character of one
  occurrence replaced — what the guard is built for, so read it as the guard's mechanics
  (variants, precision rules), not as the reach of its lexicon;
- slips inside the names jieba's dictionary tags as organisations or places (nt, ns; three
  characters or more, ending in a kind: …局, …省, …银行), listed in wordlists/terms or not: the
  lexicon's reach on names it was not built from;
- slips anywhere in official sentences (机智→机制): the whole check on official prose.
A slip is 60 % a same-pinyin character, 20 % a near-pinyin one (zh/z, ch/c, sh/s, n/l, an/ang,
en/eng, in/ing), 20 % a similar-shape one. The sound slips come from pypinyin readings over
jieba's common characters, not from the detector's confusion table; the shape slips do come
from the detector's shape groups (the only shape table at hand), an upper bound for those.
A planted character that makes another listed term (山西省 → 陕西省) is not planted.
Per method (list, term, context): its hits in the planted sentences, how many of them are the
slip (the hit's changed positions are exactly the planted one), and how many slips it finds;
then the whole check's sentence-level figures (the flagged positions are exactly the slip) and
false hits per 100,000 characters of the clean official text, per method.
"""

from __future__ import annotations

import logging
import os
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import ahocorasick
import jieba
from pypinyin import Style, lazy_pinyin

from checks.words import check_words, detect_context, find_hits
from govcheck.wordlists import confusion, idioms, load_terms

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = ROOT / "bench" / "data" / "official"
SEEDS = ROOT.parent / "shared" / "seeds"
METHODS = ("list", "term", "context")
COMMON_FREQ = 2000        # jieba single-character frequency of the characters a slip may bring in
KINDS = (("same", 0.6), ("near", 0.2), ("shape", 0.2))
NEAR_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
NEAR_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))
INITIALS = ("zh", "ch", "sh") + tuple("bpmfdtnlgkhjqxrzcsyw")
HAN = re.compile(r"[\u4e00-\u9fff]")


def official_texts() -> list[tuple[str, str]]:
    out = []
    for folder in (SEEDS, OFFICIAL):
        for p in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
            out.append((f"{folder.name}/{p.name}", p.read_text(encoding="utf-8")))
    return out


def sentences(texts: list[tuple[str, str]]) -> list[str]:
    return [s.strip() for _, t in texts for s in re.split(r"[。！？；\n]", t) if len(HAN.findall(s)) >= 12]


class Slips:
    """Same- and near-pinyin characters by pypinyin, similar-shape ones by the shape groups."""

    def __init__(self) -> None:
        jieba.setLogLevel(logging.ERROR)
        by_sound: dict[str, list[str]] = defaultdict(list)
        with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
            for line in f:
                w, n, _ = line.split()
                if len(w) == 1 and HAN.match(w) and int(n) >= COMMON_FREQ:
                    by_sound[lazy_pinyin(w, style=Style.NORMAL)[0]].append(w)
        self.by_sound = by_sound
        self.shape = {c: row[2] for c, row in confusion().items()}

    def near(self, py: str) -> set[str]:
        ini = next((x for x in INITIALS if py.startswith(x)), "")
        fin = py[len(ini):]
        out = {b + fin for a, b in NEAR_INITIALS + tuple((y, x) for x, y in NEAR_INITIALS) if ini == a}
        out |= {ini + b for a, b in NEAR_FINALS + tuple((y, x) for x, y in NEAR_FINALS) if fin == a}
        return out

    def alternatives(self, ch: str, kind: str) -> list[str]:
        if kind == "shape":
            return [c for c in self.shape.get(ch, "") if HAN.match(c) and c != ch]
        py = lazy_pinyin(ch, style=Style.NORMAL)[0]
        sounds = [py] if kind == "same" else sorted(self.near(py))
        return sorted({c for s in sounds for c in self.by_sound.get(s, ()) if c != ch})

    def pick_kind(self, rng: random.Random) -> str:
        r, acc = rng.random(), 0.0
        for kind, share in KINDS:
            acc += share
            if r < acc:
                return kind
        return KINDS[-1][0]


def _automaton(words) -> ahocorasick.Automaton:
    a = ahocorasick.Automaton()
    for w in words:
        a.add_word(w, w)
    a.make_automaton()
    return a


# jieba tags 之日起 or 公共场所 nt/ns too: a name ends in what names its kind
NAME_ENDS = "省市县区旗盟州乡镇村部委局厅署院会府办室所站队团馆国行处"


def tagged_names() -> list[str]:
    """Organisation and place names of jieba's dictionary (tags nt, ns), three characters or
    more, ending in an organ's or a place's kind."""
    out = []
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            w, _, tag = line.split()
            if tag in ("nt", "ns") and len(w) >= 3 and all(HAN.match(c) for c in w) and w[-1] in NAME_ENDS:
                out.append(w)
    return out


def plant_in_terms(sents: list[str], terms: list[str], lexicon: set[str], slips: Slips, n: int,
                   seed: int) -> list[tuple[str, int]]:
    """One slip inside one occurrence of a term in each of n sentences."""
    rng = random.Random(seed)
    auto = _automaton(terms)
    pool = [(s, [(end - len(t) + 1, t) for end, t in auto.iter(s)]) for s in sents]
    pool = [(s, occ) for s, occ in pool if occ]
    out, tries = [], 0
    while pool and len(out) < n and tries < 50 * n:
        tries += 1
        s, occ = rng.choice(pool)
        start, term = rng.choice(occ)
        k = rng.randrange(len(term))
        alts = slips.alternatives(term[k], slips.pick_kind(rng))
        if not alts:
            continue
        alt = rng.choice(alts)
        if term[:k] + alt + term[k + 1:] in lexicon:
            continue
        i = start + k
        out.append((s[:i] + alt + s[i + 1:], i))
    return out


def plant_in_prose(sents: list[str], slips: Slips, n: int, seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    out, tries = [], 0
    while sents and len(out) < n and tries < 50 * n:
        tries += 1
        s = rng.choice(sents)
        spots = [i for i, ch in enumerate(s) if HAN.match(ch)]
        i = rng.choice(spots)
        alts = slips.alternatives(s[i], slips.pick_kind(rng))
        if alts:
            out.append((s[:i] + rng.choice(alts) + s[i + 1:], i))
    return out


def method_hits(text: str, matcher) -> list[tuple[str, set[int]]]:
    """(method, changed positions) of every hit, as bench/typos.py's positions() counts them."""
    hits = find_hits(matcher, text)
    spans = [(h.start, h.end) for h in hits]
    if matcher.context is not None:
        hits += [h for h in detect_context(matcher.context, text) if not any(a < h.end and h.start < b for a, b in spans)]
    out = []
    for h in hits:
        fix = h.correction or ""
        diff = {h.start + k for k, (a, b) in enumerate(zip(h.word, fix)) if a != b} if len(fix) == len(h.word) else set()
        out.append((h.method, diff or set(range(h.start, h.end))))
    return out


def score(planted: list[tuple[str, int]], matcher) -> dict:
    per = {m: Counter() for m in METHODS}
    s_tp = s_flag = 0
    for text, i in planted:
        hits = method_hits(text, matcher)
        found_by = set()
        for method, pos in hits:
            per[method]["hits"] += 1
            if pos == {i}:
                per[method]["right"] += 1
                found_by.add(method)
        for method in found_by:
            per[method]["found"] += 1
        pred = set().union(*(p for _, p in hits)) if hits else set()
        s_flag += bool(pred)
        s_tp += pred == {i}
    return {"n": len(planted), "per": per, "tp": s_tp, "flagged": s_flag}


def clean_false_hits(texts: list[tuple[str, str]], matcher) -> tuple[int, Counter, list[tuple[str, str, str]]]:
    chars, per, shown = 0, Counter(), []
    for name, text in texts:
        chars += len(text)
        for f in check_words(name, text, matcher):
            contexts = f.detail["contexts"][:f.detail["count"]]
            per[f.detail["method"]] += len(contexts)
            shown += [(name, f.detail["method"], c) for c in contexts]
    return chars, per, shown


def _prf(tp: int, flagged: int, relevant: int) -> str:
    p = tp / flagged if flagged else 0.0
    r = tp / relevant if relevant else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}"


def report(matcher, realpage_false_hits: list[tuple[str, str, str]], realpage_chars: int, n_terms: int = 400,
           n_names: int = 300, n_prose: int = 500) -> list[str]:
    """The lines bench/typos.py prints for the government domain."""
    texts = official_texts()
    sents = sentences(texts)
    slips = Slips()
    terms = load_terms()
    # planted in the guarded terms; a township that is a name only (category name) is guarded by
    # nothing, but a slip that writes one is no slip
    lexicon_terms = [t for t, c in terms if c != "name"] + idioms()
    lexicon = set(lexicon_terms) | {t for t, _ in terms}
    sets = (
        ("slips in listed terms (wordlists/terms, 成语)", plant_in_terms(sents, lexicon_terms, lexicon, slips, n_terms, 34)),
        ("slips in names jieba tags nt/ns, ending in a kind (listed or not)", plant_in_terms(sents, tagged_names(), lexicon, slips, n_names, 35)),
        ("slips anywhere in official sentences", plant_in_prose(sents, slips, n_prose, 36)),
    )
    n_chars = sum(len(t) for _, t in texts)
    n_seeds = sum(name.startswith(SEEDS.name + "/") for name, _ in texts)
    n_paras = sum(len(t.splitlines()) for name, t in texts if not name.startswith(SEEDS.name + "/"))
    lines = [f"government domain: {n_seeds} seed notices (../shared/seeds) and {n_paras:,} regulation paragraphs no model "
             f"saw (bench/data/official), {n_chars:,} characters, {len(sents)} sentences; slips 60/20/20 same/near pinyin "
             f"(pypinyin)/shape, seeded"]
    for name, planted in sets:
        r = score(planted, matcher)
        lines.append(f"  {name}: {r['n']} sentences, whole check sentence-level {_prf(r['tp'], r['flagged'], r['n'])}   "
                     f"({r['tp']} exact of {r['flagged']} flagged)")
        lines.append("    per method: " + "; ".join(
            f"{m} {r['per'][m]['found']} found (R {r['per'][m]['found'] / r['n'] if r['n'] else 0:.3f}), "
            f"{r['per'][m]['right']} of {r['per'][m]['hits']} hits right (P {r['per'][m]['right'] / r['per'][m]['hits'] if r['per'][m]['hits'] else 0:.3f})"
            for m in METHODS))
    chars, per, shown = clean_false_hits(texts, matcher)
    lines.append(f"  clean official text (the same texts unplanted): {sum(per.values())} false hits = "
                 f"{sum(per.values()) / chars * 1e5:.2f} per 100,000 characters; by method: " +
                 ", ".join(f"{m} {per[m]} ({per[m] / chars * 1e5:.2f})" for m in METHODS))
    for name, method, ctx in shown:
        lines.append(f"    false hit [{method}] {name}: {ctx}")
    rp = Counter(m for _, m, _ in realpage_false_hits)
    lines.append(f"  real pages ({realpage_chars:,} characters) false hits by method: " +
                 ", ".join(f"{m} {rp[m]} ({rp[m] / realpage_chars * 1e5 if realpage_chars else 0:.2f} per 100,000)" for m in METHODS))
    return lines
