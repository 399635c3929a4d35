"""Signal benchmark: binned and profile networks against a k-mer ridge on log counts,
Pearson per track with bootstrap CIs and paired differences, on the test chromosome.

    python bench/signal_models.py config/benchmarks/local/yeast_signal.yaml --out /tmp/ys

Runs the workflow's own functions (preprocess, rebalance, train, predict) on each dataset
of the config, trains ``--pairs`` (dataset:model) and fits the ridge on log1p window
totals of the first dataset (alpha chosen on validation). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.sequence import complement_table, get
from genomicdl.datasets.preprocess import build_dataset
from genomicdl.evaluation.signal_eval import compare, log_totals
from genomicdl.io.genome import prepare_genome
from genomicdl.io.store import Store
from genomicdl.models.baselines.kmer import kmer_frequencies
from genomicdl.training.engine import train_network
from genomicdl.training.inference import predict_rows
from genomicdl.training.rebalance import rebalance

REPO = Path(__file__).resolve().parents[1]


def kmer_ridge_log_counts(store: Store, tasks: list[str], k: int, alphas: list[float]) -> np.ndarray:
    """k-mer (RC-collapsed) frequencies + ridge on log1p totals; predictions for the test
    rows as expm1 of the fitted log count, spread evenly over the bins."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    comp = complement_table(get("dna"))
    feats, rows_of = {}, {}
    for split in ("train", "valid", "test"):  # fitted and chosen on the windows the mask keeps; all test windows
        rows = store.rows(split)
        rows = rows if split == "test" else rows[store.mask[rows] == 0]
        rows_of[split] = rows
        feats[split] = np.concatenate(
            [kmer_frequencies(codes, None, k, 4, comp) for _, codes in store.batches(rows, 4096)]
        )
    y = {s: log_totals(store.labels[rows_of[s]], tasks) for s in ("train", "valid", "test")}
    scaler = StandardScaler().fit(feats["train"])
    x = {s: scaler.transform(f) for s, f in feats.items()}
    best = max(alphas, key=lambda a: _r(Ridge(alpha=a).fit(x["train"], y["train"]).predict(x["valid"]), y["valid"]))
    pred = Ridge(alpha=best).fit(x["train"], y["train"]).predict(x["test"])
    bins = len(tasks) // pred.shape[1]
    print(f"kmer_ridge k={k}: alpha {best} chosen on validation", flush=True)
    return np.repeat(np.expm1(pred) / bins, bins, axis=1)


def _r(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean([np.corrcoef(p[:, t], y[:, t])[0, 1] for t in range(y.shape[1])]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--out", required=True)
    ap.add_argument("--pairs", nargs="+", default=["yeast_binned:binned", "yeast_profile:bpnet"])
    ap.add_argument("--threads", type=int, default=1)  # 2 OpenMP threads on a shared 2-core machine: 2.5x slower
    ap.add_argument("--boot", type=int, default=1000)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = gconfig.load_yaml(args.config)
    cfg = gconfig.validate(gconfig.resolve_paths(raw, str(REPO)) if "local" in args.config else raw,
                           gconfig.load_schema(REPO / "workflow/schemas/config.schema.yaml"))  # fmt: skip
    times: dict[str, float] = {}
    stores: dict[str, str] = {}
    for name, ds in cfg["datasets"].items():
        t0 = time.time()
        genome = out / "genome.fa.gz"
        if not genome.exists():
            prepare_genome(ds["genome"]["url"], genome)
        files = {f"target.{t}": src["url"] for t, src in ds["targets"].items()}
        store = out / name / "dataset.h5"
        if not store.exists():
            build_dataset(
                dataset_spec(name, ds), files,
                str(genome), str(store), str(out / name / "summary.json"), str(out / name / "gc.tsv")
            )
        rebalance(store, "none", 1, 1.0, out / name / "index.npz", out / name / "counts.tsv")
        stores[name] = str(store)
        times[f"preprocess {name}"] = round(time.time() - t0, 1)
    preds: dict[str, np.ndarray] = {}
    first = next(iter(stores))
    with Store(stores[first]) as st:
        test, y, tasks = st.rows("test"), st.labels[st.rows("test")], st.tasks
        keep = st.mask[test] == 0  # the masked metrics are the primary ones; pearson_unmasked once
        print(f"mask: {int((~keep).sum())} of {len(test)} test windows left out ({st.attr('signal').get('mask')})")
        t0 = time.time()
        k = int(cfg["model_params"].get("kmer_ridge", {}).get("k", 6))
        preds["kmer_ridge"] = kmer_ridge_log_counts(st, tasks, k, [10, 100, 1000, 1e4, 1e5, 1e6])
        times["kmer_ridge"] = round(time.time() - t0, 1)
    for pair in args.pairs:
        name, model = pair.split(":")
        t0 = time.time()
        run = out / name / model
        model_pt = run / "model.pt"
        if not model_pt.exists():
            train_network(store=stores[name], index=str(out / name / "index.npz"), model=model,
                          params=cfg["model_params"].get(model, {}), train=cfg["train"], seed=1,
                          threads=args.threads, double_stranded=True, out_model=str(model_pt),
                          out_history=str(run / "history.tsv"), out_stats=str(run / "stats.json"))  # fmt: skip
        with Store(stores[name]) as st:
            assert np.array_equal(st.rows("test"), test) or len(st.rows("test")) == len(test)
            p = predict_rows(str(model_pt), "torch", st, st.rows("test"), device="cpu")
            preds[model] = p if st.tasks == tasks else _as_layout(p, st.tasks, tasks)
        times[model] = round(time.time() - t0, 1)
    counts = [m for m in preds if m == "bpnet"]
    rows = compare(y, preds, tasks, n_boot=args.boot, seed=0, reference="kmer_ridge", keep=keep, counts_models=counts)
    with open(out / "signal_metrics.tsv", "w") as fh:
        fh.write("model\ttrack\tmetric\tvalue\tlo\thi\n")
        for r in rows:
            fh.write(
                "\t".join("" if r[c] is None else str(r[c]) for c in ("model", "track", "metric", "value", "lo", "hi"))
                + "\n"
            )
    for r in rows:
        if r["metric"] in ("pearson_log_counts", "pearson_minus_kmer_ridge", "pearson_unmasked",
                           "profile_pearson_log", "profile_jsd", "profile_jsd_shuffled"):  # fmt: skip
            print(f"{r['model']:>10} {r['track']:>8} {r['metric']:<26} {r['value']} [{r['lo']}, {r['hi']}]")
    print(json.dumps({"test_windows": len(test), "masked_test_windows": int((~keep).sum()), "seconds": times,
                      "rows": rows}))  # fmt: skip


def _as_layout(p: np.ndarray, have: list[str], want: list[str]) -> np.ndarray:
    """Predictions of another bin layout summed into ``want``'s bins (same tracks)."""
    from genomicdl.kinds.signal_layout import layout

    (tracks, b1), (_, b2) = layout(have), layout(want)
    return p.reshape(len(p), len(tracks), b2, b1 // b2).sum(-1).reshape(len(p), -1)


if __name__ == "__main__":
    main()
