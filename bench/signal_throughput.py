"""Training throughput of the signal networks against the compute bound of their layers.

    python bench/signal_throughput.py [config/benchmarks/local/yeast_signal.yaml] [--epoch DIR]

For each signal network of the config (bpnet on the per-base dataset, binned on the binned
one): FLOPs of one training window (forward + backward, counted by torch's FlopCounterMode),
windows/s of the engine's own training step (Trainer.step: one-hot on the fly, RC
augmentation with strand swap, the loss, AdamW) on batches of random sequence at one
thread, and the share of the compute bound that is: FLOPs/window x windows/s against a
convolution rate (a 64-channel width-3 Conv1d over 1,000 bp, forward + backward) and a
matmul rate (1024^2 float32) measured in the same run. BPNet is also timed with its
profile head over the whole window (the code before this bench: ``--before``).
``--epoch DIR`` then trains one real epoch of each through train_network on the stores
in DIR (bench/signal_models.py's layout; built when missing): data loading, validation
and Python overhead included (the engine's train_stats.json). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.config import validation as gconfig
from genomicdl.datasets.signal_dataset import geometry
from genomicdl.kinds.signal_layout import profile_tasks
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.training.engine import Trainer

REPO = Path(__file__).resolve().parents[1]
BATCH = 64
PAIRS = {"bpnet": "yeast_profile", "binned": "yeast_binned"}


def best_of(fn, reps: int = 3) -> float:
    """Fastest of ``reps`` timed calls after one warm-up call (seconds)."""
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def flops_of(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def reference_rates() -> dict[str, float]:
    """GFLOP/s of a 1024^2 float32 matmul and of a 64-channel width-3 Conv1d (fwd + bwd)."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    matmul = 2 * 1024**3 / best_of(lambda: a @ b, 5) / 1e9
    conv = torch.nn.Conv1d(64, 64, 3, padding=1)
    x = torch.randn(BATCH, 64, 1000, requires_grad=True)

    def step() -> None:
        conv(x).sum().backward()

    return {"matmul_gflops": round(matmul, 2), "conv_gflops": round(flops_of(step) / best_of(step) / 1e9, 2)}


def model_setup(cfg: dict, model: str) -> tuple[torch.nn.Module, Target, int]:
    ds = cfg["datasets"][PAIRS[model]]
    geo = geometry(ds)
    tasks = tuple(profile_tasks(list(ds["targets"]), geo["bins"]))
    target = Target("regression", tasks, loss=ds["loss"])
    torch.manual_seed(0)
    net = build_network(model, target=target, window=geo["input"], alphabet="dna", variable=False,
                        params=cfg["model_params"].get(model, {}))  # fmt: skip
    return net, target, geo["input"]


def whole_window_head(net: torch.nn.Module) -> None:
    """BPNet as before: the profile convolution over the whole window, then cropped."""
    def logits(h: torch.Tensor) -> torch.Tensor:
        lo = (h.shape[-1] - net.output_length) // 2
        return net.profile(h)[:, :, lo : lo + net.output_length]

    net.profile_logits = logits


def step_throughput(cfg: dict, model: str, before: bool = False) -> dict[str, float]:
    """Windows/s of the engine's training step and FLOPs per window, at batch BATCH."""
    net, target, window = model_setup(cfg, model)
    if before:
        whole_window_head(net)
    trainer = Trainer(net, cfg["train"], torch.device("cpu"), target=target, rc_augment=True)
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 4, (BATCH, window), generator=g, dtype=torch.uint8)
    y = torch.poisson(torch.full((BATCH, target.outputs), 2.0), generator=g)
    lengths = torch.full((BATCH,), window)
    seconds = best_of(lambda: trainer.step(codes, y, lengths))
    x = torch.nn.functional.one_hot(codes.long(), 4).float().transpose(1, 2)

    def fwd_bwd() -> None:
        net(x).sum().backward()

    per_window = flops_of(fwd_bwd) / BATCH
    return {"windows_per_s": round(BATCH / seconds, 2), "mflop_per_window": round(per_window / 1e6, 1),
            "gflops": round(per_window * BATCH / seconds / 1e9, 2)}  # fmt: skip


