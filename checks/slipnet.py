"""The slip network of the context detector: numpy forward pass of the small per-character model
that wordlists/tools/train_slipnet.py trains (weights in wordlists/model/slipnet.npz).

For a character and WING characters on either side, the network gives the log-odds that the
character is a slip (a character of its confusion set put for another), and which character of
the vocabulary was meant. It reaches what the n-gram pass cannot: one-character words (在/再,
的/得/地, 他/她) and characters that form a word with a neighbour all the same.

The first layer of the network reads the concatenated embeddings of the window; that is a sum of
one table per window offset (vocabulary id → hidden vector), folded here at load time, so the
layer is WIDTH gathers and adds per character; the second layer is one small matrix product.
The meant-character head is read at flagged characters and their confusion sets only.

The products go to BLAS with its thread pool held to one thread (one_blas_thread): on a machine
whose cores the scan's own processes already keep busy, OpenBLAS's threads spin beside them
(its threaded product took five times this pass's CPU time on two cores), and numpy's own loops
(einsum) are three times slower than one BLAS thread.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

PAD, OTHER = 0, 1          # outside a run of text / a character outside the vocabulary (as trained)
FIRST, LAST = 0x4E00, 0x9FFF
CHUNK = 8192               # characters through the first layer at a time (bounded memory)

_blas = threading.Lock()
_blas_state: dict = {"controller": None, "users": 0, "limiter": None}


@contextmanager
def one_blas_thread():
    """BLAS (numpy's) limited to one thread inside the block, its former limit restored after the
    last block that is open ends: the rest of the process keeps its own setting. OpenBLAS's pool
    is process-wide, so a product of another thread while a block is open runs on one thread too;
    the count keeps overlapping blocks of two threads from restoring each other's limit of one.
    The controller is made once (finding the loaded libraries takes a millisecond; setting the
    limit a few microseconds)."""
    with _blas:
        st = _blas_state
        if st["controller"] is None:
            st["controller"] = ThreadpoolController()
        if st["users"] == 0:
            st["limiter"] = st["controller"].limit(limits=1, user_api="blas")
        st["users"] += 1
    try:
        yield
    finally:
        with _blas:
            st["users"] -= 1
            if st["users"] == 0:
                st["limiter"].restore_original_limits()
                st["limiter"] = None


class SlipNet:
    """The network's arrays; `tables` (WIDTH, vocabulary, hidden) is derived from emb and w1."""

    def __init__(self, arrays) -> None:
        self.raw = {k: np.asarray(arrays[k]) for k in ("chars", "emb", "w1", "b1", "w2", "b2", "w_slip", "b_slip",
                                                        "w_meant", "b_meant")}
        self._derive()

    def _derive(self) -> None:
        r = self.raw
        hidden, width, _ = r["w1"].shape
        self.wing = width // 2
        emb, w1 = r["emb"].astype(np.float32), r["w1"].astype(np.float32)
        # Rounded to float16 as trained and shipped, but held as float32: converting each gathered
        # float16 row cost more than moving twice the bytes (the first layer took 1.8x as long);
        # float16 → float32 is exact, so the sums are the very same floats
        with one_blas_thread():
            folded = np.einsum("ve,hke->kvh", emb, w1, optimize=True)
        self.tables = np.ascontiguousarray(folded.astype(np.float16), dtype=np.float32)
        self.b1 = r["b1"].astype(np.float32)
        self.w2, self.b2 = r["w2"].astype(np.float32), r["b2"].astype(np.float32)
        self.w_slip, self.b_slip = r["w_slip"].astype(np.float32), float(r["b_slip"][0])
        # the head by vocabulary id (rows): gathered per candidate
        self.w_meant_rows = np.ascontiguousarray(r["w_meant"].astype(np.float32).T)
        self.b_meant = r["b_meant"].astype(np.float32)
        # code point → vocabulary id, and back
        self.vocab_of = np.full(LAST - FIRST + 1, OTHER, np.int64)
        chars = r["chars"].astype(np.int64)
        real = chars >= FIRST
        self.vocab_of[chars[real] - FIRST] = np.flatnonzero(real)
        self.chars = chars

    def __getstate__(self) -> dict:
        return {"raw": self.raw}        # the folded tables (20 MB) are rebuilt on the other side

    def __setstate__(self, state: dict) -> None:
        self.raw = state["raw"]
        self._derive()

    def ids(self, text: str) -> np.ndarray:
        """Vocabulary ids of `text`, padded with WING PADs each side; a line break is a PAD (the
        training text was read a paragraph at a time)."""
        cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        han = (cp >= FIRST) & (cp <= LAST)
        ids = np.where(han, self.vocab_of[np.where(han, cp - FIRST, 0)], OTHER)
        ids[(cp == 10) | (cp == 13)] = PAD
        pad = np.zeros(self.wing, np.int64)
        return np.concatenate((pad, ids, pad))

    def hidden(self, x: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """The second hidden layer at text positions `pos` of the padded ids `x`."""
        out = np.empty((len(pos), self.w2.shape[1]), np.float32)
        with one_blas_thread():
            for s in range(0, len(pos), CHUNK):
                p = pos[s:s + CHUNK]
                h = self.tables[0][x[p]]
                for k in range(1, 2 * self.wing + 1):
                    h += self.tables[k][x[p + k]]          # x is padded: text position p is x[p + wing]
                h += self.b1
                np.maximum(h, 0, out=h)
                h2 = np.matmul(h, self.w2, out=out[s:s + CHUNK])
                h2 += self.b2
                np.maximum(h2, 0, out=h2)
        return out

    def slip_logits(self, h2: np.ndarray) -> np.ndarray:
        with one_blas_thread():
            return h2 @ self.w_slip + self.b_slip

    def meant_scores(self, h2: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Log-scores of vocabulary id ids[i] as the meant character at the position of hidden
        vector h2[i]: the head is read at flagged characters' confusion sets only."""
        return np.einsum("nk,nk->n", h2, self.w_meant_rows[ids]) + self.b_meant[ids]
