"""Benchmark of variant-effect scoring: synthetic SNVs through a DeepSEA-size CNN.

Writes a synthetic genome (3 x 10 Mb) and VCFs of 10^4 and 10^5 random SNVs (REF from
the genome), then scores each VCF in a fresh process with genomicdl's real variants
stage (streamed VCF, REF checks, windows, ref + alt + both reverse complements through
the network in one batch, annotated VCF + TSV written chunk by chunk). Prints
variants/s and peak RSS (VmHWM of the child) of each size.

In the same run it measures the machine's achieved FLOP/s on a dense float32 matrix
product (torch.matmul, same thread count, 10 s of back-to-back products before and after
the scoring, median rate; the best single product is reported too, as the machine's
burst peak); divided by the network's FLOPs per variant
(4 forward passes: ref, alt and their reverse complements) it gives the compute-bound
limit in variants/s. On a machine shared with other work, wall-clock rates sink with the
load while a short matmul may catch a quiet moment; the run therefore also reports the
fraction per CPU-second (FLOPs done per CPU-second of the scoring process, over the
matmul's FLOPs per CPU-second), which sharing does not distort. The last line is one
JSON object.

Each size is scored twice, in fresh processes, by the two engines of the stage: PyTorch
(genomicdl.interpret.variants.NetworkScorer) and onnxruntime (genomicdl.export.convert.OnnxScorer: the same
network, sigmoid and strand averaging exported to ONNX in memory at load -- the export's
~1 s is inside the timed span); the ratio onnxruntime / PyTorch of variants per second
and per CPU-second is printed, and the maximum |difference| of their scores on the
first 512 variants. Only ``write_scores`` and the scorer's construction are timed (not
the genome, the VCF or the model's construction).

The network is DeepSEA at the paper's sizes (Zhou & Troyanskaya 2015: convolutions of
320, 480 and 960 filters of width 8, max-pooling by 4, a 925-unit layer, 919 outputs),
genomicdl.models' ``deepsea`` (same-length convolutions, batch norm off). Its cost grows
with the window: 4.4 GFLOP per variant at the paper's 1,000 bp, where 10^5 variants
take hours on two CPU cores; the default window is 100 bp (about 12 M parameters and
0.5 GFLOP per variant), like the demo's windows; `--window 1000` gives the paper's.

    python bench/variants.py [--sizes 10000 100000] [--window 100] [--threads 2] [--engines torch onnxruntime]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import memory  # noqa: E402
from memory import peak_rss_mb  # noqa: E402

TASKS = 919
SETTINGS = {"ref_mismatch": "fail", "bad_records": "fail", "max_allele_length": 50, "chunk_size": 1024}


def deepsea(window: int, tasks: int = TASKS) -> tuple[object, str]:
    """The DeepSEA network at the paper's sizes: the registry's when it has one, else
    the same layers built here (convolutions padded to their input length, pooling
    rounded up, as in genomicdl.models.networks.layers)."""
    import torch
    from torch import nn

    from genomicdl.kinds.targets import Target
    from genomicdl.models import CATALOG, build_network

    torch.manual_seed(0)
    if "deepsea" in CATALOG:
        params = {"filters": [320, 480, 960], "hidden": 925, "batch_norm": False}
        target = Target("binary", tuple(f"t{i}" for i in range(tasks)))
        net = build_network("deepsea", target=target, window=window, alphabet="dna", variable=False, params=params)
        return net.eval(), "genomicdl.models deepsea at the paper's sizes"
    layers: list[nn.Module] = []
    for i, (c_in, c_out) in enumerate([(4, 320), (320, 480), (480, 960)]):
        layers += [nn.ConstantPad1d((3, 4), 0.0), nn.Conv1d(c_in, c_out, 8), nn.ReLU()]
        layers += [nn.MaxPool1d(4, ceil_mode=True), nn.Dropout(0.2)] if i < 2 else [nn.Dropout(0.5)]
    features = nn.Sequential(*layers)
    with torch.no_grad():
        flat = features(torch.zeros(1, 4, window)).numel()
    head = nn.Sequential(nn.Flatten(), nn.Linear(flat, 925), nn.ReLU(), nn.Linear(925, tasks))
    return nn.Sequential(features, head).eval(), "the bench's own DeepSEA (genomicdl.models has no deepsea)"


def forward_flops(model, window: int) -> int:
    """FLOPs (2 x multiply-adds) of the convolutions and linear layers for one sequence."""
    import torch
    from torch import nn

    total = 0

    def hook(module, _inputs, output) -> None:
        nonlocal total
        if isinstance(module, nn.Conv1d):
            total += 2 * output.numel() * module.in_channels // module.groups * module.kernel_size[0]
        elif isinstance(module, nn.Linear):
            total += 2 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv1d | nn.Linear)]
    with torch.inference_mode():
        model(torch.zeros(1, 4, window))
    for h in handles:
        h.remove()
    return total


def matmul_flops(threads: int, seconds: float = 10.0, size: int = 2048) -> dict[str, list[float]]:
    """Achieved float32 FLOP/s of back-to-back torch.matmul calls for ``seconds``:
    per call, per wall-clock second and per CPU-second of the process."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    flop = 2 * size**3
    wall, cpu = [], []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0, c0 = time.perf_counter(), time.process_time()
        torch.matmul(a, b)
        wall.append(flop / (time.perf_counter() - t0))
        cpu.append(flop / max(time.process_time() - c0, 1e-9))
    return {"wall": wall, "cpu": cpu}


