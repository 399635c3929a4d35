"""Genome datasets with peak or tile targets -> the on-disk store, a summary and the GC table.

Targets and blacklist are validated and renamed to the genome's
chromosomes; interval sets are sorted and merged with pybedtools (bedtools); windows
(around summits plus negatives, or tiles) are encoded chunk by chunk from spans of the
genome, labelled by the summits they hold, split, and streamed into the HDF5 store.
Tiles stream without holding windows in memory; peak windows hold ~24 bytes of metadata
per window (positions, kinds), never sequences. Signal targets: genomicdl.datasets.signal_dataset.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from genomicdl.config.specs import GenomeSpec
from genomicdl.core.errors import ConfigError, GenomicdlError, InputError
from genomicdl.core.files import (
    write_json_atomic,
    write_text_atomic,
)
from genomicdl.core.seeds import stable_seed
from genomicdl.datasets.negatives import GCSampler, dinucleotide_shuffle, flank_offsets, gc_bin, gc_fraction
from genomicdl.datasets.summary import DatasetReport, per_positive_count
from genomicdl.datasets.windows import IntervalSet, LeakageCheck, SplitAssigner, SummitIndex
from genomicdl.io.genome import ChromNames, Genome, IntervalStats, read_intervals
from genomicdl.io.store import KIND_CODE, StoreWriter
from genomicdl.kinds.targets import Target

if TYPE_CHECKING:
    import pybedtools

log = logging.getLogger(__name__)

CHUNK = 4096  # windows per processing chunk
MAX_SPAN = 1 << 20  # bp of genome read at once
MAX_GAP = 1 << 16  # a wider gap between windows starts a new span (64 KB: a read of this much
# costs less than one more loop turn; 8 KB cost 0.13 s CPU per 10^4 windows 15 kb apart)


@contextlib.contextmanager
def bed_tempdir(near: Path) -> Iterator[Path]:
    """A private temp dir for pybedtools beside the output, removed afterwards (pybedtools
    is pointed at it by ``_pybedtools`` when a step needs it, and pointed back here)."""
    near.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name lets the next run remove the folder of a killed run
    tmp = Path(tempfile.mkdtemp(prefix=f".{near.name}.bed-{os.getpid()}-", dir=near.parent))
    old = sys.modules["pybedtools"].get_tempdir() if "pybedtools" in sys.modules else tempfile.gettempdir()
    try:
        yield tmp
    finally:
        if "pybedtools" in sys.modules:
            sys.modules["pybedtools"].set_tempdir(old)
        shutil.rmtree(tmp, ignore_errors=True)


def _pybedtools(tmp: Path) -> Any:
    """pybedtools, imported on first use with its temporaries in ``tmp``: its import runs
    ~45 ``bedtools <tool> -h`` processes (0.3-0.5 s here), which tiles without a blacklist
    never need."""
    import pybedtools

    pybedtools.set_tempdir(str(tmp))
    return pybedtools


def window_stats(
    genome: Genome, chrom: str, starts: np.ndarray, window: int, codes: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(codes, GC fraction, N fraction) of windows at sorted ``starts`` on one chromosome.

    Nearby windows are served from one read span (at most MAX_SPAN bp, broken at gaps
    wider than MAX_GAP so sparse windows read little). Temporary memory is bounded by
    the span and the chunk of windows.
    """
    n = len(starts)
    out = np.empty((n, window), dtype=np.uint8)
    gaps = np.flatnonzero(np.diff(starts) > MAX_GAP) + 1
    i = 0
    while i < n:
        j = max(i + 1, int(np.searchsorted(starts, starts[i] + MAX_SPAN - window, side="right")))
        k = np.searchsorted(gaps, i, side="right")
        if k < len(gaps):
            j = min(j, int(gaps[k]))
        lo = int(starts[i])
        span = genome.codes(chrom, lo, int(starts[j - 1]) + window)
        out[i:j] = np.lib.stride_tricks.sliding_window_view(span, window)[starts[i:j] - lo]
        i = j
    gc, nfrac = gc_fraction(out)
    return (out if codes else None), gc, nfrac


Windows = Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray]]  # chrom, starts, kinds, extras


