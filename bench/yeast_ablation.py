"""One-change ablations of the yeast binned recipe, scored on VALIDATION only (per track:
Pearson of log1p window totals on the windows the mask keeps), with CPU seconds.

    python bench/yeast_ablation.py config/benchmarks/local/yeast_signal.yaml --out /tmp/yabl \
        --name base [--train-fraction 0.5] [--jitter-copies 2 --jitter 250] [--tracks MNase] \
        [--loss log1p_mse] [--track-weights inverse_variance] [--seed 1] [--max-epochs 20] [--channels 48]

The test split is never read. The k-mer ridge (same features and alpha grid as
bench/signal_models.py) is scored on the same validation windows for reference. Last
line: one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import dataset_spec
from genomicdl.core.sequence import complement_table, get
from genomicdl.datasets.preprocess import build_dataset
from genomicdl.evaluation.signal_eval import log_totals
from genomicdl.io.genome import prepare_genome
from genomicdl.io.store import Store
from genomicdl.models.baselines.kmer import kmer_frequencies
from genomicdl.training.engine import train_network
from genomicdl.training.inference import predict_rows
from genomicdl.training.rebalance import rebalance

REPO = Path(__file__).resolve().parents[1]
ALPHAS = [10, 100, 1000, 1e4, 1e5, 1e6, 1e7]


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def pearsons(y: np.ndarray, p: np.ndarray) -> list[float]:
    """Pearson r per column."""
    return [float(np.corrcoef(p[:, t], y[:, t])[0, 1]) for t in range(y.shape[1])]


def ridge_valid(store: Store, tasks: list[str], k: int) -> tuple[list[float], float]:
    """k-mer ridge on log1p totals (kept training windows, alpha chosen per the mean
    validation r): per-track validation r and the alpha."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    comp = complement_table(get("dna"))
    x, y = {}, {}
    for split in ("train", "valid"):
        rows = store.rows(split)
        rows = rows[store.mask[rows] == 0]
        x[split] = np.concatenate([kmer_frequencies(c, None, k, 4, comp) for _, c in store.batches(rows, 4096)])
        y[split] = log_totals(store.labels[rows], tasks)
    scaler = StandardScaler().fit(x["train"])
    xt, xv = scaler.transform(x["train"]), scaler.transform(x["valid"])
    scored = {a: pearsons(y["valid"], Ridge(alpha=a).fit(xt, y["train"]).predict(xv)) for a in ALPHAS}
    best = max(scored, key=lambda a: np.mean(scored[a]))
    return scored[best], best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--dataset", default="yeast_binned")
    ap.add_argument("--model", default="binned")
    ap.add_argument("--train-fraction", type=float, default=1.0)
    ap.add_argument("--jitter-copies", type=int, default=0)
    ap.add_argument("--jitter", type=int, default=0)
    ap.add_argument("--tracks", nargs="*")
    ap.add_argument("--loss")
    ap.add_argument("--track-weights", choices=["equal", "inverse_variance"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-epochs", type=int)
    ap.add_argument("--patience", type=int)
    ap.add_argument("--channels", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument(
        "--param", action="append", default=[], help='model parameter key=JSON value, e.g. count_pool="output"'
    )
    ap.add_argument("--ridge", action="store_true", help="also score the k-mer ridge on validation")
    args = ap.parse_args()
    out = Path(args.out)
    raw = gconfig.load_yaml(args.config)
    cfg = gconfig.validate(
        gconfig.resolve_paths(raw, str(REPO)), gconfig.load_schema(REPO / "workflow/schemas/config.schema.yaml")
    )
    ds = copy.deepcopy(cfg["datasets"][args.dataset])
    if args.tracks:
        ds["targets"] = {t: ds["targets"][t] for t in args.tracks}
    if args.jitter_copies:
        ds["signal"]["jitter_copies"], ds["signal"]["jitter"] = args.jitter_copies, args.jitter
    if args.loss:
        ds["loss"] = args.loss
    if args.track_weights:
        ds["signal"]["track_weights"] = args.track_weights
    params = copy.deepcopy(cfg["model_params"].get(args.model, {}))
    if args.channels:
        params["trunk_params"]["channels"] = args.channels
    if args.layers:
        params["trunk_params"]["layers"] = args.layers
    for item in args.param:
        key, value = item.split("=", 1)
        params[key] = json.loads(value)
    train = dict(cfg["train"])
    for key, value in (("max_epochs", args.max_epochs), ("patience", args.patience), ("learning_rate", args.lr)):
        if value is not None:
            train[key] = value
    data_key = "-".join([args.dataset, "_".join(ds["targets"]), f"j{args.jitter_copies}x{args.jitter}", ds["loss"],
                         ds["signal"]["track_weights"]])  # fmt: skip
    data = out / "stores" / data_key
    data.mkdir(parents=True, exist_ok=True)
    genome = out / "genome.fa.gz"
    if not genome.exists():
        prepare_genome(ds["genome"]["url"], genome)
    store = data / "dataset.h5"
    if not store.exists():
        files = {f"target.{t}": src["url"] for t, src in ds["targets"].items()}
        build_dataset(dataset_spec(args.dataset, ds), files, str(genome), str(store),
                      str(data / "summary.json"), str(data / "gc.tsv"))  # fmt: skip
    run = out / "runs" / args.name
    run.mkdir(parents=True, exist_ok=True)
    index = run / "index.npz"
    rebalance(store, "none", 1, 1.0, index, run / "counts.tsv")
    if args.train_fraction < 1:  # a learning-curve point: a seeded subset of whole training windows
        saved = dict(np.load(index))
        rng = np.random.default_rng(12345)
        idx = saved["index"]
        saved["index"] = np.sort(rng.choice(idx, round(len(idx) * args.train_fraction), replace=False))
        np.savez(index, **saved)
    result: dict = {"name": args.name, "argv": sys.argv[1:], "train_windows": len(np.load(index)["index"])}
    with Store(str(store)) as st:
        tasks, valid = st.tasks, st.rows("valid")
        valid = valid[st.mask[valid] == 0]
        tracks = list(dict.fromkeys(t.split(":")[0] for t in tasks))
        if args.ridge:
            c0 = cpu_seconds()
            r, alpha = ridge_valid(st, tasks, int(cfg["model_params"]["kmer_ridge"]["k"]))
            result["ridge_valid"] = dict(zip(tracks, r, strict=True))
            result["ridge_alpha"], result["ridge_cpu_s"] = alpha, round(cpu_seconds() - c0, 1)
    c0, w0 = cpu_seconds(), time.time()
    model_pt = run / "model.pt"
    if not model_pt.exists():
        stats = train_network(store=str(store), index=str(index), model=args.model, params=params, train=train,
                              seed=args.seed, threads=1, double_stranded=True, out_model=str(model_pt),
                              out_history=str(run / "history.tsv"), out_stats=str(run / "stats.json"))  # fmt: skip
        result["best_epoch"], result["epochs"] = stats.get("best_epoch"), stats.get("epochs_run")
    with Store(str(store)) as st:
        p = predict_rows(str(model_pt), "torch", st, valid, device="cpu")
        y = st.labels[valid]
    result["valid"] = dict(zip(tracks, pearsons(log_totals(y, tasks), log_totals(p, tasks)), strict=True))
    result["valid_mean"] = float(np.mean(list(result["valid"].values())))
    np.save(run / "valid_pred.npy", p)
    result["cpu_s"], result["wall_s"] = round(cpu_seconds() - c0, 1), round(time.time() - w0, 1)
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
