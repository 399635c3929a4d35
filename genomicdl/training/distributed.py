"""Data-parallel training of one network over several processes (DistributedDataParallel).

``train.processes`` per node x ``train.nodes`` ranks train one model: the launcher
(:func:`genomicdl.training.ddp_launch.launch`, called by the training rule) starts the real
``torchrun`` (one node) or ``srun torchrun`` (several nodes, inside a SLURM
allocation); each rank runs
:class:`DistributedRun`, the engine's run with four hooks changed:

- **data**: every rank streams the same shuffled *global* batches of
  ``batch_size x ranks`` rows from the store (one shuffle block in memory, as for one
  process) and keeps its own contiguous slice, so each training row is used exactly once
  per epoch across the ranks;
- **gradients**: a DDP communication hook sums ``(rows of the slice / rows of the global
  batch) x gradient`` over the ranks, which is the gradient of the global batch's mean
  loss even when the last batch splits unevenly (a rank left without a row trains on a
  copy with weight 0); gloo on CPU, NCCL on GPUs (there batch norm is synchronised);
- **validation** runs on rank 0 and its score is broadcast, so every rank takes the same
  schedule and early-stopping decisions;
- **outputs**: only rank 0 writes checkpoints, the model, history and statistics (atomic,
  as for one process); a rerun after a kill resumes every rank from that checkpoint.

One rank with ``batch_size`` B is one process with ``batch_size`` B x ranks, up to float
summation order (tests/test_distributed.py), for networks without dropout or batch norm
on CPU; dropout masks differ per rank (seeded per rank and epoch).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from genomicdl.core.errors import GenomicdlError
from genomicdl.core.runner import limit_threads
from genomicdl.core.seeds import stable_seed
from genomicdl.io.store import Store
from genomicdl.kinds import get
from genomicdl.training.engine import EpochStats, NetworkRun, RunPaths
from genomicdl.training.loader import StoreStream, epoch_batches

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ the ranks' data


def slice_bounds(rows: int, rank: int, world: int) -> tuple[int, int]:
    """[start, stop) of ``rank``'s contiguous share of a global batch of ``rows``."""
    size, extra = divmod(rows, world)  # as numpy.array_split: the first ``extra`` ranks get one more
    start = rank * size + min(rank, extra)
    return start, start + size + (rank < extra)


def step_weights(n_rows: int, batch_size: int, rank: int, world: int) -> list[float]:
    """Per step, the rank's rows over the global batch's rows (0 for a stand-in row)."""
    size = batch_size * world
    steps = math.ceil(n_rows / size)
    last = n_rows - (steps - 1) * size
    lo, hi = slice_bounds(last, rank, world)
    return [1.0 / world] * (steps - 1) + [(hi - lo) / last]