def _window_source(
    spec: GenomeSpec, files: Mapping[str, str], genome: Genome, summits: Any, names: ChromNames,
    splitter: SplitAssigner, tmp: Path, report: DatasetReport,
) -> tuple[Iterator, int, Any]:  # fmt: skip
    """(window chunks, the central core a summit must fall in, overlap coverage or None)
    of a genome dataset: tiles, or windows around peaks plus negatives; blacklist applied."""
    window, tasks = spec.window, list(spec.tasks)
    black_bed = None
    if "blacklist" in files:
        black_bed = read_blacklist(files["blacklist"], genome.sizes, spec.chrom_aliases, tmp, report)
    black = IntervalSet.from_bed(black_bed.fn) if black_bed is not None else None
    if spec.mode != "tiles":
        windows = _peak_windows(genome, summits, tasks, black_bed, black, splitter, window, spec, tmp, report)
        return windows, window // 4, None  # a summit in the central half
    windows = tiles(genome.sizes, names, spec.tiles, window, black, report, not splitter.by_chrom)
    coverage = None
    if spec.tiles["label"] == "overlap":
        coverage = _read_coverage(tasks, files, genome.sizes, names, spec.unknown_chroms, tmp)
        log.info("tiles labelled by overlap: at least %.0f%% of a bin covered", 100 * spec.tiles["min_overlap"])
    return windows, 0, coverage  # a summit anywhere in the bin


def _write_windows(ctx: ChunkContext, windows: Iterator, chroms: list[str], leakage: str) -> None:
    """Every chunk of windows into the store, then the leakage verdict; the store is
    closed whole or aborted."""
    progress = tqdm(unit=" windows", unit_scale=True, desc="encoding", mininterval=10, file=sys.stderr)
    try:
        for chrom, starts, kinds, extras in windows:
            _write_chunk(ctx, chrom, starts, kinds, extras, chroms.index(chrom))
            progress.update(len(starts))
        progress.close()
        leakage_verdict(ctx.leak, leakage, chroms)
        ctx.writer.close()
    except BaseException:
        ctx.writer.abort()
        raise


