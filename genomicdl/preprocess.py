"""The preprocess stage: inputs of one dataset -> the on-disk store, a summary and the
GC table. Genome datasets go through BED files on disk (pybedtools with the bedtools
binary) and are encoded chunk by chunk; tables are streamed twice (scan, then encode).
Memory does not grow with the number of windows beyond a few bytes of metadata per row.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pybedtools

from genomicdl.config import iter_sources
from genomicdl.encode import KIND_CODE, SPLIT_CODE, SPLITS, StoreWriter
from genomicdl.errors import ConfigError, GenomicdlError, InputError
from genomicdl.files import write_json_atomic, write_text_atomic
from genomicdl.genome import CODE_N, ChromNames, Genome, IntervalStats, read_intervals, to_codes
from genomicdl.negatives import GCSampler, dinucleotide_shuffle, flank_offsets, gc_bin, gc_fraction, stable_seed
from genomicdl.tables import iter_records, tasks_of
from genomicdl.windows import LeakageCheck, SplitAssigner

log = logging.getLogger(__name__)

CHUNK = 65536  # windows per processing chunk
MAX_SPAN = 4_000_000  # bp of genome fetched at once
GC_BINS_REPORT = 20


@contextlib.contextmanager
def _bed_tempdir(near: Path) -> Iterator[Path]:
    """A private temp dir for pybedtools beside the output, removed afterwards."""
    near.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{near.name}.bed-", dir=near.parent))
    old = pybedtools.get_tempdir()
    pybedtools.set_tempdir(str(tmp))
    try:
        yield tmp
    finally:
        pybedtools.set_tempdir(old)
        shutil.rmtree(tmp, ignore_errors=True)


def _read_bed_chunks(path: Path, names: list[str]) -> Iterator[pd.DataFrame]:
    if path.stat().st_size == 0:
        return
    yield from pd.read_csv(
        path, sep="\t", header=None, names=names, chunksize=CHUNK, dtype={names[0]: str}, keep_default_na=False
    )


def fetch_windows(genome: Genome, chrom: np.ndarray, start: np.ndarray, window: int) -> np.ndarray:
    """Codes of windows (sorted by chrom then start) in one (n, window) array.

    Consecutive windows are served from one fetched span of at most MAX_SPAN bp.
    """
    out = np.empty((len(start), window), dtype=np.uint8)
    offsets = np.arange(window, dtype=np.int64)
    i, n = 0, len(start)
    while i < n:
        j = i + 1
        while j < n and chrom[j] == chrom[i] and start[j] + window - start[i] <= MAX_SPAN:
            j += 1
        lo, hi = int(start[i]), int(start[j - 1]) + window
        span = genome.codes(str(chrom[i]), lo, hi)
        out[i:j] = span[(start[i:j] - lo)[:, None] + offsets]
        i = j
    return out


class _Report:
    """Counts and GC histograms accumulated while windows are written."""

    def __init__(self, tasks: list[str]) -> None:
        self.tasks = tasks
        self.rows = np.zeros(len(SPLITS), dtype=np.int64)
        self.pos = np.zeros((len(SPLITS), len(tasks)), dtype=np.int64)
        self.any_pos = np.zeros(len(SPLITS), dtype=np.int64)
        self.gc = np.zeros((len(SPLITS), 2, GC_BINS_REPORT), dtype=np.int64)
        self.kinds: dict[str, int] = {}
        self.dropped: dict[str, int] = {}

    def add(self, split: np.ndarray, labels: np.ndarray, gc: np.ndarray, kind: np.ndarray) -> None:
        positive = labels.any(axis=1)
        b = gc_bin(gc, GC_BINS_REPORT)
        for k in range(len(SPLITS)):
            sel = split == k
            self.rows[k] += sel.sum()
            self.pos[k] += labels[sel].sum(axis=0, dtype=np.int64)
            self.any_pos[k] += positive[sel].sum()
            np.add.at(self.gc[k, 0], b[sel & positive], 1)
            np.add.at(self.gc[k, 1], b[sel & ~positive], 1)
        for code in np.unique(kind):
            name = list(KIND_CODE)[code]
            self.kinds[name] = self.kinds.get(name, 0) + int((kind == code).sum())

    def drop(self, reason: str, count: int) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

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
        lines = ["split\tgc_bin_low\tgc_bin_high\tpositives\tnegatives"]
        for k, name in enumerate(SPLITS):
            for b in range(GC_BINS_REPORT):
                lines.append(
                    f"{name}\t{b / GC_BINS_REPORT:.2f}\t{(b + 1) / GC_BINS_REPORT:.2f}\t"
                    f"{self.gc[k, 0, b]}\t{self.gc[k, 1, b]}"
                )
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ genome datasets


def build_genome_dataset(
    ds: Mapping[str, Any], files: Mapping[str, str], genome_path: str, out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Windows around each task's peaks plus negatives -> store, summary and GC table."""
    t0 = time.time()
    window, half = int(ds["window"]), int(ds["window"]) // 2
    tasks = list(ds["targets"])
    seed = int(ds["seed"])
    report = _Report(tasks)
    with Genome(genome_path) as genome, _bed_tempdir(Path(out_store)) as tmp:
        chroms = list(genome.sizes)
        chrom_index = {c: i for i, c in enumerate(chroms)}
        names = ChromNames(chroms, ds["chrom_aliases"])
        sizes_file = tmp / "genome.sizes"
        sizes_file.write_text("".join(f"{c}\t{s}\n" for c, s in genome.sizes.items()))
        splitter = SplitAssigner(ds["split"], chroms, names, seed)

        # 1. summits per task and positive windows around them
        summit_beds, pos_lines = [], tmp / "positives.raw.bed"
        with open(pos_lines, "w") as pos_fh:
            for i, task in enumerate(tasks):
                path = files[f"target.{task}"]
                stats = IntervalStats()
                raw = tmp / f"summits.{i}.raw.bed"
                with open(raw, "w") as fh:
                    for chrom, s, e in read_intervals(path, genome.sizes, names, ds["unknown_chroms"], stats):
                        fh.write(f"{chrom}\t{s}\t{e}\n")
                        lo = s - half
                        if lo < 0 or lo + window > genome.sizes[chrom]:
                            report.drop(f"{task}: window past a chromosome end", 1)
                            continue
                        pos_fh.write(f"{chrom}\t{lo}\t{lo + window}\tpositive\n")
                if stats.kept == 0:
                    raise InputError(path, f"no usable records for task {task}")
                summit_beds.append(pybedtools.BedTool(str(raw)).sort().saveas(str(tmp / f"summits.{i}.bed")))
                report.drop(f"{task}: unknown chromosome", stats.dropped_unknown_chrom)
                report.drop(f"{task}: past chromosome end", stats.dropped_out_of_bounds)
                log.info("task %s: %d records from %s", task, stats.kept, path)
        if names.renamed:
            log.info(
                "chromosome names reconciled with the genome: %s",
                ", ".join(f"{a}->{b}" for a, b in sorted(names.renamed.items())),
            )
        black = None
        if "blacklist" in files:
            black = _read_blacklist(files["blacklist"], genome.sizes, ds["chrom_aliases"], tmp, report)
        neg_cfg = ds["negatives"]
        if ds["mode"] == "tiles":
            window_beds = [_tiles(genome.sizes, names, ds["tiles"], window, black, tmp, report)]
        else:
            window_beds = _peak_windows(
                genome, pos_lines, black, sizes_file, splitter, chrom_index, window, neg_cfg, ds, seed, tmp, report
            )

        # 4. all windows, sorted, labelled by summits in each window's central half
        quarter = 0 if ds["mode"] == "tiles" else window // 4  # tiles: a summit anywhere in the bin
        core = tmp / "core.bed"
        with open(core, "w") as fh:
            for bed in window_beds:
                with open(bed) as src:
                    for line in src:
                        f = line.rstrip("\n").split("\t")
                        s = int(f[1])
                        extra = f[4] if len(f) > 4 else "0"
                        fh.write(f"{f[0]}\t{s + quarter}\t{s + window - quarter}\t{f[3]}\t{s}\t{extra}\n")
        labelled = pybedtools.BedTool(str(core)).sort()
        for bed in summit_beds:
            labelled = labelled.intersect(bed, c=True)
        labelled = labelled.saveas(str(tmp / "labelled.bed"))

        # 5. encode, filter, split and write
        writer = StoreWriter(
            out_store,
            window,
            tasks,
            chroms,
            attrs={
                "dataset_kind": "genome",
                "mode": ds["mode"],
                "split": splitter.describe(),
                "negatives": dict(neg_cfg),
            },
        )
        leak = LeakageCheck()
        try:
            cols = ["chrom", "cs", "ce", "kind", "start", "extra", *[f"t{i}" for i in range(len(tasks))]]
            for chunk in _read_bed_chunks(Path(labelled.fn), cols):
                _write_genome_chunk(
                    chunk,
                    genome,
                    chrom_index,
                    tasks,
                    window,
                    ds["max_n_fraction"],
                    seed,
                    splitter,
                    leak,
                    writer,
                    report,
                )
            _leakage_verdict(leak, ds["split"]["leakage"], chroms)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    summary = {
        "dataset_kind": "genome",
        "window": window,
        "tasks": tasks,
        "n_windows": writer.n,
        "negatives": dict(neg_cfg),
        "split": splitter.describe(),
        "chromosomes_renamed": names.renamed,
        "leakage_overlaps": leak.overlaps,
        **report.summary(),
        "seconds": round(time.time() - t0, 2),
    }
    write_text_atomic(out_gc, report.gc_table())
    write_json_atomic(out_summary, summary)
    log.info("wrote %d windows to %s in %.1f s", writer.n, out_store, time.time() - t0)
    return summary


