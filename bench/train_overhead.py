"""Training-loop overhead: our engine's whole epoch against a bare PyTorch loop, in one run.

Both train the same network (same initial weights) for the same number of steps at the
same batch size on the same windows, with the same optimisation (AdamW, binary
cross-entropy with logits, gradient clipping), and both end the epoch with the same
validation pass (a quarter of the windows, in memory for the bare loop):

- bare: the windows one-hot encoded once, held in memory as float tensors; each step
  takes a shuffled batch by indexing (the fastest a hand-written loop gets); then one
  forward pass over the validation tensors;
- engine: ``genomicdl.training.engine.NetworkRun.epoch``, exactly what ``train_network`` runs
  each epoch: integer codes streamed from the HDF5 store in shuffled blocks (through a
  DataLoader with pinned memory on CUDA), one-hot made where the model runs, labels
  looked up per batch, the loss summed without a per-step sync, a progress bar, the
  loader-wait timer, then validation streamed from the store (auPRC and loss), the
  schedule step, the best weights kept, the history row and the checkpoint written.

Timed: the epoch, from its first batch to its checkpoint. Not timed: building the
model, the store, the one-hot tensors of the bare loop (which it pays once, up front).

The two alternate (bare, engine, bare, ...) so that a change in machine load hits
both; the median seconds per step of each are compared. Reverse-complement
augmentation is off in both (the bare loop has none).

    python bench/train_overhead.py [--models deepbind basset] [--rows 4096] [--window 200]

Prints samples/s of both and their ratio per model; the last line is one JSON object:
{"bench": "train_overhead", "overhead": <engine s/step / bare s/step, worst model>, ...}.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.core.sequence import one_hot
from genomicdl.io.store import Store, StoreWriter
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.training.engine import NetworkRun, RunPaths
from genomicdl.training.inference import resolve_device
from genomicdl.training.rebalance import rebalance

LR, WEIGHT_DECAY, CLIP = 0.002, 0.01, 1.0


def make_data(path: Path, rows: int, window: int, tasks: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random windows and labels: ``rows`` training rows and rows // 4 validation
    rows, written to a store at ``path`` (with its rebalance index) and returned."""
    rng = np.random.default_rng(seed)
    total = rows + rows // 4
    codes = rng.integers(0, 4, size=(total, window)).astype(np.uint8)
    labels = (rng.random((total, tasks)) < 0.25).astype(np.uint8)
    split = np.where(np.arange(total) < rows, 0, 1).astype(np.uint8)
    target = Target("binary", tuple(f"t{i}" for i in range(tasks)))
    writer = StoreWriter(path, window=window, target=target, chroms=["chr1"])
    writer.append(codes, labels=labels, split=split, start=np.arange(total) * window)
    writer.close()
    rebalance(path, "none", 1, 1.0, path.with_suffix(".npz"), path.with_suffix(".tsv"))
    return codes, labels


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_epoch(
    model: torch.nn.Module, data: tuple[torch.Tensor, ...], batch: int, device: torch.device, seed: int
) -> tuple[float, float, int]:
    """(wall s, cpu s, steps) of one pass of a plain PyTorch loop over in-memory tensors,
    and one forward pass over the validation tensors."""
    x, y, x_valid = data
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    model.train()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    steps = 0
    for lo in range(0, len(x), batch):
        idx = order[lo : lo + batch]
        xb = x[idx].to(device, non_blocking=True)
        yb = y[idx].to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        steps += 1
    model.eval()
    with torch.no_grad():
        for lo in range(0, len(x_valid), 512):
            torch.sigmoid(model(x_valid[lo : lo + 512].to(device, non_blocking=True))).cpu()
    sync(device)
    return time.perf_counter() - wall, time.process_time() - cpu, steps


def engine_epoch(
    model_name: str, initial: torch.nn.Module, store: Path, args: argparse.Namespace, tmp: Path, seed: int
) -> tuple[float, float, int]:
    """(wall s, cpu s, steps) of one whole epoch of the engine (train, validate, checkpoint)."""
    cfg = train_settings(args, seed)
    out = tmp / f"engine{seed}"
    paths = RunPaths(str(store), str(store.with_suffix(".npz")), str(out / "model.pt"), str(out / "h.csv"),
                     str(out / "s.json"))  # fmt: skip
    run = NetworkRun(paths, model_name, {}, cfg, seed=seed, threads=args.threads, double_stranded=False)
    run.setup()
    run.model.load_state_dict(initial.state_dict())
    with Store(store) as st:
        sync(run.device)
        wall, cpu = time.perf_counter(), time.process_time()
        run.epoch(st)
        sync(run.device)
    return time.perf_counter() - wall, time.process_time() - cpu, run.steps


