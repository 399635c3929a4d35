"""Benchmark of genome preparation plus preprocessing against the common path.

Builds a synthetic genome (3 x 50 Mb by default, planted REB1 motifs as one task),
gzips it (``genome.fa.gz``, gzip level 6: the file a user downloads) and, at 10^4, 10^5
and 10^6 windows of 200 bp, times what a user pays in each of two situations:

(a) first run, from the ``.fa.gz``:
    ours   = ``prepare_genome`` on the .fa.gz (ISA-L decompression, BGZF recompression,
             .fai/.gzi and the code cache, one pass) + genomicdl's real preprocess;
    common = ``gzip -dc`` to a plain FASTA + ``samtools faidx`` (pysam.faidx) +
             ``bedtools getfasta -tab`` + a numpy one-hot of every window in memory.
(b) later runs, on a prepared genome:
    ours   = the preprocess alone, on the genome prepared in (a);
    common = ``samtools faidx`` + getfasta + one-hot on the decompressed FASTA (its own
             faidx is timed, as the issue asks; its time is also reported on its own so
             the comparison without it can be read off: ``speedup_prepared_vs_indexed``).
And, for the memory comparison, common-chunked = faidx + getfasta streamed through a pipe,
one-hot in chunks of 10^4 windows written to disk (never the whole array in RAM).

Ours' preprocess is ``build_genome_dataset`` of a tiles dataset whose stride gives the
wanted number of windows: it makes the windows itself, labels them from the summits,
integer-codes them, computes GC, drops N windows, splits by chromosome, checks leakage
and streams everything into the HDF5 store on disk. The common path does only
extraction and one-hot (no labels, no split, no store), and is handed the windows as a
BED file.

Timed: each step is a fresh Python process (as each Snakemake job is), and its time is
the wall clock from process start to exit measured by this parent, so interpreter
start-up, imports, reading and writing are all in. Ours' first run is the sum of two
processes (prepare, then preprocess), as in the workflow. Not timed: writing the
synthetic genome, gzipping it, writing the common path's BED files, validating the
dataset's config (the parent does it once and hands the child the result as JSON, as
Snakemake validates the config once and hands each job its dataset), Snakemake's own
job overhead, and deleting outputs between runs (each side's outputs are deleted before
it runs, untimed, as Snakemake deletes a job's outputs before the job: replacing a
200 MB file costs its own unlink and discard). All files are in the page cache (a
warm disk), on both sides. Each measurement is repeated ``--repeats`` times, the sides
interleaved (ours, common, ours, ...) so that both see the same machine load; medians
are reported. CPU time is user + system of each child and its own children
(getrusage), which a loaded machine inflates far less than wall time. Peak RSS is
VmHWM of each process (bedtools' own peak separately).

Prints seconds, windows/s and peak RSS per size; the last line is one JSON object with
``speedup_prepared`` (b) and ``speedup_first_run`` (a), both at the largest size, and
``prepare_genome_s``. Each run appends that object, with the commit, date, machine and
load, to ``bench/history/preprocess.jsonl`` (``--no-history``: not);
``make bench-check`` compares the latest record with the earlier ones.

    python bench/preprocess.py [--chrom-mb 50] [--sizes 10000 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import history  # noqa: E402
import memory  # noqa: E402

WINDOW = 200
ONEHOT_CHUNK = 10_000


# ---------------------------------------------------------------- children (one process each)


def run_prepare(src: str, out: str) -> dict:
    """genomicdl's prepare_genome."""
    from genomicdl.io.genome import prepare_genome

    t0 = time.perf_counter()
    prepare_genome(src, out, threads=2)
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": memory.peak_rss_mb()}


def tiles_dataset(genome: str, targets: str, stride: int) -> dict:
    """The validated config of the bench's tiles dataset (as Snakemake hands it to the job)."""
    from genomicdl.config import validation as gconfig
    schema = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    raw = {
        "genome": {"url": genome},
        "targets": {"REB1": {"url": targets}},
        "mode": "tiles",
        "tiles": {"stride": stride},
        "window": WINDOW,
        "split": {"valid": ["chr2"], "test": ["chr3"]},
    }
    return gconfig.validate({"datasets": {"bench": raw}}, schema)["datasets"]["bench"]


def write_dataset(path: Path, genome: str, targets: str, stride: int) -> str:
    """The validated dataset config as JSON, for the child (validated once, untimed)."""
    path.write_text(json.dumps(tiles_dataset(genome, targets, stride)))
    return str(path)


