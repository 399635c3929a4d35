"""Attribution speed: ISM, gradient x input and DeepLIFT/SHAP on the same model and windows,
against the compute bound of the passes each needs; and our dinucleotide shuffle against
tangermeme's (the references of DeepLIFT/SHAP).

The model is the zoo's DeepBind at the demo's size (32 filters of 16 bp, linear head,
strand-averaged as the interpret stage explains it, so every pass covers both strands)
on random 200-bp windows, untrained (speed does not depend on the weights). Passes needed per
window: ISM 3L + 1 forward; gradient x input 1 forward + 1 backward; DeepLIFT/SHAP with
n references n forward + n backward of (window, reference) pairs. A backward pass costs
about two forwards (gradients of activations and weights), so in forward-pass units:
ISM 3L + 1, gradient x input 3, DeepLIFT/SHAP 3n (tangermeme runs the window beside every
reference, 6n: at best half the bound). The compute bound of each method is the
rate of plain forward passes (batched, no grad, measured in the same run) divided by
those units; ``efficiency`` is the measured rate over that bound. Timed: the attribution
calls only (references drawn inside DeepLIFT/SHAP's time). Each is called until it has used
a CPU second (at least 3 calls): the median per call, with the range over calls. Not
timed: building the model and windows, the first call of each method (a warm-up,
compiling tangermeme's shuffle).

Rates and bounds are per CPU second (process time, one thread) as well as per wall second:
on a shared machine the wall clock measures the neighbours; the CPU-based figures are the
comparable ones.

    python bench/attributions.py [--windows 32] [--length 200] [--shuffles 20] [--threads 1]

The last line is one JSON object: {"bench": "attributions", ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genomicdl.datasets.negatives import dinucleotide_shuffle  # noqa: E402
from genomicdl.interpret.attributions import (  # noqa: E402
    deep_lift_shap,
    explained,
    gradient_x_input,
    ism,
    one_hot,
)
from genomicdl.kinds.targets import Target  # noqa: E402
from genomicdl.models import build_network  # noqa: E402


def timed(fn, repeats: int = 1) -> tuple[float, float]:
    """(wall, CPU) seconds of the best of ``repeats`` calls."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - w, time.process_time() - c))
    return best


def repeated(fn, min_cpu: float = 1.0, at_least: int = 3) -> tuple[float, float, float, float]:
    """Call ``fn`` until ``min_cpu`` CPU seconds (and ``at_least`` calls) have passed: the
    median CPU seconds of a call, its min and max, and the median wall seconds."""
    cpus, walls = [], []
    while len(cpus) < at_least or sum(cpus) < min_cpu:
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return float(np.median(cpus)), min(cpus), max(cpus), float(np.median(walls))


