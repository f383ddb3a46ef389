"""Confusion-set disambiguation of one-character slips (context-sensitive spelling correction,
Golding & Roth 1999): 在/再, 的/地, 做/作, 那/哪 — each is a word, so no dictionary look-up sees
the slip; only the characters around it tell which one the writer meant.

For every pair of confusable characters that the training text has often enough and in
similar company (wordlists/tools/train_sets.py), a logistic classifier over hashed features of
the neighbouring characters (offsets −3..+3, their bigrams and trigrams) says which of the two
the context wants. At scan time each occurrence of such a character costs one hashed look-up
per feature and partner, all in one vectorised pass; an occurrence is a slip only when the
partner wins by a wide margin — each pair its own (set on held-out development text, never on
SIGHAN): 在/再 are told apart by their neighbours where 他/它 or 和/或 are not, and one margin for
all would be set by the pairs that cannot be told apart.
Pure numpy; the weights come from wordlists/model/sets.npz (govcheck.wordlists loads them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Offsets of the neighbours each feature reads (0 is the confusable character itself).
TEMPLATES = ((-1,), (1,), (-2,), (2,), (-3,), (3,), (-2, -1), (-1, 1), (1, 2), (-3, -2, -1), (1, 2, 3),
             (-2, -1, 1), (-1, 1, 2))
REACH = 3
EDGE = 1                      # what lies beyond the text's ends
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def char_codes(text: str) -> np.ndarray:
    """The text as feature codes, REACH codes of EDGE on either side: code points, with every
    digit one code, every Latin letter one, every space one (a number's value tells nothing)."""
    cp = np.frombuffer(text.encode("utf-32-le"), np.uint32).astype(np.int64)
    digit = ((cp >= 0x30) & (cp <= 0x39)) | ((cp >= 0xFF10) & (cp <= 0xFF19))
    letter = ((cp | 0x20) >= 0x61) & ((cp | 0x20) <= 0x7A)
    space = (cp == 0x20) | (cp == 0x09) | (cp == 0x0A) | (cp == 0x0D) | (cp == 0x3000) | (cp == 0xA0)
    cp = np.where(digit, 0x30, np.where(letter, 0x61, np.where(space, 0x20, np.minimum(cp, 0xFFFF))))
    return np.concatenate((np.full(REACH, EDGE), cp, np.full(REACH, EDGE))).astype(np.uint64)


def feature_buckets(codes: np.ndarray, pos: np.ndarray, pair: np.ndarray, bits: int) -> np.ndarray:
    """(len(pos), len(TEMPLATES)) weight buckets: each template's neighbours of the character at
    text position pos[i], hashed with the pair it is judged for (the training script and the
    scan share this one function, so their buckets agree)."""
    p = pos.astype(np.int64) + REACH
    out = np.empty((len(p), len(TEMPLATES)), np.int64)
    base = pair.astype(np.uint64) * _MIX[0]
    shift = np.uint64(64 - bits)
    for t, offsets in enumerate(TEMPLATES):
        h = base + np.uint64(t + 1)
        for o in offsets:
            h = (h ^ codes[p + o]) * _MIX[1]
        h ^= h >> np.uint64(31)
        h *= _MIX[2]
        h ^= h >> np.uint64(29)
        out[:, t] = (h * _MIX[0] >> shift).astype(np.int64)
    return out


@dataclass
class SetModel:
    """The pair classifiers: for each code point its partners (CSR over start), each partner
    with its pair and the sign under which the pair's score speaks for the partner; the pairs'
    biases and channel costs; the hashed weights, int8 times scale; the margin a partner must
    win by."""

    start: np.ndarray          # int32, 0x10001: code point → first entry
    pair: np.ndarray           # int32, per entry
    sign: np.ndarray           # float32, per entry: +1 when the partner is the pair's second member
    partner: np.ndarray        # int32, per entry: the partner's code point
    bias: np.ndarray           # float32, per pair: log-odds of the second member with no context
    weights: np.ndarray        # int8, 2**bits
    scale: float
    margin: float
    cost: np.ndarray           # float32, per pair: the channel cost of the slip (same pinyin 0, near 1, shape 1.5)
    # How much of the pair's bias (the two characters' odds in the training text) the margin
    # keeps. An input method offers the commoner of two homophones first, so a writer's slip
    # mostly puts the commoner one for the rarer (在 for 再, 的 for 地): the text's odds are
    # largely cancelled by the channel's, and the margin reads the context's evidence.
    prior: float = 0.0
    # The character model's evidence added to the margin (checks.words.confusable_hits): the
    # trigram gain and the 4-gram gain of the partner, each times its weight — a second opinion
    # counted over all the training text, beside the classifiers' capped samples.
    tri_weight: float = 0.0
    four_weight: float = 0.0
    # Each pair's own margin (float32, per pair; inf for a pair whose slips cannot be told from
    # clean text: it is never judged); None: `margin` for every pair.
    pair_margin: np.ndarray | None = None
    # The margin a slip needs at least whose written form is a word of two or more characters
    # itself (签定/签订, 可信性/可行性, 实时/适时): two words either of which the context may want,
    # and most of the clean text's high margins (checks.words.confusable_hits).
    word_margin: float = -np.inf


def margins_needed(model: SetModel, pair: np.ndarray) -> np.ndarray:
    """The margin the partner must win by, per pair index."""
    if model.pair_margin is None:
        return np.full(len(pair), model.margin, np.float32)
    return model.pair_margin[pair]


def slip_margins(model: SetModel, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position, partner code point, margin) of the best partner of every confusable
    character of the text: how many nats of log-odds the context puts on the partner over
    the character written, less the slip's channel cost. Vectorised."""
    return best_partners(model, text)[:3]


def best_partners(model: SetModel, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """slip_margins and, fourth, the margin each one's pair needs (margins_needed). The best
    partner is the one nearest its pair's margin; a pair that is never judged offers none."""
    codes = char_codes(text)
    cp = codes[REACH:len(codes) - REACH].astype(np.int64)
    n = model.start[cp + 1] - model.start[cp]
    q = np.flatnonzero(n)
    none = np.zeros(0, np.int64)
    if not len(q):
        return none, none, np.zeros(0, np.float32), np.zeros(0, np.float32)
    n = n[q]
    pos = np.repeat(q, n)
    entry = np.arange(len(pos)) - np.repeat(np.cumsum(n) - n, n) + np.repeat(model.start[cp[q]], n)
    pair = model.pair[entry]
    need = margins_needed(model, pair)
    judged = np.isfinite(need)
    if not judged.all():
        pos, entry, pair, need = pos[judged], entry[judged], pair[judged], need[judged]
        if not len(pos):
            return none, none, np.zeros(0, np.float32), np.zeros(0, np.float32)
    raw = model.weights[feature_buckets(codes, pos, pair, int(model.weights.size).bit_length() - 1)]
    score = (model.prior * model.bias[pair] + model.scale * raw.sum(1, dtype=np.float32)) * model.sign[entry] - model.cost[pair]
    # the best partner of each occurrence (entries of one position are contiguous): the least
    # need - score, the first of equals
    best = best_of_runs(pos, score - need)
    return pos[best], model.partner[entry[best]].astype(np.int64), score[best], need[best]


def best_of_runs(group: np.ndarray, value: np.ndarray, last: bool = False) -> np.ndarray:
    """The index of the largest value in each run of equal entries of `group` (runs in order),
    of equal values the first (or the last): what a stable np.lexsort((value, group)) gives at
    the end of each run, without the sort (a tenth of its time on a page's hundred thousand entries)."""
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    top = np.maximum.reduceat(value, starts)
    runs = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(group))))
    at = np.flatnonzero(value == top[runs])
    r = runs[at]
    ends = np.concatenate((r[1:] != r[:-1], [True])) if last else np.concatenate(([True], r[1:] != r[:-1]))
    return at[ends]


def preferred_partners(model: SetModel, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """best_partners where the classifier prefers the partner at all (margin > 0): the few
    occurrences worth a second opinion."""
    pos, partner, score, need = best_partners(model, text)
    keep = score > 0
    return pos[keep], partner[keep], score[keep], need[keep]
