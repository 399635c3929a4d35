"""Prediction over rows of different lengths: store order in batches of 512 against length-
sorted batches of ``VARIABLE_BATCH`` (what ``genomicdl.training.inference.predict`` does now).

    PYTHONPATH=. python bench/predict_batching.py --store data/netsurfp_cb513/dataset.h5 --split valid

Timed: one ``predict`` call per way over the whole split (one thread, a randomly initialised
network: the cost of a forward pass does not depend on the weights), reading the store
included; not timed: building the network. Prints CPU and wall seconds of both, their ratio,
the residues computed per real residue, and the largest difference between the two
predictions (they must agree to float rounding).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.core.sequence_torch import DeviceEncoder
from genomicdl.io.store import Store
from genomicdl.models import build_network
from genomicdl.training import inference


class StoreOrder:
    """The store with by-length batching switched off (the way before)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def batches(self, index: np.ndarray, batch_size: int, **_: object):
        return self.store.batches(index, 512)

    @property
    def variable(self) -> bool:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--split", default="valid")
    parser.add_argument("--model", default="dilated")
    parser.add_argument("--params", default='{"pool": 1, "layers": 7, "channels": 128}')
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    store = Store(args.store)
    rows, lengths = store.rows(args.split), store.lengths
    net = build_network(args.model, target=store.target, window=store.window, alphabet=store.alphabet,
                        variable=True, params=json.loads(args.params)).eval()  # fmt: skip
    encoder = DeviceEncoder("cpu", store.alphabet)
    real = int(lengths[rows].sum())
    out, figures = {}, {"rows": len(rows), "real_residues": real}
    for name, view, batch in (("store_order_512", StoreOrder(store), 512),
                              ("by_length", store, inference.VARIABLE_BATCH)):  # fmt: skip
        computed = sum(c.size for _, c in view.batches(rows, batch, by_length=True))
        cpu, wall = time.process_time(), time.time()
        out[name] = inference.predict(net, view, rows, encoder, target=store.target)
        figures[name] = {"cpu_s": round(time.process_time() - cpu, 2), "wall_s": round(time.time() - wall, 2),
                         "computed_per_real_residue": round(computed / real, 2)}  # fmt: skip
        print(name, figures[name], flush=True)
    figures["cpu_ratio"] = round(figures["store_order_512"]["cpu_s"] / figures["by_length"]["cpu_s"], 2)
    figures["max_abs_difference"] = float(np.abs(out["store_order_512"] - out["by_length"]).max())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