def _peak_windows(
    genome: Genome,
    pos_lines: Path,
    black: pybedtools.BedTool | None,
    sizes_file: Path,
    splitter: SplitAssigner,
    chrom_index: dict[str, int],
    window: int,
    neg_cfg: Mapping[str, Any],
    ds: Mapping[str, Any],
    seed: int,
    tmp: Path,
    report: _Report,
) -> list[str]:
    """Positive windows (minus the blacklist) and their negatives: BED files to label."""
    positives = _sorted_unique(pybedtools.BedTool(str(pos_lines)), tmp / "positives.bed")
    if black is not None:
        before = positives.count()
        positives = positives.intersect(black, v=True).saveas(str(tmp / "positives.clean.bed"))
        report.drop("positives overlapping the blacklist", before - positives.count())
        exclude = positives.cat(black, postmerge=True)
    else:
        exclude = positives.merge()
    n_pos = positives.count()
    if n_pos == 0:
        raise GenomicdlError("no positive windows left after filtering; check targets and blacklist")
    log.info("%d positive windows of %d bp", n_pos, window)
    negatives = tmp / "negatives.bed"
    strategy = neg_cfg["strategy"]
    if strategy == "gc_matched":
        _gc_matched(
            genome,
            positives,
            exclude,
            sizes_file,
            splitter,
            chrom_index,
            window,
            neg_cfg,
            ds["max_n_fraction"],
            seed,
            negatives,
            report,
        )
    elif strategy == "flank":
        _flanks(genome, positives, exclude, window, neg_cfg["per_positive"], seed, negatives, tmp)
    else:
        _shuffles(positives, neg_cfg["per_positive"], seed, negatives)
    return [positives.fn, str(negatives)]


