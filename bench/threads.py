"""Training throughput against intra-op threads and a competing load, in one run.

For a small zoo network (DeepBind with positional pooling on 101-nt windows, as RBP-31
trains it) and a large one (Basset with 128 filters per layer on 1,000-bp windows),
samples/s of training steps with 1 and 2 intra-op threads, on a quiet machine and while
another process keeps one core busy (a pure-Python spin loop, started before and stopped
after each measurement). Then the thread count the workflow would give each network
(genomicdl.training.threads.choose_threads on its counted multiply-adds) and how much that choice
loses under the load: the engine must not lose more than 2x.

Timed: training steps (forward, binary cross-entropy, backward, AdamW step) on random
one-hot batches of 64 held in memory, about ``--seconds`` per repeat (the step count set
from 3 warm-up steps); the median of ``--repeats``. Not timed: building the network and
the batches, the competitor's start.
The data loader is not involved (bench/train_overhead.py times it); the machine's own
load (os.getloadavg) is printed, since "quiet" means "without our competitor".

    python bench/threads.py [--seconds 1.5] [--repeats 3] [--cores 2]

``--cores`` pins this process and the competitor to that many cores (taskset-like, via
os.sched_setaffinity) so a larger machine behaves like a small one. The last line is one
JSON object: {"bench": "threads", "rows": [...], "worst_loss_of_chosen": ...}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.training.threads import choose_threads, forward_macs

NETWORKS = {
    "small": ("deepbind", 101, {"pool": "local_max", "pool_width": 10}),
    "large": ("basset", 1000, {"filters": (128, 128, 128)}),
}
BATCH = 64


def spin(stop: mp.Event, parent: int) -> None:
    """Keep one core busy until told to stop, or until the bench is gone (killed)."""
    while not stop.is_set() and os.getppid() == parent:
        for _ in range(100_000):
            pass


def steps_per_second(net: torch.nn.Module, window: int, threads: int, seconds: float, repeats: int) -> float:
    torch.set_num_threads(threads)
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (BATCH, window)), 4).permute(0, 2, 1).float()
    y = torch.randint(0, 2, (BATCH, 1)).float()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        opt.step()

    step()
    t0 = time.perf_counter()
    for _ in range(2):
        step()
    steps = max(2, round(seconds / ((time.perf_counter() - t0) / 2)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - t0) / steps)
    return BATCH / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.5, help="per repeat (steps set from the warm-up)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cores", type=int, default=0, help="pin to this many cores (0: as the machine is)")
    args = ap.parse_args()
    if args.cores:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    cores = len(os.sched_getaffinity(0))
    print(f"cores available: {cores}; load average before: {os.getloadavg()[0]:.2f}; torch {torch.__version__}")
    rows = []
    for size, (name, window, params) in NETWORKS.items():
        torch.manual_seed(0)
        net = build_network(name, target=Target("binary", ("t",)), window=window, alphabet="dna", variable=False,
                            params=params)  # fmt: skip
        macs = forward_macs(net, window, 4)
        chosen = choose_threads(macs, cores)
        net.train()
        rates = {}
        for load in ("quiet", "one core busy"):
            stop, competitor = mp.Event(), None
            if load != "quiet":
                competitor = mp.Process(target=spin, args=(stop, os.getpid()), daemon=True)
                competitor.start()
                time.sleep(0.5)
            try:
                for threads in (1, 2):
                    rates[(load, threads)] = steps_per_second(net, window, threads, args.seconds, args.repeats)
            finally:
                if competitor is not None:
                    stop.set()
                    competitor.join()
        for (load, threads), rate in rates.items():
            row = {"network": size, "model": name, "window": window, "macs_per_window": macs, "load": load,
                   "threads": threads, "samples_per_s": round(rate, 1),
                   "vs_1_thread": round(rate / rates[(load, 1)], 2),
                   "vs_quiet": round(rate / rates[("quiet", threads)], 2), "chosen": threads == chosen}  # fmt: skip
            rows.append(row)
            print(f"{size:6s} {name:9s} {macs / 1e6:7.1f}M MAC/window  {load:14s} {threads} thread(s): "
                  f"{rate:8.1f} samples/s  x{row['vs_1_thread']:.2f} vs 1 thread  x{row['vs_quiet']:.2f} vs quiet"
                  f"{'  <- chosen' if row['chosen'] else ''}")  # fmt: skip
    loss = max(1 / r["vs_quiet"] for r in rows if r["chosen"] and r["load"] != "quiet")
    print(f"worst slowdown of the chosen thread count under one busy core: {loss:.2f}x (limit 2x)")
    print(json.dumps({"bench": "threads", "cores": cores, "load_average_after": round(os.getloadavg()[0], 2),
                      "worst_loss_of_chosen": round(loss, 2), "rows": rows}))  # fmt: skip


if __name__ == "__main__":
    main()
