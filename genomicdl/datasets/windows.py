"""Windows: split assignment (chromosome hold-out or leakage-free random) and the
leakage check, both streaming over windows sorted by chromosome and start."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genomicdl.core.errors import ConfigError
from genomicdl.io.genome import ChromNames
from genomicdl.io.store import SPLIT_CODE, SPLITS

log = logging.getLogger(__name__)


class SplitAssigner:
    """Assigns each window to train/valid/test.

    Chromosome lists hold whole chromosomes out. Fractions assign *clusters* of
    overlapping windows at random (seeded), so no window overlaps one of another split.
    Feed windows in sorted order, chunk by chunk.
    """

    def __init__(
        self, split_cfg: Mapping[str, Any], chroms: Sequence[str], names: ChromNames | None, seed: int
    ) -> None:
        self.chroms = list(chroms)
        self.by_chrom = isinstance(split_cfg["valid"], list)
        self.seed = seed
        if self.by_chrom:
            self.code = np.zeros(len(self.chroms), dtype=np.uint8)
            for part in ("valid", "test"):
                for name in split_cfg[part]:
                    hit = names.resolve(name) if names else (name if name in self.chroms else None)
                    if hit is None:
                        raise ConfigError(
                            f"config key split.{part}: chromosome {name!r} is not in the genome "
                            f"(it has {', '.join(self.chroms[:8])}{', ...' if len(self.chroms) > 8 else ''})"
                        )
                    self.code[self.chroms.index(hit)] = SPLIT_CODE[part]
        else:
            self.valid, self.test = float(split_cfg["valid"]), float(split_cfg["test"])
        self._chrom = -1
        self._cluster_end = -1
        self._cluster_split = 0

    def strata(self, chrom_idx: np.ndarray) -> np.ndarray:
        """Split code by chromosome (hold-out), or 0 everywhere (random)."""
        if self.by_chrom:
            return self.code[chrom_idx]
        return np.zeros(len(chrom_idx), dtype=np.uint8)

    def _draw(self, chrom: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Split codes of clusters keyed by (chromosome, first start), seeded."""
        u = uniform_hash(np.asarray(chrom, dtype=np.uint64), np.asarray(start, dtype=np.uint64), self.seed)
        out = np.full(len(u), SPLIT_CODE["train"], dtype=np.uint8)
        out[u < self.valid + self.test] = SPLIT_CODE["test"]
        out[u < self.valid] = SPLIT_CODE["valid"]
        return out

    def assign(self, chrom_idx: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Split codes of the next sorted windows (state carries across calls)."""
        if self.by_chrom:
            return self.code[chrom_idx]
        out = np.empty(len(start), dtype=np.uint8)
        for a, b in _runs(chrom_idx):
            c = int(chrom_idx[a])
            s, e = start[a:b].astype(np.int64), end[a:b].astype(np.int64)
            carry = self._cluster_end if c == self._chrom else -1
            prev_max = np.maximum.accumulate(np.concatenate([[carry], e[:-1]]))
            new = s >= prev_max
            cluster = np.cumsum(new)  # 0: continues the cluster carried from the last call
            firsts = np.flatnonzero(new)
            splits = np.concatenate([[self._cluster_split], self._draw(np.full(len(firsts), c), s[firsts])])
            out[a:b] = splits[cluster]
            self._chrom = c
            self._cluster_end = int(max(carry, e.max()))
            self._cluster_split = int(out[b - 1])
        return out

    def describe(self) -> dict[str, Any]:
        if self.by_chrom:
            return {
                split: [c for c, k in zip(self.chroms, self.code) if SPLITS[k] == split] for split in ("valid", "test")
            }
        return {"valid": self.valid, "test": self.test, "method": "random clusters of overlapping windows"}


class LeakageCheck:
    """Counts windows that overlap an earlier window of another split (sorted input)."""

    def __init__(self) -> None:
        self._chrom = -1
        self._max_end = np.full(len(SPLITS), -1, dtype=np.int64)
        self.overlaps = 0
        self.examples: list[tuple[int, int, str, str]] = []

    def feed(self, chrom_idx: np.ndarray, start: np.ndarray, end: np.ndarray, split: np.ndarray) -> None:
        for a, b in _runs(chrom_idx):
            c = int(chrom_idx[a])
            if c != self._chrom:
                self._chrom = c
                self._max_end[:] = -1
            s, e, k = start[a:b].astype(np.int64), end[a:b].astype(np.int64), split[a:b]
            before = np.empty((len(SPLITS), b - a), dtype=np.int64)
            for j in range(len(SPLITS)):
                ends = np.where(k == j, e, -1)
                before[j] = np.maximum.accumulate(np.concatenate([[self._max_end[j]], ends[:-1]]))
                self._max_end[j] = max(self._max_end[j], int(ends.max()))
            other = before.copy()
            other[k, np.arange(b - a)] = -1  # a window's own split does not count
            hit = (other > s).any(axis=0)
            self.overlaps += int(hit.sum())
            for i in np.flatnonzero(hit)[: max(0, 5 - len(self.examples))]:
                j = int(np.argmax(other[:, i] > s[i]))
                self.examples.append((c, int(s[i]), SPLITS[k[i]], SPLITS[j]))


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of equal consecutive values."""
    if len(values) == 0:
        return []
    cuts = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate([[0], cuts, [len(values)]])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def uniform_hash(a: np.ndarray, b: np.ndarray, seed: int) -> np.ndarray:
    """Uniform [0, 1) numbers from two uint64 keys and a seed (splitmix64 finaliser)."""
    with np.errstate(over="ignore"):
        x = a * np.uint64(0x9E3779B97F4A7C15) ^ (b + np.uint64(seed & 0xFFFFFFFF) * np.uint64(0xBF58476D1CE4E5B9))
        for mult in (0xBF58476D1CE4E5B9, 0x94D049BB133111EB):
            x = (x ^ (x >> np.uint64(30 if mult == 0xBF58476D1CE4E5B9 else 27))) * np.uint64(mult)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class IntervalSet:
    """Sorted, merged intervals per chromosome (a blacklist, a task's peaks) with vectorised
    overlap and coverage tests. Built from a merged BED (pybedtools does the merging)."""

    def __init__(self, intervals: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self._by_chrom = dict(intervals or {})
        self._prefix: dict[str, np.ndarray] = {}

    @classmethod
    def from_bed(cls, path: str) -> IntervalSet:
        """Read a sorted, merged BED3+ file."""
        starts: dict[str, list[int]] = {}
        ends: dict[str, list[int]] = {}
        with open(path) as fh:
            for line in fh:
                chrom, lo, hi = line.split("\t", 3)[:3]
                starts.setdefault(chrom, []).append(int(lo))
                ends.setdefault(chrom, []).append(int(hi))
        return cls({c: (np.asarray(starts[c], np.int64), np.asarray(ends[c], np.int64)) for c in starts})

    def overlaps(self, chrom: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Whether each [lo, hi) overlaps an interval of the set."""
        if chrom not in self._by_chrom:
            return np.zeros(len(lo), dtype=bool)
        starts, ends = self._by_chrom[chrom]
        i = np.searchsorted(ends, lo, side="right")  # first interval ending after lo
        hit = i < len(starts)
        hit[hit] = starts[i[hit]] < hi[hit]
        return hit

    def covered(self, chrom: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Bases of each [lo, hi) that the set covers."""
        return self._bases_before(chrom, np.asarray(hi)) - self._bases_before(chrom, np.asarray(lo))

    def _bases_before(self, chrom: str, x: np.ndarray) -> np.ndarray:
        """Bases of the set's intervals that lie before each position ``x``."""
        if chrom not in self._by_chrom:
            return np.zeros(len(x), np.int64)
        starts, ends = self._by_chrom[chrom]
        if chrom not in self._prefix:  # bases in the intervals before each one
            self._prefix[chrom] = np.concatenate([[0], np.cumsum(ends - starts)[:-1]]).astype(np.int64)
        # the last interval starting at or before x (the first, covering none of it, when none does)
        k = np.maximum(np.searchsorted(starts, x, side="right") - 1, 0)
        return self._prefix[chrom][k] + np.clip(x - starts[k], 0, ends[k] - starts[k])

    def __len__(self) -> int:
        return sum(len(s) for s, _ in self._by_chrom.values())


class SummitIndex:
    """Summit positions of each task, sorted per chromosome; counts summits in intervals.

    Holds a position (8 bytes) and a strand (1 byte) per peak, nothing per window, so
    labelling tiles of a whole genome stays in bounded memory.
    """

    def __init__(self, n_tasks: int) -> None:
        self._parts: list[dict[str, list[np.ndarray]]] = [{} for _ in range(n_tasks)]
        self._sorted: list[dict[str, np.ndarray]] = [{} for _ in range(n_tasks)]
        self._strand_parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._strands: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, task: int, chrom: str, positions: np.ndarray, strands: np.ndarray | None = None) -> None:
        """Summits of one task on one chromosome, with their records' strands (+1, -1, 0)."""
        positions = np.asarray(positions, dtype=np.int64)
        self._parts[task].setdefault(chrom, []).append(positions)
        self._sorted[task].pop(chrom, None)
        if strands is not None and np.any(strands):
            self._strand_parts.setdefault(chrom, []).append((positions, np.asarray(strands, dtype=np.int8)))
            self._strands.pop(chrom, None)

    def strand_at(self, chrom: str, centres: np.ndarray) -> np.ndarray:
        """Strand of the summit at each centre: the records' common strand, else 0
        (no summit there, unstranded records, or records on both strands)."""
        if chrom not in self._strands:
            parts = self._strand_parts.get(chrom, [])
            if not parts:
                self._strands[chrom] = (np.empty(0, np.int64), np.empty(0, np.int8))
            else:
                pos = np.concatenate([p for p, _ in parts])
                strand = np.concatenate([s for _, s in parts])
                order = np.argsort(pos, kind="stable")
                pos, strand = pos[order], strand[order]
                unique, first = np.unique(pos, return_index=True)
                lo, hi = np.minimum.reduceat(strand, first), np.maximum.reduceat(strand, first)
                self._strands[chrom] = (unique, np.where(lo == hi, lo, 0).astype(np.int8))
        unique, strand = self._strands[chrom]
        centres = np.asarray(centres, dtype=np.int64)
        out = np.zeros(len(centres), dtype=np.int8)
        if len(unique):
            idx = np.minimum(np.searchsorted(unique, centres), len(unique) - 1)
            hit = unique[idx] == centres
            out[hit] = strand[idx[hit]]
        return out

    def positions(self, task: int, chrom: str) -> np.ndarray:
        if chrom not in self._sorted[task]:
            parts = self._parts[task].get(chrom, [])
            self._sorted[task][chrom] = np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)
        return self._sorted[task][chrom]

    def counts(self, chrom: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(n, n_tasks) number of summits of each task in each [lo, hi)."""
        out = np.empty((len(lo), len(self._parts)), dtype=np.int64)
        for t in range(len(self._parts)):
            pos = self.positions(t, chrom)
            out[:, t] = np.searchsorted(pos, hi, side="left") - np.searchsorted(pos, lo, side="left")
        return out

    def chroms(self) -> list[str]:
        return sorted({c for part in self._parts for c in part})
