"""Loading 错敏词 lists (DESIGN §2 format), the term guard, the context model, and the cache.

Bundled lists live in wordlists/*.txt; users add theirs through `wordlists:` in the registry.
The term guard's lexicon (official names and fixed terms) lives in wordlists/terms/, and the
registry's own unit and place names are added to it at scan time; every term is expanded
into its one-character confusable variants (wordlists/model/confusion.txt), keeping only
variants that are not words themselves. Lists and variants go into one automaton, built once
and cached on disk keyed by everything it was built from, so a nightly scan does not rebuild
what it already built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import pickle
import re
import shutil
from functools import lru_cache
from pathlib import Path

import ahocorasick
import numpy as np

from checks.confusables import SetModel
from checks.words import (
    BASE,
    CATEGORY_RANK,
    FEATURES,
    MODERN_WORDS,
    SHIFT,
    SOUND,
    ContextModel,
    KeyTable,
    PairSet,
    WordEntry,
    WordMatcher,
    build_automaton,
    build_segmenter_dictionary,
    set_segmenter_source,
    tokenizer,
)

BUNDLED = Path(__file__).resolve().parents[1] / "wordlists"
TERMS = BUNDLED / "terms"
MODEL = BUNDLED / "model"
ENGINE_VERSION = "8"   # 4: automaton payloads carry events_before; 5: place forms as allow phrases; 6: 成语 of frequency ≥ 20; 7: shape variants of a kind character kept (judged at match time); 8: the pad key, keys by first character's frequency
OPTIONS = ("allow", "before", "after", "events_before")
MIN_TERM = 3           # two-character terms have too many real homophones to guard
IDIOM_MIN_FREQ = 20    # 成语 of jieba's dictionary (tag i) common enough to be guarded: 2,910 (582 at ≥ 100)
# Administrative suffixes that end a place name inside a unit name (鄂尔多斯市东胜区人民政府).
PLACE = re.compile(r"(?:特别行政区|自治区|自治州|自治县|自治旗|街道|苏木|嘎查|[省市区县旗盟镇乡村])")


class WordlistError(ValueError):
    """A malformed user list: names the file and line (bad input, exit 2)."""


def _date(value: str, source: str, lineno: int, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise WordlistError(f"{source}:{lineno}: |{option}: needs a date YYYY-MM-DD, got {value.strip()!r}") from None


def parse_wordlist(text: str, source: str) -> list[WordEntry]:
    entries, category = [], None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if body.lower().startswith("category:"):
                category = body.split(":", 1)[1].strip().lower()
                if category not in CATEGORY_RANK:
                    raise WordlistError(f"{source}:{lineno}: unknown category {category!r} "
                                        f"(allowed: {', '.join(CATEGORY_RANK)})")
            continue
        if category is None:
            raise WordlistError(f"{source}:{lineno}: entry before any '# category: serious|typo|sensitive' header")
        word_part, *options = line.split("|")
        found: dict[str, str] = {}
        for opt in options:
            name, colon, value = opt.partition(":")
            name = name.strip().lower()
            if not colon or name not in OPTIONS:
                raise WordlistError(f"{source}:{lineno}: unknown option {'|' + opt!r} (known: |allow:, |before:, |after:, |events_before:)")
            if name in found:
                raise WordlistError(f"{source}:{lineno}: |{name}: given twice")
            found[name] = value
        word, arrow, correction = word_part.partition("→")
        word, correction = word.strip(), correction.strip()
        if not word or (arrow and not correction):
            raise WordlistError(f"{source}:{lineno}: expected WORD or WRONG→RIGHT, got {line!r}")
        allow = tuple(p.strip() for p in found.get("allow", "").replace("，", ",").split(",") if p.strip())
        if any(word not in p for p in allow):
            raise WordlistError(f"{source}:{lineno}: every allow phrase must contain {word!r}")
        before = _date(found["before"], source, lineno, "before") if "before" in found else None
        after = _date(found["after"], source, lineno, "after") if "after" in found else None
        events = _date(found["events_before"], source, lineno, "events_before") if "events_before" in found else None
        entries.append(WordEntry(word, category, correction or None, allow, f"{Path(source).name}:{lineno}", before, after,
                                 events_before=events))
    return entries


def wordlist_files(extra: list[str] | tuple[str, ...] = ()) -> list[Path]:
    return sorted(BUNDLED.glob("*.txt")) + [Path(p) for p in extra]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise WordlistError(f"{path}: cannot read as UTF-8 text ({exc})") from None


def load_entries(extra: list[str] | tuple[str, ...] = ()) -> list[WordEntry]:
    entries = []
    for path in wordlist_files(extra):
        entries.extend(parse_wordlist(_read(path), str(path)))
    return entries


# --- term guard -----------------------------------------------------------------------------

def load_terms() -> list[tuple[str, str]]:
    """(term, category) of wordlists/terms/*.txt: `# category:` headers as in word lists."""
    out = []
    for path in sorted(TERMS.glob("*.txt")):
        category = None
        for lineno, raw in enumerate(_read(path).splitlines(), start=1):
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if raw.lstrip().startswith("#"):
                body = raw.strip()[1:].strip()
                if body.lower().startswith("category:"):
                    category = body.split(":", 1)[1].strip().lower()
                continue
            if not line:
                continue
            if category not in ("serious", "typo"):
                raise WordlistError(f"{path}:{lineno}: term before a '# category: serious|typo' header")
            out.append((line, category))
    return out


def idioms() -> list[str]:
    """Common 成语 of jieba's dictionary (four characters, tag i)."""
    import jieba

    out = []
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "i" and len(parts[0]) == 4 and int(parts[1]) >= IDIOM_MIN_FREQ:
                out.append(parts[0])
    return out


def registry_terms(unit_names) -> list[str]:
    """The registry's own unit names and the place names inside them (鄂尔多斯市东胜区人民政府 →
    itself, 鄂尔多斯市, 鄂尔多斯, 鄂尔多斯市东胜区, 东胜区)."""
    out = []
    for name in unit_names:
        name = name.strip()
        if len(name) >= MIN_TERM:
            out.append(name)
        pos = 0
        for m in PLACE.finditer(name):
            if m.start() - pos >= 2:
                out.append(name[pos:m.end()])
                out.append(name[:m.end()])
                if m.start() - pos >= MIN_TERM:
                    out.append(name[pos:m.start()])
            pos = m.end()
    return list(dict.fromkeys(t for t in out if len(t) >= MIN_TERM))


@lru_cache(maxsize=1)
def confusion() -> dict[str, tuple[str, str, str, str]]:
    """character → (same pinyin, near pinyin, similar shape, sound class)."""
    table = {}
    with (MODEL / "confusion.txt").open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            ch, same, near, shape, sound = line.rstrip("\n").split("\t")
            table[ch] = (same, near, shape, sound)
    return table


@lru_cache(maxsize=1)
def sound_table() -> dict[int, int]:
    """str.translate table: each common character → one private-use character per sound class,
    so that 院 and 园 (yuan), 民 and 命 (min/ming, 前后鼻音) spell the same."""
    classes: dict[str, int] = {}
    return {ord(ch): 0xE000 + classes.setdefault(row[3], len(classes)) for ch, row in confusion().items()}


def term_variants(term: str, table, is_word, kinds=(0, 1, 2)) -> set[str]:
    """One-character confusable variants of a term that are not words themselves."""
    out = set()
    for i, ch in enumerate(term):
        groups = table.get(ch)
        if not groups:
            continue
        for kind in kinds:
            for alt in groups[kind]:
                v = term[:i] + alt + term[i + 1:]
                if not is_word(v):
                    out.add(v)
    return out


# A place's name without its kind (宜州市 → 宜州, 天祝藏族自治县 → 天祝), and the kinds it may carry.
PLACE_TAIL = re.compile(r"(?:特别行政区|自治区|自治州|自治县|自治旗|地区|林区|[省市县区旗盟])$")
# the 55 minority nationalities (cpca 0.5.5 resources/56_nations.csv), as autonomous units name them
NATIONS = ("蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 纳西 景颇 柯尔克孜 "
           "土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 "
           "独龙 鄂伦春 赫哲 门巴 珞巴 基诺 高山").split()
ETHNIC_TAIL = re.compile("(?:" + "|".join(sorted(NATIONS, key=len, reverse=True)) + ")族?(?:(?:" +
                         "|".join(sorted(NATIONS, key=len, reverse=True)) + ")族?)*$")
PLACE_KINDS = ("省", "市", "县", "区", "旗", "盟", "州", "乡", "镇")


def place_stem(name: str) -> str | None:
    m = PLACE_TAIL.search(name)
    if not m:
        return None
    stem = name[:m.start()]
    bare = ETHNIC_TAIL.sub("", stem)
    if len(bare) >= 2:
        stem = bare
    return stem if len(stem) >= 2 else None


def place_forms(terms) -> dict[str, set[str]]:
    """Every known place stem with every kind, by sound key: a list of divisions is years old
    the day it ships (宜州市 has been 宜州区 since 2016) and pages shorten autonomous counties
    (天祝县), so a stem under another kind is a place, not a slip of a term spelt like it
    (伊州区)."""
    sounds = sound_table()
    out: dict[str, set[str]] = {}
    for stem in {s for t in terms for s in [place_stem(t)] if s}:
        for kind in PLACE_KINDS:
            out.setdefault((stem + kind).translate(sounds), set()).add(stem + kind)
    return out


def term_entries(terms: list[tuple[str, str]], extra_terms=()) -> list[WordEntry]:
    """The term guard in the automaton: each term spelt in sound classes (one key catches every
    same- and near-pinyin variant in the sound pass, see checks.words.find_hits) and its
    similar-shape variants spelt out (few: shape groups are small). Place names spelt like a
    term are its allow phrases (place_forms)."""
    table = confusion()
    sounds = sound_table()
    freq = tokenizer().FREQ
    lexicon = {t for t, _ in terms} | set(extra_terms)
    places = place_forms(lexicon)
    lexicon |= {f for forms in places.values() for f in forms}
    is_word = lambda v: v in lexicon or bool(freq.get(v))
    entries = []
    for term, category in list(terms) + [(t, "typo") for t in extra_terms] + [(i, "typo") for i in idioms()]:
        if len(term) < MIN_TERM:
            continue
        key = term.translate(sounds)
        entries.append(WordEntry(key, category, term, tuple(sorted(places.get(key, set()) - {term})), term, method=SOUND))
        for v in sorted(term_variants(term, table, is_word, kinds=(2,))):
            entries.append(WordEntry(v, category, term, (), term, method="term"))
    return entries


# --- cache ----------------------------------------------------------------------------------

def cache_dir() -> Path:
    base = os.environ.get("GOVCHECK_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                                 os.path.expanduser("~/.cache"), "govcheck")
    return Path(base)


# A cache entry no process has opened for this long belongs to a wordlist, registry or engine
# version no longer in use: every upgrade of the lists or the model writes new entries (a context
# model's arrays are ~55 MB), and a nightly scan opens each entry it uses every night.
CACHE_KEEP_DAYS = 7


def keep_cached(entry: Path) -> None:
    """`entry` is in use: its age starts again (what forget_stale_cache goes by)."""
    try:
        os.utime(entry)
    except OSError:
        pass   # a read-only cache: nothing will be forgotten there either


def forget_stale_cache(entry: Path, prefix: str) -> None:
    """After `entry` was written, remove the other `prefix`* entries of the cache directory
    not opened for CACHE_KEEP_DAYS. A process still using a removed model keeps its mapped
    files (the data stays until they are closed); one starting later just builds it again."""
    cutoff = dt.datetime.now().timestamp() - CACHE_KEEP_DAYS * 86400
    for other in entry.parent.glob(f"{prefix}*"):
        try:
            if other != entry and other.stat().st_mtime < cutoff:
                shutil.rmtree(other) if other.is_dir() else other.unlink()
        except OSError:
            pass   # another process removed or is replacing it


SEGMENTER_ENGINE = "1"


def segmenter_dictionary(words) -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary (its 498,000 words and prefixes, FREQ and total) with `words`
    added, pickled in the cache directory: a process loads it in ~0.11 s where jieba's own
    marshal cache takes ~0.43 s (bench/typos.py, start-up). Keyed by jieba's dict.txt and `words`."""
    import jieba

    words = tuple(words)
    digest = hashlib.sha256(SEGMENTER_ENGINE.encode() + repr(words).encode())
    digest.update((Path(jieba.__file__).parent / "dict.txt").read_bytes())
    cached = cache_dir() / f"segmenter-{digest.hexdigest()[:24]}.pickle"
    if cached.is_file():
        try:
            with cached.open("rb") as f:
                freq, total = pickle.load(f)  # noqa: S301 — written by this function into our own cache
            keep_cached(cached)
            return freq, total
        except Exception:  # a torn or foreign cache file: build it again
            cached.unlink(missing_ok=True)
    freq, total = build_segmenter_dictionary(words)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump((freq, total), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cached)
        forget_stale_cache(cached, "segmenter-")
    except OSError:
        pass  # a read-only cache: built each time
    return freq, total


set_segmenter_source(segmenter_dictionary)


def wordlists_digest(extra: list[str] | tuple[str, ...] = (), terms: list[str] | tuple[str, ...] = (),
                     guard: bool = True) -> str:
    """What the automaton is built from: the key of its cache."""
    files = wordlist_files(extra)
    digest = hashlib.sha256(ENGINE_VERSION.encode())
    sources = files + (sorted(TERMS.glob("*.txt")) + [MODEL / "confusion.txt"] if guard else [])
    digest.update(" ".join(MODERN_WORDS).encode())
    for path in sources:
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise WordlistError(f"{path}: cannot read ({exc})") from None
    digest.update(repr((guard, sorted(terms))).encode())
    return digest.hexdigest()[:24]


def matcher_digest(extra: list[str] | tuple[str, ...] = (), terms: list[str] | tuple[str, ...] = ()) -> str:
    """What load_matcher's verdicts depend on (lists, term guard, context model): the key under
    which word hits are kept with unchanged pages (govcheck.pagefacts)."""
    digest = hashlib.sha256(wordlists_digest(extra, terms).encode())
    for path in sorted(MODEL.glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def load_automaton(extra: list[str] | tuple[str, ...] = (), terms: list[str] | tuple[str, ...] = (),
                   guard: bool = True) -> ahocorasick.Automaton:
    """Lists (bundled + `extra`) and, with `guard`, the term guard over the bundled terms plus
    `terms` (the registry's unit and place names, see registry_terms). With the guard, keys are
    spelt in sound classes: match it through a WordMatcher with sound_table() (load_matcher)."""
    cached = cache_dir() / f"words-{wordlists_digest(extra, terms, guard)}.automaton"
    if cached.is_file():
        try:
            automaton = ahocorasick.load(str(cached), pickle.loads)
            keep_cached(cached)
            return automaton
        except Exception:  # a torn or foreign cache file: rebuild it
            cached.unlink(missing_ok=True)
    entries = load_entries(extra)
    if guard:
        entries += term_entries(load_terms(), terms)
    automaton = build_automaton(entries, sound_table() if guard else None)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        automaton.save(str(tmp), pickle.dumps)
        tmp.replace(cached)
        forget_stale_cache(cached, "words-")
    except OSError:
        pass  # a read-only home still scans, it just rebuilds next time
    return automaton


def load_matcher(extra: list[str] | tuple[str, ...] = (), terms: list[str] | tuple[str, ...] = (),
                 context: bool = True) -> WordMatcher:
    """What a scan matches with: lists, term guard (bundled terms + the registry's `terms`) and,
    with `context`, the statistical detector."""
    return WordMatcher(load_automaton(extra, terms), sound_table(), context_model() if context else None)


def load_lists(extra: list[str] | tuple[str, ...] = ()) -> WordMatcher:
    """The wordlists alone (no term guard, no context detector)."""
    return WordMatcher(load_automaton(extra, guard=False))


# --- context model --------------------------------------------------------------------------



SURNAME_COUNT = 30
SURNAME_SHARE = 0.05
IN_WORD_FREQ = 1         # dictionary words this frequent (and at most IN_WORD_LEN long) say a pair "is a word"
IN_WORD_LEN = 2


CONTEXT_ENGINE = "1"
# What the cache of a context model holds: the model's arrays, what ContextModel derives from
# the confusion sets, the pair sets' bitmaps, and the surnames (a one-character array).
CONTEXT_ARRAYS = ("uni", "bi_keys", "bi_counts", "tri_keys", "tri_counts", "quad_keys", "quad_counts", "in_word", "words2",
                  "alt_start", "alt_ids", "alt_kind", "place_end", "in_word_dense", "in_word_bits", "words2_dense",
                  "words2_bits", "bi_table_slots", "bi_table_values", "bi_table_bits", "tri_table_slots",
                  "tri_table_values", "tri_table_bits", "surnames")


@lru_cache(maxsize=2)
def context_model(scorer: bool = True) -> ContextModel:
    """The context detector's model (wordlists/model/, built by wordlists/tools/build_model.py),
    the pair tables it takes from jieba's dictionary, and (with `scorer`) the weights that
    wordlists/tools/fit_context.py fitted and the confusion-set classifiers (confusable_sets) —
    without them the model reports nothing.

    Everything but the scorer comes memory-mapped from the cache directory, where the first
    load puts it (deriving the pair tables from jieba's dictionary takes a second or two, and
    needs jieba's dictionary loaded), keyed by the files and the code it is derived from."""
    fitted = json.loads((MODEL / "context.json").read_text(encoding="utf-8")) if scorer else {
        "features": list(FEATURES), "weights": [0.0] * len(FEATURES), "bias": 0.0, "threshold": math.inf}
    if tuple(fitted["features"]) != FEATURES:
        raise WordlistError(f"{MODEL / 'context.json'}: features {fitted['features']} are not {list(FEATURES)}; "
                            "re-run wordlists/tools/fit_context.py")
    a = context_arrays()
    return ContextModel(sets=confusable_sets() if scorer else None, uni=a["uni"], bi_keys=a["bi_keys"], bi_counts=a["bi_counts"], tri_keys=a["tri_keys"],
                        tri_counts=a["tri_counts"], quad_keys=a["quad_keys"], quad_counts=a["quad_counts"],
                        in_word=a["in_word"], words2=a["words2"], confusion=confusion(),
                        surnames=frozenset(a["surnames"].tolist()), weights=np.array(fitted["weights"], float),
                        bias=float(fitted["bias"]), threshold=float(fitted["threshold"]), alt_start=a["alt_start"],
                        alt_ids=a["alt_ids"], alt_kind=a["alt_kind"], place_end=a["place_end"],
                        in_word_set=PairSet.of(a["in_word_dense"], a["in_word_bits"]),
                        words2_set=PairSet.of(a["words2_dense"], a["words2_bits"]),
                        bi_table=KeyTable.of(a["bi_keys"], a["bi_counts"], a["bi_table_slots"], a["bi_table_values"],
                                             a["bi_table_bits"][0]),
                        tri_table=KeyTable.of(a["tri_keys"], a["tri_counts"], a["tri_table_slots"], a["tri_table_values"],
                                              a["tri_table_bits"][0]))


def confusable_sets() -> SetModel | None:
    """The confusion-set classifiers of one-character slips (wordlists/model/sets.npz, trained by
    wordlists/tools/train_sets.py); None without the file (no such hits)."""
    path = MODEL / "sets.npz"
    if not path.is_file():
        return None
    with np.load(path) as z:
        return SetModel(start=z["start"], pair=z["pair"], sign=z["sign"], partner=z["partner"], bias=z["bias"],
                        weights=z["weights"], scale=float(z["scale"]), margin=float(z["margin"]), cost=z["cost"],
                        prior=float(z["prior"]), tri_weight=float(z["tri_weight"]), four_weight=float(z["four_weight"]))


def context_digest() -> str:
    """What the cached context arrays are derived from: the model's files but the scorer, jieba's
    dictionary, and the code that derives them."""
    import jieba

    import checks.words

    digest = hashlib.sha256(CONTEXT_ENGINE.encode())
    for path in [p for p in sorted(MODEL.glob("*")) if p.name not in ("context.json", "sets.npz")] + [
            Path(jieba.__file__).parent / "dict.txt", Path(checks.words.__file__), Path(__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:24]


def context_arrays() -> dict[str, np.ndarray]:
    """The arrays of CONTEXT_ARRAYS, memory-mapped from the cache (built and cached on a miss;
    a read-only cache directory just builds them each time)."""
    folder = cache_dir() / f"context-{context_digest()}"
    if folder.is_dir():
        try:
            # plain ndarrays over the mapped files: indexing an np.memmap goes through its
            # Python-level __getitem__, ten microseconds a look-up in the detector's hot loops
            arrays = {k: np.asarray(np.load(folder / f"{k}.npy", mmap_mode="r")) for k in CONTEXT_ARRAYS}
            keep_cached(folder)
            return arrays
        except (OSError, ValueError):   # a torn or foreign cache: build it again
            shutil.rmtree(folder, ignore_errors=True)
    arrays = build_context_arrays()
    tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for k, v in arrays.items():
            np.save(tmp / f"{k}.npy", v)
        tmp.rename(folder)
        forget_stale_cache(folder, "context-")
    except OSError:
        pass   # read-only, or another process cached it first: use what was built here
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return arrays


def build_context_arrays() -> dict[str, np.ndarray]:
    """The arrays of CONTEXT_ARRAYS from wordlists/model/ and jieba's dictionary."""
    with np.load(MODEL / "charlm.npz") as z:
        arrays = {k: z[k] for k in z.files if k != "seen"}
    # A surname is a character the tagged corpus has as a one-character name often, and often
    # enough of all its uses: 干, 高, 军 are surnames too, but 领导干|哺 is no name.
    surnames = set()
    with (MODEL / "surnames.txt").open(encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                s, n = line.split("\t")
                if int(n) >= SURNAME_COUNT and int(n) >= SURNAME_SHARE * arrays["uni"][ord(s) - BASE]:
                    surnames.add(s)
    freq = tokenizer().FREQ
    in_word, words2 = set(), set()
    for w, n in freq.items():
        if n >= IN_WORD_FREQ and 2 <= len(w) <= IN_WORD_LEN and all("\u4e00" <= c <= "\u9fff" for c in w):
            keys = [(ord(w[i]) - BASE) * SHIFT + ord(w[i + 1]) - BASE for i in range(len(w) - 1)]
            in_word.update(keys)
            if len(w) == 2:
                words2.add(keys[0])
    with (MODEL / "names.txt").open(encoding="utf-8") as f:
        for name in (line.strip() for line in f if not line.startswith("#")):
            in_word.update((ord(name[i]) - BASE) * SHIFT + ord(name[i + 1]) - BASE for i in range(len(name) - 1))
    model = ContextModel(uni=arrays["uni"], bi_keys=arrays["bi_keys"], bi_counts=arrays["bi_counts"],
                         tri_keys=arrays["tri_keys"], tri_counts=arrays["tri_counts"],
                         quad_keys=arrays["quad_keys"], quad_counts=arrays["quad_counts"],
                         in_word=np.array(sorted(in_word), np.int64), words2=np.array(sorted(words2), np.int64),
                         confusion=confusion(), surnames=frozenset(surnames))
    out = {k: getattr(model, k) for k in CONTEXT_ARRAYS if hasattr(model, k) and k != "surnames"}
    for name in ("in_word", "words2"):
        pairs = getattr(model, f"{name}_set")
        out[f"{name}_dense"], out[f"{name}_bits"] = pairs.dense, pairs.bits
    for name in ("bi", "tri"):
        table = getattr(model, f"{name}_table")
        out[f"{name}_table_slots"], out[f"{name}_table_values"] = table.slots, table.values
        out[f"{name}_table_bits"] = np.array([table.bits])
    out["surnames"] = np.array(sorted(surnames), dtype="<U1")
    return out
