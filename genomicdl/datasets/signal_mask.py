"""The mask of a signal dataset: windows left out of the training loss and the metrics.

A window is masked when its centred output (the bases it is scored on)

- overlaps the blacklist (``blacklist``: a mappability or blacklist BED; bit 1),
- holds a base that a bigWig does not cover under ``signal.nan: missing`` (a NaN label; bit 2),
- overlaps an uncovered stretch: ``signal.mask.min_uncovered_bp`` or more consecutive
  bases where no track has signal (0 or NaN in every track; bit 4).

Masked windows stay in the store (column ``mask``, reason bits, 0 = kept) so that the
unmasked figures can be reported once beside the masked ones; training and early stopping
skip them (genomicdl.training.engine) and evaluation scores the kept rows
(genomicdl.evaluation.signal_eval). Within a kept window, bins with a NaN label are masked
in the loss (genomicdl.training.losses). Memory: one block of one chromosome at a time; the
stretches themselves are a few intervals per chromosome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genomicdl.datasets.windows import IntervalSet
from genomicdl.io.bigwig import SignalReader

MASK_BITS = {"blacklist": 1, "missing": 2, "uncovered": 4}
BLOCK = 1 << 20  # bases read at a time when looking for uncovered stretches


def uncovered_stretches(
    reader: SignalReader, chrom: str, size: int, min_bp: int, block: int = BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of at least ``min_bp`` bases of ``chrom`` where no track
    (before any control subtraction) has a value above 0, read ``block`` bases at a time."""
    starts: list[int] = []
    ends: list[int] = []
    open_start: int | None = None  # a run reaching the end of the previous block
    for lo in range(0, size, block):
        hi = min(size, lo + block)
        values = np.stack([t.values(chrom, lo, hi) for t in reader.tracks])
        empty = ~(np.nan_to_num(values) > 0).any(0)
        edges = np.diff(np.concatenate([[0], empty.astype(np.int8), [0]]))
        s, e = list(np.flatnonzero(edges == 1) + lo), list(np.flatnonzero(edges == -1) + lo)
        if open_start is not None:
            if s and s[0] == lo:
                s[0] = open_start
            else:
                s.insert(0, open_start)
                e.insert(0, lo)
        open_start = s.pop() if e and e[-1] == hi and hi < size else None
        if open_start is not None:
            e.pop()
        starts += s
        ends += e
    keep = [(a, b) for a, b in zip(starts, ends) if b - a >= min_bp]
    return np.asarray([a for a, _ in keep], np.int64), np.asarray([b for _, b in keep], np.int64)


class WindowMask:
    """Reason bits of windows (see the module doc); uncovered stretches are found once per
    chromosome, the first time one of its windows is asked about."""

    def __init__(
        self, reader: SignalReader, sizes: Mapping[str, int], rule: Mapping[str, Any], black: IntervalSet | None
    ) -> None:
        self.reader, self.sizes, self.black = reader, dict(sizes), black
        self.min_bp = rule.get("min_uncovered_bp")
        self._stretches: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.uncovered_bp: dict[str, int] = {}

    def _uncovered(self, chrom: str) -> IntervalSet:
        if chrom not in self._stretches:
            s, e = uncovered_stretches(self.reader, chrom, self.sizes[chrom], int(self.min_bp))
            self._stretches[chrom] = (s, e)
            self.uncovered_bp[chrom] = int((e - s).sum())
        return IntervalSet({chrom: self._stretches[chrom]})

    def bits(self, chrom: str, starts: np.ndarray, geo: Mapping[str, int], labels: np.ndarray) -> np.ndarray:
        """uint8 reason bits of windows at input ``starts`` with their ``labels``."""
        lo = np.asarray(starts, np.int64) + geo["offset"]
        hi = lo + geo["output"]
        out = np.zeros(len(lo), np.uint8)
        if self.black is not None:
            out |= self.black.overlaps(chrom, lo, hi).astype(np.uint8) * MASK_BITS["blacklist"]
        out |= np.isnan(labels).any(1).astype(np.uint8) * MASK_BITS["missing"]
        if self.min_bp:
            out |= self._uncovered(chrom).overlaps(chrom, lo, hi).astype(np.uint8) * MASK_BITS["uncovered"]
        return out


def describe_rule(rule: Mapping[str, Any], blacklist: bool, nan: str) -> str:
    """The mask's rule in one sentence (summary.json, reports)."""
    parts = []
    if blacklist:
        parts.append("its output overlaps the blacklist")
    if nan == "missing":
        parts.append("a bigWig leaves a base of its output uncovered (signal.nan: missing)")
    if rule.get("min_uncovered_bp"):
        n = int(rule["min_uncovered_bp"])
        parts.append(f"its output overlaps a stretch of >= {n} bp with no signal in any track")
    if not parts:
        return "no window is masked (no blacklist, signal.nan is not missing, signal.mask.min_uncovered_bp is null)"
    return "a window is masked (left out of training loss and metrics) when " + "; or ".join(parts)


class MaskCounts:
    """Masked windows per split, per reason and in all (a window may have several reasons)."""

    def __init__(self, splits: Sequence[str]) -> None:
        self.splits = list(splits)
        self.counts = np.zeros((len(self.splits), len(MASK_BITS) + 2), np.int64)

    def add(self, bits: np.ndarray, split: np.ndarray) -> None:
        for code in range(len(self.splits)):
            b = bits[split == code]
            self.counts[code] += [*(((b & bit) > 0).sum() for bit in MASK_BITS.values()), (b > 0).sum(), len(b)]

    def summary(self) -> dict[str, dict[str, int]]:
        keys = [*MASK_BITS, "masked", "windows"]
        return {name: dict(zip(keys, map(int, self.counts[c]))) for c, name in enumerate(self.splits)}
