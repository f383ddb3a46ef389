"""错敏词 (DESIGN §2): 严重表述错误, 错别字, 敏感词 in page text and new-media posts.

An Aho-Corasick automaton finds every listed string in one pass; each hit is then verified
against jieba's segmentation of a small window around it, so that a string which only
appears across two real words (路口交通 ⊅ 口交, 按装修要求 ⊅ 按装) is not reported. Only the
windows around hits are segmented, which is why the check runs many times faster than
segmenting the whole text. Allow-contexts (`中华民国|allow:中华民国时期`) suppress hits inside
listed phrases.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import ahocorasick
import jieba

from checks.inputs import TextInput
from checks.registry import register, runs
from govcheck.findings import Finding

SOURCE = "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》"
WORD_SERIOUS = register("word_serious", "严重表述错误", "veto",
                        "国家领导人姓名、中央机构名称错写，错误政治表述（如“台湾政府”、非历史语境的“中华民国”、不存在的全会）。"
                        "单项否决候选，需人工确认。", SOURCE + " 单项否决：严重表述错误", key_on_url=True, family="words",
                        inputs=("page", "post"), requires=("wordlists",), notice="words")
WORD_TYPO = register("word_typo", "错别字", "deduct", "页面或新媒体内容中出现错别字（按词表给出正确写法）。",
                     SOURCE + " 内容准确性：错别字", key_on_url=True, family="words",
                     inputs=("page", "post"), requires=("wordlists",), notice="words")
WORD_SENSITIVE = register("word_sensitive", "敏感词", "review", "页面或新媒体内容中出现敏感词（赌博、色情、非法服务等），列出供人工复核。",
                          SOURCE + " 安全防护：内容被篡改/挂马", key_on_url=True, family="words",
                          inputs=("page", "post"), requires=("wordlists",), notice="words")
CATEGORY_CHECK = {"serious": WORD_SERIOUS.code, "typo": WORD_TYPO.code, "sensitive": WORD_SENSITIVE.code}
CATEGORY_RANK = {"serious": 0, "typo": 1, "sensitive": 2}
CONTEXT = 20
WINDOW = 12   # characters of text segmented on each side of a hit


@dataclass(frozen=True)
class WordEntry:
    word: str
    category: str                 # serious | typo | sensitive
    correction: str | None = None
    allow: tuple[str, ...] = ()
    source: str = ""              # file:line


@dataclass(frozen=True)
class Hit:
    word: str
    category: str
    correction: str | None
    start: int
    end: int
    context: str
    source: str


def build_automaton(entries: list[WordEntry]) -> ahocorasick.Automaton:
    """One automaton over all lists; a word listed twice keeps its gravest category."""
    best: dict[str, WordEntry] = {}
    for e in entries:
        if e.word not in best or CATEGORY_RANK[e.category] < CATEGORY_RANK[best[e.word].category]:
            best[e.word] = e
    automaton = ahocorasick.Automaton()
    for word, e in best.items():
        automaton.add_word(word, (e.word, e.category, e.correction, e.allow, e.source))
    automaton.make_automaton()
    return automaton


_tokenizer: jieba.Tokenizer | None = None


def _boundaries(text: str) -> set[int]:
    global _tokenizer
    if _tokenizer is None:
        jieba.setLogLevel(logging.ERROR)
        _tokenizer = jieba.Tokenizer()
    cuts, pos = {0}, 0
    # HMM off: only dictionary words may straddle a hit; unknown runs stay single characters.
    for token in _tokenizer.cut(text, HMM=False):
        pos += len(token)
        cuts.add(pos)
    return cuts


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    lo = max(0, start - WINDOW)
    cuts = _boundaries(text[lo:end + WINDOW])
    return (start - lo) in cuts and (end - lo) in cuts


def _allowed(text: str, start: int, end: int, allow: tuple[str, ...]) -> bool:
    for phrase in allow:
        lo = max(0, start - len(phrase))
        i = text.find(phrase, lo)
        while i != -1 and i <= start:
            if i + len(phrase) >= end:
                return True
            i = text.find(phrase, i + 1)
    return False


def find_hits(automaton: ahocorasick.Automaton, text: str) -> list[Hit]:
    hits = []
    if not text or len(automaton) == 0:
        return hits
    for last, (word, category, correction, allow, source) in automaton.iter(text):
        start, end = last - len(word) + 1, last + 1
        if allow and _allowed(text, start, end, allow):
            continue
        if not on_word_boundaries(text, start, end):
            continue
        context = f"{text[max(0, start - CONTEXT):start]}【{word}】{text[end:end + CONTEXT]}"
        hits.append(Hit(word, category, correction, start, end, context, source))
    return hits


def check_words(url: str, text: str, automaton: ahocorasick.Automaton, where: str = "页面") -> list[Finding]:
    """One finding per page (or post) and matched text, with every context it appears in."""
    by_word: dict[str, list[Hit]] = defaultdict(list)
    for hit in find_hits(automaton, text):
        by_word[hit.word].append(hit)
    findings = []
    for word, hits in by_word.items():
        h = hits[0]
        fix = f"（应为“{h.correction}”）" if h.correction else ""
        findings.append(Finding(CATEGORY_CHECK[h.category], url, word, f"{where}文字：…{h.context}…{fix}", {
            "category": h.category, "correction": h.correction, "count": len(hits),
            "contexts": [x.context for x in hits[:5]], "list": h.source}))
    return findings


@runs(WORD_SERIOUS, WORD_TYPO, WORD_SENSITIVE, on="page")
@runs(WORD_SERIOUS, WORD_TYPO, WORD_SENSITIVE, on="post")
def word_checks(doc: TextInput, resources) -> list[Finding]:
    return check_words(doc.url, doc.text, resources["wordlists"], where=doc.where)
