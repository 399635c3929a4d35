"""Benchmark of the preprocess stage against the common path.

Builds a synthetic genome (3 x 50 Mb by default, planted REB1 motifs as one task) and,
for 10^4, 10^5 and 10^6 windows of 200 bp, times in separate processes:

- ours: genomicdl's real preprocess (tiles mode over the whole genome with the stride
  that gives the wanted number of windows: bins, labels from the summits, integer
  coding, GC, N filter, split, leakage check, streamed into the HDF5 store), in a fresh
  process that reads the prepared genome (BGZF, index and the 1-byte-per-base code
  cache, built once per genome by the prepare_genome rule and not timed);
- common: `bedtools getfasta -tab` on the same windows (FASTA index prebuilt, not
  timed), then a numpy one-hot of every sequence into memory (what most toolkits do).
Neither side subtracts a blacklist.

Prints windows/s and peak RSS of each; the last line is one JSON object.

    python bench/preprocess.py [--chrom-mb 50] [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory import peak_rss_mb  # noqa: E402

WINDOW = 200


def run_ours(genome: str, targets: str, stride: int, out: str) -> dict:
    """The real preprocess of a tiles dataset (in a fresh process)."""
    from genomicdl import config as gconfig
    from genomicdl.preprocess import build_genome_dataset

    schema = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    raw = {
        "genome": {"url": genome},
        "targets": {"REB1": {"url": targets}},
        "mode": "tiles",
        "tiles": {"stride": stride},
        "window": WINDOW,
        "split": {"valid": ["chr2"], "test": ["chr3"]},
    }
    ds = gconfig.validate({"datasets": {"bench": raw}}, schema)["datasets"]["bench"]
    t0 = time.perf_counter()
    summary = build_genome_dataset(ds, {"target.REB1": targets}, genome, out, out + ".json", out + ".gc.tsv")
    return {"seconds": time.perf_counter() - t0, "windows": summary["n_windows"], "peak_rss_mb": peak_rss_mb()}


def run_common(genome: str, bed: str) -> dict:
    """bedtools getfasta, then one-hot into memory (in a fresh process)."""
    import numpy as np

    t0 = time.perf_counter()
    tab = subprocess.run(
        ["bedtools", "getfasta", "-fi", genome, "-bed", bed, "-tab"], check=True, capture_output=True
    ).stdout
    seqs = [line.split(b"\t", 1)[1] for line in tab.splitlines()]
    lut = np.full(256, 4, dtype=np.uint8)
    for i, b in enumerate(b"ACGT"):
        lut[b] = i
        lut[b + 32] = i
    codes = lut[np.frombuffer(b"".join(seqs), dtype=np.uint8)].reshape(len(seqs), -1)
    onehot = np.zeros((len(seqs), 4, codes.shape[1]), dtype=np.uint8)
    for i in range(4):
        onehot[:, i, :] = codes == i
    return {"seconds": time.perf_counter() - t0, "windows": len(seqs), "peak_rss_mb": peak_rss_mb()}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chrom-mb", type=int, default=50)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, help="keep the synthetic genome here and reuse it")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = run_ours(*rest[:2], int(rest[2]), rest[3]) if kind == "ours" else run_common(*rest)
        print(json.dumps(result))
        return

    from genomicdl.genome import prepare_genome
    from genomicdl.synthetic import jaspar_pwm, write_genome, write_sites_bed

    with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as scratch:
        tmp = args.workdir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        chroms = {f"chr{i}": args.chrom_mb * 1_000_000 for i in (1, 2, 3)}
        t0 = time.perf_counter()
        stamp = tmp / f"genome.{args.chrom_mb}.done"
        if not stamp.exists():
            sites = write_genome(
                tmp / "genome.fa", chroms, seed=1, motifs={"REB1": jaspar_pwm("REB1")}, sites_per_mb=50
            )
            write_sites_bed(sites, tmp / "reb1.bed")
            prepare_genome(tmp / "genome.fa", tmp / "prepared" / "genome.fa.gz")
            stamp.touch()
        prepared = str(tmp / "prepared" / "genome.fa.gz")
        total = sum(chroms.values())
        n_sites = len((tmp / "reb1.bed").read_text().splitlines())
        print(
            f"synthetic genome: {len(chroms)} x {args.chrom_mb} Mb, {n_sites} planted REB1 sites "
            f"({time.perf_counter() - t0:.1f} s to write and index)"
        )
        results: dict[str, dict] = {}
        for n in args.sizes:
            stride = max(1, (total - len(chroms) * WINDOW) // n)
            bed = tmp / f"windows.{n}.bed"
            with open(bed, "w") as fh:
                for chrom, size in chroms.items():
                    for start in range(0, size - WINDOW + 1, stride):
                        fh.write(f"{chrom}\t{start}\t{start + WINDOW}\n")
            ours = _child(["ours", prepared, str(tmp / "reb1.bed"), str(stride), str(tmp / f"ours.{n}.h5")])
            common = _child(["common", str(tmp / "genome.fa"), str(bed)])
            speedup = common["seconds"] / ours["seconds"]
            results[str(n)] = {"ours": ours, "common": common, "speedup": speedup}
            print(
                f"{ours['windows']:>9,} windows  ours {ours['windows'] / ours['seconds']:>10,.0f} windows/s "
                f"({ours['seconds']:.2f} s, peak RSS {ours['peak_rss_mb']:.0f} MB)   common "
                f"{common['windows'] / common['seconds']:>10,.0f} windows/s ({common['seconds']:.2f} s, "
                f"peak RSS {common['peak_rss_mb']:.0f} MB)   speedup {speedup:.2f}x"
            )
        sizes = [str(n) for n in args.sizes]
        rss = {n: round(results[n]["ours"]["peak_rss_mb"], 1) for n in sizes}
        spread = (max(rss.values()) - min(rss.values())) / min(rss.values())
        print(f"peak RSS of ours from {sizes[0]} to {sizes[-1]} windows varies by {spread:.1%}")
        print(
            json.dumps(
                {
                    "bench": "preprocess",
                    "speedup": round(results[sizes[-1]]["speedup"], 3),
                    "peak_rss_mb": rss,
                    "rss_spread": round(spread, 4),
                    "windows_per_s": {
                        n: round(results[n]["ours"]["windows"] / results[n]["ours"]["seconds"]) for n in sizes
                    },
                    "common_windows_per_s": {
                        n: round(results[n]["common"]["windows"] / results[n]["common"]["seconds"]) for n in sizes
                    },
                    "common_peak_rss_mb": {n: round(results[n]["common"]["peak_rss_mb"], 1) for n in sizes},
                    "genome_mb": len(chroms) * args.chrom_mb,
                    "window": WINDOW,
                }
            )
        )


if __name__ == "__main__":
    main()
