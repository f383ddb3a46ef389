"""The word check's fast paths give what their plain forms give: jieba's own DAG and calc for
best_logp, sorted keys and np.searchsorted for pair membership and n-gram counts, one look-up
per trigram term for the character-model gain, str.translate for the text the automaton reads. Each plain form is written out here, and the findings of the
whole check on real pages (../shared/realpages, tests/realpages/pages when restored) and on
planted slips are compared with the check run through the plain forms."""

import random
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

import checks.words as W
from govcheck.page import ParsedPage, decode_html
from govcheck.wordlists import load_matcher

MATCHER = load_matcher()
MODEL = MATCHER.context
PAGES = [p for folder in (SHARED / "realpages" / "pages", Path(__file__).parent / "realpages" / "pages")
         if folder.is_dir() for p in sorted(folder.glob("*.htm*"))]


def page_texts() -> list[str]:
    return [ParsedPage("http://x.gov.cn/", decode_html(p.read_bytes(), None)[0]).visible_text for p in PAGES]


TEXTS = page_texts()


def planted(n: int, seed: int = 33) -> list[str]:
    """Sentences of the pages with one character replaced by a confusable one (what the
    context detector is for: many candidates, and hits)."""
    rng = random.Random(seed)
    sentences = [x for t in TEXTS for x in re.split(r"[。！？\n]", t) if len(re.findall(r"[\u4e00-\u9fff]", x)) >= 12]
    out = []
    while sentences and len(out) < n:
        x = rng.choice(sentences)
        spots = [i for i, ch in enumerate(x) if any(MODEL.confusion.get(ch, ("", "", ""))[:3])]
        if spots:
            i = rng.choice(spots)
            kind = rng.choice([k for k in range(3) if MODEL.confusion[x[i]][k]])
            out.append(x[:i] + rng.choice(MODEL.confusion[x[i]][kind]) + x[i + 1:])
    return out


def plain_best_logp(text: str) -> float:
    if not text:
        return 0.0
    tok = W.tokenizer()
    route: dict = {}
    tok.calc(text, tok.get_DAG(text), route)
    return route[0][0]