def build_genome_dataset(
    spec: GenomeSpec, files: Mapping[str, str], genome_path: str, out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Windows (around peaks plus negatives, or tiles) -> store, summary and GC table."""
    t0 = time.time()
    window = spec.window
    tasks = list(spec.tasks)
    seed = spec.seed
    report = DatasetReport(tasks)
    with Genome(genome_path) as genome, bed_tempdir(Path(out_store)) as tmp:
        chroms = list(genome.sizes)
        names = ChromNames(chroms, spec.chrom_aliases)
        splitter = SplitAssigner(spec.split, chroms, names, seed)
        summits = _read_summits(tasks, files, genome.sizes, names, spec.unknown_chroms, report)
        if names.renamed:
            log.info(
                "chromosome names reconciled with the genome: %s",
                ", ".join(f"{a}->{b}" for a, b in sorted(names.renamed.items())),
            )
        windows, core, coverage = _window_source(spec, files, genome, summits, names, splitter, tmp, report)
        attrs = {"dataset_kind": "genome", "mode": spec.mode, "split": splitter.describe()}
        writer = StoreWriter(
            out_store, window=window, target=Target("binary", tuple(tasks)), chroms=chroms, alphabet="dna", attrs=attrs
        )
        ctx = ChunkContext(
            genome=genome, summits=summits, core=core, window=window, max_n=spec.max_n_fraction, seed=seed,
            splitter=splitter, leak=LeakageCheck(), writer=writer, report=report, coverage=coverage,
            min_covered=spec.tiles["min_overlap"] * window,
        )  # fmt: skip
        leak = ctx.leak
        _write_windows(ctx, windows, chroms, spec.split["leakage"])
    summary = {
        "dataset_kind": "genome",
        "mode": spec.mode,
        "window": window,
        "tasks": tasks,
        "n_windows": writer.n,
        "negatives": dict(spec.negatives) if spec.mode == "peaks" else None,
        "split": splitter.describe(),
        "chromosomes_renamed": names.renamed,
        "leakage_overlaps": leak.overlaps,
        **report.summary(),
        "seconds": round(time.time() - t0, 2),
    }
    report.log_counts(log)
    write_text_atomic(out_gc, report.gc_table())
    write_json_atomic(out_summary, summary)
    log.info("wrote %d windows to %s in %.1f s", writer.n, out_store, time.time() - t0)
    return summary


def _read_summits(
    tasks: list[str],
    files: Mapping[str, str],
    sizes: Mapping[str, int],
    names: ChromNames,
    unknown: str,
    report: DatasetReport,
) -> SummitIndex:
    """Every task's summits, validated and renamed to the genome's chromosomes."""
    summits = SummitIndex(len(tasks))
    for i, task in enumerate(tasks):
        path = files[f"target.{task}"]
        stats = IntervalStats()
        by_chrom: dict[str, list[int]] = {}
        strands: dict[str, list[int]] = {}
        for chrom, s, _, strand in read_intervals(path, sizes, names, unknown, stats, with_strand=True):
            by_chrom.setdefault(chrom, []).append(s)
            strands.setdefault(chrom, []).append(strand)
        if stats.kept == 0:
            raise InputError(path, f"no usable records for task {task}")
        for chrom, positions in by_chrom.items():
            summits.add(i, chrom, np.asarray(positions, dtype=np.int64), np.asarray(strands[chrom], dtype=np.int8))
        report.drop(f"{task}: unknown chromosome", stats.dropped_unknown_chrom)
        report.drop(f"{task}: past chromosome end", stats.dropped_out_of_bounds)
        log.info("task %s: %d records from %s", task, stats.kept, path)
    return summits


def _read_coverage(
    tasks: list[str], files: Mapping[str, str], sizes: Mapping[str, int], names: ChromNames, unknown: str, tmp: Path
) -> list[IntervalSet]:
    """Every task's peak intervals, merged (validated as for the summits, which counted
    any drops)."""
    coverage = []
    for task in tasks:
        records = read_intervals(files[f"target.{task}"], sizes, names, unknown, points=False)
        merged = _merged_bed(records, tmp / f"peaks.{task}.raw.bed", tmp / f"peaks.{task}.bed")
        coverage.append(IntervalSet.from_bed(merged.fn) if merged is not None else IntervalSet())
    return coverage


def _merged_bed(records: Iterable[tuple[str, int, int]], raw: Path, out: Path) -> pybedtools.BedTool | None:
    """Intervals written to ``raw``, then sorted and merged by pybedtools into ``out``;
    None when there are none."""
    n = 0
    with open(raw, "w") as fh:
        for chrom, s, e in records:
            fh.write(f"{chrom}\t{s}\t{e}\n")
            n += 1
    return _pybedtools(raw.parent).BedTool(str(raw)).sort().merge().saveas(str(out)) if n else None


def tiles(
    sizes: Mapping[str, int],
    names: ChromNames,
    tiles_cfg: Mapping[str, Any],
    window: int,
    black: IntervalSet | None,
    report: DatasetReport,
    random_split: bool = False,
) -> Windows:
    """Fixed bins over the chosen chromosomes (full bins only), minus the blacklist."""
    wanted = list(sizes)
    if tiles_cfg["chroms"] is not None:
        wanted = []
        for name in tiles_cfg["chroms"]:
            hit = names.resolve(name)
            if hit is None:
                raise ConfigError(f"config key tiles.chroms: chromosome {name!r} is not in the genome")
            wanted.append(hit)
    stride = int(tiles_cfg["stride"] or window)
    log.info("tiles: bins of %d bp, stride %d, over %d chromosomes", window, stride, len(wanted))
    if stride < window and random_split:
        log.warning(
            "tiles overlap (stride %d < window %d) and the split is random: overlapping windows are kept in one "
            "split, so whole chromosomes go to one split; hold out chromosomes instead",
            stride, window,
        )  # fmt: skip
    for chrom in wanted:
        for starts in _tile_starts(sizes[chrom], window, stride):
            if black is not None:
                keep = ~black.overlaps(chrom, starts, starts + window)
                report.drop("tiles overlapping the blacklist", int((~keep).sum()))
                starts = starts[keep]
            if len(starts):
                yield chrom, starts, np.full(len(starts), KIND_CODE["tile"], np.uint8), np.zeros(len(starts), np.int64)


def _tile_starts(size: int, window: int, stride: int) -> Iterator[np.ndarray]:
    """Starts of full windows every ``stride`` bp along a chromosome, chunk by chunk."""
    last = size - window
    for lo in range(0, last + 1, CHUNK * stride):
        yield np.arange(lo, min(last, lo + (CHUNK - 1) * stride) + 1, stride, dtype=np.int64)


def _positive_starts(
    sizes: Mapping[str, int], summits: SummitIndex, tasks: list[str], window: int, black: IntervalSet | None,
    report: DatasetReport,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Starts of the windows centred on every task's summits, per chromosome, unique and
    sorted; windows past a chromosome end or over the blacklist are dropped and counted."""
    half = window // 2
    positives: dict[str, np.ndarray] = {}
    for chrom in sizes:
        parts = []
        for t, task in enumerate(tasks):
            lo = summits.positions(t, chrom) - half
            inside = (lo >= 0) & (lo + window <= sizes[chrom])
            report.drop(f"{task}: window past a chromosome end", int((~inside).sum()))
            parts.append(lo[inside])
        starts = np.unique(np.concatenate(parts))
        if black is not None and len(starts):
            keep = ~black.overlaps(chrom, starts, starts + window)
            report.drop("positives overlapping the blacklist", int((~keep).sum()))
            starts = starts[keep]
        if len(starts):
            positives[chrom] = starts
    n_pos = sum(len(s) for s in positives.values())
    if n_pos == 0:
        raise GenomicdlError("no positive windows left after filtering; check targets and blacklist")
    log.info("%d positive windows of %d bp", n_pos, window)
    return positives


