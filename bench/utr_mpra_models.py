"""utr_mpra: one network recipe trained by the real engine on the workflow's store,
scored on VALIDATION only (Pearson per cell type), with CPU and wall seconds. The
ablations of docs/signal.md (MPRA) are rows of this script; the test split is never read.

    PYTHONPATH=$PWD python bench/utr_mpra_models.py STORE INDEX NAME MODEL \\
        '{"filters": 64}' '{"max_epochs": 8, "lr_schedule": "cosine"}' [SEED]

STORE/INDEX: data/utr_mpra/dataset.h5 and data/utr_mpra/rebalance/none/1/index.npz of a
preprocess run of config/benchmarks/utr_mpra.yaml (a fixed ``window: 170`` store for the
native heads). The train settings are the schema's defaults overridden by the JSON.
Appends one JSON line to bench/history/utr_mpra_models.jsonl; the last printed line is it.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.config.validation import load_schema, validate
from genomicdl.io.store import Store
from genomicdl.models.catalog import CATALOG
from genomicdl.training.baselines import train_baseline
from genomicdl.training.engine import train_network
from genomicdl.training.inference import predict_rows

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def train_defaults(overrides: dict) -> dict:
    """The validated ``train`` section: the schema's defaults with ``overrides``."""
    schema = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    cfg = {"datasets": {"x": {"table": {"url": "x.tsv"}}}, "train": overrides}
    return validate(cfg, schema)["train"]


def pearson(y: np.ndarray, p: np.ndarray) -> float:
    keep = ~np.isnan(y)
    return float(np.corrcoef(y[keep], p[keep])[0, 1])


def main() -> None:
    store, index, name, model, params, train = sys.argv[1:7]
    seed = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    cfg = train_defaults(json.loads(train))
    t0, c0 = time.perf_counter(), cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        family = CATALOG[model].family
        common = {"store": store, "index": index, "model": model, "params": json.loads(params), "train": cfg,
                  "seed": seed, "double_stranded": False, "out_model": str(out / "model"),
                  "out_stats": str(out / "stats.json")}  # fmt: skip
        if family == "torch":
            stats = train_network(**common, threads=1, out_history=str(out / "history.tsv"))
            history = (out / "history.tsv").read_text()
        else:
            common["out_model"] = str(out / "model.npz")
            stats, history = train_baseline(**common), ""
        with Store(store) as st:
            rows = st.rows("valid")
            y = st.labels[rows]
            p = predict_rows(common["out_model"], family, st, rows, device="cpu")
            tasks = list(st.tasks)
    row = {
        "name": name, "model": model, "params": json.loads(params), "train": json.loads(train), "seed": seed,
        "store_window_fixed": not Store(store).variable, "parameters": stats["parameters"],
        "valid": {t: round(pearson(y[:, i], p[:, i]), 4) for i, t in enumerate(tasks)},
        "epochs_run": stats.get("epochs_run"), "best_epoch": stats.get("best_epoch"),
        "cpu_s": round(cpu_seconds() - c0, 1), "wall_s": round(time.perf_counter() - t0, 1),
        "samples_per_s": stats.get("samples_per_s"),
    }  # fmt: skip
    row["valid_mean"] = round(float(np.mean(list(row["valid"].values()))), 4)
    print(history)
    hist = ROOT / "bench" / "history" / "utr_mpra_models.jsonl"
    with hist.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