def train_settings(args: argparse.Namespace, seed: int) -> dict[str, object]:
    """The schema's train defaults with the bench's settings."""
    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml").read_text())
    cfg = {k: v["default"] for k, v in schema["properties"]["train"]["properties"].items()}
    ours = {"device": args.device, "batch_size": args.batch_size, "learning_rate": LR, "weight_decay": WEIGHT_DECAY}
    return cfg | ours | {"grad_clip": CLIP, "rc_augment": False, "rc_average": False, "precision": "fp32"}


def compare(name: str, args: argparse.Namespace, device: torch.device, store: Path, codes: np.ndarray,
            labels: np.ndarray) -> dict[str, object]:  # fmt: skip
    """Alternate bare and engine epochs; medians of seconds per step."""
    torch.manual_seed(0)
    target = Target("binary", tuple(f"t{i}" for i in range(labels.shape[1])))
    initial = build_network(name, target=target, window=codes.shape[1], alphabet="dna", variable=False,
                            params={}).to(device)  # fmt: skip
    n = args.rows
    x = torch.from_numpy(one_hot(codes[:n]))
    y = torch.from_numpy(labels[:n].astype(np.float32))
    x_valid = torch.from_numpy(one_hot(codes[n:]))
    if device.type == "cuda":
        x, y, x_valid = x.pin_memory(), y.pin_memory(), x_valid.pin_memory()
    runs: dict[str, list[tuple[float, float, int]]] = {"bare": [], "engine": []}
    for repeat in range(args.repeats + 1):  # the first round warms up, untimed
        for kind in ("bare", "engine") if repeat % 2 == 0 else ("engine", "bare"):
            model = copy.deepcopy(initial)
            if kind == "bare":
                result = bare_epoch(model, (x, y, x_valid), args.batch_size, device, repeat)
            else:
                result = engine_epoch(name, initial, store, args, store.parent, repeat)
            if repeat:
                runs[kind].append(result)
    out: dict[str, object] = {"model": name, "parameters": sum(p.numel() for p in initial.parameters())}
    for kind, results in runs.items():
        steps = results[0][2]
        out[f"{kind}_s_per_step"] = statistics.median(r[0] for r in results) / steps
        out[f"{kind}_cpu_s_per_step"] = statistics.median(r[1] for r in results) / steps
        out[f"{kind}_samples_per_s"] = round(args.batch_size / out[f"{kind}_s_per_step"], 1)
        out["steps"] = steps
    out["overhead"] = round(out["engine_s_per_step"] / out["bare_s_per_step"], 4)
    out["overhead_cpu"] = round(out["engine_cpu_s_per_step"] / out["bare_cpu_s_per_step"], 4)
    for key in ("bare_s_per_step", "engine_s_per_step", "bare_cpu_s_per_step", "engine_cpu_s_per_step"):
        out[key] = round(out[key], 6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["deepbind", "basset"])
    parser.add_argument("--rows", type=int, default=4096, help="windows per epoch")
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs of each loop")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.h5"
        codes, labels = make_data(store, args.rows, args.window, args.tasks, seed=0)
        results = [compare(name, args, device, store, codes, labels) for name in args.models]
    print(f"device {device}, {args.threads} thread(s), {args.rows} windows of {args.window} bp,", end=" ")
    print(f"batch {args.batch_size}, median of {args.repeats} alternating epochs")
    for r in results:
        print(
            f"{r['model']:12s} bare {r['bare_samples_per_s']:9.1f} samples/s   engine {r['engine_samples_per_s']:9.1f}"
            f" samples/s   engine/bare time per step {r['overhead']:.3f} (cpu time {r['overhead_cpu']:.3f})"
        )
    worst = max(results, key=lambda r: r["overhead"])
    summary = {
        "bench": "train_overhead",
        "overhead": worst["overhead"],
        "worst_model": worst["model"],
        "device": str(device),
        "threads": args.threads,
        "rows": args.rows,
        "window": args.window,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "models": results,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
