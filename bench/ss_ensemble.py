"""Seed ensemble of per-residue runs: mean of their class probabilities, Q on validation
and test for each run and for the ensemble (95% CI by resampling proteins, 1,000 times).

    python bench/ss_ensemble.py results/cb513_q8/dilated/none/1/arrays.npz /tmp/ss/full_seed2/arrays.npz

The arrays are the evaluate stage's (``y_*`` (proteins, length) with -1 where nothing is
scored, ``p_*`` (proteins, length, classes)); every run must cover the same rows.
"""

from __future__ import annotations

import argparse

import numpy as np


def q_with_ci(y: np.ndarray, p: np.ndarray, n_boot: int = 1000) -> tuple[float, float, float]:
    """Accuracy over scored residues; CI by resampling proteins (seed 0)."""
    scored = y >= 0
    hits = ((p.argmax(-1) == y) & scored).sum(axis=1)
    total = scored.sum(axis=1)
    rng = np.random.default_rng(0)
    boots = [hits[i].sum() / total[i].sum() for i in (rng.integers(0, len(y), len(y)) for _ in range(n_boot))]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return float(hits.sum() / total.sum()), float(lo), float(hi)


def _fmt(q: float, lo: float, hi: float) -> str:
    return f"{q:.4f} [{lo:.4f}, {hi:.4f}]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("arrays", nargs="+")
    args = ap.parse_args()
    runs = [np.load(path) for path in args.arrays]
    for split in ("valid", "test"):
        y = runs[0][f"y_{split}"]
        if any(not np.array_equal(r[f"y_{split}"], y) for r in runs):
            raise ValueError(f"the runs' {split} labels differ: not the same rows")
        probs = [r[f"p_{split}"] for r in runs]
        for path, p in zip(args.arrays, probs, strict=True):
            print(split, path, _fmt(*q_with_ci(y, p)))
        print(split, f"ensemble of {len(runs)}", _fmt(*q_with_ci(y, np.mean(probs, axis=0))))


if __name__ == "__main__":
    main()
