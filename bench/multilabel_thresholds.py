"""Which multilabel threshold rule scores more micro-F1 on proteins it did not see -
validation only: each rule's thresholds are fitted on one half of a run's validation
split and scored on the other half (seeded halves, both directions, several splits).

    PYTHONPATH=. python bench/multilabel_thresholds.py results/deeploc2_fold*/*/none/1/arrays.npz

Rules: ``label_f1`` (each label's own best-F1 threshold, the rule before) and
``micro_f1`` (coordinate ascent on micro-F1, genomicdl.metrics.multilabel, the rule now).
The test arrays are not read. Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.io.run_arrays import load_arrays
from genomicdl.metrics.multilabel import label_thresholds, micro_f1_thresholds

RULES = {"label_f1": label_thresholds, "micro_f1": micro_f1_thresholds}


def micro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float((y & pred).sum())
    return 2 * tp / max(2 * tp + float((~y & pred).sum()) + float((y & ~pred).sum()), 1.0)


def held_out_scores(y: np.ndarray, p: np.ndarray, splits: int = 5, seed: int = 0) -> dict[str, float]:
    """Mean micro-F1 on the unseen half of the validation rows, per rule."""
    y = y.astype(bool)
    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {rule: [] for rule in RULES}
    for _ in range(splits):
        half = rng.permutation(len(y)) < len(y) // 2
        for fit, score in ((half, ~half), (~half, half)):
            for rule, fn in RULES.items():
                cut = fn(y[fit], p[fit])
                out[rule].append(micro_f1(y[score], p[score] >= cut))
    return {rule: round(float(np.mean(v)), 4) for rule, v in out.items()}


def main() -> None:
    rows = []
    for path in sys.argv[1:]:
        arrays = load_arrays(path)
        if arrays.kind != "multilabel":
            continue
        parts = Path(path).parts
        run = "/".join(parts[parts.index("results") + 1 : parts.index("results") + 3])
        scores = held_out_scores(arrays.y_valid, arrays.p_valid)
        rows.append({"run": run, "valid_rows": len(arrays.y_valid), **scores})
        print(f"{run:40s} {len(arrays.y_valid):6d}", *(f"{rule} {scores[rule]:.4f}" for rule in RULES))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