def _excluded(
    positives: Mapping[str, np.ndarray], window: int, black_bed: pybedtools.BedTool | None, tmp: Path
) -> IntervalSet:
    """Positives and blacklist merged (pybedtools): where no negative may fall."""
    pos_bed = tmp / "positives.bed"
    with open(pos_bed, "w") as fh:
        for chrom, starts in positives.items():
            fh.write("".join(f"{chrom}\t{s}\t{s + window}\n" for s in starts.tolist()))
    pos_tool = _pybedtools(tmp).BedTool(str(pos_bed))
    merged = pos_tool.cat(black_bed, postmerge=True) if black_bed is not None else pos_tool.sort().merge()
    return IntervalSet.from_bed(merged.saveas(str(tmp / "exclude.bed")).fn)


def _peak_windows(
    genome: Genome,
    summits: SummitIndex,
    tasks: list[str],
    black_bed: pybedtools.BedTool | None,
    black: IntervalSet | None,
    splitter: SplitAssigner,
    window: int,
    spec: GenomeSpec,
    tmp: Path,
    report: DatasetReport,
) -> Windows:
    """Positive windows around summits (minus the blacklist) and their negatives, per
    chromosome in genome order, sorted by start."""
    sizes = genome.sizes
    positives = _positive_starts(sizes, summits, tasks, window, black, report)
    exclude = _excluded(positives, window, black_bed, tmp)
    neg_cfg, seed = spec.negatives, spec.seed
    strategy = neg_cfg["strategy"]
    per_positive = float(neg_cfg["per_positive"])
    if strategy == "gc_matched":
        negatives = _gc_matched(
            genome, positives, exclude, splitter, window, neg_cfg, spec.max_n_fraction, seed, report
        )
    elif strategy == "flank":
        negatives = _flanks(sizes, positives, exclude, window, per_positive, seed)
    else:
        negatives = _shuffles(positives, per_positive, seed)
    empty = np.empty(0, np.int64)
    for chrom in sizes:
        pos = positives.get(chrom, empty)
        neg_starts, neg_kinds, neg_extras = negatives.get(chrom, (empty, empty, empty))
        starts = np.concatenate([pos, neg_starts])
        kinds = np.concatenate([np.full(len(pos), KIND_CODE["positive"]), neg_kinds]).astype(np.uint8)
        extras = np.concatenate([np.zeros(len(pos), np.int64), neg_extras])
        order = np.lexsort((extras, kinds, starts))
        for lo in range(0, len(order), CHUNK):
            sel = order[lo : lo + CHUNK]
            yield chrom, starts[sel], kinds[sel], extras[sel]


NegativeRows = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # chrom -> starts, kinds, extras


