"""Streaming training batches from the store: in-process on CPU, DataLoader workers
(pinned memory) on CUDA."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from genomicdl.core.seeds import stable_seed
from genomicdl.io.store import Store
from genomicdl.kinds import get


def shard_batches(
    store: Store,
    index: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    chunks_per_block: int,
    shard: int = 0,
    shards: int = 1,
    with_positions: bool = False,
) -> Iterator[tuple[np.ndarray, ...]]:
    """Shuffled batches of one shard of ``index``.

    One shard is exactly ``Store.batches``. With several, the store's chunks are dealt
    to the shards in a seeded random order and each shard shuffles its own chunks, so
    that every worker process reads distinct parts of the file.
    """
    if shards > 1:
        chunk = np.asarray(index) // store.rows_per_chunk
        chunks = np.unique(chunk)
        owner = np.random.default_rng(seed).permutation(len(chunks)) % shards
        index = index[np.isin(chunk, chunks[owner == shard])]
        seed = stable_seed(seed, shard)
    yield from store.batches(
        index, batch_size, shuffle=True, seed=seed, chunks_per_block=chunks_per_block, with_positions=with_positions
    )


class StoreStream(IterableDataset):
    """One epoch of training batches ``(codes uint8 (n, L), targets, lengths int64 (n,))``.

    ``targets`` are the labels of the rows (float32; int64 for multiclass) or, for
    per-position data, the position labels (n, L) int64 (-1 masked). In DataLoader
    workers each worker opens the store itself and streams its shard. ``labels`` is the
    store's label array (shared copy-on-write with forked workers). Set ``seed`` before
    each epoch.
    """

    def __init__(
        self,
        path: str,
        index: np.ndarray,
        labels: np.ndarray,
        *,
        kind: str,
        batch_size: int,
        chunks_per_block: int,
        lengths: np.ndarray,
        seed: int = 0,
    ) -> None:
        self.path, self.index, self.labels, self.kind = path, index, labels, kind
        self.lengths = lengths
        self.batch_size, self.chunks_per_block, self.seed = batch_size, chunks_per_block, seed

    def _targets(self, rows: np.ndarray, extra: tuple[np.ndarray, ...]) -> torch.Tensor:
        if get(self.kind).per_position:
            return torch.from_numpy(extra[0].astype(np.int64))
        if get(self.kind).labels == "class":
            return torch.from_numpy(self.labels[rows].astype(np.int64))
        return torch.from_numpy(self.labels[rows].astype(np.float32))

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        shard, shards = (info.id, info.num_workers) if info else (0, 1)
        with Store(self.path) as store:
            for rows, codes, *extra in shard_batches(
                store,
                self.index,
                batch_size=self.batch_size,
                seed=self.seed,
                chunks_per_block=self.chunks_per_block,
                shard=shard,
                shards=shards,
                with_positions=get(self.kind).per_position,
            ):
                lengths = torch.from_numpy(self.lengths[rows].astype(np.int64))
                yield torch.from_numpy(codes), self._targets(rows, tuple(extra)), lengths


def worker_count(setting: int | None, device: torch.device, threads: int) -> int:
    """Loader worker processes: the setting, else none on CPU (the model needs the
    cores; batches are made in-process, deterministically) and up to 4 on CUDA."""
    if setting is not None:
        return int(setting)
    if device.type != "cuda":
        return 0
    return max(1, min(4, threads - 1, (os.cpu_count() or 2) - 1))


def epoch_batches(stream: StoreStream, device: torch.device, workers: int) -> Iterable[tuple[torch.Tensor, ...]]:
    """The epoch's batches: in-process on CPU, through a DataLoader (workers, pinned
    memory) on CUDA or when workers are asked for."""
    if workers == 0 and device.type != "cuda":
        return stream
    return DataLoader(
        stream,
        batch_size=None,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if workers else None,
    )
