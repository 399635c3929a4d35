"""Families of near-identical sequences: a split that keeps them together, and a leakage
check that catches near-duplicates, not only identical sequences.

Two sequences of equal length within ``max_mismatches`` substitutions share at least one
of ``max_mismatches + 1`` aligned segments exactly (pigeonhole). Sequences are bucketed
by (length, segment index, segment) and every bucket is united (union-find): each
family holds every pair within the distance, plus possibly a few more distant members
(which only makes the split stricter). Families are then drawn into train/valid/test by
a seeded hash of their (lexicographically) smallest sequence, so the split is deterministic and independent of
file order. ``mode: prefix`` groups by the first ``key_length`` letters instead (a cheap
similarity key for designed libraries whose variants share a prefix).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genomicdl.core.seeds import stable_seed


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _segments(seq: str, parts: int) -> list[str]:
    bounds = np.linspace(0, len(seq), parts + 1).astype(int)
    return [seq[bounds[i] : bounds[i + 1]] for i in range(parts)]


def families(
    seqs: Sequence[str], *, max_mismatches: int = 2, mode: str = "mismatch", key_length: int = 20
) -> np.ndarray:
    """Family id (the smallest member's index) of every sequence."""
    uf = UnionFind(len(seqs))
    buckets: dict[tuple, int] = {}
    for i, s in enumerate(seqs):
        keys = [("p", s[:key_length])] if mode == "prefix" else [
            (len(s), j, seg) for j, seg in enumerate(_segments(s, max_mismatches + 1))
        ]  # fmt: skip
        for key in keys:
            first = buckets.setdefault(key, i)
            if first != i:
                uf.union(first, i)
    return np.array([uf.find(i) for i in range(len(seqs))])


def family_split(
    seqs: Sequence[str], valid: float, test: float, seed: int, **kwargs: object
) -> tuple[np.ndarray, np.ndarray]:
    """(split names per sequence, family ids): whole families go to one split."""
    fam = families(seqs, **kwargs)  # type: ignore[arg-type]
    key: dict[int, str] = {}
    for f, s in zip(fam.tolist(), seqs):  # the family's smallest sequence: independent of file order
        key[f] = min(key.get(f, s), s)
    roots = np.unique(fam)
    u = np.array([(stable_seed("family", seed, key[r]) >> 11) / float(1 << 53) for r in roots.tolist()])
    which = np.where(u < valid, "valid", np.where(u < valid + test, "test", "train"))
    lookup = dict(zip(roots.tolist(), which.tolist()))
    return np.array([lookup[f] for f in fam.tolist()]), fam


def near_duplicates(train: Sequence[str], held_out: Sequence[str], max_mismatches: int = 2) -> np.ndarray:
    """For each held-out sequence, whether a training sequence of the same length lies
    within ``max_mismatches`` substitutions (exact check on segment-sharing candidates)."""
    parts = max_mismatches + 1
    index: dict[tuple, list[int]] = {}
    for i, s in enumerate(train):
        for j, seg in enumerate(_segments(s, parts)):
            index.setdefault((len(s), j, seg), []).append(i)
    out = np.zeros(len(held_out), bool)
    for k, s in enumerate(held_out):
        seen: set[int] = set()
        for j, seg in enumerate(_segments(s, parts)):
            for i in index.get((len(s), j, seg), ()):
                if i in seen:
                    continue
                seen.add(i)
                if sum(a != b for a, b in zip(s, train[i])) <= max_mismatches:
                    out[k] = True
                    break
            if out[k]:
                break
    return out