def run_ours(genome: str, targets: str, stride: int, out: str, dataset: str | None = None) -> dict:
    """The real preprocess of a tiles dataset; ``dataset``: its validated config as JSON
    (the Snakemake job receives it validated, so the child need not import the schema
    validator), else validated here."""
    from genomicdl.config.specs import dataset_spec
    from genomicdl.datasets.genome_dataset import build_genome_dataset

    ds = json.loads(Path(dataset).read_text()) if dataset else tiles_dataset(genome, targets, stride)
    t0 = time.perf_counter()
    summary = build_genome_dataset(
        dataset_spec("bench", ds), {"target.REB1": targets}, genome, out, out + ".json", out + ".gc.tsv"
    )
    return {"seconds": time.perf_counter() - t0, "windows": summary["n_windows"], "peak_rss_mb": memory.peak_rss_mb()}


def _lut():
    import numpy as np

    lut = np.full(256, 4, dtype=np.uint8)
    for i, b in enumerate(b"ACGT"):
        lut[b] = lut[b + 32] = i
    return lut


def _onehot(seqs: list[bytes], lut):
    import numpy as np

    codes = lut[np.frombuffer(b"".join(seqs), dtype=np.uint8)].reshape(len(seqs), -1)
    onehot = np.zeros((len(seqs), 4, codes.shape[1]), dtype=np.uint8)
    for i in range(4):
        onehot[:, i, :] = codes == i
    return onehot


def _common_index(fasta: Path, gz: str | None) -> dict:
    """The common path's preparation: gunzip (first run only) and samtools faidx."""
    import pysam

    steps = {}
    t0 = time.perf_counter()
    if gz is not None:
        with open(fasta, "wb") as fh:
            memory.run_bound(["gzip", "-dc", gz], stdout=fh)
        steps["gunzip_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    Path(f"{fasta}.fai").unlink(missing_ok=True)
    pysam.faidx(str(fasta))
    steps["faidx_s"] = time.perf_counter() - t1
    return steps


def _getfasta_in_memory(fasta: Path, bed: str) -> int:
    tab = memory.run_bound(["bedtools", "getfasta", "-fi", str(fasta), "-bed", bed, "-tab"]).stdout
    return len(_onehot([line.split(b"\t", 1)[1] for line in tab.splitlines()], _lut()))


def _getfasta_chunked(fasta: Path, bed: str, out: Path) -> int:
    lut, n, seqs = _lut(), 0, []
    command = ["bedtools", "getfasta", "-fi", str(fasta), "-bed", bed, "-tab"]
    with memory.popen_bound(command, stdout=subprocess.PIPE) as proc, open(out, "wb") as fh:
        assert proc.stdout is not None
        for line in proc.stdout:
            seqs.append(line.rstrip(b"\n").split(b"\t", 1)[1])
            if len(seqs) == ONEHOT_CHUNK:
                fh.write(_onehot(seqs, lut).tobytes())
                n, seqs = n + len(seqs), []
        if seqs:
            fh.write(_onehot(seqs, lut).tobytes())
            n += len(seqs)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command)
    return n


def run_common(mode: str, src: str, fasta: str, bed: str, out: str) -> dict:
    """The common path: ``mode`` first (from the .fa.gz), later, or chunked (to disk)."""
    t0 = time.perf_counter()
    steps = _common_index(Path(fasta), src if mode == "first" else None)
    if mode == "chunked":
        windows = _getfasta_chunked(Path(fasta), bed, Path(out))
    else:
        windows = _getfasta_in_memory(Path(fasta), bed)
    return {
        "seconds": time.perf_counter() - t0,
        "windows": windows,
        "peak_rss_mb": memory.peak_rss_mb(),
        "bedtools_peak_rss_mb": memory.children_peak_rss_mb(),
        **steps,
    }


def child_main(args: list[str]) -> None:
    kind, *rest = args
    if kind == "prepare":
        result = run_prepare(*rest)
    elif kind == "ours":
        result = run_ours(rest[0], rest[1], int(rest[2]), rest[3], *rest[4:])
    else:
        result = run_common(*rest)
    print(json.dumps(result))


# ---------------------------------------------------------------- parent


