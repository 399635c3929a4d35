"""The fine-tuning experiment's table (config/benchmarks/finetune_rbp.yaml).

    python bench/finetune.py --targets          # the files to ask snakemake for
    python bench/finetune.py [--dir WORKDIR]    # the table, once they exist

Arms, all tested on the whole TIA1 test set: from scratch on 10% of TIA1's training
records, from scratch on 100%, and fine-tuned from the ELAVL1 network on the same 10%
(its variant -- trunk at 0.1x the learning rate, or a frozen trunk -- chosen on mean
validation auROC over seeds). For each arm: the seed with the best validation auROC and
its test auROC with the evaluate stage's 95% bootstrap interval, the mean and range over
seeds, and the training CPU time (snakemake's benchmark files: the pretraining is counted
apart). A paired bootstrap of the test rows gives the difference fine-tuned - scratch (10%)
for the selected runs. Nothing is timed here; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

MODEL, BALANCE, SEEDS, SOURCE = "deepbind", "none", (1, 2, 3), ("elavl1", 1)
ARMS = {
    "scratch, 10%": ["tia1_10"],
    "scratch, 100%": ["tia1_100"],
    "fine-tuned from ELAVL1, 10%": ["tia1_10_ft", "tia1_10_ft_frozen"],
}


def run_dir(dataset: str, seed: int) -> str:
    return f"{dataset}/{MODEL}/{BALANCE}/{seed}"


def targets() -> list[str]:
    out = [f"results/{run_dir(*SOURCE)}/metrics.tsv"]
    for datasets in ARMS.values():
        out += [f"results/{run_dir(d, s)}/metrics.tsv" for d in datasets for s in SEEDS]
    return out


def auroc_of(workdir: Path, dataset: str, seed: int, split: str) -> tuple[float, float, float]:
    m = pd.read_csv(workdir / f"results/{run_dir(dataset, seed)}/metrics.tsv", sep="\t")
    r = m[(m["split"] == split) & (m["metric"] == "auroc")].iloc[0]
    return float(r["value"]), float(r["lo"]), float(r["hi"])


def cpu_seconds(workdir: Path, dataset: str, seed: int, column: str = "cpu_time") -> float:
    """Snakemake's benchmark of the training job: cpu_time, or s (wall)."""
    b = pd.read_csv(workdir / f"benchmarks/train/{run_dir(dataset, seed)}.tsv", sep="\t")
    return float(b[column].iloc[0])


def paired_difference(workdir: Path, a: tuple[str, int], b: tuple[str, int], resamples: int = 2000) -> list[float]:
    """auROC(a) - auROC(b) on the same test rows, with a 95% paired bootstrap interval."""
    from genomicdl.io.run_arrays import load_arrays
    from genomicdl.metrics import auroc

    x, y = (load_arrays(workdir / f"results/{run_dir(*r)}/arrays.npz") for r in (a, b))
    if x.y_test.shape != y.y_test.shape or not np.array_equal(x.y_test, y.y_test):
        return [float("nan")] * 3
    labels, pa, pb = x.y_test[:, 0], x.p_test[:, 0], y.p_test[:, 0]
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(resamples):
        i = rng.integers(0, len(labels), len(labels))
        diffs.append(auroc(labels[i], pa[i]) - auroc(labels[i], pb[i]))
    return [auroc(labels, pa) - auroc(labels, pb), *np.percentile(diffs, [2.5, 97.5]).tolist()]


def table(workdir: Path) -> dict:
    rows, chosen = [], {}
    for arm, datasets in ARMS.items():
        valid = {d: float(np.mean([auroc_of(workdir, d, s, "valid")[0] for s in SEEDS])) for d in datasets}
        dataset = max(valid, key=valid.get)
        seed = max(SEEDS, key=lambda s: auroc_of(workdir, dataset, s, "valid")[0])
        tests = [auroc_of(workdir, dataset, s, "test")[0] for s in SEEDS]
        value, lo, hi = auroc_of(workdir, dataset, seed, "test")
        chosen[arm] = (dataset, seed)
        rows.append(
            {
                "arm": arm,
                "dataset": dataset,
                "variants_valid": valid,
                "seed": seed,
                "valid_auroc": auroc_of(workdir, dataset, seed, "valid")[0],
                "test_auroc": value,
                "lo": lo,
                "hi": hi,
                "test_mean": float(np.mean(tests)),
                "test_min": min(tests),
                "test_max": max(tests),
                "cpu_s": sum(cpu_seconds(workdir, dataset, s) for s in SEEDS),
                "wall_s": sum(cpu_seconds(workdir, dataset, s, "s") for s in SEEDS),
            }
        )
    source = auroc_of(workdir, *SOURCE, "test")
    diff = paired_difference(workdir, chosen["fine-tuned from ELAVL1, 10%"], chosen["scratch, 10%"])
    stats = json.loads(
        (workdir / f"models/{run_dir(*chosen['fine-tuned from ELAVL1, 10%'])}/train_stats.json").read_text()
    )
    return {
        "rows": rows,
        "source_test_auroc": source,
        "source_cpu_s": cpu_seconds(workdir, *SOURCE),
        "source_wall_s": cpu_seconds(workdir, *SOURCE, "s"),
        "finetuned_minus_scratch10": diff,
        "guard": (stats.get("init_from") or {}).get("guard"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=".", help="the workflow's working directory")
    parser.add_argument("--targets", action="store_true", help="print the files to ask snakemake for")
    args = parser.parse_args()
    if args.targets:
        print(" ".join(targets()))
        return 0
    t = table(Path(args.dir))
    print(
        "| arm | chosen on validation | valid auROC | test auROC [95% CI] | test over seeds (mean, range) "
        "| training wall s / CPU s (3 seeds) |"
    )
    print("|---|---|---|---|---|---|")
    for r in t["rows"]:
        print(
            f"| {r['arm']} | {r['dataset']}, seed {r['seed']} | {r['valid_auroc']:.3f} | {r['test_auroc']:.3f} "
            f"[{r['lo']:.3f}, {r['hi']:.3f}] | {r['test_mean']:.3f} ({r['test_min']:.3f}-{r['test_max']:.3f}) | "
            f"{r['wall_s']:.0f} / {r['cpu_s']:.0f} |"
        )
    d = t["finetuned_minus_scratch10"]
    print(
        f"\nsource (ELAVL1, seed 1): test auROC {t['source_test_auroc'][0]:.3f}, "
        f"training {t['source_wall_s']:.0f} s wall, {t['source_cpu_s']:.0f} s CPU"
    )
    print(f"fine-tuned - scratch (10%), paired bootstrap of test rows: {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]")
    print(f"leakage guard: {t['guard']}")
    print(json.dumps(t))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
