"""Sequence weights: blocked matrix products against the naive pairwise loop, in one run.

Both compute w_i = 1 / #{j : identity(i, j) >= 1 - theta} on the same sequences of a
prepared alignment (the first ``--naive-rows``; the naive loop is quadratic in Python),
check that they agree exactly, then time the blocked version on the whole alignment
(the naive loop's time on it is extrapolated, quadratically).

    python bench/seqweights.py [--alignment a2m] [--naive-rows 1000] [--block 2048]

The last line is one JSON object:
{"bench": "seqweights", "speedup": <naive s / blocked s on the same rows>, ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.io.alignment import load_alignment, prepare_alignment
from genomicdl.mutation.seqweights import effective_number, naive_weights, sequence_weights

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/mutation_effects"
DEFAULT_A2M = DEFAULT / "BLAT_ECOLX_hmmerbit_plmc_n5_m30_f50_t0.2_r24-286_id100_b105.a2m.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alignment", type=Path, default=DEFAULT_A2M)
    parser.add_argument("--naive-rows", type=int, default=1000)
    parser.add_argument("--block", type=int, default=2048)
    parser.add_argument("--theta", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prepare_alignment(args.alignment, Path(tmp) / "a.h5")
        codes = load_alignment(Path(tmp) / "a.h5").codes
    device = "cuda" if torch.cuda.is_available() else "cpu"
    sub = codes[: args.naive_rows]
    start = time.perf_counter()
    naive = naive_weights(sub, theta=args.theta)
    naive_s = time.perf_counter() - start
    start = time.perf_counter()
    blocked = sequence_weights(sub, theta=args.theta, block=args.block, device=device)
    blocked_s = time.perf_counter() - start
    assert np.allclose(naive, blocked), "blocked and naive weights differ"
    start = time.perf_counter()
    full = sequence_weights(codes, theta=args.theta, block=args.block, device=device)
    full_s = time.perf_counter() - start
    print(f"{len(sub)} sequences: naive loop {naive_s:.2f} s, blocked {blocked_s:.3f} s ({device})")
    print(f"all {len(codes)} x {codes.shape[1]}: blocked {full_s:.2f} s, N_eff {effective_number(full):.1f}")
    print(json.dumps({
        "bench": "seqweights", "device": device, "rows_compared": len(sub), "naive_s": round(naive_s, 3),
        "blocked_s": round(blocked_s, 4), "speedup": round(naive_s / max(blocked_s, 1e-9), 1),
        "rows_full": len(codes), "columns": int(codes.shape[1]), "full_blocked_s": round(full_s, 2),
        "neff": round(effective_number(full), 1), "threads": torch.get_num_threads(),
        "naive_full_estimate_s": round(naive_s * (len(codes) / len(sub)) ** 2, 1),
    }))


if __name__ == "__main__":
    main()