def child(vcf: str, genome: str, window: int, threads: int, out: str, engine: str = "torch") -> dict:
    """Score one VCF with the real stage (in a fresh process) through ``engine``."""
    import gzip

    import torch

    from genomicdl.interpret.variants import NetworkScorer, write_scores
    from genomicdl.io.vcf import VcfReader

    torch.set_num_threads(threads)
    model, _ = deepsea(window)
    meta = {"tasks": [f"t{i}" for i in range(TASKS)], "window": window, "rc_average": True, "alphabet": "dna"}
    t0, c0 = time.perf_counter(), time.process_time()
    if engine == "onnxruntime":
        from genomicdl.export.convert import OnnxScorer, Prediction
        from genomicdl.kinds.targets import Target

        module = Prediction(model, Target("binary", tuple(meta["tasks"])), "dna", rc_average=True, variable=False)
        scorer = OnnxScorer(module.eval(), meta, threads=threads)
    else:
        scorer = NetworkScorer(model, meta)
    summary = write_scores(VcfReader(vcf), genome, scorer, SETTINGS, f"{out}.vcf.gz", f"{out}.tsv.gz", f"{out}.json")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    with gzip.open(f"{out}.tsv.gz", "rt") as fh:  # the first 512 variants' scores, to compare the engines
        head = [line.rstrip("\n").split("\t") for _, line in zip(range(513), fh)]
    return {
        "variants": summary["scored"],
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak_rss_mb(),
        "head": head,
    }


def max_difference(a: list[list[str]], b: list[list[str]]) -> float:
    """Largest |difference| between the numeric cells of two score tables' heads."""
    worst = 0.0
    for ra, rb in zip(a[1:], b[1:]):
        for x, y in zip(ra, rb):
            try:
                worst = max(worst, abs(float(x) - float(y)))
            except ValueError:
                continue
    return worst


