"""Negative examples: dinucleotide shuffles, GC-matched background sampling, flanks."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable

import numpy as np

from genomicdl.io.genome import CODE_N

log = logging.getLogger(__name__)


def dinucleotide_shuffle(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shuffle a coded sequence preserving its dinucleotide counts exactly.

    Altschul & Erickson (1985): pick a random spanning arborescence of "last exits"
    towards the final letter, shuffle every other exit, then walk the Eulerian path.
    First and last letters are kept.
    """
    seq = [int(c) for c in codes]
    n = len(seq)
    if n < 3:
        return codes.copy()
    letters = sorted(set(seq))
    edges: dict[int, list[int]] = {a: [] for a in letters}
    for a, b in itertools.pairwise(seq):
        edges[a].append(b)
    last = seq[-1]
    # random last-exit tree: each vertex but `last` reaches `last` through its last exit
    while True:
        last_exit = {v: edges[v][rng.integers(len(edges[v]))] for v in letters if v != last and edges[v]}
        ok = True
        for v in last_exit:
            seen = {v}
            u = v
            while u != last:
                u = last_exit[u]
                if u in seen:
                    ok = False
                    break
                seen.add(u)
            if not ok:
                break
        if ok:
            break
    order: dict[int, list[int]] = {}
    for v in letters:
        out = list(edges[v])
        if v in last_exit:
            out.remove(last_exit[v])
            rng.shuffle(out)
            out.append(last_exit[v])
        else:
            rng.shuffle(out)
        order[v] = out
    pos = {v: 0 for v in letters}
    walk = [seq[0]]
    u = seq[0]
    for _ in range(n - 1):
        nxt = order[u][pos[u]]
        pos[u] += 1
        walk.append(nxt)
        u = nxt
    return np.asarray(walk, dtype=codes.dtype)


def gc_fraction(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(GC fraction among A/C/G/T, N fraction) per row of an (n, L) code array; N,
    ambiguity and padding codes (anything above T) count as N."""
    n_bases = codes.shape[1]
    is_n = codes >= CODE_N
    n_count = is_n.sum(axis=1)
    gc = ((codes == 1) | (codes == 2)).sum(axis=1)
    acgt = np.maximum(n_bases - n_count, 1)
    return (gc / acgt).astype(np.float32), (n_count / n_bases).astype(np.float32)


def gc_bin(gc: np.ndarray, bins: int) -> np.ndarray:
    """Bin index of GC fractions in [0, 1] into ``bins`` equal bins."""
    return np.minimum((gc * bins).astype(np.int64), bins - 1)


class GCSampler:
    """Uniform sampling without replacement, per (stratum, GC bin), in one streaming pass.

    Every candidate gets a seeded random key; the smallest keys of each cell are kept,
    which is a uniform sample. A cell keeps enough spares to lend to bins up to ``reach``
    away that run short. Memory is bounded by a few times the negatives needed.
    """

    def __init__(self, need: dict[tuple[int, int], int], bins: int, seed: int, reach: int = 2) -> None:
        self.need = {cell: n for cell, n in need.items() if n > 0}
        self.bins, self.reach = bins, reach
        self.rng = np.random.default_rng(seed)
        self.capacity: dict[tuple[int, int], int] = {}
        for s in {s for s, _ in self.need}:
            for b in range(bins):
                cap = sum(self.need.get((s, b + d), 0) for d in range(-reach, reach + 1))
                if cap:
                    self.capacity[(s, b)] = cap
        self.kept: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def offer(self, stratum: np.ndarray, bins: np.ndarray, payload: np.ndarray) -> None:
        """Offer candidates (payload rows are kept as they are, e.g. coordinates)."""
        keys = self.rng.random(len(payload))
        cells = stratum.astype(np.int64) * self.bins + bins
        for cell_id in np.unique(cells):
            cell = (int(cell_id // self.bins), int(cell_id % self.bins))
            cap = self.capacity.get(cell, 0)
            if not cap:
                continue
            sel = cells == cell_id
            k, p = keys[sel], payload[sel]
            if cell in self.kept:
                k = np.concatenate([self.kept[cell][0], k])
                p = np.concatenate([self.kept[cell][1], p])
            if len(k) > cap:
                top = np.argpartition(k, cap - 1)[:cap]
                k, p = k[top], p[top]
            self.kept[cell] = (k, p)

    def result(self) -> tuple[list[np.ndarray], int]:
        """The sampled payload rows and how many negatives no bin could supply."""
        out: list[np.ndarray] = []
        shortfall = 0
        for s in sorted({s for s, _ in self.need}):
            pools, used = {}, {}
            for b in range(self.bins):
                k, p = self.kept.get((s, b), (np.empty(0), np.empty(0)))
                order = np.argsort(k, kind="stable")
                pools[b] = p[order] if len(k) else p
                used[b] = min(self.need.get((s, b), 0), len(k))
                if used[b]:
                    out.append(pools[b][: used[b]])
            own = dict(used)
            for b in range(self.bins):
                missing = self.need.get((s, b), 0) - own[b]
                for d in range(1, self.reach + 1):
                    for nb in (b - d, b + d):
                        if missing <= 0 or nb not in pools:
                            continue
                        take = min(missing, len(pools[nb]) - used[nb])
                        if take > 0:
                            out.append(pools[nb][used[nb] : used[nb] + take])
                            used[nb] += take
                            missing -= take
                shortfall += max(missing, 0)
        return out, shortfall


def flank_offsets(window: int, per_positive: int) -> list[int]:
    """Shifts tried for flank negatives, nearest first: +w, -w, +2w, -2w, ..."""
    shifts: list[int] = []
    k = 1
    while len(shifts) < max(2 * per_positive, 4):
        shifts += [k * window, -k * window]
        k += 1
    return shifts


def count_dinucleotides(codes: Iterable[int]) -> dict[tuple[int, int], int]:
    """Counts of adjacent pairs (used by tests and diagnostics)."""
    seq = list(codes)
    counts: dict[tuple[int, int], int] = {}
    for pair in itertools.pairwise(seq):
        counts[pair] = counts.get(pair, 0) + 1
    return counts
