"""Data-parallel throughput: 1 process x 2 threads against 2 processes x 1 thread (DDP).

All three train the same network on the same store, for the same epochs, with the same
global batch:

- one: ``genomicdl.training.engine.train_network`` in a child process, 2 intra-op threads,
  ``batch_size`` = the global batch;
- ddp: the real torchrun running ``genomicdl.training.distributed`` (as ``ddp_launch.launch``
  does), 2 ranks (gloo on CPU, NCCL on GPUs) x 1 thread, ``batch_size`` = half the
  global batch;
- and, as the per-core reference, one process x 1 thread (what each rank has).

Timed: the training passes only, as each run's ``train_stats.json`` reports them
(samples / seconds of the epochs' training loops; start-up, torchrun's rendezvous and
validation are not timed); beside them each run's whole wall time and CPU time (the
children's rusage). The three alternate (one, ddp, one x 1, ...) ``--repeats``
times; means with 95% t-intervals, and ratios of the means.

Communication share of a step: 2 ranks started by torchrun time ``all_reduce`` of a
float32 tensor of the network's parameter count (DDP's gradient volume per step),
median of 30 after 5 warm-ups; share = that time / the DDP run's time per step
(global batch / samples per s). Not timed: DDP's overlap of communication with the
backward pass (the share is the cost without overlap: an upper bound).

    python bench/ddp.py [--models deepbind basset] [--rows 2048] [--repeats 3]

The last line is one JSON object: {"bench": "ddp", "models": [...], ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import memory

from genomicdl.training.ddp_launch import torchrun, worker_env

ROOT = Path(__file__).resolve().parents[1]
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
CHILD = (
    "import json, sys; from genomicdl.training.engine import train_network; "
    "train_network(**json.loads(sys.argv[1]))"
)


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% t-interval (0 for one value)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, 0.0
    return m, T95.get(len(values) - 1, 1.96) * statistics.stdev(values) / len(values) ** 0.5


def make_store(path: Path, rows: int, window: int, seed: int = 0) -> Path:
    """Seeded random windows (two binary tasks) and the training index beside them."""
    import numpy as np

    from genomicdl.io.store import StoreWriter
    from genomicdl.kinds.targets import Target
    from genomicdl.training.rebalance import rebalance

    rng = np.random.default_rng(seed)
    total = rows + rows // 4
    writer = StoreWriter(path, window=window, target=Target("binary", ("t0", "t1")), chroms=["chr1"])
    writer.append(
        rng.integers(0, 4, size=(total, window)).astype(np.uint8),
        labels=(rng.random((total, 2)) < 0.25).astype(np.uint8),
        split=np.where(np.arange(total) < rows, 0, 1).astype(np.uint8),
        start=np.arange(total) * window,
    )
    writer.close()
    rebalance(path, "none", 1, 1.0, path.with_suffix(".npz"), path.with_suffix(".tsv"))
    return path


def train_cfg(args: argparse.Namespace, batch_size: int, processes: int) -> dict[str, Any]:
    import yaml

    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    cfg = {k: v["default"] for k, v in schema["properties"]["train"]["properties"].items()}
    return cfg | {"device": args.device, "max_epochs": args.epochs, "patience": 100, "rc_augment": False,
                  "batch_size": batch_size, "processes": processes}  # fmt: skip


def run_quiet(cmd: list[str], env: dict[str, str]) -> None:
    """Run ``cmd`` bound to this process (it dies with the bench); fail on a non-zero exit."""
    with memory.popen_bound(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        _, err = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, None, err)


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s of the command and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run_quiet(cmd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.perf_counter() - start, cpu


def run(model: str, store: Path, out: Path, args: argparse.Namespace, processes: int, threads: int) -> dict[str, float]:
    """One training run of ``processes`` x ``threads`` (the same global batch)."""
    spec = {
        "store": str(store), "index": str(store.with_suffix(".npz")), "model": model, "params": {},
        "train": train_cfg(args, args.batch_size // processes, processes), "seed": 1, "threads": threads,
        "double_stranded": True, "out_model": str(out / "model.pt"), "out_history": str(out / "history.csv"),
        "out_stats": str(out / "train_stats.json"),
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    env = worker_env(threads)
    if processes == 1:
        cmd = [sys.executable, "-c", CHILD, json.dumps(spec)]
    else:
        (out / "spec.json").write_text(json.dumps(spec))
        cmd = [*torchrun(), "--standalone", f"--nproc-per-node={processes}", "-m", "genomicdl.training.distributed",
               str(out / "spec.json")]  # fmt: skip
    wall, cpu = timed(cmd, env)
    stats = json.loads((out / "train_stats.json").read_text())
    return {"samples_per_s": stats["samples_per_s"], "wall_s": wall, "cpu_s": cpu, "parameters": stats["parameters"]}


def allreduce_seconds(numel: int, device: str) -> float:
    """Median seconds of one all_reduce of ``numel`` float32 between 2 ranks (torchrun)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "allreduce.json"
        cmd = [*torchrun(), "--standalone", "--nproc-per-node=2", str(Path(__file__).resolve()),
               "--allreduce-worker", str(numel), "--out", str(out), "--device", device]  # fmt: skip
        run_quiet(cmd, worker_env(1))
        return float(json.loads(out.read_text())["median_s"])


