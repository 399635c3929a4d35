"""Windows: split assignment (chromosome hold-out or leakage-free random) and the
leakage check, both streaming over windows sorted by chromosome and start."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genomicdl.encode import SPLIT_CODE, SPLITS
from genomicdl.errors import ConfigError
from genomicdl.genome import ChromNames
from genomicdl.negatives import stable_seed

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

    def _draw(self, chrom: int, start: int) -> int:
        u = (stable_seed("split", self.seed, self.chroms[chrom], start) >> 11) / float(1 << 53)
        if u < self.valid:
            return SPLIT_CODE["valid"]
        if u < self.valid + self.test:
            return SPLIT_CODE["test"]
        return SPLIT_CODE["train"]

    def assign(self, chrom_idx: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Split codes of the next sorted windows."""
        if self.by_chrom:
            return self.code[chrom_idx]
        out = np.empty(len(start), dtype=np.uint8)
        for i, (c, s, e) in enumerate(zip(chrom_idx.tolist(), start.tolist(), end.tolist())):
            if c != self._chrom or s >= self._cluster_end:
                self._chrom = c
                self._cluster_split = self._draw(c, s)
                self._cluster_end = e
            else:
                self._cluster_end = max(self._cluster_end, e)
            out[i] = self._cluster_split
        return out

    def describe(self) -> dict[str, Any]:
        if self.by_chrom:
            return {
                split: [c for c, k in zip(self.chroms, self.code) if SPLITS[k] == split] for split in ("valid", "test")
            }
        return {"valid": self.valid, "test": self.test, "method": "random clusters of overlapping windows"}


class LeakageCheck:
    """Counts windows that overlap a window of another split (sorted input)."""

    def __init__(self) -> None:
        self._chrom = -1
        self._max_end = np.full(len(SPLITS), -1, dtype=np.int64)
        self.overlaps = 0
        self.examples: list[tuple[int, int, str, str]] = []

    def feed(self, chrom_idx: np.ndarray, start: np.ndarray, end: np.ndarray, split: np.ndarray) -> None:
        for c, s, e, k in zip(chrom_idx.tolist(), start.tolist(), end.tolist(), split.tolist()):
            if c != self._chrom:
                self._chrom = c
                self._max_end[:] = -1
            others = [j for j in range(len(SPLITS)) if j != k and self._max_end[j] > s]
            if others:
                self.overlaps += 1
                if len(self.examples) < 5:
                    self.examples.append((c, s, SPLITS[k], SPLITS[others[0]]))
            self._max_end[k] = max(self._max_end[k], e)