def timed_child(args: list[str]) -> dict:
    """A child's result plus its wall time from start to exit (what the user pays) and its
    CPU time (user + system, its own children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = memory.run_child(__file__, args)
    result["wall_s"] = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_s"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return result


def remove(*paths: Path) -> None:
    """Delete outputs before a side runs (untimed, as Snakemake does before a job)."""
    for path in paths:
        path.unlink(missing_ok=True)


def make_genome(tmp: Path, chrom_mb: int) -> dict[str, int]:
    """The synthetic genome, its planted sites and its .fa.gz (reused from a --workdir)."""
    from genomicdl.datasets.synthetic import jaspar_pwm, write_genome, write_sites_bed

    chroms = {f"chr{i}": chrom_mb * 1_000_000 for i in (1, 2, 3)}
    stamp = tmp / f"genome.{chrom_mb}.done"
    if not stamp.exists():
        t0 = time.perf_counter()
        sites = write_genome(tmp / "plain.fa", chroms, seed=1, motifs={"REB1": jaspar_pwm("REB1")}, sites_per_mb=50)
        write_sites_bed(sites, tmp / "reb1.bed")
        with open(tmp / "plain.fa", "rb") as fin, gzip.open(tmp / "genome.fa.gz", "wb", compresslevel=6) as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
        (tmp / "plain.fa").unlink()
        stamp.touch()
        print(f"synthetic genome written and gzipped in {time.perf_counter() - t0:.1f} s (not timed)")
    return chroms


def write_windows(path: Path, chroms: dict[str, int], stride: int) -> None:
    with open(path, "w") as fh:
        for chrom, size in chroms.items():
            fh.writelines(f"{chrom}\t{start}\t{start + WINDOW}\n" for start in range(0, size - WINDOW + 1, stride))


def one_round(tmp: Path, n: int, stride: int) -> dict[str, dict]:
    """One interleaved measurement of every variant at ``n`` windows."""
    gz, bed, sites = str(tmp / "genome.fa.gz"), str(tmp / f"windows.{n}.bed"), str(tmp / "reb1.bed")
    shutil.rmtree(tmp / "prepared", ignore_errors=True)
    prepared = str(tmp / "prepared" / "genome.fa.gz")
    ours = [tmp / "ours.h5", tmp / "ours.h5.json", tmp / "ours.h5.gc.tsv"]
    ds = write_dataset(tmp / f"dataset.{stride}.json", prepared, sites, stride)
    run: dict[str, dict] = {"prepare": timed_child(["prepare", gz, prepared])}
    remove(*ours)
    run["ours_first"] = timed_child(["ours", prepared, sites, str(stride), str(tmp / "ours.h5"), ds])
    remove(tmp / "common.fa", tmp / "common.fa.fai")
    run["common_first"] = timed_child(["common", "first", gz, str(tmp / "common.fa"), bed, ""])
    remove(*ours)
    run["ours_later"] = timed_child(["ours", prepared, sites, str(stride), str(tmp / "ours.h5"), ds])
    run["common_later"] = timed_child(["common", "later", gz, str(tmp / "common.fa"), bed, ""])
    run["common_chunked"] = timed_child(["common", "chunked", gz, str(tmp / "common.fa"), bed, str(tmp / "oh.bin")])
    remove(tmp / "oh.bin")
    run["ours_first"]["wall_s"] += run["prepare"]["wall_s"]
    run["ours_first"]["cpu_s"] += run["prepare"]["cpu_s"]
    return run


def summarize(runs: list[dict[str, dict]]) -> dict[str, dict]:
    """Medians over the repeats of every number of every variant."""
    return {key: {field: statistics.median(r[key][field] for r in runs) for field in runs[0][key]} for key in runs[0]}


def report(n: int, res: dict[str, dict]) -> None:
    def line(label: str, key: str) -> str:
        r = res[key]
        return (
            f"  {label:<34} {r['wall_s']:7.2f} s {n / r['wall_s']:>11,.0f} windows/s  "
            f"peak RSS {r['peak_rss_mb']:6.0f} MB"
            + (f" (bedtools {r['bedtools_peak_rss_mb']:.0f} MB)" if "bedtools_peak_rss_mb" in r else "")
        )

    print(f"{int(res['ours_later']['windows']):,} windows (asked {n:,}):")
    print(line("(a) ours: prepare + preprocess", "ours_first"))
    print(line("(a) common: gunzip+faidx+getfasta", "common_first"))
    print(line("(b) ours: preprocess", "ours_later"))
    print(line("(b) common: faidx+getfasta+one-hot", "common_later"))
    print(line("    common, one-hot to disk", "common_chunked"))
    first = res["common_first"]["wall_s"] / res["ours_first"]["wall_s"]
    later = res["common_later"]["wall_s"] / res["ours_later"]["wall_s"]
    print(f"  speedup (a) first run {first:.2f}x, (b) prepared {later:.2f}x (wall)")
    first_cpu = res["common_first"]["cpu_s"] / res["ours_first"]["cpu_s"]
    later_cpu = res["common_later"]["cpu_s"] / res["ours_later"]["cpu_s"]
    print(f"  CPU time: ours {res['ours_first']['cpu_s']:.2f} / {res['ours_later']['cpu_s']:.2f} s, common "
          f"{res['common_first']['cpu_s']:.2f} / {res['common_later']['cpu_s']:.2f} s (a / b): "
          f"{first_cpu:.2f}x, {later_cpu:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chrom-mb", type=int, default=50)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the synthetic genome here and reuse it")
    parser.add_argument("--no-history", action="store_true", help="do not append to bench/history/preprocess.jsonl")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        child_main(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as scratch:
        tmp = args.workdir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        chroms = make_genome(tmp, args.chrom_mb)
        load_before = os.getloadavg()[0]
        print(f"genome {sum(chroms.values()) / 1e6:.0f} Mb; medians of {args.repeats} interleaved runs; "
              f"load average {load_before:.2f}")  # fmt: skip
        results: dict[str, dict] = {}
        rounds: dict[str, list[list[float]]] = {}
        for n in args.sizes:
            stride = max(1, (sum(chroms.values()) - len(chroms) * WINDOW) // n)
            write_windows(tmp / f"windows.{n}.bed", chroms, stride)
            runs = [one_round(tmp, n, stride) for _ in range(args.repeats)]
            rounds[str(n)] = [
                [round(r[f"common_{k}"]["wall_s"] / r[f"ours_{k}"]["wall_s"], 3) for r in runs]
                for k in ("later", "first")
            ]
            results[str(n)] = summarize(runs)
            report(n, results[str(n)])
        figures = final_json(results, args)
        # each round's (b) and (a): the run-to-run noise
        figures["speedup_prepared_rounds"] = {n: later for n, (later, _) in rounds.items()}
        figures["speedup_first_run_rounds"] = {n: first for n, (_, first) in rounds.items()}
        if not args.no_history:
            print(f"appended to {history.append('preprocess', figures, load_before)}", file=sys.stderr)
        print(json.dumps(figures))


def final_json(results: dict[str, dict], args: argparse.Namespace) -> dict:
    sizes = [str(n) for n in args.sizes]

    def ratio(n: str, common: str, ours: str, minus: str | None = None, field: str = "wall_s") -> float:
        r = results[n]
        top = r[common][field] - (r[common][minus] if minus else 0)
        return round(top / r[ours][field], 3)

    big = sizes[-1]
    return {
        "bench": "preprocess",
        "speedup_prepared": ratio(big, "common_later", "ours_later"),
        "speedup_first_run": ratio(big, "common_first", "ours_first"),
        "prepare_genome_s": round(results[big]["prepare"]["wall_s"], 3),
        "prepare_genome_inner_s": round(results[big]["prepare"]["seconds"], 3),
        "speedup_prepared_vs_indexed": ratio(big, "common_later", "ours_later", "faidx_s"),
        "speedup_first_run_by_size": {n: ratio(n, "common_first", "ours_first") for n in sizes},
        "speedup_prepared_by_size": {n: ratio(n, "common_later", "ours_later") for n in sizes},
        "speedup_prepared_cpu": ratio(big, "common_later", "ours_later", field="cpu_s"),
        "speedup_first_run_cpu": ratio(big, "common_first", "ours_first", field="cpu_s"),
        "seconds": {n: {k: round(v["wall_s"], 3) for k, v in results[n].items()} for n in sizes},
        "cpu_seconds": {n: {k: round(v["cpu_s"], 3) for k, v in results[n].items()} for n in sizes},
        "inner_seconds": {n: {k: round(v["seconds"], 3) for k, v in results[n].items()} for n in sizes},
        "peak_rss_mb": {n: {k: round(v["peak_rss_mb"], 1) for k, v in results[n].items()} for n in sizes},
        "common_faidx_s": round(results[big]["common_later"]["faidx_s"], 3),
        "common_gunzip_s": round(results[big]["common_first"]["gunzip_s"], 3),
        "largest_size": int(big),
        "genome_mb": 3 * args.chrom_mb,
        "window": WINDOW,
        "repeats": args.repeats,
    }


if __name__ == "__main__":
    main()
