"""The slip network of the context detector (issue 14): slips whose correction is a one-character
word (在, 由, 还, 的), which the n-gram pass cannot make (single-character words are not its
candidates), found with their correction; the mended sentences and clean ones left alone."""

import copy
import pickle

import numpy as np
from threadpoolctl import threadpool_info

from checks.slipnet import one_blas_thread
from checks.words import detect_context, detect_slips
from govcheck.wordlists import load_matcher

MODEL = load_matcher().context
SLIPS = (("工作组已经宰这里驻扎了三个多月。", "宰", "在"), ("案件迪公安机关立案侦查。", "迪", "由"),
         ("本案迪人民检察院提起公诉。", "迪", "由"), ("这种做法嗨会有人反对吗？", "嗨", "还"),
         ("他指着脸上勺伤痕说，这是当年留下的。", "勺", "的"))


def test_one_character_corrections_are_found_by_the_network():
    without = copy.copy(MODEL)
    without.slipnet = None
    for text, wrong, right in SLIPS:
        assert [(h.word, h.correction, h.method) for h in detect_context(MODEL, text)] == [(wrong, right, "context")], text
        assert detect_context(without, text) == [], text      # the n-gram pass alone does not get there
        hit = detect_context(MODEL, text)[0]
        assert 0.5 <= hit.confidence <= 1.0


def test_mended_and_clean_sentences_are_left_alone():
    mended = [text.replace(wrong, right) for text, wrong, right in SLIPS]
    for text in mended + ["各级人民政府应当加强对安全生产工作的领导，支持、督促各有关部门依法履行安全生产监督管理职责。",
                          "我们仔细研究了群众的意见，并作出了答复。", "青田县人民政府鹤城街道办事处召开会议。"]:
        assert detect_slips(MODEL, text) == {}, text
        assert detect_context(MODEL, text) == [], text


def test_the_network_survives_pickling_for_workers():
    net = pickle.loads(pickle.dumps(MODEL.slipnet))
    x = net.ids("工作组已经宰这里驻扎了三个多月")
    pos = np.arange(len(x) - 2 * net.wing)
    assert np.array_equal(net.hidden(x, pos), MODEL.slipnet.hidden(x, pos))


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_is_held_to_one_thread_inside_the_network_only():
    before = _blas_threads()
    with one_blas_thread():
        with one_blas_thread():                      # nested (or another thread's) blocks
            assert all(n == 1 for n in _blas_threads())
        assert all(n == 1 for n in _blas_threads())  # the outer block is still open
    assert _blas_threads() == before
    net = MODEL.slipnet
    x = net.ids("工作组已经宰这里驻扎了三个多月")
    net.slip_logits(net.hidden(x, np.arange(len(x) - 2 * net.wing)))
    assert _blas_threads() == before


def test_the_products_are_the_layers_of_the_network():
    # the folded first layer (rounded to float16 as shipped) and the BLAS products against the
    # layers written out with numpy's own loops: float noise only
    net = MODEL.slipnet
    r = {k: v.astype(np.float32) for k, v in net.raw.items()}
    x = net.ids("本案迪人民检察院提起公诉。\n这种做法嗨会有人反对吗？")
    pos = np.arange(len(x) - 2 * net.wing)
    window = np.stack([x[pos + k] for k in range(2 * net.wing + 1)], axis=1)
    unfolded = np.einsum("nke,hke->nh", r["emb"][window], r["w1"])
    folded = sum(net.tables[k][window[:, k]] for k in range(window.shape[1]))
    assert np.allclose(folded, unfolded, rtol=1e-3, atol=1e-2)
    h = np.maximum(folded + r["b1"], 0)
    h2 = np.maximum(np.einsum("nh,hk->nk", h, r["w2"]) + r["b2"], 0)
    assert np.allclose(net.hidden(x, pos), h2, rtol=1e-5, atol=1e-4)
    logits = np.einsum("nk,k->n", h2, r["w_slip"]) + r["b_slip"][0]
    assert np.allclose(net.slip_logits(net.hidden(x, pos)), logits, rtol=1e-5, atol=1e-4)