def write_vcf(path: Path, genome: str, chroms: dict[str, int], n: int, seed: int) -> None:
    """``n`` random SNVs, sorted, REF from the genome."""
    import numpy as np

    from genomicdl.io.genome import Genome

    rng = np.random.default_rng(seed)
    names = list(chroms)
    which = rng.integers(0, len(names), n)
    pos = rng.integers(1000, min(chroms.values()) - 1000, n)
    order = np.lexsort((pos, which))
    shift = rng.integers(1, 4, n)
    with Genome(genome) as g, open(path, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n")
        for name, size in chroms.items():
            fh.write(f"##contig=<ID={name},length={size}>\n")
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i in order:
            chrom, p = names[which[i]], int(pos[i])
            ref = int(g.codes(chrom, p - 1, p)[0])
            fh.write(f"{chrom}\t{p}\t.\t{'ACGT'[ref]}\t{'ACGT'[(ref + shift[i]) % 4]}\t.\t.\t.\n")


def run_child(args: list[str]) -> dict:
    """The scoring in a fresh process that dies with this one (a timeout kills both)."""
    return memory.run_child(__file__, args)


def engine_comparison(by_engine: dict[str, dict[str, dict]], sizes: list[str]) -> dict:
    """Per engine: variants/s and per CPU-second at each size; onnxruntime / torch ratios
    and the largest score difference between them."""
    out: dict = {
        e: {
            n: {
                "variants_per_s": round(r[n]["variants"] / r[n]["seconds"], 2),
                "variants_per_cpu_s": round(r[n]["variants"] / r[n]["cpu_seconds"], 2),
            }
            for n in sizes
        }
        for e, r in by_engine.items()
    }
    if {"torch", "onnxruntime"} <= by_engine.keys():
        t, o = by_engine["torch"], by_engine["onnxruntime"]
        for n in sizes:
            wall = (o[n]["variants"] / o[n]["seconds"]) / (t[n]["variants"] / t[n]["seconds"])
            cpu = (o[n]["variants"] / o[n]["cpu_seconds"]) / (t[n]["variants"] / t[n]["cpu_seconds"])
            diff = max_difference(t[n]["head"], o[n]["head"])
            out.setdefault("onnxruntime_over_torch", {})[n] = {
                "wall": round(wall, 3),
                "cpu": round(cpu, 3),
                "max_abs_score_diff": diff,
            }
            print(
                f"{int(n):>9,} SNVs: onnxruntime / PyTorch = {wall:.2f}x per wall second, {cpu:.2f}x per CPU-second; "
                f"max |score difference| {diff:.2g}"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--chrom-mb", type=int, default=10)
    parser.add_argument("--workdir", type=Path, help="keep the synthetic genome and VCFs here and reuse them")
    parser.add_argument("--engines", nargs="+", default=["torch", "onnxruntime"], choices=["torch", "onnxruntime"])
    parser.add_argument("--child", nargs=6)
    args = parser.parse_args()
    if args.child:
        vcf, genome, window, threads, out, engine = args.child
        print(json.dumps(child(vcf, genome, int(window), int(threads), out, engine)))
        return

    from genomicdl.datasets.synthetic import write_genome
    from genomicdl.io.genome import prepare_genome

    model, origin = deepsea(args.window)
    params = sum(p.numel() for p in model.parameters())
    per_seq = forward_flops(model, args.window)
    per_variant = 4 * per_seq
    del model
    print(f"network: {origin}; window {args.window} bp, {TASKS} tasks, {params / 1e6:.2f} M parameters")
    print(
        f"FLOPs: {per_seq / 1e9:.3f} GFLOP per sequence, {per_variant / 1e9:.3f} GFLOP per variant "
        "(ref, alt and both reverse complements)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-variants-") as scratch:
        tmp = args.workdir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        chroms = {f"chr{i}": args.chrom_mb * 1_000_000 for i in (1, 2, 3)}
        genome = tmp / "prepared" / "genome.fa.gz"
        if not genome.exists():
            write_genome(tmp / "genome.fa", chroms, seed=1)
            prepare_genome(tmp / "genome.fa", genome)
            (tmp / "genome.fa").unlink()
        before = matmul_flops(args.threads)
        by_engine: dict[str, dict[str, dict]] = {e: {} for e in args.engines}
        for n in args.sizes:
            vcf = tmp / f"snvs.{n}.vcf"
            if not vcf.exists():
                write_vcf(vcf, str(genome), chroms, n, seed=n)
            for engine in args.engines:
                job = [str(vcf), str(genome), str(args.window), str(args.threads), str(tmp / f"out.{n}"), engine]
                by_engine[engine][str(n)] = r = run_child(job)
                for made in tmp.glob(f"out.{n}.*"):  # GBs at 10^5 variants x 919 tasks
                    made.unlink()
                print(
                    f"{n:>9,} SNVs, {engine:>11}: {r['variants'] / r['seconds']:8.1f} variants/s "
                    f"({r['seconds']:.1f} s, "
                    f"{r['cpu_seconds']:.1f} CPU-s), peak RSS {r['peak_rss_mb']:.0f} MB"
                )
        results = by_engine[args.engines[0]]
        engines = engine_comparison(by_engine, [str(n) for n in args.sizes])
        after = matmul_flops(args.threads)
    # the limit: the median rate of 10 s of back-to-back products before and 10 s after
    # the scoring (what a minutes-long job can sustain); the best single product (a burst
    # at the highest clock) is reported beside it
    flops = statistics.median(before["wall"] + after["wall"])
    flops_cpu = statistics.median(before["cpu"] + after["cpu"])
    peak = max(before["wall"] + after["wall"])
    limit = flops / per_variant
    sizes = [str(n) for n in args.sizes]
    last = results[sizes[-1]]
    rate = last["variants"] / last["seconds"]
    # per CPU-second: what the run achieves of the matmul's FLOPs on the CPU time it got,
    # a measure that other processes sharing the machine do not distort
    cpu_fraction = last["variants"] * per_variant / last["cpu_seconds"] / flops_cpu
    rss = {n: round(results[n]["peak_rss_mb"], 1) for n in sizes}
    spread = (max(rss.values()) - min(rss.values())) / min(rss.values())
    load = os.getloadavg()[0]
    print(
        f"dense float32 matmul, {args.threads} threads: {flops / 1e9:.1f} GFLOP/s sustained (median of 2 x 10 s; "
        f"best single product {peak / 1e9:.1f}) -> compute-bound limit {limit:.1f} variants/s; achieved "
        f"{rate:.1f} variants/s = {rate / limit:.0%} of it ({rate * per_variant / peak:.0%} of the best product; "
        f"{cpu_fraction:.0%} per CPU-second; load average {load:.1f} on {os.cpu_count()} cores)"
    )
    print(f"peak RSS from {sizes[0]} to {sizes[-1]} variants varies by {spread:.1%}")
    print(
        json.dumps(
            {
                "bench": "variants",
                "variants_per_s": round(rate, 2),
                "fraction_of_limit": round(rate / limit, 3),
                "cpu_fraction_of_limit": round(cpu_fraction, 3),
                "fraction_of_peak_matmul": round(rate * per_variant / peak, 3),
                "peak_rss_mb": rss,
                "rss_spread": round(spread, 4),
                "variants_per_s_by_size": {n: round(results[n]["variants"] / results[n]["seconds"], 2) for n in sizes},
                "limit_variants_per_s": round(limit, 2),
                "matmul_gflop_per_s": round(flops / 1e9, 2),
                "matmul_peak_gflop_per_s": round(peak / 1e9, 2),
                "gflop_per_variant": round(per_variant / 1e9, 4),
                "parameters": params,
                "window": args.window,
                "tasks": TASKS,
                "threads": args.threads,
                "load_average": round(load, 2),
                "network": origin,
                "engine": args.engines[0],
                "engines": engines,
            }
        )
    )


if __name__ == "__main__":
    main()
