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
