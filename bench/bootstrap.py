"""Bootstrap speed: the former one-scikit-learn-call-per-resample loop against the
vectorised count-matrix bootstrap, on the same resamples (auROC + auPRC of one task).

Usage: python bench/bootstrap.py [--rows 2000] [--resamples 1000]; last line JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.metrics.resample import Ties, counts_of, draw, ranking_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = (rng.random(args.rows) < 0.3).astype(int)
    p = np.round(y * 0.8 + rng.random(args.rows), 3)
    index = draw(rng, n=args.rows, resamples=args.resamples, strata=(np.flatnonzero(y == 1), np.flatnonzero(y == 0)))
    start = time.perf_counter()
    old = [(roc_auc_score(y[i], p[i]), average_precision_score(y[i], p[i])) for i in index]
    old_s = time.perf_counter() - start
    start = time.perf_counter()
    roc, prc = ranking_counts(y, Ties(p), counts_of(index, args.rows))
    new_s = time.perf_counter() - start
    error = float(np.max(np.abs(np.array(old) - np.stack([roc, prc], axis=1))))
    print(f"{args.resamples} resamples x {args.rows} rows: sklearn loop {old_s:.2f} s, vectorised {new_s:.3f} s")
    print(f"largest difference {error:.2e}; speedup {old_s / new_s:.0f}x")
    print(
        json.dumps(
            {
                "rows": args.rows,
                "resamples": args.resamples,
                "sklearn_s": round(old_s, 3),
                "vectorised_s": round(new_s, 4),
                "speedup": round(old_s / new_s, 1),
                "max_abs_diff": error,
            }
        )
    )


if __name__ == "__main__":
    main()
