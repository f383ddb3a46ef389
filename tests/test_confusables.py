"""One-character slips that are words themselves (checks/confusables.py, wordlists/model/sets.npz):
small sentences in, findings out, through the word check's own path; and the guards of
checks.words.confusable_hits on a classifier that always prefers the partner."""

import dataclasses

import numpy as np
import pytest

import checks.words as W
from checks.confusables import TEMPLATES, SetModel, best_of_runs, char_codes, feature_buckets, slip_margins
from govcheck.wordlists import load_matcher

MATCHER = load_matcher()
pytestmark = pytest.mark.skipif(MATCHER.context.sets is None, reason="wordlists/model/sets.npz not built")


def context_findings(text: str) -> list[tuple[str, str]]:
    return [(f.detail["substitution"], f.detail["correction"]) for f in W.check_words("http://x.gov.cn/", text, MATCHER)
            if f.detail["method"] == "context"]


@pytest.mark.parametrize("text, word, correction", [
    ("这样得事情我不做。", "得", "的"),          # a one-character word: the character is the hit
    ("我们的工做任务很重。", "工做", "工作"),      # the mending makes a word: the word is the hit
    ("他已经到了，我们也以经到了。", "以经", "已经"),
])
def test_a_one_character_slip_is_found_and_mended(text, word, correction):
    assert [(h.word, h.correction) for h in W.confusable_hits(MATCHER.context, text)] == [(word, correction)]
    f = next(f for f in W.check_words("http://x.gov.cn/", text, MATCHER) if f.detail.get("method") == "context")
    assert (f.subject, f.detail["correction"], f.severity) == (word, correction, "review")
    assert 0 < f.detail["confidence"] <= 1


@pytest.mark.parametrize("text", [
    "我在家里看书。", "他再次强调了这一点。", "现在我们开始开会。", "这是我的书。", "我们要认真地学习文件精神。",
    "会议在北京召开，各地代表出席。", "请大家再看一遍通知。", "她已经到达了会场。", "他跑得很快。",
])
def test_clean_sentences_are_not_flagged(text):
    assert context_findings(text) == []


def always(written: str, meant: str, margin: float = 1.0) -> SetModel:
    """A classifier of the one pair (written, meant) that prefers `meant` everywhere by 5 nats."""
    a, b = sorted((written, meant))
    start = np.zeros(0x10001, np.int32)
    entries = sorted([(ord(a), 1.0, ord(b)), (ord(b), -1.0, ord(a))])
    for k, (c, _, _) in enumerate(entries):
        start[c + 1:] = k + 1
    bias = 5.0 if meant == b else -5.0
    return SetModel(start=start, pair=np.zeros(2, np.int32), sign=np.array([e[1] for e in entries], np.float32),
                    partner=np.array([e[2] for e in entries], np.int32), bias=np.array([bias], np.float32),
                    weights=np.zeros(2 ** 10, np.int8), scale=0.04, margin=margin,
                    cost=np.zeros(1, np.float32), prior=1.0)


def test_the_partner_wins_by_the_margin_only_where_it_is_preferred():
    sets = always("在", "再")
    pos, partner, score = slip_margins(sets, "我在家，再见")
    assert dict(zip(pos.tolist(), zip(map(chr, partner.tolist()), score.tolist()))) == {1: ("再", 5.0), 4: ("在", -5.0)}
    assert W.confusable_hits(dataclasses.replace(MATCHER.context, sets=sets), "我在家，再见", margin=6.0) == []


def test_guards_of_the_one_character_slips():
    model = dataclasses.replace(MATCHER.context, sets=always("在", "再"))
    hits = W.confusable_hits(model, "我明天在去北京开会")
    assert [(h.word, h.correction, h.start, h.method) for h in hits] == [("在", "再", 3, "context")]
    # written inside a word (现在) while the mending stands alone (现再): no slip of the writer
    assert W.confusable_hits(model, "现在我们开始开会") == []
    # a surname just before it: a name is not mended
    assert W.confusable_hits(model, "会上，王在去北京开会") == []
    # too short a run of Chinese to judge
    assert W.confusable_hits(model, "在，去") == []
    # the mending makes a word (工做 → 工作): the word is the hit
    model = dataclasses.replace(MATCHER.context, sets=always("做", "作"))
    hits = W.confusable_hits(model, "认真完成各项工做任务")
    assert [(h.word, h.correction) for h in hits] == [("工做", "工作")]


def test_features_read_only_the_neighbours():
    """A character's buckets depend on the characters within reach and on the pair, nothing else;
    digits are one code (a number's value tells nothing)."""
    one, two = char_codes("今年我们在北京开会"), char_codes("大家都说今年我们在北京开会吧")
    pair = np.array([7])
    assert (feature_buckets(one, np.array([4]), pair, 20) == feature_buckets(two, np.array([8]), pair, 20)).all()
    assert not (feature_buckets(one, np.array([4]), np.array([8]), 20) == feature_buckets(one, np.array([4]), pair, 20)).any()
    assert (char_codes("第3条") == char_codes("第9条")).all()
    assert feature_buckets(one, np.array([0]), pair, 20).shape == (1, len(TEMPLATES))



# --- each pair its own margin (SetModel.pair_margin, wordlists/tools/train_sets.py --calibrate) -

def test_a_pair_is_judged_by_its_own_margin():
    text = "我明天在去北京开会"                     # the partner wins by 5 nats
    sets = always("在", "再", margin=6.0)
    assert W.confusable_hits(dataclasses.replace(MATCHER.context, sets=sets), text) == []
    low = dataclasses.replace(sets, pair_margin=np.array([4.0], np.float32))
    hits = W.confusable_hits(dataclasses.replace(MATCHER.context, sets=low), text)
    assert [(h.word, h.correction) for h in hits] == [("在", "再")]
    assert hits[0].confidence == round(1 / (1 + np.exp(-1.0)), 2)     # σ(score − the pair's margin)