def _tiles(
    sizes: Mapping[str, int],
    names: ChromNames,
    tiles_cfg: Mapping[str, Any],
    window: int,
    black: pybedtools.BedTool | None,
    tmp: Path,
    report: _Report,
) -> str:
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
    sub_sizes = tmp / "tiles.sizes"
    sub_sizes.write_text("".join(f"{c}\t{sizes[c]}\n" for c in wanted))
    bins = pybedtools.BedTool().window_maker(g=str(sub_sizes), w=window, s=stride)
    if black is not None:
        before = bins.count()
        bins = bins.intersect(black, v=True).saveas()
        report.drop("tiles overlapping the blacklist", before - bins.count())
    out = tmp / "tiles.bed"
    n_bins = 0
    with open(bins.fn) as src, open(out, "w") as fh:
        for line in src:
            chrom, lo, hi = line.rstrip("\n").split("\t")[:3]
            if int(hi) - int(lo) == window:
                fh.write(f"{chrom}\t{lo}\t{hi}\ttile\n")
                n_bins += 1
    log.info("tiles: %d bins of %d bp (stride %d) over %d chromosomes", n_bins, window, stride, len(wanted))
    return str(out)


def _sorted_unique(bed: pybedtools.BedTool, out: Path) -> pybedtools.BedTool:
    sorted_bed = bed.sort()
    with open(sorted_bed.fn) as src, open(out, "w") as dst:
        prev = None
        for line in src:
            if line != prev:
                dst.write(line)
            prev = line
    return pybedtools.BedTool(str(out))


