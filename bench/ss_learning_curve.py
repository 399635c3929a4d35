"""Learning curve of a secondary-structure recipe: test Q (with its CI) and validation Q
against the fraction of training proteins, from ``bench/ss_recipes.py --test`` results
(one JSON object per line) and, for 100%, the workflow run's ``results/summary.tsv``.

    python bench/ss_learning_curve.py /tmp/ss/lc.jsonl --summary results/summary.tsv \
        --dataset cb513_q8 --model dilated --out docs/proteins_learning_curve.png

Prints one row per point (fraction, proteins, validation, test [CI], CPU s, the test gain
over the point before) and draws them. Runs that trained once and tested on a second store
(``ss_recipes.py --also-test data/<other>``) give that store's curve with ``--also-test
<other>``; where the workflow run's summary is not on this machine, ``--full`` gives the
100% point as JSON (its figures as documented):

    python bench/ss_learning_curve.py /tmp/ss/nsp.jsonl --also-test netsurfp_new364 --dataset netsurfp_new364 \
        --full '{"proteins": 9712, "valid": 0.722, "test": 0.717, "lo": 0.709, "hi": 0.728, "cpu_s": 381}' \
        --test-name NEW364 --train-name "NetSurfP-2.0" --ylabel "Q3 accuracy" --out docs/x.png

Other benchmarks name their metric and sets (localisation, DeepLoc 1.0):

    python bench/ss_learning_curve.py /tmp/deeploc/lc.jsonl --summary results/summary.tsv \
        --dataset deeploc1 --model light_attention --metric accuracy --test-name "DeepLoc 1.0" \
        --train-name "DeepLoc 2.0 minus homologues" --ylabel accuracy --out docs/proteins_learning_curve_deeploc1.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def points(
    results: str,
    summary: str | None,
    dataset: str,
    model: str,
    metric: str = "q_accuracy",
    also_test: str | None = None,
    full: dict | None = None,
) -> pd.DataFrame:
    """One row per training fraction: proteins, valid and test Q with the test CI (the test of
    the store ``also_test`` where given), and the test gain over the fraction before."""
    rows = []
    for line in Path(results).read_text().splitlines():
        run = json.loads(line)
        records = run["also_test"][also_test]["metrics"] if also_test else run["test"]
        test = {r["metric"]: r for r in records if r["split"] == "test"}[metric]
        rows.append(
            {"fraction": run["fraction"], "proteins": run["train_proteins"], "valid": run["valid_score"],
             "test": test["value"], "lo": test["lo"], "hi": test["hi"], "cpu_s": run["train_cpu_s"]}
        )  # fmt: skip
    if summary:
        table = pd.read_csv(summary, sep="\t")
        top = table[(table["dataset"] == dataset) & (table["model"] == model)].iloc[0]
        rows.append(
            {"fraction": 1.0, "proteins": None, "valid": top["valid_mean"], "test": top["score_mean"],
             "lo": top["score_ci_lo"], "hi": top["score_ci_hi"], "cpu_s": None}
        )  # fmt: skip
    elif full:
        rows.append({"fraction": 1.0, **{k: full.get(k) for k in ("proteins", "valid", "test", "lo", "hi", "cpu_s")}})
    curve = pd.DataFrame(rows).sort_values("fraction").reset_index(drop=True)
    curve["gain"] = curve["test"].diff()
    return curve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--summary")
    ap.add_argument("--dataset", default="cb513_q8")
    ap.add_argument("--model", default="dilated")
    ap.add_argument("--metric", default="q_accuracy", help="the test metric of the recipe runs")
    ap.add_argument(
        "--also-test", help="the curve of the second store the runs were tested on (ss_recipes --also-test)"
    )
    ap.add_argument(
        "--full", help="the 100%% point as JSON (proteins, valid, test, lo, hi, cpu_s) instead of --summary"
    )
    ap.add_argument("--test-name", default="CB513")
    ap.add_argument("--train-name", default="cb6133filtered")
    ap.add_argument("--ylabel", default="Q8 accuracy")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full = json.loads(args.full) if args.full else None
    curve = points(args.results, args.summary, args.dataset, args.model, args.metric, args.also_test, full)
    print(curve.to_string(index=False))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    x = 100 * curve["fraction"]
    ax.errorbar(x, curve["test"], yerr=[curve["test"] - curve["lo"], curve["hi"] - curve["test"]], marker="o",
                capsize=3, label=f"test ({args.test_name}), 95% CI")  # fmt: skip
    ax.plot(x, curve["valid"], marker="s", linestyle="--", label="validation")
    ax.set(xscale="log", xlabel=f"training proteins (% of {args.train_name})", ylabel=args.ylabel,
           title=f"{args.dataset}: {args.model}, one recipe")  # fmt: skip
    ax.set_xticks(x, [f"{v:g}" for v in x])
    ax.minorticks_off()
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)


if __name__ == "__main__":
    main()
