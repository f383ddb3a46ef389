"""The context detector's model data (wordlists/model/) and the tools that build it
(wordlists/tools/build_model.py): counting, the law corpus reader, the size limit."""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "wordlists" / "tools"))

import build_model  # noqa: E402

MODEL = ROOT / "wordlists" / "model"


def naive_counts(texts):
    uni, bi, tri = collections.Counter(), collections.Counter(), collections.Counter()
    for text in texts:
        for run in build_model.HAN.findall(text):
            x = [0] + [ord(c) - build_model.BASE for c in run] + [0]
            for i in range(1, len(x)):
                uni[x[i]] += 1
                bi[x[i - 1] * build_model.SHIFT + x[i]] += 1
                if i >= 2:
                    tri[(x[i - 2] * build_model.SHIFT + x[i - 1]) * build_model.SHIFT + x[i]] += 1
    return uni, bi, tri


def test_ngram_counts_match_a_plain_count_across_chunks(monkeypatch):
    texts = ["国务院办公厅关于印发，通知。", "a国b务院", "政", "人民政府人民政府 人民"] * 50
    # chunks of a few characters: what is split between two chunks counts as in one pass
    monkeypatch.setattr(build_model, "CHUNK", 7)
    uni, bk, bc, tk, tc = build_model.ngram_counts(texts)
    nu, nb, nt = naive_counts(texts)
    assert {i: int(v) for i, v in enumerate(uni) if v} == dict(nu)
    assert dict(zip(bk.tolist(), bc.tolist())) == dict(nb)
    assert dict(zip(tk.tolist(), tc.tolist())) == dict(nt)


def test_law_paragraphs_drop_headings_comments_cases_and_the_repositorys_own_pages(tmp_path):
    (tmp_path / "行政法规").mkdir()
    (tmp_path / "案例").mkdir()
    (tmp_path / "行政法规" / "某条例.md").write_text(
        "# 某条例\n\n2020年1月1日 国务院令第1号\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n第一条　为了规范管理，制定本条例。\n", encoding="utf-8")
    (tmp_path / "案例" / "某案.md").write_text("# 某案\n\n案情简介。\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("本项目收集各类法律法规。\n", encoding="utf-8")
    (tmp_path / "行政法规" / "_index.md").write_text("目录\n", encoding="utf-8")
    got = [x for _, x in build_model.law_paragraphs(tmp_path)]
    assert got == ["某条例", "2020年1月1日 国务院令第1号", "第一章 总则", "第一条　为了规范管理，制定本条例。"]
    # every HELD_OUT-th paragraph is the development text, never trained on
    assert build_model.law_dev_lines(tmp_path) == ["某条例"]


def test_shipped_model_fits_the_issues_size_limit_and_is_trained_on_more_than_the_newspaper():
    assert sum(p.stat().st_size for p in MODEL.iterdir()) <= 50 * 1024 * 1024
    with np.load(MODEL / "charlm.npz") as z:
        # People's Daily 1998-01 alone is 4.1 M characters; with the laws over 20 M
        assert z["uni"].sum() > 20_000_000
    assert "LawRefBook/Laws" in (MODEL / "SOURCES").read_text(encoding="utf-8")


def test_quad_counts_keep_four_grams_seen_twice_with_chinese_middles(monkeypatch):
    monkeypatch.setattr(build_model, "CHUNK", 5)
    texts = ["人民政府，人民政府工作", "人民政府", "政府工作"]
    keys, counts = build_model.quad_counts(texts)
    S, B = build_model.SHIFT, build_model.BASE

    def key(chars):
        k = 0
        for c in chars:
            k = k * S + (0 if c == "|" else ord(c) - B)
        return k

    got = dict(zip(keys.tolist(), counts.tolist()))
    # runs 人民政府 | 人民政府工作 | 人民政府 | 政府工作 (| = an edge); 民政府工 and |政府工 once: pruned;
    # 府，人民 spans a comma: no 4-gram
    assert got == {key("|人民政"): 3, key("人民政府"): 3, key("民政府|"): 2, key("政府工作"): 2, key("府工作|"): 2}


def test_four_gain_counts_the_four_grams_around_the_substitute():
    from checks.words import BASE, _four_gain, _ids
    from govcheck.wordlists import context_model

    model = context_model(scorer=False)
    text = "全面提升政务服务水品，方便群众办事。"
    q = text.index("品")
    got = _four_gain(model, _ids(text), np.array([q]), np.array([ord("平") - BASE]))[0]
    table = dict(zip(model.quad_keys.tolist(), model.quad_counts.tolist()))

    def count(t: str) -> int:
        x = np.concatenate(([0, 0, 0], _ids(t), [0, 0, 0]))
        total = 0
        for s in range(q, q + 4):          # the four windows over q (x is padded by three)
            k = 0
            for v in x[s:s + 4]:
                k = k * build_model.SHIFT + int(v)
            total += table.get(k, 0)
        return total

    fixed = text[:q] + "平" + text[q + 1:]
    assert count(fixed) > 100 and count(text) == 0
    assert got == np.log1p(count(fixed)) - np.log1p(count(text))


def test_two_slips_are_planted_in_one_clause_apart_from_each_other_and_by_the_seed():
    # fit_context.plant_two (what wordlists/tools/fit_second.py measures the second reading on):
    # the same seed plants the same slips; both slips stand in one clause, two or more apart,
    # each written with a member of the character's confusion set
    import fit_context

    from checks.words import CLAUSE_BREAK
    confusion = {"工": ("公攻", "供", "土"), "作": ("做坐", "", "昨"), "机": ("基鸡", "", "杌"), "关": ("官观", "", "")}
    lines = ["北京市实行机关工作人员戴胸卡上岗，后续资金物资将继续用于灾后的重建工作。"]
    twos = fit_context.plant_two(lines, confusion, 50, seed=3)
    assert twos == fit_context.plant_two(lines, confusion, 50, seed=3) != fit_context.plant_two(lines, confusion, 50, seed=4)
    sentence = lines[0].split("。")[0]
    for text, gold in twos:
        assert len(text) == len(sentence) and len(gold) == 2
        i, j = sorted(gold)
        assert j - i >= 2 and not CLAUSE_BREAK.search(sentence[i:j])
        for k, ch in enumerate(text):
            if k in gold:
                assert sentence[k] == gold[k] and any(ch in group for group in confusion[gold[k]])
            else:
                assert ch == sentence[k]