def _read_blacklist(
    path: str, sizes: Mapping[str, int], aliases: Mapping[str, str], tmp: Path, report: _Report
) -> pybedtools.BedTool | None:
    """Blacklist records on chromosomes the genome lacks cannot matter: counted, dropped."""
    names = ChromNames(list(sizes), aliases)
    stats = IntervalStats()
    raw = tmp / "blacklist.raw.bed"
    with open(raw, "w") as fh:
        for chrom, s, e in read_intervals(path, sizes, names, "drop", stats, points=False):
            fh.write(f"{chrom}\t{s}\t{e}\n")
    report.drop("blacklist records on chromosomes absent from the genome", stats.dropped_unknown_chrom)
    report.drop("blacklist records past a chromosome end", stats.dropped_out_of_bounds)
    if stats.dropped_unknown_chrom:
        log.info("blacklist: %d records on chromosomes absent from the genome ignored", stats.dropped_unknown_chrom)
    if stats.kept == 0:
        return None
    return pybedtools.BedTool(str(raw)).sort().merge().saveas(str(tmp / "blacklist.bed"))


def _gc_matched(
    genome: Genome,
    positives: pybedtools.BedTool,
    exclude: pybedtools.BedTool,
    sizes_file: Path,
    splitter: SplitAssigner,
    chrom_index: dict[str, int],
    window: int,
    neg_cfg: Mapping[str, Any],
    max_n: float,
    seed: int,
    out: Path,
    report: _Report,
) -> None:
    """Background windows whose GC histogram matches the positives', per split stratum."""
    bins = int(neg_cfg["gc_bins"])
    counts: dict[tuple[int, int], int] = {}
    for chunk in _read_bed_chunks(Path(positives.fn), ["chrom", "start", "end", "kind"]):
        cidx = chunk["chrom"].map(chrom_index).to_numpy()
        codes = fetch_windows(genome, chunk["chrom"].to_numpy(), chunk["start"].to_numpy(), window)
        gc, nfrac = gc_fraction(codes)
        ok = nfrac <= max_n
        for s, b in zip(splitter.strata(cidx)[ok].tolist(), gc_bin(gc[ok], bins).tolist()):
            counts[(s, b)] = counts.get((s, b), 0) + 1
    need = {cell: round(n * float(neg_cfg["per_positive"])) for cell, n in counts.items()}
    sampler = GCSampler(need, bins, stable_seed("gc_matched", seed))
    tiles = pybedtools.BedTool().window_maker(g=str(sizes_file), w=window, s=window)
    candidates = tiles.intersect(exclude, v=True).saveas()
    n_candidates = 0
    for chunk in _read_bed_chunks(Path(candidates.fn), ["chrom", "start", "end"]):
        chunk = chunk[(chunk["end"] - chunk["start"]) == window]
        if chunk.empty:
            continue
        n_candidates += len(chunk)
        codes = fetch_windows(genome, chunk["chrom"].to_numpy(), chunk["start"].to_numpy(), window)
        gc, nfrac = gc_fraction(codes)
        ok = nfrac <= max_n
        cidx = chunk["chrom"].map(chrom_index).to_numpy()[ok]
        payload = np.stack([cidx, chunk["start"].to_numpy()[ok]], axis=1)
        sampler.offer(splitter.strata(cidx), gc_bin(gc[ok], bins), payload)
    picked, shortfall = sampler.result()
    chroms = list(chrom_index)
    rows = np.concatenate(picked) if picked else np.empty((0, 2), dtype=np.int64)
    rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))] if len(rows) else rows
    with open(out, "w") as fh:
        for c, s in rows.tolist():
            fh.write(f"{chroms[c]}\t{s}\t{s + window}\tgc_matched\n")
    if shortfall:
        report.drop("gc_matched negatives no GC bin could supply", shortfall)
        log.warning("gc_matched: %d negatives short (too few background windows in some GC bins)", shortfall)
    log.info(
        "gc_matched: %d negatives from %d candidate windows (%d needed)", len(rows), n_candidates, sum(need.values())
    )


