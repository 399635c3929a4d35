"""Training throughput on proteins: length bucketing against naive padding, in one run.

Real proteins of varied length (DeepLoc 2.0 SwissProt data, or the bundled slice) go
into a dataset store through the table stage; the same network (same initial weights,
same optimiser, same batches of rows) trains for one epoch twice, alternating:

- bucketed: ``Store.batches(shuffle=True, bucket=True)`` -- rows grouped by length
  within each shuffled block, each batch cropped to its longest row;
- naive: every batch padded to the longest protein of the dataset (what a fixed-shape
  tensor dataset does).

Residues/s counts real residues only (padding excluded), so the two are comparable;
the padding fraction is padded positions / all positions fed to the network.

    python bench/padding.py [--rows 1024] [--max-length 1000] [--model cnn_birnn]

The last line is one JSON object: {"bench": "padding", "speedup": ..., ...}.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genomicdl.config.specs import dataset_spec  # noqa: E402
from genomicdl.core.sequence import PAD, one_hot  # noqa: E402
from genomicdl.datasets.table_dataset import build_table_dataset  # noqa: E402
from genomicdl.io.store import Store  # noqa: E402
from genomicdl.kinds.targets import Target  # noqa: E402
from genomicdl.models import build_network  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "protein_localization" / "deeploc2_swissprot.csv.gz"
BUNDLED = REPO / "tests" / "data" / "deeploc2_300.csv.gz"


def make_store(rows: int, max_length: int, tmp: Path) -> Store:
    """A multilabel protein store of the first ``rows`` proteins (cropped at the ends)."""
    src = SHARED if SHARED.exists() else BUNDLED
    lines = []
    with __import__("gzip").open(src, "rt") as fh:
        header = fh.readline()
        for line in fh:
            if line != header:
                lines.append(line)
            if len(lines) >= rows:
                break
    table = tmp / "proteins.csv"
    table.write_text(header + "".join(lines))
    ds = {"table": {"url": str(table), "format": "csv", "sequence_column": "sequence", "label_columns": ["label"],
                    "id_column": "accession", "split_column": "split", "label_pattern": "", "task": "label",
                    "label_separator": "|", "position_separator": None, "mask_column": None},
          "alphabet": "protein", "kind": "multilabel", "seed": 0, "classes": None, "class_map": {},
          "loss": "default", "window": None, "max_length": max_length, "too_long": "crop", "crop": "ends",
          "bad_letters": "error", "max_n_fraction": 1.0, "negatives": {"per_positive": 1},
          "split": {"valid": 0.0, "test": 0.0, "leakage": "warn"}}  # fmt: skip
    build_table_dataset(
        dataset_spec("padding", ds), {"table": str(table)}, str(tmp / "d.h5"), str(tmp / "s.json"), str(tmp / "g.tsv")
    )
    return Store(tmp / "d.h5")


def epoch(model, store: Store, rows: np.ndarray, labels: np.ndarray, *, naive: bool, batch: int) -> dict[str, float]:
    """One training epoch; seconds, real residues and fed positions."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    real = fed = 0
    t0 = time.perf_counter()
    for idx, codes in store.batches(rows, batch, shuffle=True, seed=1, bucket=not naive):
        if naive and codes.shape[1] < store.window:
            codes = np.pad(codes, ((0, 0), (0, store.window - codes.shape[1])), constant_values=PAD)
        lengths = torch.from_numpy(store.lengths[idx].astype(np.int64))
        x = torch.from_numpy(one_hot(codes, "protein"))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x, lengths), torch.from_numpy(labels[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        real += int(lengths.sum())
        fed += codes.size
    return {"seconds": time.perf_counter() - t0, "residues": real, "positions": fed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1024)
    parser.add_argument("--max-length", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", default="cnn_birnn")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    with tempfile.TemporaryDirectory() as tmp, make_store(args.rows, args.max_length, Path(tmp)) as store:
        rows = store.rows("train")
        labels = store.labels.astype(np.float32)
        target = Target("multilabel", tuple(store.tasks), tuple(store.tasks), "default")
        torch.manual_seed(0)
        base = build_network(args.model, target=target, window=store.window, alphabet="protein", variable=True,
                             params=None)  # fmt: skip
        results: dict[str, list[dict[str, float]]] = {"bucketed": [], "naive": []}
        for _ in range(args.repeats):
            for name in ("bucketed", "naive"):
                results[name].append(epoch(copy.deepcopy(base), store, rows, labels, naive=name == "naive",
                                           batch=args.batch_size))  # fmt: skip
        out = {"bench": "padding", "model": args.model, "proteins": len(rows), "longest": int(store.window),
               "mean_length": round(float(store.lengths.mean()), 1), "batch_size": args.batch_size}  # fmt: skip
        for name, runs in results.items():
            best = min(runs, key=lambda r: r["seconds"])
            out[f"{name}_residues_per_s"] = round(best["residues"] / best["seconds"], 1)
            out[f"{name}_padding_fraction"] = round(1 - best["residues"] / best["positions"], 4)
            out[f"{name}_seconds"] = round(best["seconds"], 2)
            print(f"{name:9s} {out[f'{name}_residues_per_s']:>10.1f} residues/s  padding "
                  f"{out[f'{name}_padding_fraction']:.1%}  ({best['seconds']:.1f} s per epoch)")  # fmt: skip
        out["speedup"] = round(out["bucketed_residues_per_s"] / out["naive_residues_per_s"], 2)
        print(f"bucketing is {out['speedup']}x faster than padding to the longest protein")
        print(json.dumps(out))


if __name__ == "__main__":
    main()