class RankStream(StoreStream):
    """One rank's batches: its slice of every global batch (``batch_size`` x ``world``
    rows), streamed as :class:`StoreStream` does; a stand-in row (weight 0) where the
    last global batch has no row for this rank. In DataLoader workers, worker w yields
    global batches w, w + workers, ... so that the loader keeps their order."""

    def __init__(self, *args: Any, rank: int, world: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rank, self.world = rank, world

    def global_rows(self, store: Store) -> Iterator[tuple[np.ndarray, ...]]:
        yield from store.batches(
            self.index, self.batch_size * self.world, shuffle=True, seed=self.seed,
            chunks_per_block=self.chunks_per_block, with_positions=get(self.kind).per_position,
        )  # fmt: skip

    def rank_batches(self, store: Store, worker: int = 0, workers: int = 1) -> Iterator[tuple[np.ndarray, ...]]:
        """(rows, codes[, positions]) of this rank's slices, ``worker``'s share of them."""
        for k, (rows, *arrays) in enumerate(self.global_rows(store)):
            if k % workers == worker:
                lo, hi = slice_bounds(len(rows), self.rank, self.world)
                part = slice(lo, hi) if hi > lo else slice(0, 1)  # a stand-in row, weight 0
                yield rows[part], *(a[part] for a in arrays)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        with Store(self.path) as store:
            for rows, codes, *extra in self.rank_batches(store, *((info.id, info.num_workers) if info else (0, 1))):
                lengths = torch.from_numpy(self.lengths[rows].astype(np.int64))
                yield torch.from_numpy(codes), self._targets(rows, tuple(extra)), lengths


@dataclass
class _Weight:
    """The current step's gradient weight (read by the communication hook)."""

    value: float


def weighted_allreduce(state, bucket):  # type: ignore[no-untyped-def]  # DDP checks real annotations only
    """DDP communication hook (``state``: :class:`_Weight`, ``bucket``: a
    ``dist.GradBucket``): the sum over ranks of weight x gradient."""
    buffer = bucket.buffer().mul_(state.value)
    return dist.all_reduce(buffer, async_op=True).get_future().then(lambda fut: fut.value()[0])


# ------------------------------------------------------------------ one rank's run


class DistributedRun(NetworkRun):
    """:class:`genomicdl.training.engine.NetworkRun` as one rank of a DDP run (see the module)."""

    def __init__(self, paths: RunPaths, *args: Any, **kwargs: Any) -> None:
        super().__init__(paths, *args, **kwargs)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        if self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def steps_per_epoch(self, batch_size: int) -> int:
        return math.ceil(len(self.index) / (batch_size * self.world))

    def setup(self) -> None:
        super().setup()
        if self.device.type == "cuda":  # batch statistics over the global batch (NCCL only)
            self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        ids = [self.device.index] if self.device.type == "cuda" else None
        ddp = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids, find_unused_parameters=True)
        self.weight = _Weight(1.0)
        ddp.register_comm_hook(self.weight, weighted_allreduce)
        self.trainer.model = ddp
        s = self.stream
        self.stream = RankStream(
            s.path, s.index, s.labels, kind=s.kind, batch_size=s.batch_size, chunks_per_block=s.chunks_per_block,
            lengths=s.lengths, rank=self.rank, world=self.world,
        )  # fmt: skip
        log.info("rank %d of %d; global batch %d rows", self.rank, self.world, s.batch_size * self.world)

    def weighted(self, batches: Iterable[tuple[torch.Tensor, ...]]) -> Iterator[tuple[torch.Tensor, ...]]:
        """The batches, setting each step's gradient weight before it is trained."""
        weights = step_weights(len(self.index), self.stream.batch_size, self.rank, self.world)
        for weight, batch in zip(weights, batches, strict=True):
            self.weight.value = weight
            yield batch

    def train_pass(self, epoch: int) -> EpochStats:
        torch.manual_seed(stable_seed("rank", self.seed, self.rank, epoch))  # dropout, augmentation
        self.stream.seed = stable_seed("epoch", self.seed, epoch)
        batches = self.weighted(epoch_batches(self.stream, self.device, self.workers))
        result = self.trainer.train_epoch(batches, self.steps, f"epoch {epoch} (rank {self.rank})")
        stand_ins = sum(w == 0 for w in step_weights(len(self.index), self.stream.batch_size, self.rank, self.world))
        total = torch.tensor([result.loss * result.samples, result.samples - stand_ins], dtype=torch.float64)
        dist.all_reduce(total)
        if int(total[1]) != len(self.index):
            raise RuntimeError(f"the ranks trained on {int(total[1])} rows, not the {len(self.index)} of the index")
        return EpochStats(float(total[0] / total[1]), int(total[1]), result.seconds, result.wait_seconds)

    def validate(self, store: Store) -> tuple[float, float]:
        scores = list(super().validate(store)) if self.main else [math.nan, math.nan]
        dist.broadcast_object_list(scores, src=0)
        return float(scores[0]), float(scores[1])

    def write_checkpoint(self, payload: dict[str, Any]) -> None:
        if self.main:
            super().write_checkpoint(payload)

    def finish(self, totals: EpochStats, resumed_from: int, gpu_slot: str | None) -> dict[str, Any]:
        if self.main:
            stats = super().finish(totals, resumed_from, gpu_slot)
        else:
            stats = self.stats(totals, resumed_from, gpu_slot)
        dist.barrier()  # the outputs exist before any rank reports success
        return stats

    def stats(self, totals: EpochStats, resumed_from: int, gpu_slot: str | None) -> dict[str, Any]:
        processes = int(self.cfg.get("processes", 1))
        return super().stats(totals, resumed_from, gpu_slot) | {
            "ranks": self.world,
            "processes_per_node": processes,
            "nodes": self.world // processes,
            "backend": dist.get_backend(),
            "global_batch_size": int(self.cfg["batch_size"]) * self.world,
        }


def run_rank(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Train as the rank torchrun started (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR)."""
    limiter = limit_threads(int(spec["threads"]))
    cuda = spec["train"]["device"] != "cpu" and torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    try:
        paths = RunPaths(spec["store"], spec["index"], spec["out_model"], spec["out_history"], spec["out_stats"])
        run = DistributedRun(
            paths, spec["model"], dict(spec["params"]), spec["train"], seed=int(spec["seed"]),
            threads=int(spec["threads"]), double_stranded=bool(spec["double_stranded"]),
        )  # fmt: skip
        return run.execute(os.environ.get("CUDA_VISIBLE_DEVICES") if cuda else None)
    finally:
        dist.destroy_process_group()
        limiter.unregister()


def main(argv: list[str] | None = None) -> int:
    """Entry of each rank: ``torchrun ... -m genomicdl.training.distributed SPEC.json``."""
    argv = sys.argv[1:] if argv is None else argv
    rank = os.environ.get("RANK", "?")
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, force=True,
        format=f"%(asctime)s rank {rank} %(levelname)s %(name)s: %(message)s",
    )  # fmt: skip
    logging.captureWarnings(True)
    start = time.perf_counter()
    try:
        run_rank(json.loads(Path(argv[0]).read_text()))
    except GenomicdlError as err:
        log.error("%s", err)
        return 1
    log.info("rank %s done in %.1f s", rank, time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
