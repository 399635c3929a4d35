"""arDCA's lambda_J chosen by held-out likelihood (``lambda_j: auto``), one fit per order.

    python bench/ardca_select.py --order natural --out /tmp/ardca   # then reverse, entropic

Fits ``ArDCA(lambda_j="auto")`` on the prepared alignment (theta weights) exactly as
``train_mutation`` does: the selection phases on the fitted 90% (every grid value), then
the refit on every sequence with the chosen value. Resumable (a checkpoint per chunk).
Writes to ``--out``: ``{order}.pt`` (the refitted model), ``{order}_selected.pt`` (the
chosen held-out fit), ``{order}_heldout.npz`` (held-out rows, weights and log p per grid
value) and ``{order}.json`` (the selection table, CPU and wall seconds). No scan is read:
``bench/ardca_report.py`` scores the saved models afterwards.
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

from genomicdl.core.files import atomic_output, write_json_atomic
from genomicdl.io.alignment import load_alignment
from genomicdl.models.mutation.ardca import LAMBDA_J_GRID, ArDCA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alignment", type=Path, default=Path("data/blat_ecolx/alignment.h5"))
    parser.add_argument("--order", required=True, choices=("natural", "reverse", "entropic"))
    parser.add_argument("--grid", type=float, nargs="+", default=list(LAMBDA_J_GRID))
    parser.add_argument("--holdout", type=float, default=0.1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--select-only", action="store_true",
                        help="stop after the selection (no refit on every sequence, no {order}.pt)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    aln = load_alignment(args.alignment)
    codes = torch.as_tensor(aln.codes.astype(np.int64))
    weights = torch.as_tensor(aln.weights.astype(np.float32))
    params = {"lambda_j": "auto", "lambda_j_grid": args.grid, "holdout": args.holdout, "order": args.order}
    model = ArDCA(aln.length, **params)
    wall, cpu = time.time(), time.process_time()
    stats = model.fit(codes, weights, checkpoint=args.out / f"{args.order}.ckpt",
                      signature=json.dumps(params, sort_keys=True), log=lambda m: print(m, flush=True),
                      refit=not args.select_only)
    stats.update(order=args.order, cpu_seconds=round(time.process_time() - cpu, 1),
                 wall_seconds=round(time.time() - wall, 1), sequences=len(codes), length=aln.length)
    if not args.select_only:
        with atomic_output(args.out / f"{args.order}.pt") as tmp:
            torch.save({"params": params, "length": aln.length, "state": model.state_dict()}, tmp)
    chosen = model.selected_fit or ({"h": model.h, "j": model.j} if args.select_only else None)
    if chosen is not None:  # None when resumed past the selection phases into the refit
        with atomic_output(args.out / f"{args.order}_selected.pt") as tmp:
            torch.save({"params": params, "length": aln.length, "h": chosen["h"], "j": chosen["j"],
                        "order": model.order}, tmp)
    held = model.split(len(codes))[1]
    if not model.heldout_log_probs and args.select_only:  # resumed after the selection: the chosen value
        model.heldout_log_probs[stats["lambda_j"]] = model.order_log_prob(codes[held], 0)[None]
    if model.heldout_log_probs:
        with atomic_output(args.out / f"{args.order}_heldout.npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, rows=held.numpy(), weights=weights[held].numpy(), grid=np.array(list(model.heldout_log_probs)),
                     log_p=np.stack([v[0].numpy() for v in model.heldout_log_probs.values()]))
    (args.out / f"{args.order}.ckpt").unlink(missing_ok=True)
    write_json_atomic(args.out / f"{args.order}.json", stats)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