def test_a_pair_that_is_never_judged_offers_no_partner():
    sets = always("在", "再", margin=-1.0)
    never = dataclasses.replace(sets, pair_margin=np.array([np.inf], np.float32))
    assert W.slip_scores(dataclasses.replace(MATCHER.context, sets=sets), "我明天在去北京开会")
    assert W.slip_scores(dataclasses.replace(MATCHER.context, sets=never), "我明天在去北京开会") == []


def test_a_word_written_for_a_word_needs_the_word_margin():
    text = "要保证数据的可信性。"                     # 可信性 and 可行性 are both words
    sets = always("信", "行")
    hits = W.confusable_hits(dataclasses.replace(MATCHER.context, sets=sets), text)
    assert [(h.word, h.correction) for h in hits] == [("可信性", "可行性")]
    assert W.confusable_hits(dataclasses.replace(MATCHER.context, sets=dataclasses.replace(sets, word_margin=6.0)), text) == []
    # a slip whose written form is no word (工做) does not need it
    sets = dataclasses.replace(always("做", "作"), word_margin=6.0)
    hits = W.confusable_hits(dataclasses.replace(MATCHER.context, sets=sets), "认真完成各项工做任务")
    assert [(h.word, h.correction) for h in hits] == [("工做", "工作")]


# --- the shipped margins (wordlists/model/sets.npz by train_sets.py --calibrate, seed 43) ----

def one_margin(margin: float = 12.5):
    """The word check's context model with one margin for every pair, as before the pairs had
    their own (12.5, the margin of all pairs then), and no wider margin for written words."""
    sets = dataclasses.replace(MATCHER.context.sets, pair_margin=None, margin=margin, word_margin=-np.inf)
    return dataclasses.replace(MATCHER.context, sets=sets)


def test_every_pair_has_its_own_margin():
    sets = MATCHER.context.sets
    assert sets.pair_margin is not None and len(sets.pair_margin) == len(sets.bias)
    kept = np.isfinite(sets.pair_margin)
    assert 0.5 * len(kept) < kept.sum() < len(kept)       # some pairs are never judged
    assert np.ptp(sets.pair_margin[kept]) > 1.0             # and the others differ


@pytest.mark.parametrize("text, word, correction", [
    ("要坚持公开透明得原则。", "得", "的"),
    ("我们已更完成了全年的目标任务。", "已更", "已经"),
])
def test_a_pair_told_apart_well_finds_a_slip_one_margin_missed(text, word, correction):
    assert [(h.word, h.correction) for h in W.confusable_hits(MATCHER.context, text)] == [(word, correction)]
    assert W.confusable_hits(one_margin(), text) == []


def test_he_and_it_cannot_be_told_apart_and_are_never_judged():
    text = "他是一位优秀的干部，它的作用很大。"
    judged = {(text[q], a) for q, a, _, _ in W.slip_scores(MATCHER.context, text)}
    assert not judged & {("他", "它"), ("它", "他")}
    # the classifier itself prefers 它 here: only the pair's own decision keeps it out
    assert ("他", "它") in {(text[q], a) for q, a, _, _ in W.slip_scores(one_margin(), text)}
    assert context_findings(text) == []


def test_a_word_written_for_a_word_needs_the_wider_margin():
    text = "要保证数据的可信性。"           # 可信性 and 可行性 are both words
    assert [(h.word, h.correction) for h in W.confusable_hits(one_margin(MATCHER.context.sets.margin), text)] == [
        ("可信性", "可行性")]
    assert W.confusable_hits(MATCHER.context, text) == []
    assert MATCHER.context.sets.word_margin > MATCHER.context.sets.margin


def test_best_of_runs_is_the_stable_sort_it_replaces():
    # the best partner (best_partners) and the best substitute (detect_slips) of each position:
    # equal values must fall to the same entry as under the stable np.lexsort they replace
    rng = np.random.default_rng(14)
    for _ in range(300):
        group = np.sort(rng.integers(0, 30, rng.integers(1, 200)))
        value = rng.integers(-2, 3, len(group)).astype(np.float32)   # many ties
        order = np.lexsort((value, group))
        assert (best_of_runs(group, value, last=True) == order[np.flatnonzero(np.diff(np.append(group[order], -1)) != 0)]).all()
        order = np.lexsort((-value, group))
        assert (best_of_runs(group, value) == order[np.concatenate(([True], group[order][1:] != group[order][:-1]))]).all()


def test_characters_that_share_no_reading_are_never_judged():
    """A shape pair (的/均, 的/约, 对/过: no reading in common) is no slip a pinyin input method
    makes: never judged (wordlists/tools/train_sets.py TYPED_SHARE), however the classifier leans."""
    sets = MATCHER.context.sets
    shape = sets.cost == W.CHANNEL_COST[2]
    assert shape.sum() >= 20 and not np.isfinite(sets.pair_margin[shape]).any()
    assert np.isfinite(sets.pair_margin[~shape]).sum() > 100
    text = "鼓励用能单位以行业能耗先进水平的量化指标为基准，调整用能结构。"   # a held-out law paragraph (text A)
    # the classifier prefers 均 for this 的 (8.7 nats, the margin 的/均 had was 8.75)
    assert ("的", "均") in {(text[q], a) for q, a, _, _ in W.slip_scores(one_margin(), text)}
    assert not {(text[q], a) for q, a, _, _ in W.slip_scores(MATCHER.context, text)} & {("的", "均"), ("均", "的")}
    assert context_findings(text) == []