def _gc_matched(
    genome: Genome,
    positives: Mapping[str, np.ndarray],
    exclude: IntervalSet,
    splitter: SplitAssigner,
    window: int,
    neg_cfg: Mapping[str, Any],
    max_n: float,
    seed: int,
    report: DatasetReport,
) -> NegativeRows:
    """Background windows whose GC histogram matches the positives', per split stratum."""
    bins = int(neg_cfg["gc_bins"])
    chroms = list(genome.sizes)
    counts: dict[tuple[int, int], int] = {}
    for chrom, starts in positives.items():
        _, gc, nfrac = window_stats(genome, chrom, starts, window, codes=False)
        stratum = int(splitter.strata(np.array([chroms.index(chrom)]))[0])
        for b, n in enumerate(np.bincount(gc_bin(gc[nfrac <= max_n], bins), minlength=bins).tolist()):
            if n:
                counts[(stratum, b)] = counts.get((stratum, b), 0) + n
    need = {cell: round(n * float(neg_cfg["per_positive"])) for cell, n in counts.items()}
    sampler = GCSampler(need, bins, stable_seed("gc_matched", seed))
    n_candidates = 0
    for c, chrom in enumerate(chroms):
        stratum = splitter.strata(np.array([c]))
        for starts in _tile_starts(genome.sizes[chrom], window, window):
            starts = starts[~exclude.overlaps(chrom, starts, starts + window)]
            if not len(starts):
                continue
            _, gc, nfrac = window_stats(genome, chrom, starts, window, codes=False)
            ok = nfrac <= max_n
            n_candidates += int(ok.sum())
            payload = np.stack([np.full(int(ok.sum()), c, np.int64), starts[ok]], axis=1)
            sampler.offer(np.repeat(stratum, len(payload)), gc_bin(gc[ok], bins), payload)
    picked, shortfall = sampler.result()
    rows = np.concatenate(picked) if picked else np.empty((0, 2), dtype=np.int64)
    if shortfall:
        report.drop("gc_matched negatives no GC bin could supply", shortfall)
        log.warning("gc_matched: %d negatives short (too few background windows in some GC bins)", shortfall)
    log.info(
        "gc_matched: %d negatives from %d candidate windows (%d needed)", len(rows), n_candidates, sum(need.values())
    )
    out: NegativeRows = {}
    for c in np.unique(rows[:, 0]).tolist():
        starts = np.sort(rows[rows[:, 0] == c, 1])
        out[chroms[c]] = (starts, np.full(len(starts), KIND_CODE["gc_matched"]), np.zeros(len(starts), np.int64))
    return out


def _quotas(per_positive: float, seed: int, strategy: str, chrom: str, starts: np.ndarray) -> np.ndarray:
    """Negatives per positive: the integer part, plus one at the fractional part's rate."""
    if per_positive == int(per_positive):
        return np.full(len(starts), int(per_positive))
    return np.array([per_positive_count(per_positive, strategy, seed, chrom, s) for s in starts.tolist()])


def _flanks(
    sizes: Mapping[str, int],
    positives: Mapping[str, np.ndarray],
    exclude: IntervalSet,
    window: int,
    per_positive: float,
    seed: int,
) -> NegativeRows:
    """Windows shifted next to each positive, nearest first, overlapping no positive."""
    offsets = np.asarray(flank_offsets(window, math.ceil(per_positive)), dtype=np.int64)
    out: NegativeRows = {}
    for chrom, starts in positives.items():
        cand = starts[:, None] + offsets[None, :]
        flat = cand.ravel()
        ok = (flat >= 0) & (flat + window <= sizes[chrom])
        ok[ok] = ~exclude.overlaps(chrom, flat[ok], flat[ok] + window)
        ok = ok.reshape(cand.shape)
        take = ok & (np.cumsum(ok, axis=1) <= _quotas(per_positive, seed, "flank", chrom, starts)[:, None])
        chosen = np.unique(cand[take])
        out[chrom] = (chosen, np.full(len(chosen), KIND_CODE["flank"]), np.zeros(len(chosen), np.int64))
    return out


def _shuffles(positives: Mapping[str, np.ndarray], per_positive: float, seed: int) -> NegativeRows:
    """Dinucleotide shuffles of each positive: rows carry the parent's start and a rank."""
    out: NegativeRows = {}
    for chrom, starts in positives.items():
        quota = _quotas(per_positive, seed, "shuffle", chrom, starts)
        parent = np.repeat(starts, quota)
        rank = np.concatenate([np.arange(q) for q in quota.tolist()]) if len(quota) else np.empty(0, np.int64)
        out[chrom] = (parent, np.full(len(parent), KIND_CODE["shuffle"]), rank.astype(np.int64))
    return out


