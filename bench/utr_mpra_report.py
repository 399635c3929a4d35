"""utr_mpra: per cell type, the configuration selected on validation against the k-mer
ridge, from a finished benchmark run's arrays: test Pearson of each, and the paired
bootstrap of their difference (the workflow's comparisons.tsv gives the mean over tasks;
the issue asks for each task). Reads only what the workflow wrote; trains nothing.

    PYTHONPATH=$PWD python bench/utr_mpra_report.py [RESULTS_DIR] [BASELINE]

Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
    runs = table[["dataset", "model", "balance", "seed"]].drop_duplicates().itertuples(index=False)
    files = {tuple(map(str, r)): results / run_path(ARRAYS, tuple(r)) for r in runs}
    predictions = Predictions(files)
    best = select(summary[summary["dataset"] == DATASET])[DATASET]
    tasks = sorted(table["task"].unique())
    out = {"selected": list(best), "baseline": list(baseline), "tasks": {}}
    for task in [*tasks, ALL_TASKS]:
        chosen = set(tasks) if task == ALL_TASKS else {task}
        pairs = _pairs(predictions, DATASET, best, baseline)
        diff = paired_difference(pairs, chosen, 2000, 0)
        scores = {}
        for name, (a, b) in (("selected", pairs[0]), ("baseline", pairs[0])):
            run = a if name == "selected" else b
            scorer = _scorer(run)
            cols = [i for i, t in enumerate(scorer.tasks) if t in chosen]
            scores[name] = float(scorer(pd.DataFrame([[1] * scorer.n]).to_numpy())[0, cols].mean())
        out["tasks"][task] = {**scores, **{k: round(v, 4) for k, v in diff.items()}, "pairs": len(pairs)}
        print(task, out["tasks"][task], flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