def shuffle_comparison(codes: np.ndarray, n: int) -> dict:
    """Ours (negatives.dinucleotide_shuffle, Python) against tangermeme's (numba): both
    keep every dinucleotide count and both ends (checked on every shuffle); shuffles/s."""
    from tangermeme.ersatz import dinucleotide_shuffle as tm_shuffle

    def counts(s: np.ndarray) -> np.ndarray:
        c = np.zeros((5, 5), int)
        np.add.at(c, (s[:-1], s[1:]), 1)
        return c

    rng = np.random.default_rng(0)
    ours = [dinucleotide_shuffle(c, rng) for c in codes for _ in range(n)]
    x = one_hot(codes)
    tm_shuffle(x[:1], n=1, random_state=0)  # compile
    theirs = tm_shuffle(x, n=n, random_state=list(range(len(codes)))).numpy()
    ok_ours = all(
        (counts(s) == counts(codes[i // n])).all() and s[0] == codes[i // n][0] and s[-1] == codes[i // n][-1]
        for i, s in enumerate(ours)
    )
    ok_theirs = True
    for i in range(len(codes)):
        for r in theirs[i]:
            s = r.argmax(0)
            ok_theirs &= bool((counts(s) == counts(codes[i])).all() and s[0] == codes[i][0] and s[-1] == codes[i][-1])
    w_ours, c_ours = timed(lambda: [dinucleotide_shuffle(c, rng) for c in codes for _ in range(n)])
    w_tm, c_tm = timed(lambda: tm_shuffle(x, n=n, random_state=list(range(len(codes)))), repeats=3)
    # one call per sequence, as the negatives of the data stage are drawn
    _, c_single = timed(lambda: [tm_shuffle(x[i : i + 1], n=1, random_state=i) for i in range(len(codes))])
    total = len(codes) * n
    return {
        "shuffles": total,
        "ours_exact": bool(ok_ours),
        "tangermeme_exact": bool(ok_theirs),
        "ours_per_s": total / c_ours,
        "tangermeme_per_s": total / c_tm,
        "ours_wall_s": w_ours,
        "tangermeme_wall_s": w_tm,
        "speedup": c_ours / c_tm,
        "tangermeme_one_per_call_per_s": len(codes) / c_single,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=32)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--shuffles", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tasks", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    target = Target("binary", tuple(f"t{i}" for i in range(args.tasks)))
    model = build_network("deepbind", target=target, window=args.length, alphabet="dna", variable=False, params={})
    fn = explained(model, True)
    codes = np.random.default_rng(1).integers(0, 4, (args.windows, args.length)).astype(np.uint8)
    tasks = np.arange(args.windows) % args.tasks
    n, length = args.windows, args.length

    batch = 1024
    big = one_hot(np.random.default_rng(2).integers(0, 4, (batch, length)).astype(np.uint8))

    @torch.inference_mode()
    def forwards() -> None:
        for _ in range(4):
            fn(big)

    fn(big[:8])
    c_fwd, _, _, w_fwd = repeated(forwards)
    fwd_rate = 4 * batch / c_fwd  # windows per CPU second through the explained (strand-averaged) function
    methods = {
        "ism": (lambda: ism(fn, codes, tasks, 1024), 3 * length + 1),
        "gradient_x_input": (lambda: gradient_x_input(fn, codes, tasks, 256), 3),
        "deep_lift_shap": (lambda: deep_lift_shap(fn, codes, tasks, args.shuffles, 0, 512), 3 * args.shuffles),
    }
    rows = {}
    for name, (call, units) in methods.items():
        call()  # warm-up
        cpu, lo, hi, wall = repeated(call)
        bound = fwd_rate / units
        rows[name] = {
            "forward_units": units,
            "wall_s": wall,
            "cpu_s": cpu,
            "per_s_range": [n / hi, n / lo],
            "per_wall_s": n / wall,
            "per_s": n / cpu,
            "bound_per_s": bound,
            "efficiency": n / cpu / bound,
        }
        print(
            f"{name:17s} {n / cpu:9.1f} attributions per CPU s (range {n / hi:.1f}-{n / lo:.1f}; {n / wall:.1f} per "
            f"wall s; CPU {cpu:.3f} s, wall "
            f"{wall:.2f} s); bound {bound:9.1f} ({units} forward units); {100 * n / cpu / bound:.0f}% of the bound"
        )
    print(
        f"forward passes: {fwd_rate:.0f} windows per CPU s ({length} bp, both strands; "
        f"CPU {c_fwd:.2f} s, wall {w_fwd:.2f} s)"
    )
    ratios = {
        "gradient_x_input_vs_ism": rows["gradient_x_input"]["per_s"] / rows["ism"]["per_s"],
        "deep_lift_shap_vs_ism": rows["deep_lift_shap"]["per_s"] / rows["ism"]["per_s"],
    }
    print(
        f"gradient x input is {ratios['gradient_x_input_vs_ism']:.1f}x and DeepLIFT/SHAP ({args.shuffles} references) "
        f"{ratios['deep_lift_shap_vs_ism']:.1f}x the rate of ISM"
    )
    shuffles = shuffle_comparison(codes[:16], args.shuffles)
    print(
        f"dinucleotide shuffles of {length} bp per CPU s: ours {shuffles['ours_per_s']:.0f}, tangermeme "
        f"{shuffles['tangermeme_per_s']:.0f} ({shuffles['speedup']:.0f}x); exact: ours {shuffles['ours_exact']}, "
        f"tangermeme {shuffles['tangermeme_exact']}; one shuffle per call (as the data stage draws negatives): "
        f"tangermeme {shuffles['tangermeme_one_per_call_per_s']:.0f}"
    )
    out = {
        "bench": "attributions",
        "windows": n,
        "length": length,
        "shuffles": args.shuffles,
        "threads": args.threads,
        "forward_per_s": fwd_rate,
        **{f"{k}_{m}": v for k, r in rows.items() for m, v in r.items()},
        **ratios,
        **{f"shuffle_{k}": v for k, v in shuffles.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