def read_blacklist(
    path: str, sizes: Mapping[str, int], aliases: Mapping[str, str], tmp: Path, report: DatasetReport
) -> pybedtools.BedTool | None:
    """Sorted, merged blacklist (pybedtools). Records on chromosomes the genome lacks
    cannot matter: they are counted and ignored."""
    names = ChromNames(list(sizes), aliases)
    stats = IntervalStats()
    records = read_intervals(path, sizes, names, "drop", stats, points=False)
    merged = _merged_bed(records, tmp / "blacklist.raw.bed", tmp / "blacklist.bed")
    report.drop("blacklist records on chromosomes absent from the genome", stats.dropped_unknown_chrom)
    report.drop("blacklist records past a chromosome end", stats.dropped_out_of_bounds)
    if stats.dropped_unknown_chrom:
        log.info("blacklist: %d records on chromosomes absent from the genome ignored", stats.dropped_unknown_chrom)
    return merged


@dataclass
class ChunkContext:
    """What every chunk of a genome dataset is encoded with (constant over the run)."""

    genome: Genome
    summits: SummitIndex
    core: int
    window: int
    max_n: float
    seed: int
    splitter: SplitAssigner
    leak: LeakageCheck
    writer: StoreWriter
    report: DatasetReport
    coverage: list[IntervalSet] | None = None
    min_covered: float = 0.0


def _write_chunk(
    ctx: ChunkContext, chrom: str, starts: np.ndarray, kinds: np.ndarray, extras: np.ndarray, chrom_idx: int
) -> None:
    """Encode, label, filter and split one chunk of sorted windows of a chromosome.
    Labels: a task's summit in the window's core, or (``coverage``, one set per task) at
    least ``min_covered`` bases of the window under the task's peaks."""
    codes, gc, nfrac = window_stats(ctx.genome, chrom, starts, ctx.window)
    if ctx.coverage is not None:
        covered = np.stack([peaks.covered(chrom, starts, starts + ctx.window) for peaks in ctx.coverage], axis=1)
        labels = (covered >= ctx.min_covered).astype(np.uint8)
    else:
        labels = (ctx.summits.counts(chrom, starts + ctx.core, starts + ctx.window - ctx.core) > 0).astype(np.uint8)
    # the strand of the peak a window is centred on (shuffles keep their parent's); others 0
    centred = (kinds == KIND_CODE["positive"]) | (kinds == KIND_CODE["shuffle"])
    strand = np.where(centred, ctx.summits.strand_at(chrom, starts + ctx.window // 2), 0).astype(np.int8)
    shuffled = np.flatnonzero(kinds == KIND_CODE["shuffle"])
    for i in shuffled:
        rng = np.random.default_rng(stable_seed("dinuc", ctx.seed, chrom, int(starts[i]), int(extras[i])))
        codes[i] = dinucleotide_shuffle(codes[i], rng)
    labels[shuffled] = 0
    keep = nfrac <= ctx.max_n
    ctx.report.drop(f"windows with more than {ctx.max_n:.0%} N", int((~keep).sum()))
    cidx = np.full(len(starts), chrom_idx, dtype=np.uint16)
    split = ctx.splitter.assign(cidx.astype(np.int64), starts, starts + ctx.window)
    ctx.leak.feed(cidx, starts, starts + ctx.window, split)
    if not keep.all():
        codes, labels, split, cidx, starts, gc, kinds, strand = (
            x[keep] for x in (codes, labels, split, cidx, starts, gc, kinds, strand)
        )
    ctx.writer.append(
        codes, labels=labels, split=split, chrom=cidx, start=starts, gc=gc, kind=kinds, strand=strand
    )
    ctx.report.add(split, labels, gc, kinds)


def leakage_verdict(leak: LeakageCheck, policy: str, chroms: list[str]) -> None:
    if not leak.overlaps:
        log.info("leakage check: no window overlaps a window of another split")
        return
    examples = "; ".join(f"{chroms[c]}:{s} ({a} vs {b})" for c, s, a, b in leak.examples)
    message = f"leakage: {leak.overlaps} windows overlap a window of another split, e.g. {examples}"
    if policy == "fail":
        raise GenomicdlError(message + " (set split.leakage: warn to continue)")
    log.warning(message + ("" if policy == "warn" else " (kept: leakage drop applies to tables only)"))
