"""What a dataset store holds, counted while it is written: windows and positives per
split and task, kinds of windows, dropped records, and GC histograms."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from genomicdl.core.seeds import stable_seed
from genomicdl.datasets.negatives import gc_bin
from genomicdl.io.store import KINDS, SPLITS

GC_BINS_REPORT = 20


class DatasetReport:
    """Counts and GC histograms accumulated chunk by chunk."""

    def __init__(self, tasks: list[str]) -> None:
        self.tasks = tasks
        self.rows = np.zeros(len(SPLITS), dtype=np.int64)
        self.pos = np.zeros((len(SPLITS), len(tasks)), dtype=np.int64)
        self.any_pos = np.zeros(len(SPLITS), dtype=np.int64)
        self.gc = np.zeros((len(SPLITS), 2, GC_BINS_REPORT), dtype=np.int64)
        self.kinds: dict[str, int] = {}
        self.dropped: dict[str, int] = {}

    def add(self, split: np.ndarray, labels: np.ndarray, gc: np.ndarray, kind: np.ndarray) -> None:
        """Count written rows."""
        positive = labels.any(axis=1)
        b = gc_bin(gc, GC_BINS_REPORT)
        for k in range(len(SPLITS)):
            sel = split == k
            self.rows[k] += sel.sum()
            self.pos[k] += labels[sel].sum(axis=0, dtype=np.int64)
            self.any_pos[k] += positive[sel].sum()
            self.gc[k, 0] += np.bincount(b[sel & positive], minlength=GC_BINS_REPORT)
            self.gc[k, 1] += np.bincount(b[sel & ~positive], minlength=GC_BINS_REPORT)
        counts = np.bincount(kind, minlength=len(KINDS))
        for code in np.flatnonzero(counts):
            self.kinds[KINDS[code]] = self.kinds.get(KINDS[code], 0) + int(counts[code])

    def drop(self, reason: str, count: int) -> None:
        """Count records left out, by reason."""
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def log_counts(self, log: logging.Logger) -> None:
        """Log what was dropped (by reason) and the windows and positives per split."""
        for reason, count in sorted(self.dropped.items()):
            log.info("dropped %d: %s", count, reason)
        for k, name in enumerate(SPLITS):
            tasks = ", ".join(f"{t} {int(self.pos[k, i])}" for i, t in enumerate(self.tasks))
            log.info("%s: %d windows, positives per task: %s", name, int(self.rows[k]), tasks)

    def summary(self) -> dict[str, Any]:
        per_split = {}
        for k, name in enumerate(SPLITS):
            per_split[name] = {
                "windows": int(self.rows[k]),
                "positive_any_task": int(self.any_pos[k]),
                "tasks": {
                    t: {"positives": int(self.pos[k, i]), "negatives": int(self.rows[k] - self.pos[k, i])}
                    for i, t in enumerate(self.tasks)
                },
            }
        return {"splits": per_split, "kinds": self.kinds, "dropped": self.dropped}

    def gc_table(self) -> str:
        """TSV: split, GC bin, positives, negatives (for the GC-match plot)."""
        lines = ["split\tgc_bin_low\tgc_bin_high\tpositives\tnegatives"]
        for k, name in enumerate(SPLITS):
            for b in range(GC_BINS_REPORT):
                lines.append(
                    f"{name}\t{b / GC_BINS_REPORT:.2f}\t{(b + 1) / GC_BINS_REPORT:.2f}\t"
                    f"{self.gc[k, 0, b]}\t{self.gc[k, 1, b]}"
                )
        return "\n".join(lines) + "\n"


def per_positive_count(per_positive: float, *key: object) -> int:
    """floor(per_positive), plus one with the fractional part's probability (seeded by key)."""
    whole = math.floor(per_positive)
    frac = per_positive - whole
    if frac > 0:
        u = (stable_seed("count", *key) >> 11) / float(1 << 53)
        whole += int(u < frac)
    return whole
