"""Motifs: discovered from attributions (seqlets) and from first-layer filters, and
compared with JASPAR.

A motif is a position probability matrix (PPM), shape (length, 4) over A C G T.
- Seqlets are the high-attribution stretches of the explained sequences; they are
  clustered by contribution similarity (any shift, either strand for DNA), aligned to
  each cluster's medoid and summarised as a PPM of the aligned bases.
- Filter motifs are DeepBind/Basset-style: the bases under every position where a
  first-layer filter reaches half its maximum activation.
- Comparison with JASPAR (pyjaspar's offline database) uses TOMTOM (memelite's
  implementation, Euclidean column distance, complete scores); q-values are
  Benjamini-Hochberg over every target of a query, as TOMTOM reports them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from scipy.stats import false_discovery_control
from torch import nn

from genomicdl.core.errors import ConfigError
from genomicdl.core.files import write_text_atomic
from genomicdl.core.sequence import reverse_complement
from genomicdl.interpret.attributions import one_hot

BASES = "ACGT"


@dataclass
class Motif:
    """A discovered motif: its PPM (length, 4), where it came from and its support."""

    name: str
    source: str  # "seqlets" or "filters"
    task: str
    ppm: np.ndarray
    sites: int
    cwm: np.ndarray | None = field(default=None, repr=False)  # mean contributions (length, 4)

    @property
    def consensus(self) -> str:
        return consensus(self.ppm)


def information(ppm: np.ndarray) -> np.ndarray:
    """Information content of each column in bits (uniform background)."""
    p = np.clip(ppm, 1e-9, 1)
    return 2 + (p * np.log2(p)).sum(axis=1)


def consensus(ppm: np.ndarray) -> str:
    """Most likely base per column, upper case when it has over half the mass, N when
    the column carries under 0.25 bit."""
    out = []
    for col, ic in zip(ppm, information(ppm)):
        base = BASES[int(np.argmax(col))]
        out.append("N" if ic < 0.25 else base if col.max() > 0.5 else base.lower())
    return "".join(out)


def reverse_complement_ppm(ppm: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(ppm[::-1, ::-1])


def ppm_from_counts(counts: np.ndarray, pseudocount: float = 0.5) -> np.ndarray:
    """(length, 4) counts -> PPM with a pseudocount per base."""
    counts = counts + pseudocount
    return counts / counts.sum(axis=1, keepdims=True)


def trim_span(score: np.ndarray, threshold: float) -> slice | None:
    """The span from the first to the last column whose score reaches ``threshold``."""
    keep = np.flatnonzero(score >= threshold)
    return slice(int(keep[0]), int(keep[-1]) + 1) if len(keep) else None


# ------------------------------------------------------------------ seqlets


@dataclass
class Seqlets:
    """High-attribution stretches: sequence index, start, contributions and bases of
    the extracted window (core plus flanks; beyond the sequence: zeros and N)."""

    seq: np.ndarray
    start: np.ndarray
    score: np.ndarray
    cwm: np.ndarray  # (n, 4, w)
    codes: np.ndarray  # (n, w)


def find_seqlets(
    contrib: np.ndarray,
    codes: np.ndarray,
    width: int,
    flank: int,
    max_per_sequence: int,
    min_fraction: float,
    max_total: int,
) -> Seqlets:
    """Greedy seqlet calling on (n, 4, L) contributions.

    The track of a sequence is the summed contribution per position; windows of
    ``width`` bp are taken best first, each suppressing its overlaps, while their sum
    reaches ``min_fraction`` of the median best window over all sequences. At most
    ``max_total`` seqlets are kept (the strongest).
    """
    n, _, length = contrib.shape
    width = min(width, length)
    track = contrib.sum(axis=1)
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(track, axis=1)], axis=1)
    windows = csum[:, width:] - csum[:, :-width]  # (n, L - width + 1)
    best = windows.max(axis=1)
    threshold = min_fraction * float(np.median(best[best > 0])) if (best > 0).any() else np.inf
    found: list[tuple[float, int, int]] = []
    for i in range(n):
        scores = windows[i].copy()
        for _ in range(max_per_sequence):
            j = int(np.argmax(scores))
            if scores[j] < threshold or scores[j] <= 0:
                break
            found.append((float(scores[j]), i, j))
            scores[max(0, j - width + 1) : j + width] = -np.inf
    found.sort(key=lambda t: (-t[0], t[1], t[2]))
    found = found[:max_total]
    w = width + 2 * flank
    padded_c = np.pad(contrib, ((0, 0), (0, 0), (flank, flank + w)))
    padded_s = np.pad(codes, ((0, 0), (flank, flank + w)), constant_values=4)
    seq = np.array([f[1] for f in found], dtype=np.int64)
    start = np.array([f[2] for f in found], dtype=np.int64)
    cols = start[:, None] + np.arange(w)[None, :]  # padded coordinates of start - flank ...
    cwm = padded_c[seq[:, None], :, cols].transpose(0, 2, 1) if len(found) else np.zeros((0, 4, w))
    sub = padded_s[seq[:, None], cols] if len(found) else np.zeros((0, w), dtype=np.uint8)
    return Seqlets(seq, start, np.array([f[0] for f in found]), cwm.astype(np.float32), sub.astype(np.uint8))


def similarity(cwm: np.ndarray, max_shift: int, both_strands: bool, block: int = 256) -> tuple[np.ndarray, ...]:
    """Best cosine similarity of every pair of (n, 4, w) contribution matrices over
    shifts up to ``max_shift`` (and the reverse complement). Returns similarity,
    shift and strand (1 = reverse) matrices; shift[i, j] = s means column t of j
    (reverse-complemented when strand is 1) lines up with column t + s of i."""
    x = torch.from_numpy(np.asarray(cwm, dtype=np.float32))
    x = x / x.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]
    kernels = [x, x.flip(1, 2)] if both_strands else [x]
    n = len(x)
    sim = np.zeros((n, n), dtype=np.float32)
    shift = np.zeros((n, n), dtype=np.int64)
    strand = np.zeros((n, n), dtype=np.int64)
    with torch.inference_mode():
        for lo in range(0, n, block):
            padded = F.pad(x[lo : lo + block], (max_shift, max_shift))
            per_strand = torch.stack([F.conv1d(padded, k) for k in kernels])  # (strands, b, n, shifts)
            best, where = per_strand.max(dim=-1)
            value, which = best.max(dim=0)
            sim[lo : lo + block] = value.numpy()
            strand[lo : lo + block] = which.numpy()
            shift[lo : lo + block] = torch.gather(where, 0, which[None]).squeeze(0).numpy() - max_shift
    return sim, shift, strand


def cluster_seqlets(
    seqlets: Seqlets,
    task: str,
    min_similarity: float,
    min_seqlets: int,
    max_shift: int,
    both_strands: bool,
    trim_fraction: float = 0.3,
) -> list[Motif]:
    """Average-linkage clusters of seqlets (1 - similarity), each aligned to its medoid
    and trimmed to the columns carrying at least ``trim_fraction`` of the peak
    contribution. Clusters of fewer than ``min_seqlets`` are dropped; motifs are named
    ``<task>_seqlets_<k>``, largest cluster first."""
    n = len(seqlets.seq)
    if n < max(min_seqlets, 2):
        return []
    sim, shift, strand = similarity(seqlets.cwm, max_shift, both_strands)
    dist = np.clip(1 - (sim + sim.T) / 2, 0, 2)
    np.fill_diagonal(dist, 0)
    labels = fcluster(linkage(squareform(dist, checks=False), method="average"), 1 - min_similarity, "distance")
    clusters = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    clusters = sorted((c for c in clusters if len(c) >= min_seqlets), key=lambda c: (-len(c), int(c[0])))
    motifs = []
    for members in clusters:
        motif = _aligned_motif(seqlets, members, sim, shift, strand, max_shift, trim_fraction)
        if motif is not None:
            ppm, cwm = motif
            motifs.append(Motif(f"{task}_seqlets_{len(motifs) + 1}", "seqlets", task, ppm, len(members), cwm))
    return motifs


def _aligned_motif(
    seqlets: Seqlets,
    members: np.ndarray,
    sim: np.ndarray,
    shift: np.ndarray,
    strand: np.ndarray,
    max_shift: int,
    trim_fraction: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    medoid = members[np.argmax(sim[np.ix_(members, members)].mean(axis=1))]
    w = seqlets.cwm.shape[2]
    frame = w + 2 * max_shift
    cwm_sum = np.zeros((4, frame))
    counts = np.zeros((frame, 4))
    cover = np.zeros(frame)
    for j in members:
        c, s = seqlets.cwm[j], seqlets.codes[j]
        if strand[medoid, j]:
            c, s = c[::-1, ::-1], reverse_complement(s)
        at = max_shift + int(shift[medoid, j])
        cwm_sum[:, at : at + w] += c
        counts[at : at + w] += np.eye(5)[s][:, :4]
        cover[at : at + w] += 1
    mean_cwm = cwm_sum / len(members)
    importance = np.abs(mean_cwm.sum(axis=0))
    importance[cover < len(members) / 2] = 0
    span = trim_span(importance, trim_fraction * importance.max()) if importance.max() > 0 else None
    if span is None or span.stop - span.start < 4:
        return None
    return ppm_from_counts(counts[span]), mean_cwm[:, span].T


# ------------------------------------------------------------------ first-layer filters


def first_convolution(model: nn.Module) -> tuple[nn.Conv1d, nn.BatchNorm1d | None] | None:
    """The first Conv1d reading the 4 one-hot channels, and the BatchNorm1d that
    directly follows it (if any), in module order."""
    modules = list(model.modules())
    for i, module in enumerate(modules):
        if isinstance(module, nn.Conv1d) and module.in_channels == 4 and module.groups == 1:
            after = modules[i + 1] if i + 1 < len(modules) else None
            norm = after if isinstance(after, nn.BatchNorm1d) and after.num_features == module.out_channels else None
            return module, norm
    return None


@torch.inference_mode()
def _activations(conv: nn.Conv1d, norm: nn.BatchNorm1d | None, codes: np.ndarray) -> torch.Tensor:
    """(n, filters, positions) first-layer activations of whole windows (no padding)."""
    h = F.conv1d(one_hot(codes), conv.weight, conv.bias, dilation=conv.dilation)
    if norm is not None:
        h = F.batch_norm(h, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0, norm.eps)
    return h


def filter_motifs(
    model: nn.Module,
    codes: np.ndarray,
    fraction: float,
    min_sites: int,
    trim_ic: float,
    batch_size: int = 256,
) -> list[Motif]:
    """Basset-style motifs of the first-layer filters: the bases under each position
    where a filter's (batch-normalised) activation reaches ``fraction`` of its maximum
    over ``codes``. Filters with fewer than ``min_sites`` such positions are dropped;
    PPMs are trimmed to the columns of at least ``trim_ic`` bits."""
    found = first_convolution(model)
    if found is None:
        return []
    conv, norm = found
    width = conv.kernel_size[0] * conv.dilation[0] - conv.dilation[0] + 1
    if conv.dilation[0] != 1 or codes.shape[1] < width:
        return []
    n_filters = conv.out_channels
    peak = torch.full((n_filters,), -torch.inf)
    for lo in range(0, len(codes), batch_size):
        peak = torch.maximum(peak, _activations(conv, norm, codes[lo : lo + batch_size]).amax(dim=(0, 2)))
    counts = np.zeros((n_filters, width, 5))
    sites = np.zeros(n_filters, dtype=np.int64)
    threshold = (fraction * peak.clamp_min(0))[None, :, None]
    for lo in range(0, len(codes), batch_size):
        chunk = codes[lo : lo + batch_size]
        act = _activations(conv, norm, chunk)
        seq, filt, pos = torch.nonzero((act >= threshold) & (act > 0), as_tuple=True)
        seq, filt, pos = seq.numpy(), filt.numpy(), pos.numpy()
        windows = chunk[seq[:, None], pos[:, None] + np.arange(width)[None, :]]  # (sites, width)
        np.add.at(counts, (filt[:, None], np.arange(width)[None, :], windows), 1)
        sites += np.bincount(filt, minlength=n_filters)
    digits = len(str(n_filters - 1))
    motifs = []
    for f in range(n_filters):
        if sites[f] < min_sites:
            continue
        ppm = ppm_from_counts(counts[f, :, :4])
        span = trim_span(information(ppm), trim_ic)
        if span is None or span.stop - span.start < 4:
            continue
        motifs.append(Motif(f"filter_{f:0{digits}d}", "filters", "", ppm[span], int(sites[f])))
    return motifs


# ------------------------------------------------------------------ JASPAR


@dataclass
class Reference:
    """A motif database: ids, names and PPMs (length, 4)."""

    release: str
    ids: list[str]
    names: list[str]
    ppms: list[np.ndarray]


def jaspar(release: str, collection: str, tax_group: Sequence[str] | None) -> Reference:
    """The latest version of every JASPAR matrix of a collection (optionally of some
    taxonomic groups), from pyjaspar's bundled database (no network)."""
    from pyjaspar import jaspardb

    releases = jaspardb().get_releases()
    if release not in releases:
        raise ConfigError(
            f"config key interpret.jaspar.release: {release} is not bundled with pyjaspar "
            f"(it has {', '.join(releases)})"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyjaspar warns about empty selections: we say it below
        found = jaspardb(release=release).fetch_motifs(
            collection=collection, tax_group=list(tax_group) if tax_group else None
        )
    if not found:
        raise ConfigError(
            f"config key interpret.jaspar: {release} has no {collection} matrices"
            + (f" of tax_group {', '.join(tax_group)}" if tax_group else "")
            + " (tax groups are e.g. fungi, insects, plants, vertebrates)"
        )
    found = sorted(found, key=lambda m: m.matrix_id)
    ppms = []
    for m in found:
        counts = np.array([m.counts[b] for b in BASES], dtype=np.float64).T
        ppms.append(counts / counts.sum(axis=1, keepdims=True))
    return Reference(release, [m.matrix_id for m in found], [m.name for m in found], ppms)


IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "U": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
         "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}  # fmt: skip


def iupac_ppm(code: str) -> np.ndarray:
    """A consensus in IUPAC letters (U read as T) -> PPM, uniform over each letter's bases."""
    ppm = np.zeros((len(code), 4))
    for i, letter in enumerate(code.upper()):
        if letter not in IUPAC:
            raise ConfigError(f"motif {code!r}: {letter!r} at position {i + 1} is not an IUPAC nucleotide code")
        ppm[i, [BASES.index(b) for b in IUPAC[letter]]] = 1 / len(IUPAC[letter])
    return ppm


def with_literature(ref: Reference, motifs: dict[str, str]) -> Reference:
    """``ref`` plus motifs from the literature given as IUPAC consensuses (name -> code),
    each id'd ``literature:<name>``, so TOMTOM ranks them among the JASPAR matrices."""
    names = sorted(motifs)
    return Reference(
        ref.release, ref.ids + [f"literature:{n}" for n in names], ref.names + names,
        ref.ppms + [iupac_ppm(motifs[n]) for n in names],
    )  # fmt: skip


MATCH_COLUMNS = [
    "motif",
    "source",
    "task",
    "sites",
    "length",
    "consensus",
    "rank",
    "jaspar_id",
    "jaspar_name",
    "p_value",
    "e_value",
    "q_value",
    "offset",
    "overlap",
    "strand",
]


def compare(motifs: Sequence[Motif], ref: Reference, top: int, both_strands: bool, threads: int = 1) -> pd.DataFrame:
    """The ``top`` best JASPAR matches of every motif (TOMTOM), one row each.

    offset: where the motif's first column falls in the (strand-oriented) JASPAR
    matrix; strand "-" means the motif matches the matrix's reverse complement.
    """
    if not motifs:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    from memelite import tomtom

    queries = [np.ascontiguousarray(m.ppm.T) for m in motifs]
    targets = [np.ascontiguousarray(p.T) for p in ref.ppms]
    p, _, offsets, overlaps, strands = tomtom(queries, targets, reverse_complement=both_strands, n_jobs=threads)
    rows = []
    for i, motif in enumerate(motifs):
        q = false_discovery_control(p[i], method="bh")
        order = np.lexsort((np.arange(len(targets)), p[i]))[:top]
        for rank, j in enumerate(order, start=1):
            rows.append(
                {
                    "motif": motif.name,
                    "source": motif.source,
                    "task": motif.task,
                    "sites": motif.sites,
                    "length": len(motif.ppm),
                    "consensus": motif.consensus,
                    "rank": rank,
                    "jaspar_id": ref.ids[j],
                    "jaspar_name": ref.names[j],
                    "p_value": float(p[i, j]),
                    "e_value": float(p[i, j] * len(targets)),
                    "q_value": float(q[j]),
                    "offset": int(offsets[i, j]),
                    "overlap": int(overlaps[i, j]),
                    "strand": "-" if strands[i, j] else "+",
                }
            )
    return pd.DataFrame(rows, columns=MATCH_COLUMNS)


def write_meme(motifs: Sequence[Motif], path: str | Path) -> None:
    """Motifs in MEME minimal format (readable by the MEME suite and memelite)."""
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "", "Background letter frequencies"]
    lines += ["A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for m in motifs:
        lines.append(f"MOTIF {m.name} {m.consensus}")
        lines.append(f"letter-probability matrix: alength= 4 w= {len(m.ppm)} nsites= {m.sites} E= 0")
        lines += [" ".join(f"{v:.6f}" for v in row) for row in m.ppm]
        lines.append("")
    write_text_atomic(path, "\n".join(lines))