def allreduce_worker(numel: int, out: Path, device: str) -> None:
    """As one torchrun rank: time all_reduce; rank 0 writes the median."""
    import torch
    import torch.distributed as dist

    cuda = device != "cpu" and torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    dev = torch.device("cuda", int(os.environ["LOCAL_RANK"])) if cuda else torch.device("cpu")
    x = torch.ones(numel, device=dev)
    times = []
    for i in range(35):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(x)
        if cuda:
            torch.cuda.synchronize(dev)
        if i >= 5:
            times.append(time.perf_counter() - start)
    if dist.get_rank() == 0:
        out.write_text(json.dumps({"median_s": statistics.median(times)}))
    dist.destroy_process_group()


def compare(model: str, store: Path, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    shapes = {"one_x2threads": (1, 2), "ddp_2x1thread": (2, 1), "one_x1thread": (1, 1)}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in shapes}
    for r in range(args.repeats):
        for name, (processes, threads) in shapes.items():
            runs[name].append(run(model, store, tmp / f"{model}-{name}-{r}", args, processes, threads))
    result: dict[str, Any] = {"model": model, "parameters": runs["one_x2threads"][0]["parameters"]}
    for name in shapes:
        for key in ("samples_per_s", "wall_s", "cpu_s"):
            m, ci = mean_ci([x[key] for x in runs[name]])
            result[f"{name}_{key}"], result[f"{name}_{key}_ci95"] = round(m, 2), round(ci, 2)
    ddp = result["ddp_2x1thread_samples_per_s"]
    result["ddp_over_one"] = round(ddp / result["one_x2threads_samples_per_s"], 3)
    result["ddp_over_one_thread"] = round(ddp / result["one_x1thread_samples_per_s"], 3)
    step_s = args.batch_size / result["ddp_2x1thread_samples_per_s"]
    comm = allreduce_seconds(int(result["parameters"]), args.device)
    result |= {"bytes_per_step": 4 * int(result["parameters"]), "allreduce_s": comm, "ddp_step_s": step_s,
               "comm_share": round(comm / step_s, 4)}  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["deepbind", "basset"])
    parser.add_argument("--rows", type=int, default=2048, help="training windows")
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--allreduce-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.allreduce_worker:
        allreduce_worker(args.allreduce_worker, args.out, args.device)
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = make_store(Path(tmp) / "bench.h5", args.rows, args.window)
        results = [compare(m, store, args, Path(tmp)) for m in args.models]
    print(f"{args.device}: {args.rows} windows of {args.window} bp, global batch {args.batch_size},", end=" ")
    print(f"{args.epochs} epochs;", end=" ")
    print(f"mean +- 95% CI of {args.repeats} alternating runs; 2 cores in both: 1 process x 2 threads vs 2 x 1")
    for r in results:
        print(
            f"{r['model']:10s} {r['parameters']:>9,d} params  one {r['one_x2threads_samples_per_s']:8.1f} "
            f"+- {r['one_x2threads_samples_per_s_ci95']:.1f} samples/s  ddp {r['ddp_2x1thread_samples_per_s']:8.1f} "
            f"+- {r['ddp_2x1thread_samples_per_s_ci95']:.1f}  ratio {r['ddp_over_one']:.2f}  "
            f"(wall {r['one_x2threads_wall_s']:.1f} / {r['ddp_2x1thread_wall_s']:.1f} s, "
            f"cpu {r['one_x2threads_cpu_s']:.1f} / {r['ddp_2x1thread_cpu_s']:.1f} s)  "
            f"[1 x 1 thread {r['one_x1thread_samples_per_s']:.1f} +- {r['one_x1thread_samples_per_s_ci95']:.1f}: "
            f"ddp / it {r['ddp_over_one_thread']:.2f}]  "
            f"all-reduce {r['bytes_per_step'] / 2**20:.2f} MiB {1e3 * r['allreduce_s']:.2f} ms = "
            f"{100 * r['comm_share']:.1f}% of a {1e3 * r['ddp_step_s']:.1f} ms step"
        )
    machine = {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count()}
    summary = {"bench": "ddp", "device": args.device, "rows": args.rows, "window": args.window,
               "batch_size": args.batch_size, "epochs": args.epochs, "repeats": args.repeats, **machine,
               "models": results}  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
