"""Genome datasets with signal targets (a ``signal:`` key): windows -> sequence + binned
or per-base signal, streamed into the store.

Windows are tiles over chosen chromosomes (stride = the output length by default) or
centred on the regions of a BED. Each window has an input of ``window`` bp and a
centred output of ``signal.output_length`` bp (e.g. 2,114 -> 1,000 as in ChromBPNet);
the output is cut into bins of ``signal.bin_size`` bp (sum or mean per bin; 1 = per base,
the output length = one total per track). Labels are regression labels of shape
(n, tracks * bins), track-major, float32, with the layout in the store attribute
``signal`` and in the task names (genomicdl.kinds.signal_layout). Training windows may get
``jitter_copies`` extra rows shifted by up to ``jitter`` bp (seeded); reverse-complement
augmentation happens in the engine, which flips the bins and swaps stranded pairs.

Memory: one chunk of windows (CHUNK rows) and one read span of signal at a time.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from genomicdl.config.specs import SignalSpec
from genomicdl.core.errors import ConfigError, GenomicdlError
from genomicdl.core.files import write_json_atomic, write_text_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.datasets.genome_dataset import CHUNK, bed_tempdir, leakage_verdict, read_blacklist, tiles, window_stats
from genomicdl.datasets.signal_mask import MaskCounts, WindowMask, describe_rule
from genomicdl.datasets.summary import DatasetReport
from genomicdl.datasets.windows import IntervalSet, LeakageCheck, SplitAssigner
from genomicdl.io.bigwig import SignalReader, bin_values
from genomicdl.io.genome import ChromNames, Genome, IntervalStats, read_intervals
from genomicdl.io.store import KIND_CODE, SPLITS, StoreWriter
from genomicdl.kinds.signal_layout import profile_tasks
from genomicdl.kinds.targets import Target

log = logging.getLogger(__name__)


def geometry(spec: SignalSpec) -> dict[str, int]:
    """Input, output, offset and bins of a signal dataset, checked."""
    sig, window = spec.signal, spec.window
    out_len = int(sig["output_length"] or window)
    bin_size = int(sig["bin_size"] or out_len)
    if out_len > window or (window - out_len) % 2:
        raise ConfigError(
            f"config key signal.output_length: {out_len} must be at most the window ({window}) and differ from it "
            "by an even number of bases (the output is centred)"
        )
    if out_len % bin_size:
        raise ConfigError(f"config key signal.bin_size: {bin_size} must divide the output length {out_len}")
    return {"input": window, "output": out_len, "offset": (window - out_len) // 2, "bin_size": bin_size,
            "bins": out_len // bin_size}  # fmt: skip


def build_signal_dataset(
    spec: SignalSpec, files: Mapping[str, str], genome_path: str, out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Windows over the genome with their signal -> store, summary and GC table."""
    t0 = time.time()
    sig, geo, seed = spec.signal, geometry(spec), spec.seed
    tracks = list(spec.tasks)
    tasks = profile_tasks(tracks, geo["bins"])
    report = DatasetReport(tracks)
    with Genome(genome_path) as genome, bed_tempdir(Path(out_store)) as tmp:
        chroms = list(genome.sizes)
        names = ChromNames(chroms, spec.chrom_aliases)
        reader = SignalReader(
            [files[f"target.{t}"] for t in tracks], genome.sizes, names,
            control=files.get("signal.control"), nan=sig["nan"], negative=sig["negative"],
        )  # fmt: skip
        splitter = SplitAssigner(spec.split, chroms, names, seed)
        black = None
        if "blacklist" in files:
            bed = read_blacklist(files["blacklist"], genome.sizes, spec.chrom_aliases, tmp, report)
            black = IntervalSet.from_bed(bed.fn) if bed is not None else None
        # the blacklist masks windows (kept in the store, left out of loss and metrics) instead of dropping them
        mask = WindowMask(reader, genome.sizes, sig["mask"], black)
        counts = MaskCounts(SPLITS)
        if "signal.regions" in files:
            windows = _region_windows(files["signal.regions"], genome.sizes, names, spec, None, report)
            mode = "regions"
        else:
            tiles_cfg = dict(spec.tiles, stride=spec.tiles["stride"] or geo["output"])
            windows = tiles(genome.sizes, names, tiles_cfg, geo["input"], None, report, not splitter.by_chrom)
            mode = "tiles"
        rule = describe_rule(sig["mask"], black is not None, sig["nan"])
        layout = {"tracks": tracks, **geo, "stat": sig["stat"], "layout": "track-major", "mode": mode,
                  "control": "signal.control" in files, "mask": rule,
                  "track_weights": sig.get("track_weights", "equal")}  # fmt: skip
        attrs = {"dataset_kind": "genome", "mode": mode, "split": splitter.describe(), "signal": layout}
        target = Target("regression", tuple(tasks), loss=spec.loss)
        writer = StoreWriter(out_store, window=geo["input"], target=target, chroms=chroms, attrs=attrs, mask=True)
        sink = _Sink(writer, report, mask, counts)
        leak = LeakageCheck()
        try:
            progress = tqdm(unit=" windows", unit_scale=True, desc="signal", mininterval=10, file=sys.stderr)
            for chrom, starts, *_ in windows:
                c = chroms.index(chrom)
                split = _write(sink, genome, reader, chrom, c, starts, splitter, leak, geo, sig, spec)
                _write_jitter(sink, genome, reader, chrom, c, starts[split == 0], geo, sig, spec, seed)
                progress.update(len(starts))
            progress.close()
            leakage_verdict(leak, spec.split["leakage"], chroms)
            if int(report.rows.sum()) == 0:
                raise GenomicdlError("no signal windows left; check tiles.chroms, signal.regions and the blacklist")
            writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            reader.close()
    summary = {"dataset_kind": "genome", "mode": mode, "signal": layout, "tasks": tasks, "n_windows": writer.n,
               "split": splitter.describe(), "chromosomes_renamed": names.renamed, "leakage_overlaps": leak.overlaps,
               **report.summary(), "mask": {"rule": rule, "windows": counts.summary(),
               "uncovered_bp": mask.uncovered_bp}, "seconds": round(time.time() - t0, 2)}  # fmt: skip
    report.log_counts(log)
    write_text_atomic(out_gc, report.gc_table())
    write_json_atomic(out_summary, summary)
    log.info("wrote %d signal windows (%d tasks) to %s in %.1f s", writer.n, len(tasks), out_store, time.time() - t0)
    return summary