def ensure_store(cfg: dict, name: str, root: Path) -> None:
    """The dataset's store and training index under ``root`` (as bench/signal_models.py
    makes them), built when missing."""
    from genomicdl.datasets.preprocess import build_dataset
    from genomicdl.io.genome import prepare_genome
    from genomicdl.training.rebalance import rebalance

    ds, store = cfg["datasets"][name], root / name / "dataset.h5"
    genome = root / "genome.fa.gz"
    if not genome.exists():
        prepare_genome(ds["genome"]["url"], genome)
    if not store.exists():
        files = {f"target.{t}": src["url"] for t, src in ds["targets"].items()}
        build_dataset(ds, files, str(genome), str(store), str(root / name / "summary.json"),
                      str(root / name / "gc.tsv"))  # fmt: skip
    if not (root / name / "index.npz").exists():
        rebalance(store, "none", 1, 1.0, root / name / "index.npz", root / name / "counts.tsv")


def one_epoch(cfg: dict, model: str, root: Path) -> dict:
    """One real epoch of ``model`` through train_network (store built when missing)."""
    from genomicdl.training.engine import train_network

    name = PAIRS[model]
    ensure_store(cfg, name, root)
    run = root / name / f"{model}_throughput"
    train = dict(cfg["train"], max_epochs=1)
    return train_network(store=str(root / name / "dataset.h5"), index=str(root / name / "index.npz"), model=model,
                         params=cfg["model_params"].get(model, {}), train=train, seed=1, threads=1,
                         double_stranded=True, out_model=str(run / "model.pt"), out_history=str(run / "history.tsv"),
                         out_stats=str(run / "stats.json"))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", nargs="?", default=str(REPO / "config/benchmarks/local/yeast_signal.yaml"))
    ap.add_argument("--epoch", help="folder for the stores (bench/signal_models.py's layout): also time one real epoch")
    ap.add_argument("--skip-steps", action="store_true", help="only the real epochs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    raw = gconfig.load_yaml(args.config)
    cfg = gconfig.validate(gconfig.resolve_paths(raw, str(REPO)) if "local" in args.config else raw,
                           gconfig.load_schema(REPO / "workflow/schemas/config.schema.yaml"))  # fmt: skip
    cpu0 = time.process_time()
    rates = reference_rates()
    print(f"reference (1 thread): matmul {rates['matmul_gflops']} GFLOP/s, conv1d {rates['conv_gflops']} GFLOP/s")
    out: dict = {"threads": 1, "batch": BATCH, **rates, "models": {}}
    runs = [] if args.skip_steps else [("bpnet", True), ("bpnet", False), ("binned", False)]
    for model, before in runs:
        r = step_throughput(cfg, model, before)
        r["share_of_conv_rate"] = round(r["gflops"] / rates["conv_gflops"], 3)
        r["share_of_matmul_rate"] = round(r["gflops"] / rates["matmul_gflops"], 3)
        label = f"{model} ({'whole-window profile head, before' if before else 'as built'})"
        out["models"][label] = r
        print(f"{label:48s} {r['windows_per_s']:7.1f} windows/s  {r['mflop_per_window']:7.1f} MFLOP/window  "
              f"{r['gflops']:5.2f} GFLOP/s = {r['share_of_conv_rate']:.0%} of conv, "
              f"{r['share_of_matmul_rate']:.0%} of matmul", flush=True)  # fmt: skip
    if args.epoch:
        for model in ("bpnet", "binned"):
            stats = one_epoch(cfg, model, Path(args.epoch))
            keep = ("train_rows", "epoch_seconds", "samples_per_s", "loader_wait_fraction")
            out[f"epoch_{model}"] = {k: stats[k] for k in keep}
            print(f"one epoch of {model}: {out[f'epoch_{model}']}", flush=True)
    out["cpu_seconds"] = round(time.process_time() - cpu0, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
