"""Locus-grouped splits of tables whose record ids carry genomic coordinates.

Windows cut from one genome overlap (RBP-31: 8-38% of training windows overlap another),
so a per-record random validation split puts near-copies on both sides and validation
scores run above test. Here overlapping windows (same chromosome, either strand, at most
``gap`` bases apart) form one locus and a whole locus goes to one split.

Recognised ids (the first word of a FASTA header, or the id column): ``chr1,+,69315,69415``
(RBP-31), ``chr1:100-200``, ``chr1:100-200(+)``, ``chr1|100|200`` -- a chromosome name,
an optional strand, then start and end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from genomicdl.core.seeds import stable_seed

COORDINATES = re.compile(
    r"^(?P<chrom>[A-Za-z0-9_.]+)[,:|](?:[-+.][,:|])?(?P<start>\d+)[-,:|](?P<end>\d+)(?:\([-+.]\))?[,;:|]?$"
)


def parse_locus(rid: str) -> tuple[str, int, int] | None:
    """(chromosome, start, end) of a record id, or None when it carries no coordinates."""
    match = COORDINATES.match(rid.strip())
    if match is None:
        return None
    start, end = int(match["start"]), int(match["end"])
    return (match["chrom"], min(start, end), max(start, end))


def locus_groups(loci: Sequence[tuple[str, int, int]], gap: int = 0) -> np.ndarray:
    """Group number of every window: windows chained by overlaps (within ``gap`` bases)
    share one; groups are numbered in genome order."""
    order = sorted(range(len(loci)), key=lambda i: loci[i])
    group = np.empty(len(loci), np.int64)
    current, chrom, reach = -1, None, -1
    for i in order:
        c, start, end = loci[i]
        if c != chrom or start > reach + gap:
            current, chrom, reach = current + 1, c, end
        reach = max(reach, end)
        group[i] = current
    return group


def locus_splits(
    loci: Sequence[tuple[str, int, int]], valid: float, test: float, seed: int, gap: int = 0
) -> tuple[list[str], dict[str, int]]:
    """The split of every window (whole loci drawn as one, with a seeded draw per locus
    keyed by its first window, so the draw does not depend on the file's order) and counts:
    windows, loci, windows sharing a locus with another."""
    group = locus_groups(loci, gap)
    first: dict[int, tuple[str, int, int]] = {}
    for i, g in enumerate(group.tolist()):
        first[g] = min(first.get(g, loci[i]), loci[i])
    draw = {g: np.random.default_rng(stable_seed("locus-split", seed, *key)).random() for g, key in first.items()}
    splits = []
    for g in group.tolist():
        u = draw[g]
        splits.append("valid" if u < valid else "test" if u < valid + test else "train")
    sizes = np.bincount(group) if len(group) else np.zeros(0, np.int64)
    counts = {"windows": len(loci), "loci": len(first), "windows_sharing_a_locus": int(sizes[sizes > 1].sum())}
    return splits, counts