def _per_positive_count(per_positive: float, *key: object) -> int:
    whole = math.floor(per_positive)
    frac = per_positive - whole
    if frac > 0:
        u = (stable_seed("count", *key) >> 11) / float(1 << 53)
        whole += int(u < frac)
    return whole


def _flanks(
    genome: Genome,
    positives: pybedtools.BedTool,
    exclude: pybedtools.BedTool,
    window: int,
    per_positive: float,
    seed: int,
    out: Path,
    tmp: Path,
) -> None:
    """Windows shifted next to each positive, nearest first, overlapping no positive."""
    raw = tmp / "flank.candidates.bed"
    offsets = flank_offsets(window, int(np.ceil(per_positive)))
    with open(positives.fn) as src, open(raw, "w") as fh:
        for parent, line in enumerate(src):
            chrom, s = line.split("\t")[:2]
            s = int(s)
            for rank, off in enumerate(offsets):
                lo = s + off
                if lo >= 0 and lo + window <= genome.sizes[chrom]:
                    fh.write(f"{chrom}\t{lo}\t{lo + window}\t{parent}\t{rank}\n")
    kept = pybedtools.BedTool(str(raw)).intersect(exclude, v=True).saveas()
    chosen = tmp / "flank.chosen.bed"
    with open(kept.fn) as src, open(chosen, "w") as fh:
        current, taken, quota = None, 0, 0
        for line in src:
            chrom, lo, hi, parent, _ = line.rstrip("\n").split("\t")
            if parent != current:
                current, taken = parent, 0
                quota = _per_positive_count(per_positive, "flank", seed, parent)
            if taken < quota:
                fh.write(f"{chrom}\t{lo}\t{hi}\tflank\n")
                taken += 1
    _sorted_unique(pybedtools.BedTool(str(chosen)), out)


def _shuffles(positives: pybedtools.BedTool, per_positive: float, seed: int, out: Path) -> None:
    """Dinucleotide shuffles of each positive: rows carry the parent's coordinates."""
    with open(positives.fn) as src, open(out, "w") as fh:
        for line in src:
            chrom, s, e = line.split("\t")[:3]
            for k in range(_per_positive_count(per_positive, "shuffle", seed, chrom, s)):
                fh.write(f"{chrom}\t{s}\t{e}\tshuffle\t{k}\n")


def _write_genome_chunk(
    chunk: pd.DataFrame,
    genome: Genome,
    chrom_index: dict[str, int],
    tasks: list[str],
    window: int,
    max_n: float,
    seed: int,
    splitter: SplitAssigner,
    leak: LeakageCheck,
    writer: StoreWriter,
    report: _Report,
) -> None:
    chrom = chunk["chrom"].to_numpy()
    start = chunk["start"].to_numpy().astype(np.int64)
    kind = chunk["kind"].map(KIND_CODE).to_numpy().astype(np.uint8)
    codes = fetch_windows(genome, chrom, start, window)
    labels = (chunk[[f"t{i}" for i in range(len(tasks))]].to_numpy() > 0).astype(np.uint8)
    shuffled = kind == KIND_CODE["shuffle"]
    for i in np.flatnonzero(shuffled):
        rng = np.random.default_rng(stable_seed("dinuc", seed, chrom[i], start[i], chunk["extra"].iloc[i]))
        codes[i] = dinucleotide_shuffle(codes[i], rng)
    labels[shuffled] = 0
    gc, nfrac = gc_fraction(codes)
    keep = nfrac <= max_n
    report.drop(f"windows with more than {max_n:.0%} N", int((~keep).sum()))
    cidx = np.array([chrom_index[c] for c in chrom], dtype=np.uint16)
    split = splitter.assign(cidx.astype(np.int64), start, start + window)
    leak.feed(cidx, start, start + window, split)
    sel = np.flatnonzero(keep)
    writer.append(codes[sel], labels[sel], split[sel], cidx[sel], start[sel], gc[sel], kind[sel])
    report.add(split[sel], labels[sel], gc[sel], kind[sel])


