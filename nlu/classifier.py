"""Featurisation (char n-grams, jieba words, pinyin, entity types) + a numpy softmax classifier."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

_PUNCT_RE = re.compile(r"[\s,.!?;:'\"()\[\]{}<>/\\|~`@$%^&*_=+，。！？；：、“”‘’（）【】《》…·—\-]+")
_DIGITS_RE = re.compile(r"\d+")
_LATIN_RE = re.compile(r"[a-z]+")

MAX_CHARS = 360
HEAD = 180
TAIL = 180


def digit_runs(norm: str) -> list[str]:
    """Digits are folded to one 0, so a room number, a phone and 88 (bye) differ only in run length."""
    return ["d:" + str(min(len(m.group(0)), 12)) for m in _DIGITS_RE.finditer(norm[:MAX_CHARS])]


def prepare(norm_lower: str) -> str:
    t = _DIGITS_RE.sub("0", norm_lower)
    if len(t) > MAX_CHARS:
        t = t[:HEAD] + " " + t[-TAIL:]
    return t


def featurize(t: str, words: Iterable[str], pinyin: Callable[[str], str], ent_types: Iterable[str]) -> list[str]:
    return featurize_edges(t) + featurize_core(t, words, pinyin) + ["e:" + e for e in ent_types]


def featurize_edges(t: str) -> list[str]:
    """Length, head and tail of a whole message (the point of a long message is often at its end)."""
    chunks = [c for c in _PUNCT_RE.split(t) if c]
    n = sum(len(c) for c in chunks)
    feats = ["len:" + ("1" if n <= 1 else "2" if n <= 2 else "4" if n <= 4 else "8" if n <= 8
                       else "16" if n <= 16 else "40" if n <= 40 else "L")]
    if chunks:
        tail = "".join(chunks[-2:])[-12:]
        for i in range(len(tail) - 1):
            feats.append("t:" + tail[i:i + 2])
        head = chunks[0][:6]
        for i in range(len(head) - 1):
            feats.append("h:" + head[i:i + 2])
    return feats


def featurize_core(t: str, words: Iterable[str], pinyin: Callable[[str], str]) -> list[str]:
    """Char 1-3-grams, jieba words and word bigrams, pinyin: the same for a sentence alone or in a message."""
    feats: list[str] = []
    chunks = [c for c in _PUNCT_RE.split(t) if c]
    joined = " ".join(chunks)
    for c in chunks:
        padded = "^" + c + "$"
        L = len(padded)
        for i in range(1, L - 1):
            feats.append(padded[i])
        for i in range(L - 1):
            feats.append(padded[i:i + 2])
        for i in range(L - 2):
            feats.append(padded[i:i + 3])
    prev = "^"
    for w in words:
        w = w.strip()
        if not w or _PUNCT_RE.fullmatch(w):
            prev = "|"
            continue
        feats.append("w:" + w)
        feats.append("b:" + prev + "_" + w)
        prev = w
    py = pinyin(joined)
    toks = py.split()
    for i, p in enumerate(toks):
        feats.append("p:" + p)
        if i:
            feats.append("pp:" + toks[i - 1] + p)
    for m in _LATIN_RE.finditer(joined):
        feats.append("l:" + m.group(0))
    return feats


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


class SoftmaxClassifier:
    """Multinomial logistic regression over sparse binary features, trained with Adam."""

    def __init__(self, classes: list[str], vocab: dict[str, int], W: np.ndarray, b: np.ndarray) -> None:
        self.classes = classes
        self.vocab = vocab
        self.W = W
        self.b = b

    def logits(self, feats: list[str]) -> np.ndarray:
        vocab = self.vocab
        idx = list({vocab[f] for f in feats if f in vocab})
        return self.W[idx].sum(axis=0) / np.sqrt(len(idx)) + self.b if idx else self.b.copy()

    def scores(self, feats: list[str], temperature: float = 1.0) -> np.ndarray:
        return softmax(self.logits(feats) / temperature)

    @classmethod
    def train(cls, X: list[list[str]], y: list[str], *, epochs: int = 90, lr: float = 0.1,
              l2: float = 2e-5, min_count: int = 1, seed: int = 0) -> SoftmaxClassifier:
        classes = sorted(set(y))
        cidx = {c: i for i, c in enumerate(classes)}
        counts: dict[str, int] = {}
        for fs in X:
            for f in set(fs):
                counts[f] = counts.get(f, 0) + 1
        vocab: dict[str, int] = {}
        for fs in X:
            for f in fs:
                if f not in vocab and counts[f] >= min_count:
                    vocab[f] = len(vocab)
        rows, cols = [], []
        for i, fs in enumerate(X):
            ids = sorted({vocab[f] for f in fs if f in vocab})
            rows.extend([i] * len(ids))
            cols.extend(ids)
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        nnz_per_row = np.bincount(rows_a, minlength=len(X)).astype(np.float32)
        vals = (1.0 / np.sqrt(np.maximum(nnz_per_row[rows_a], 1.0))).astype(np.float32)
        n, d, k = len(X), len(vocab), len(classes)
        Y = np.zeros((n, k), dtype=np.float32)
        Y[np.arange(n), [cidx[c] for c in y]] = 1.0
        # balance classes
        freq = Y.sum(axis=0)
        sw = (n / (k * np.maximum(freq, 1.0)))[[cidx[c] for c in y]]
        sw = (sw / sw.sum()).astype(np.float32)
        W = np.zeros((k, d), dtype=np.float32)  # class-major: each gather/reduce runs over contiguous rows
        b = np.zeros(k, dtype=np.float32)
        mW, vW = np.zeros_like(W), np.zeros_like(W)
        mb, vb = np.zeros_like(b), np.zeros_like(b)
        b1, b2, eps = 0.9, 0.999, 1e-8
        # CSR (by row) for the forward pass, CSC (by column) for the gradient: reduceat, not ufunc.at
        order = np.argsort(rows_a, kind="stable")
        cols_s, vals_s = cols_a[order], vals[order]
        starts = np.searchsorted(rows_a[order], np.arange(n))
        corder = np.argsort(cols_a, kind="stable")
        rows_c, vals_c = rows_a[corder], vals[corder]
        cstarts = np.searchsorted(cols_a[corder], np.arange(d))
        empty = nnz_per_row == 0
        YT = Y.T.copy()
        swT = sw[None, :]
        for t in range(1, epochs + 1):
            if len(cols_s):
                Z = np.add.reduceat(W[:, cols_s] * vals_s, starts, axis=1)
                Z[:, empty] = 0.0
            else:
                Z = np.zeros((k, n), dtype=np.float32)
            Z += b[:, None]
            Z -= Z.max(axis=0, keepdims=True)
            P = np.exp(Z)
            P /= P.sum(axis=0, keepdims=True)
            G = (P - YT) * swT
            gW = np.add.reduceat(G[:, rows_c] * vals_c, cstarts, axis=1) if d else np.zeros_like(W)
            gW += l2 * W
            gb = G.sum(axis=1)
            mW *= b1
            mW += (1 - b1) * gW
            vW *= b2
            vW += (1 - b2) * gW * gW
            mb = b1 * mb + (1 - b1) * gb
            vb = b2 * vb + (1 - b2) * gb * gb
            a = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            W -= a * mW / (np.sqrt(vW) + eps)
            b -= a * mb / (np.sqrt(vb) + eps)
        W = np.ascontiguousarray(W.T)
        return cls(classes, vocab, W.astype(np.float32), b.astype(np.float32))
