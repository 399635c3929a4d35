"""Secondary-structure recipes on validation: one network, one recipe, a fraction of the
training proteins, through the workflow's own train and evaluate functions.

    PYTHONPATH=. python bench/ss_recipes.py --data data/cb513_q8 --fraction 0.25 \
        --model dilated --params '{"pool": 1, "layers": 5, "channels": 64}' \
        --train '{"max_epochs": 6, "lr_schedule": "cosine", "warmup_epochs": 1}' --out /tmp/ss/a

The store and the training index come from the workflow (``data/<dataset>/dataset.h5``
and ``rebalance/none/1/index.npz``); ``--fraction`` keeps a seeded subset of the training
proteins (the validation split stays whole, so every candidate is judged on the same
proteins). ``--test`` also evaluates the selected weights on the test split (for a
learning-curve point: never for choosing). ``--also-test data/<other>`` evaluates the same
selected weights on another store's test split too (two benchmarks that train one network
on the same proteins, e.g. netsurfp_cb513 and netsurfp_new364: train once, test on both):
before training, the other store must have the same alphabet, kind, tasks and classes, and
none of its test proteins may be among this run's training proteins (identical or within
2 substitutions: the fine-tuning leakage guard, genomicdl.training.finetune.guard). Last
line: one JSON object (validation score, epochs, CPU and wall seconds, test metrics when
asked, ``also_test`` per other store).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.config import validation as gconfig
from genomicdl.training.engine import train_network
from genomicdl.training.rebalance import load_index

REPO = Path(__file__).resolve().parents[1]


def subset_index(index: str, fraction: float, seed: int, out: Path) -> int:
    """Write a seeded ``fraction`` of the training rows of ``index`` to ``out``; returns their number."""
    rows, weights, strategy = load_index(index)
    if fraction < 1:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(rows, size=max(1, round(fraction * len(rows))), replace=False))
    np.savez(out, index=rows, pos_weight=weights, strategy=np.array(strategy))
    return len(rows)


def sections(config: str, overrides: dict) -> dict:
    """The validated benchmark ``config`` (schema defaults) with ``train`` overrides, device cpu."""
    raw = gconfig.load_yaml(config)
    raw["train"] = {**raw.get("train", {}), "device": "cpu", **overrides}
    return gconfig.validate(raw, gconfig.load_schema(REPO / "workflow/schemas/config.schema.yaml"))


def check_also_test(data: Path, other: Path, index: Path) -> dict:
    """Refuse another store whose targets differ from ``data``'s or whose test split holds a
    training protein of ``index`` (a SystemExit naming the store and what differs); returns
    the leakage guard's counts."""
    from genomicdl.io.store import Store
    from genomicdl.training.finetune import guard

    store, other_store = data / "dataset.h5", other / "dataset.h5"
    if not other_store.is_file():
        raise SystemExit(f"--also-test {other}: no {other_store} (build it with snakemake first)")
    with Store(store) as a, Store(other_store) as b:
        for what in ("alphabet", "kind", "tasks", "classes"):
            if getattr(a, what) != getattr(b, what):
                raise SystemExit(
                    f"--also-test {other_store}: its {what} is {getattr(b, what)!r}, the training store {store} "
                    f"has {getattr(a, what)!r}; a network cannot be tested on other targets"
                )
    counts = guard(store=str(other_store), source_store=str(store), source_index=str(index), policy="warn")
    counts.pop("dropped_test_rows")
    if counts["leaked"]:
        raise SystemExit(
            f"--also-test {other_store}: {counts['leaked']} of its {counts['test_rows']} test proteins are among "
            f"this run's {counts['source_training_rows']} training proteins ({counts['identical']} identical, "
            f"{counts['near_identical']} within {counts['max_mismatches']} substitutions): train on the store whose "
            "leakage drop covers both test sets"
        )
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="data/<dataset> of a prepared per_position dataset")
    ap.add_argument("--config", default=str(REPO / "config/benchmarks/cb513.yaml"), help="benchmark config")
    ap.add_argument("--model", required=True)
    ap.add_argument("--params", default="{}", help="model parameters (JSON)")
    ap.add_argument("--train", default="{}", help="train settings over the schema defaults (JSON)")
    ap.add_argument("--fraction", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--test", action="store_true", help="also evaluate on the test split (learning curves)")
    ap.add_argument(
        "--also-test", action="append", default=[], metavar="DATA",
        help="with --test: also evaluate the selected weights on the test split of data/<other> (same alphabet and "
        "classes, no training protein in its test split); repeatable",
    )  # fmt: skip
    ap.add_argument(
        "--init", default=None,
        help="init_from as JSON (fine-tuning): {file, store, index} of a source run (its model.pt, dataset.h5, "
        "index.npz), trunk_lr, freeze, leakage (genomicdl.training.finetune)",
    )  # fmt: skip
    args = ap.parse_args()
    if args.also_test and not args.test:
        ap.error("--also-test evaluates on test splits: use it with --test")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # the epochs' validation scores
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data)
    n_train = subset_index(str(data / "rebalance/none/1/index.npz"), args.fraction, args.seed, out / "index.npz")
    guards = {Path(o).name: check_also_test(data, Path(o), out / "index.npz") for o in args.also_test}
    cfg = sections(args.config, json.loads(args.train))
    params, train = json.loads(args.params), cfg["train"]
    init = None
    if args.init:
        from genomicdl.training.finetune import DEFAULTS

        init = DEFAULTS | {"leakage": "drop"} | json.loads(args.init)
    cpu0, wall0 = time.process_time(), time.time()
    stats = train_network(
        store=str(data / "dataset.h5"), index=str(out / "index.npz"), model=args.model, params=params,
        train=train, seed=args.seed, threads=1, double_stranded=False, out_model=str(out / "model.pt"),
        out_history=str(out / "history.csv"), out_stats=str(out / "stats.json"), init_from=init,
    )  # fmt: skip
    result = {
        "data": str(data), "model": args.model, "params": params, "train": json.loads(args.train),
        "init": json.loads(args.init) if args.init else None,
        "fraction": args.fraction, "train_proteins": n_train, "valid_score": stats["best_valid_score"],
        "best_epoch": stats["best_epoch"], "epochs": stats["epochs_run"], "parameters": stats["parameters"],
        "train_cpu_s": round(time.process_time() - cpu0, 1), "train_wall_s": round(time.time() - wall0, 1),
    }  # fmt: skip
    if args.test:
        from genomicdl.evaluation.evaluate import evaluate_run

        def test_on(store: Path, where: Path):
            """The selected weights on ``store``'s test split; outputs under ``where``."""
            return evaluate_run(
                store=str(store / "dataset.h5"), model=str(out / "model.pt"), family="torch",
                run={"dataset": store.name, "model": args.model, "balance": "none", "seed": str(args.seed)},
                settings=cfg["evaluate"], out_predictions=str(where / "predictions.tsv.gz"),
                out_metrics=str(where / "metrics.tsv"), out_arrays=str(where / "arrays.npz"), device="cpu",
            )  # fmt: skip

        result["test"] = test_on(data, out).to_dict(orient="records")
        result["also_test"] = {}
        for other in map(Path, args.also_test):
            where = out / "also_test" / other.name
            where.mkdir(parents=True, exist_ok=True)
            metrics = test_on(other, where)
            result["also_test"][other.name] = {
                "guard": guards[other.name],
                "metrics": metrics.to_dict(orient="records"),
            }
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
