"""utr_mpra: per cell type, the configuration selected on validation (and the pure CNN,
conv_dense, alone and as an ensemble) against the k-mer ridge, from a finished benchmark
run's arrays: test Pearson of each (a single model's: its first seed), and the paired
bootstrap of their difference over every seed pair (the workflow's comparisons.tsv gives the mean over tasks;
the issue asks for each task). Reads only what the workflow wrote; trains nothing.

    PYTHONPATH=$PWD python bench/utr_mpra_report.py [RESULTS_DIR] [BASELINE]

Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.core.paths import ARRAYS, run_path
from genomicdl.evaluation.benchmark import ALL_TASKS, Predictions, _pairs, _scorer, paired_difference, select

DATASET = "utr_mpra"


def main() -> None:
    results = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    baseline = (sys.argv[2] if len(sys.argv) > 2 else "kmer_ridge", "none")
    table = pd.read_csv(results / "results" / "benchmark.tsv", sep="\t", dtype={"seed": str, "task": str})
    summary = pd.read_csv(results / "results" / "summary.tsv", sep="\t", dtype={"seed": str, "task": str})
    table = table[table["dataset"] == DATASET]
    runs = (
        table[table["seed"].str.isdigit()][["dataset", "model", "balance", "seed"]]
        .drop_duplicates()
        .itertuples(index=False)
    )
    files = {tuple(map(str, r)): results / run_path(ARRAYS, tuple(r)) for r in runs}
    predictions = Predictions(files)
    best = select(summary[summary["dataset"] == DATASET])[DATASET]
    tasks = sorted(table["task"].unique())
    configs = [best, *[c for c in (("conv_dense (ensemble)", "none"), ("conv_dense", "none")) if c != best]]
    out = {"selected": list(best), "baseline": list(baseline), "configurations": {}}
    for config in configs:
        pairs = _pairs(predictions, DATASET, config, baseline)
        if not pairs:
            continue
        rows = {}
        for task in [*tasks, ALL_TASKS]:
            chosen = set(tasks) if task == ALL_TASKS else {task}
            diff = paired_difference(pairs, chosen, 2000, 0)
            scores = {}
            for side in (0, 1):
                scorer = _scorer(pairs[0][side])
                cols = [i for i, t in enumerate(scorer.tasks) if t in chosen]
                scores[("model", "baseline")[side]] = round(
                    float(scorer(np.ones((1, scorer.n), np.int64))[0, cols].mean()), 4
                )
            rows[task] = {**scores, **{k: round(v, 4) for k, v in diff.items()}, "pairs": len(pairs)}
            print(config[0], task, rows[task], flush=True)
        out["configurations"][config[0]] = rows
    print(json.dumps(out))


if __name__ == "__main__":
    main()
