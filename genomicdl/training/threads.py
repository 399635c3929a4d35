"""Threads of a training job, chosen from the network's cost.

Intra-op threads pay off only when one forward/backward pass is large enough to split;
a small network (DeepBind on 101-nt windows: well under a million multiply-adds per
window) gains little from a second thread on a quiet machine and collapses when another
process holds a core (threads wait on each other at every operator). So a network whose
forward pass costs less than ``SMALL_MACS`` multiply-adds per window trains on one thread
-- ``--cores N`` then runs N such jobs side by side -- and larger ones on up to
``LARGE_THREADS`` when there are cores to spare. The figures come from bench/threads.py
(docs/training.md).

The cost is counted, not guessed: the network is built (on the CPU, not trained) with the
job's parameters and the dataset's window, and its convolutions, linear layers,
recurrent layers and attention are counted over one window.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Forward multiply-adds per window below which a network trains on one thread.
SMALL_MACS = 20e6
#: Threads of a network above it (capped by the cores Snakemake was given) ...
LARGE_THREADS = 2
#: ... when Snakemake was given at least this many cores.
MIN_CORES_FOR_MORE = 4
#: Window assumed for a table dataset whose store is not built yet (a long one: errs
#: towards more threads only for networks that would be large anyway).
NOMINAL_WINDOW = 1000


def forward_macs(model: Any, window: int, channels: int) -> int:
    """Multiply-adds of one forward pass over one window of ``window`` positions."""
    import torch
    from torch import nn

    total = 0

    def count(module: nn.Module, inputs: tuple, output: Any) -> None:
        nonlocal total
        out = output[0] if isinstance(output, tuple) else output
        out = out.data if isinstance(out, nn.utils.rnn.PackedSequence) else out
        if isinstance(module, nn.Conv1d):
            total += out.numel() * module.in_channels // module.groups * module.kernel_size[0]
        elif isinstance(module, nn.Linear):
            total += out.numel() // out.shape[-1] * module.in_features * module.out_features
        elif isinstance(module, nn.LSTM | nn.GRU):
            gates = 4 if isinstance(module, nn.LSTM) else 3
            steps = out.numel() // out.shape[-1]
            directions = 2 if module.bidirectional else 1
            size = module.input_size + module.hidden_size
            total += steps * gates * module.hidden_size * size * directions * module.num_layers
        elif isinstance(module, nn.MultiheadAttention):
            x = inputs[0]
            length, dim = x.shape[-2], x.shape[-1]
            total += 2 * length * length * dim  # scores and weighted sum; projections are Linear

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, channels, window))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return int(total)


@cache
def network_macs(name: str, params_json: str, window: int, alphabet: str) -> int:
    """Forward multiply-adds per window of zoo network ``name`` with ``params``."""
    import torch

    from genomicdl.core.sequence import get
    from genomicdl.kinds import get as kind_of
    from genomicdl.kinds.targets import Target
    from genomicdl.models import CATALOG, build_network

    kind = CATALOG[name].kinds[0]
    target = Target(kind, ("t",), ("a", "b") if kind_of(kind).has_classes else ())
    with torch.random.fork_rng():
        net = build_network(name, target=target, window=window, alphabet=alphabet, variable=False,
                            params=json.loads(params_json))  # fmt: skip
    return forward_macs(net, window, get(alphabet).channels)


def choose_threads(macs: float, cores: int) -> int:
    """1 for a small network, and for any network when fewer than ``MIN_CORES_FOR_MORE``
    cores are given (measured on 2 cores: a second thread lost even for an 80M
    multiply-add network); else ``LARGE_THREADS``, leaving at least half the cores to
    other jobs."""
    if macs < SMALL_MACS or cores < MIN_CORES_FOR_MORE:
        return 1
    return max(1, min(LARGE_THREADS, cores // 2))


def dataset_window(config: Mapping[str, Any], dataset: str, summary: str | Path | None = None) -> int:
    """The window a dataset's networks see: its store's (summary.json) when built, the
    configured window, else ``NOMINAL_WINDOW``."""
    if summary is not None and Path(summary).exists():
        return int(json.loads(Path(summary).read_text())["window"])
    return int(config["datasets"][dataset].get("window") or NOMINAL_WINDOW)


def train_threads(
    config: Mapping[str, Any], dataset: str, model: str, params: Mapping[str, Any], cores: int | None
) -> int:
    """Threads of one train_network job: the network's cost at the dataset's window.
    Below ``MIN_CORES_FOR_MORE`` cores every network gets one thread, decided without
    building it (Snakemake's own process then never imports PyTorch)."""
    if cores is not None and cores < MIN_CORES_FOR_MORE:
        return 1
    ds = config["datasets"][dataset]
    window = dataset_window(config, dataset, Path("data") / dataset / "summary.json")
    try:
        macs = network_macs(model, json.dumps(dict(params), sort_keys=True), window, ds.get("alphabet") or "dna")
    except Exception as err:  # the job itself reports a bad configuration
        log.debug("cost of %s on %s not counted (%s): one thread", model, dataset, err)
        return 1
    return choose_threads(macs, cores or MIN_CORES_FOR_MORE)