def plain_member(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    i = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return table[i] == keys


class PlainPairSet:
    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys

    def contains(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return plain_member(a * W.SHIFT + b, self.keys)


class PlainKeyTable:
    def __init__(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self.keys, self.counts = keys, counts

    def get(self, keys: np.ndarray) -> np.ndarray:
        return W._lookup(keys, self.keys, self.counts)


def plain_candidates(model, text, every=False):
    """checks.words.candidates as first written: every trigram term with its own look-ups."""
    q = W.suspects(model, text, every)
    x = np.concatenate(([0, 0], W._ids(text), [0, 0]))
    if not len(q):
        return q, q, q, np.zeros(0)
    p = q + 2
    n = model.alt_start[x[p] + 1] - model.alt_start[x[p]]
    pos = np.repeat(p, n)
    offs = np.arange(len(pos)) - np.repeat(np.cumsum(n) - n, n) + np.repeat(model.alt_start[x[p]], n)
    alt, kind = model.alt_ids[offs], model.alt_kind[offs]
    left, right = x[pos - 1], x[pos + 1]
    fix_left = (left > 0) & plain_member(left * W.SHIFT + alt, model.words2)
    fix_right = (right > 0) & plain_member(alt * W.SHIFT + right, model.words2)
    rare = ~model.prose_char[x[pos]]
    for k, (a, b, c) in enumerate(((x[pos - 2], left, alt), (left, alt, right), (alt, right, x[pos + 2]))):
        three = rare & (a > 0) & (b > 0) & (c > 0) & plain_member((a * W.SHIFT + b) * W.SHIFT + c, model.words3)
        if k < 2:
            fix_left = fix_left | three
        else:
            fix_right = fix_right | three
    ok = (fix_left & ~model.place_end[left]) | fix_right
    pos, alt, kind = pos[ok], alt[ok], kind[ok]
    if not len(pos):
        return pos, alt, kind, np.zeros(0)
    a2, a1, b1, b2 = x[pos - 2], x[pos - 1], x[pos + 1], x[pos + 2]
    at, which = np.unique(pos, return_inverse=True)
    o = x[at]
    written = (W._tri_logp(model, x[at - 2], x[at - 1], o) + W._tri_logp(model, x[at - 1], o, x[at + 1])
               + W._tri_logp(model, o, x[at + 1], x[at + 2]))
    gain = (W._tri_logp(model, a2, a1, alt) + W._tri_logp(model, a1, alt, b1) + W._tri_logp(model, alt, b1, b2)
            - written[which])
    keep = gain >= W.MIN_CHAR_GAIN
    return pos[keep] - 2, alt[keep], kind[keep], gain[keep]


@pytest.fixture
def plain(monkeypatch):
    """The word check through the plain forms."""
    monkeypatch.setattr(W, "best_logp", plain_best_logp)
    monkeypatch.setattr(W.WordMatcher, "spell", plain_spell)
    monkeypatch.setattr(W, "candidates", plain_candidates)
    monkeypatch.setattr(MODEL, "in_word_set", PlainPairSet(MODEL.in_word))
    monkeypatch.setattr(MODEL, "words2_set", PlainPairSet(MODEL.words2))
    monkeypatch.setattr(MODEL, "bi_table", PlainKeyTable(MODEL.bi_keys, MODEL.bi_counts))
    monkeypatch.setattr(MODEL, "tri_table", PlainKeyTable(MODEL.tri_keys, MODEL.tri_counts))


def findings(texts):
    return [[(f.check, f.subject, f.evidence, sorted(f.detail.items()), f.severity)
             for f in W.check_words("http://x.gov.cn/", t, MATCHER)] for t in texts]


def features(texts):
    return [W.candidate_features(MODEL, t) for t in texts]


def test_best_logp_is_jiebas_to_the_last_bit():
    rng = random.Random(5)
    text = "".join(TEXTS) or "国务院办公厅关于进一步优化营商环境更好服务市场主体的实施意见"
    samples = ["", "的", "国务园办公厅", "abc中文12", "　\n"]
    for _ in range(3000):
        i = rng.randrange(max(1, len(text) - 16))
        s = text[i:i + rng.randint(1, 14)]
        if s and rng.random() < 0.5:
            j = rng.randrange(len(s))
            s = s[:j] + rng.choice("园命民按装即定部暑的了") + s[j + 1:]
        samples.append(s)
    assert [W.best_logp(s) for s in samples] == [plain_best_logp(s) for s in samples]


def plain_spell(self, text: str) -> str:
    return text.translate(self.sounds) if self.sounds is not None else text


def plain_find_hits(text):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(W.WordMatcher, "spell", plain_spell)
        return W.find_hits(MATCHER, text)


def test_spelling_matches_as_str_translate():
    """spell() is str.translate through a table, with every character that is in no key of the
    automaton written as the pad (even the pad key's own characters): the same matches."""
    rng = random.Random(3)
    chars = list(MATCHER.sounds) + [ord(c) for c in "abc \n，。《》\x01\x02"] + [0x20000, 0xD800, 0x10FFFF]
    texts = ["".join(chr(rng.choice(chars)) for _ in range(rng.randint(0, 60))) for _ in range(300)]
    texts += TEXTS + ["\x01\x02国务园办公厅\x01\x02", "𠀀人命政府"]
    assert W.find_hits(MATCHER, "\x01\x02国务园办公厅") == plain_find_hits("\x01\x02国务园办公厅")
    spelt = [MATCHER.spell(t) for t in texts]
    assert [len(a) for a in spelt] == [len(t.translate(MATCHER.sounds)) for t in texts]
    assert ([list(MATCHER.automaton.iter(a)) for a in spelt]
            == [[(e, c) for e, c in MATCHER.automaton.iter(t.translate(MATCHER.sounds)) if c] for t in texts])
    assert sum(1 for a in spelt for _ in MATCHER.automaton.iter(a)) > 1000
    assert W.PAD in MATCHER.spell("abc国务院")


def test_cover_is_any_span_around():
    rng = random.Random(4)
    for _ in range(300):
        spans = [(a, a + rng.randint(1, 8)) for a in (rng.randrange(40) for _ in range(rng.randint(0, 12)))]
        cover = W._Cover(spans)
        for start in range(42):
            for end in range(start + 1, start + 9):
                assert cover.covers(start, end) == any(a <= start and end <= b for a, b in spans)


def test_pair_sets_are_the_sorted_keys():
    rng = np.random.default_rng(7)
    for keys in (MODEL.in_word, MODEL.words2):
        a = np.concatenate((keys // W.SHIFT, rng.integers(0, 20993, 50_000), [0, 0, 20992]))
        b = np.concatenate((keys % W.SHIFT, rng.integers(0, 20993, 50_000), [0, 20992, 0]))
        got = W.PairSet(keys).contains(a, b)
        assert got[:len(keys)].all()
        assert (got == plain_member(a * W.SHIFT + b, keys)).all()


def test_key_tables_are_the_sorted_keys():
    rng = np.random.default_rng(8)
    for keys, counts in ((MODEL.bi_keys, MODEL.bi_counts), (MODEL.tri_keys, MODEL.tri_counts)):
        table = W.KeyTable(keys, counts)
        q = np.concatenate((keys, keys + 1, rng.integers(0, int(keys[-1]) + 2, 50_000), [0]))
        assert (table.get(q) == W._lookup(q, keys, counts)).all()
    for n in (0, 1, 3, 1000, 100_000):   # tiny tables: the probe runs past the last home slot, never out of the table
        keys = np.unique(rng.integers(0, 2**45, n))
        table = W.KeyTable(keys, np.arange(1, len(keys) + 1, dtype=np.int32))
        got = table.get(np.concatenate((keys, rng.integers(0, 2**45, 500))))
        assert list(got[:len(keys)]) == list(range(1, len(keys) + 1)) and not got[len(keys):].any()


@pytest.fixture(scope="module")
def sample():
    texts = TEXTS + planted(400)
    fast = (findings(texts), features(texts))
    assert sum(map(len, fast[0])) > 50 and sum(map(len, fast[1])) > 200, "the sample must exercise the detector"
    return texts, fast


def test_findings_and_features_as_through_the_plain_forms(sample, plain):
    texts, (fast_findings, fast_features) = sample
    assert features(texts) == fast_features
    assert findings(texts) == fast_findings


def test_context_model_from_the_cache_is_the_built_one(tmp_path, monkeypatch):
    """The first load builds the model's derived arrays and caches them; the next loads map
    them from the cache (no jieba needed, milliseconds) — the same arrays, the same findings;
    a torn cache is built again; a pickled model (a scan spec for workers) leaves the bitmaps
    out and rebuilds them."""
    import pickle

    import govcheck.wordlists as L

    monkeypatch.setenv("GOVCHECK_CACHE_DIR", str(tmp_path))
    built = L.context_arrays()
    (folder,) = tmp_path.glob("context-*")
    cached = L.context_arrays()
    assert isinstance(cached["tri_keys"].base, np.memmap) and not isinstance(built["tri_keys"].base, np.memmap)
    for k in L.CONTEXT_ARRAYS:
        assert np.array_equal(cached[k], built[k]), k
    (folder / "words2_bits.npy").write_bytes(b"torn")
    again = L.context_arrays()
    assert np.array_equal(again["words2_bits"], built["words2_bits"])
    assert np.array_equal(np.load(folder / "words2_bits.npy"), built["words2_bits"])

    L.context_model.cache_clear()
    try:
        matcher = W.WordMatcher(MATCHER.automaton, MATCHER.sounds, L.context_model())
        assert isinstance(matcher.context.bi_keys.base, np.memmap)
        texts = TEXTS[:5] + planted(60)
        got = [W.check_words("http://x.gov.cn/", t, matcher) for t in texts]
        assert got == [W.check_words("http://x.gov.cn/", t, MATCHER) for t in texts]
        assert "in_word_set" not in matcher.context.__getstate__()
        unpickled = pickle.loads(pickle.dumps(matcher))
        assert [W.check_words("http://x.gov.cn/", t, unpickled) for t in texts] == got
    finally:
        L.context_model.cache_clear()


def test_segmenter_dictionary_from_the_cache_is_jiebas(tmp_path, monkeypatch):
    """jieba's prefix dictionary with MODERN_WORDS is pickled in govcheck's cache (a quarter of the
    load time of jieba's marshal cache): the cached one is the built one; a torn cache is built again."""
    import govcheck.wordlists as L

    monkeypatch.setenv("GOVCHECK_CACHE_DIR", str(tmp_path))
    built = W.build_segmenter_dictionary(W.MODERN_WORDS)
    assert L.segmenter_dictionary(W.MODERN_WORDS) == built
    (cached,) = tmp_path.glob("segmenter-*")
    assert L.segmenter_dictionary(W.MODERN_WORDS) == built
    cached.write_bytes(b"torn")
    assert L.segmenter_dictionary(W.MODERN_WORDS) == built
    assert W.segmenter_source is L.segmenter_dictionary   # what tokenizer() loads in a scan
    assert (W.tokenizer().FREQ, W.tokenizer().total) == built
    assert W.tokenizer().lcut("国务院办公厅印发健康码通知", HMM=False) == ["国务院办公厅", "印发", "健康码", "通知"]


def test_routes_of_the_written_window_give_the_same_float():
    # candidate_features sums a mended window's segmentation again only up to the mended
    # character (best_routes with the written window's routes): the very same float as in full
    for window in ("国务院办公厅关于印发通知", "请按装好设备并及时反馈", "在会上作了重要讲话"):
        known = W.best_routes(window)
        assert known[0] == W.best_logp(window)
        for j in range(len(window)):
            for ch in "装作做在再的":
                mended = window[:j] + ch + window[j + 1:]
                assert W.best_routes(mended, known, j)[0] == W.best_logp(mended)