def _leakage_verdict(leak: LeakageCheck, policy: str, chroms: list[str]) -> None:
    if not leak.overlaps:
        log.info("leakage check: no window overlaps a window of another split")
        return
    examples = "; ".join(f"{chroms[c]}:{s} ({a} vs {b})" for c, s, a, b in leak.examples)
    message = f"leakage: {leak.overlaps} windows overlap a window of another split, e.g. {examples}"
    if policy == "fail":
        raise GenomicdlError(message + " (set split.leakage: warn to continue)")
    log.warning(message)


# ------------------------------------------------------------------ table datasets


def _fit(seq: str, window: int) -> tuple[np.ndarray, int]:
    """Codes of ``seq`` centre-cropped or N-padded to ``window``; -1 crop, +1 pad, 0 fit."""
    codes = to_codes(seq)
    n = len(codes)
    if n == window:
        return codes, 0
    if n > window:
        lo = (n - window) // 2
        return codes[lo : lo + window], -1
    out = np.full(window, CODE_N, dtype=np.uint8)
    lo = (window - n) // 2
    out[lo : lo + n] = codes
    return out, 1


def _hash(codes: np.ndarray) -> int:
    return stable_seed(codes.tobytes())


def build_table_dataset(
    ds: Mapping[str, Any], files: Mapping[str, str], out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Labelled sequences (one file or one per split) -> store, summary and GC table."""
    t0 = time.time()
    table, split_cfg, seed = ds["table"], ds["split"], int(ds["seed"])
    roles = [r for r in ("table", "table.train", "table.valid", "table.test") if r in files]
    tasks = tasks_of(table, files[roles[0]])
    for role in roles[1:]:
        if tasks_of(table, files[role]) != tasks:
            raise InputError(
                files[role], f"tasks {tasks_of(table, files[role])} differ from {tasks} of {files[roles[0]]}"
            )
    has_valid_file = "table.valid" in files
    has_test_file = "table.test" in files

    valid_frac = 0.0 if has_valid_file else float(split_cfg["valid"])
    test_frac = 0.0 if has_test_file else float(split_cfg["test"])

    def split_stream(role: str) -> Iterator[tuple[Any, str]]:
        """Records of one file with their split (the same seeded draws in both passes)."""
        rng = np.random.default_rng(stable_seed("table-split", seed, role))
        fixed = role.split(".")[1] if "." in role else None
        for rec in iter_records(files[role], table):
            u = rng.random()
            if fixed in ("valid", "test"):
                yield rec, fixed
            elif rec.split is not None:
                yield rec, rec.split
            else:
                yield rec, ("valid" if u < valid_frac else "test" if u < valid_frac + test_frac else "train")

    # pass 1: lengths, label counts per split, sequence hashes for the leakage check
    max_len, n_records = 0, 0
    neg_seen = {s: 0 for s in SPLITS}
    pos_seen = {s: 0 for s in SPLITS}
    hashes: dict[str, list[int]] = {s: [] for s in SPLITS}
    window = ds["window"]
    for role in roles:
        for rec, split in split_stream(role):
            n_records += 1
            max_len = max(max_len, len(rec.seq))
            pos_seen[split] += int(rec.labels.any())
            neg_seen[split] += int((rec.labels == 0).any())
            hashes[split].append(_hash(to_codes(rec.seq)))
    if n_records == 0:
        raise InputError(files[roles[0]], "no records")
    window = int(window or max_len)
    hash_sets = {s: np.unique(np.array(h, dtype=np.uint64)) for s, h in hashes.items()}
    del hashes
    leaks = {
        ("train", "valid"): np.intersect1d(hash_sets["train"], hash_sets["valid"]),
        ("train", "test"): np.intersect1d(hash_sets["train"], hash_sets["test"]),
        ("valid", "test"): np.intersect1d(hash_sets["valid"], hash_sets["test"]),
    }
    n_leaks = {f"{a}/{b}": len(v) for (a, b), v in leaks.items() if len(v)}
    policy = split_cfg["leakage"]
    if n_leaks:
        message = f"leakage: sequences shared between splits: {n_leaks}"
        if policy == "fail":
            raise GenomicdlError(f"{message} (set split.leakage: drop to drop them from train/valid, or warn)")
        log.warning("%s; %s", message, "dropping the copies from train/valid" if policy == "drop" else "kept")
    drop = {
        "train": np.union1d(leaks[("train", "valid")], leaks[("train", "test")]),
        "valid": leaks[("valid", "test")],
        "test": np.empty(0, dtype=np.uint64),
    }
    complete = {s for s in SPLITS if pos_seen[s] and not neg_seen[s]}
    if complete:
        log.info(
            "splits %s hold positives only: adding %s dinucleotide-shuffled negatives per positive",
            sorted(complete),
            ds["negatives"]["per_positive"],
        )

    # pass 2: encode and write
    report = _Report(tasks)
    writer = StoreWriter(out_store, window, tasks, [""], attrs={"dataset_kind": "table"})
    fitted = {"cropped": 0, "padded": 0}
    try:
        buf: dict[str, list[Any]] = {k: [] for k in ("seq", "labels", "split", "kind", "id")}

        def flush() -> None:
            if not buf["seq"]:
                return
            codes = np.stack(buf["seq"])
            labels = np.stack(buf["labels"])
            split = np.array(buf["split"], dtype=np.uint8)
            kind = np.array(buf["kind"], dtype=np.uint8)
            gc, _ = gc_fraction(codes)
            n = len(codes)
            writer.append(codes, labels, split, np.zeros(n, np.uint16), np.full(n, -1, np.int64), gc, kind, buf["id"])
            report.add(split, labels, gc, kind)
            for v in buf.values():
                v.clear()

        for role in roles:
            for rec, split in split_stream(role):
                codes, fit = _fit(rec.seq, window)
                if fit < 0:
                    fitted["cropped"] += 1
                elif fit > 0:
                    fitted["padded"] += 1
                if policy == "drop" and len(drop[split]) and np.isin(np.uint64(_hash(to_codes(rec.seq))), drop[split]):
                    report.drop(f"{split} sequences also in a held-out split", 1)
                    continue
                code = SPLIT_CODE[split]
                buf["seq"].append(codes)
                buf["labels"].append(rec.labels)
                buf["split"].append(code)
                buf["kind"].append(KIND_CODE["table"])
                buf["id"].append(rec.id)
                if split in complete and rec.labels.any():
                    count = _per_positive_count(
                        float(ds["negatives"]["per_positive"]), "table-shuffle", seed, role, rec.line
                    )
                    for k in range(count):
                        rng = np.random.default_rng(stable_seed("dinuc", seed, role, rec.line, k))
                        buf["seq"].append(dinucleotide_shuffle(codes, rng))
                        buf["labels"].append(np.zeros_like(rec.labels))
                        buf["split"].append(code)
                        buf["kind"].append(KIND_CODE["table_shuffle"])
                        buf["id"].append(f"{rec.id}|shuffle{k}")
                if len(buf["seq"]) >= 8192:
                    flush()
        flush()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    if fitted["cropped"] or fitted["padded"]:
        log.info(
            "sequences fitted to %d bp: %d centre-cropped, %d N-padded", window, fitted["cropped"], fitted["padded"]
        )
    summary = {
        "dataset_kind": "table",
        "window": window,
        "tasks": tasks,
        "n_windows": writer.n,
        "fitted": fitted,
        "leakage_shared_sequences": n_leaks,
        "leakage_policy": policy,
        "generated_negatives_for": sorted(complete),
        **report.summary(),
        "seconds": round(time.time() - t0, 2),
    }
    write_text_atomic(out_gc, report.gc_table())
    write_json_atomic(out_summary, summary)
    log.info("wrote %d sequences to %s in %.1f s", writer.n, out_store, time.time() - t0)
    return summary


def build_dataset(
    ds: Mapping[str, Any], files: Mapping[str, str], genome: str | None, out_store: str, out_summary: str, out_gc: str
) -> dict[str, Any]:
    """Build the store of a genome dataset (``genome`` = indexed FASTA) or of a table.

    Errors in an input name the local copy and the URL it was downloaded from.
    """
    try:
        if "genome" in ds:
            if genome is None:
                raise ValueError("a genome dataset needs the prepared genome")
            return build_genome_dataset(ds, files, genome, out_store, out_summary, out_gc)
        return build_table_dataset(ds, files, out_store, out_summary, out_gc)
    except InputError as err:
        urls = dict(iter_sources(ds))
        for role, path in files.items():
            if str(path) == err.path and role in urls and urls[role].url != err.path:
                raise InputError(f"{err.path} (from {urls[role].url})", err.problem, err.line) from None
        raise