def _labels(reader: SignalReader, chrom: str, starts: np.ndarray, geo: Mapping[str, int], stat: str) -> np.ndarray:
    """(n, tracks * bins) labels of windows at sorted input ``starts``."""
    values = reader.windows(chrom, starts + geo["offset"], geo["output"])
    return bin_values(values, geo["bin_size"], stat).reshape(len(starts), -1).astype(np.float32)


def _write(sink, genome, reader, chrom, c, starts, splitter, leak, geo, sig, spec) -> np.ndarray:
    """Encode, label, split and write one chunk of windows; returns their split codes."""
    codes, gc, nfrac = window_stats(genome, chrom, starts, geo["input"])
    labels = _labels(reader, chrom, starts, geo, sig["stat"])
    cidx = np.full(len(starts), c, np.uint16)
    split = splitter.assign(cidx.astype(np.int64), starts, starts + geo["input"])
    leak.feed(cidx, starts, starts + geo["input"], split)
    keep = nfrac <= spec.max_n_fraction
    sink.report.drop(f"windows with more than {spec.max_n_fraction:.0%} N", int((~keep).sum()))
    sink.append(chrom, geo, codes[keep], labels[keep], split[keep], cidx[keep], starts[keep], gc[keep])
    return np.where(keep, split, 255)


def _write_jitter(sink, genome, reader, chrom, c, starts, geo, sig, spec, seed) -> None:
    """``jitter_copies`` shifted copies of training windows (inside the chromosome)."""
    copies, jitter = int(sig["jitter_copies"]), int(sig["jitter"])
    if not copies or not jitter or not len(starts):
        return
    rng = np.random.default_rng(stable_seed("jitter", seed, chrom, int(starts[0])))
    size = genome.sizes[chrom]
    for _ in range(copies):
        moved = np.clip(starts + rng.integers(-jitter, jitter + 1, len(starts)), 0, size - geo["input"])
        moved = np.sort(moved)
        codes, gc, nfrac = window_stats(genome, chrom, moved, geo["input"])
        keep = nfrac <= spec.max_n_fraction
        labels = _labels(reader, chrom, moved, geo, sig["stat"])
        n = int(keep.sum())
        cidx = np.full(n, c, np.uint16)
        sink.append(chrom, geo, codes[keep], labels[keep], np.zeros(n, np.uint8), cidx, moved[keep], gc[keep])


class _Sink:
    """Where windows go: the store (with their mask bits), the report and the mask counts."""

    def __init__(self, writer: StoreWriter, report: DatasetReport, mask: WindowMask, counts: MaskCounts) -> None:
        self.writer, self.report, self.mask, self.counts = writer, report, mask, counts

    def append(self, chrom, geo, codes, labels, split, cidx, starts, gc) -> None:
        kind = np.full(len(starts), KIND_CODE["tile"], np.uint8)
        bits = self.mask.bits(chrom, starts, geo, labels)
        self.writer.append(codes, labels=labels, split=split, chrom=cidx, start=starts, gc=gc, kind=kind, mask=bits)
        self.counts.add(bits, split)
        totals = np.nan_to_num(labels.reshape(len(labels), len(self.report.tasks), -1).sum(-1))
        self.report.add(split, (totals > 0).astype(np.uint8), gc, kind)  # "positive": any signal in the output


def _region_windows(
    path: str, sizes: Mapping[str, int], names: ChromNames, spec: SignalSpec, black: IntervalSet | None,
    report: DatasetReport,
) -> Iterator[tuple[str, np.ndarray]]:
    """Windows centred on the regions of a BED (summit column or midpoint), sorted per
    chromosome; windows past a chromosome's end or on the blacklist are dropped and counted."""
    stats = IntervalStats()
    by_chrom: dict[str, list[int]] = {}
    for chrom, s, _ in read_intervals(path, sizes, names, spec.unknown_chroms, stats):
        by_chrom.setdefault(chrom, []).append(s - spec.window // 2)
    report.drop("regions on chromosomes absent from the genome", stats.dropped_unknown_chrom)
    report.drop("regions past a chromosome end", stats.dropped_out_of_bounds)
    window = spec.window
    for chrom in sizes:
        if chrom not in by_chrom:
            continue
        starts = np.unique(np.asarray(by_chrom[chrom], np.int64))
        inside = (starts >= 0) & (starts + window <= sizes[chrom])
        report.drop("region windows past a chromosome end", int((~inside).sum()))
        starts = starts[inside]
        if black is not None and len(starts):
            keep = ~black.overlaps(chrom, starts, starts + window)
            report.drop("region windows overlapping the blacklist", int((~keep).sum()))
            starts = starts[keep]
        for lo in range(0, len(starts), CHUNK):
            yield chrom, starts[lo : lo + CHUNK]
