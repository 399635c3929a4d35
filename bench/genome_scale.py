"""The human-genome scale, for real: a synthetic 3.1 Gb genome prepared and 10^7 windows
preprocessed end to end, with wall time, CPU time, peak RSS and disk used.

Writes a random genome with hg38's 24 chromosome sizes (scaled to ``--gb``): i.i.d.
bases at 41% GC, 10 kb of N at each chromosome end, a centromere-like N block (2% of the
chromosome) and 20 random N runs of 1-50 kb per chromosome, gzipped (ISA-L level 1, not
BGZF: a plain .fa.gz as downloaded); and 20 summits per Mb as the one task's targets.
None of that is timed.

Timed, each as a fresh process from start to exit (the children of
``bench/preprocess.py``, as each Snakemake job is): ``prepare_genome`` on the .fa.gz
(threads=2: ISA-L decompression, BGZF recompression, .fai/.gzi, the code cache), then
the real preprocess of a tiles dataset whose stride gives ``--windows`` windows of 200
bp (labels from the summits, GC, N filter, chromosome split, leakage check, HDF5 store).
CPU time is user + system of the child (getrusage). Peak RSS is the child's VmHWM. Disk
used is the size of every file each stage leaves. Everything is deleted at the end
unless ``--keep``. The last line is one JSON object.

    python bench/genome_scale.py [--gb 3.1] [--windows 10000000] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import memory  # noqa: E402

# hg38 primary chromosomes, Mb (chr1..22, X, Y): 3,088 Mb in all
HG38_MB = [248.96, 242.19, 198.30, 190.21, 181.54, 170.81, 159.35, 145.14, 138.39, 133.80, 135.09, 133.28,
           114.36, 107.04, 101.99, 90.34, 83.26, 80.37, 58.62, 64.44, 46.71, 50.82, 156.04, 57.23]  # fmt: skip
WINDOW = 200
LINE = 60
BLOCK = 1 << 23  # bases generated at once


def chrom_sizes(gb: float) -> dict[str, int]:
    scale = gb * 1000 / sum(HG38_MB)
    names = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY"]
    return {name: int(mb * scale * 1e6) for name, mb in zip(names, HG38_MB)}


def n_runs(size: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """[start, end) of the N runs of one chromosome: both ends, a centromere, 20 random runs."""
    centre = int(size * rng.uniform(0.3, 0.6))
    runs = [(0, 10_000), (size - 10_000, size), (centre, centre + size // 50)]
    for lo in rng.integers(10_000, size - 60_000, 20).tolist():
        runs.append((lo, lo + int(rng.integers(1_000, 50_000))))
    return runs


def write_genome(path: Path, sizes: dict[str, int], seed: int = 1) -> dict[str, list[tuple[int, int]]]:
    """The gzipped FASTA (60 bases per line); returns each chromosome's N runs."""
    from isal import igzip

    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    cdf = np.cumsum([0.295, 0.205, 0.205, 0.295])
    layout = {}
    with igzip.open(path, "wb", compresslevel=1) as fh:
        for chrom, size in sizes.items():
            fh.write(f">{chrom}\n".encode())
            runs = layout[chrom] = n_runs(size, rng)
            for lo in range(0, size, BLOCK - BLOCK % LINE):
                hi = min(size, lo + BLOCK - BLOCK % LINE)
                seq = bases[np.searchsorted(cdf, rng.random(hi - lo, dtype=np.float32))]
                for a, b in runs:
                    if a < hi and b > lo:
                        seq[max(a, lo) - lo : min(b, hi) - lo] = ord("N")
                full = (hi - lo) // LINE * LINE
                lines = np.empty((full // LINE, LINE + 1), dtype=np.uint8)
                lines[:, :LINE] = seq[:full].reshape(-1, LINE)
                lines[:, LINE] = ord("\n")
                fh.write(lines.tobytes())
                if full < hi - lo:
                    fh.write(seq[full:].tobytes() + b"\n")
    return layout


def write_summits(path: Path, sizes: dict[str, int], per_mb: float = 20, seed: int = 2) -> int:
    rng = np.random.default_rng(seed)
    n = 0
    with open(path, "w") as fh:
        for chrom, size in sizes.items():
            pos = np.sort(rng.integers(WINDOW, size - WINDOW, int(size / 1e6 * per_mb)))
            fh.writelines(f"{chrom}\t{p}\t{p + 1}\n" for p in pos.tolist())
            n += len(pos)
    return n


def timed(args: list[str]) -> dict:
    """A child of bench/preprocess.py: its result, wall time and CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = memory.run_child(str(BENCH / "preprocess.py"), args)
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
    result["load_after"] = round(os.getloadavg()[0], 2)
    return result


def disk_mb(*paths: Path) -> float:
    return round(sum(p.stat().st_size for p in paths if p.exists()) / 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=3.1)
    parser.add_argument("--windows", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the files (default: delete them)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="genome-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        sizes = chrom_sizes(args.gb)
        src, sites = work / "genome.fa.gz", work / "summits.bed"
        stamp = work / f"genome.{args.gb}.done"
        if not stamp.exists():
            t0 = time.perf_counter()
            write_genome(src, sizes)
            write_summits(sites, sizes)
            stamp.touch()
            print(f"synthetic {sum(sizes.values()) / 1e9:.2f} Gb genome written in {time.perf_counter() - t0:.0f} s "
                  f"(not timed)", flush=True)  # fmt: skip
        prepared = work / "prepared" / "genome.fa.gz"
        shutil.rmtree(prepared.parent, ignore_errors=True)
        load_before = round(os.getloadavg()[0], 2)
        prep = timed(["prepare", str(src), str(prepared)])
        print(f"prepare_genome: {prep['wall_s']} s wall, {prep['cpu_s']} s CPU, peak RSS {prep['peak_rss_mb']:.0f} MB",
              flush=True)  # fmt: skip
        store = work / "dataset.h5"
        stride = max(1, (sum(sizes.values()) - len(sizes) * WINDOW) // args.windows)
        pre = timed(["ours", str(prepared), str(sites), str(stride), str(store)])
        print(f"preprocess: {pre['windows']:,} windows in {pre['wall_s']} s wall, {pre['cpu_s']} s CPU, "
              f"peak RSS {pre['peak_rss_mb']:.0f} MB", flush=True)  # fmt: skip
        out = {
            "bench": "genome_scale",
            "genome_gb": round(sum(sizes.values()) / 1e9, 3),
            "stride": stride,
            "prepare": prep,
            "preprocess": pre,
            "total_wall_s": round(prep["wall_s"] + pre["wall_s"], 2),
            "disk_mb": {
                "input_fa_gz": disk_mb(src),
                "prepared_bgzf": disk_mb(prepared),
                "prepared_index": disk_mb(Path(f"{prepared}.fai"), Path(f"{prepared}.gzi")),
                "codes": disk_mb(Path(f"{prepared}.codes")),
                "store": disk_mb(store),
            },
            "load_before": load_before,
        }
        print(json.dumps(out))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
