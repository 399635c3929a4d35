"""The model zoo: registry, shapes at any window and task count, learning a planted motif."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from genomicdl.encode import Store, StoreWriter
from genomicdl.models import CATALOG, build_baseline, build_network, model_class
from genomicdl.models.catalog import BASELINES, NETWORKS
from genomicdl.train import StoreStream, Trainer, predict

MOTIFS = ("TGACTCA", "CACGTG", "GGGGCGGGG")  # AP-1, E-box, SP1-like: one per task
CODE = {b: i for i, b in enumerate("ACGT")}


def planted_store(
    path: Path, n: int = 1500, window: int = 100, n_tasks: int = 1, seed: int = 0, positive_rate: float = 0.3
) -> Path:
    """A store of random windows where a row is positive for task t when it carries
    MOTIFS[t] on either strand, near the centre (as a summit-centred peak would).
    Splits: 70% train, 15% valid, 15% test, by row."""
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, 4, size=(n, window)).astype(np.uint8)
    labels = (rng.random((n, n_tasks)) < positive_rate).astype(np.uint8)
    for t in range(n_tasks):
        motif = np.array([CODE[b] for b in MOTIFS[t]], dtype=np.uint8)
        centre = (window - len(motif)) // 2
        for row in np.flatnonzero(labels[:, t]):
            site = motif if rng.random() < 0.5 else (3 - motif)[::-1]
            start = rng.integers(max(0, centre - window // 6), min(window - len(site), centre + window // 6) + 1)
            seq[row, start : start + len(site)] = site
    split = np.zeros(n, np.uint8)
    split[int(0.7 * n) : int(0.85 * n)] = 1
    split[int(0.85 * n) :] = 2
    writer = StoreWriter(path, window, [f"task{t}" for t in range(n_tasks)], ["chr1"])
    writer.append(
        seq, labels, split, np.zeros(n, np.uint16), np.arange(n) * window, np.full(n, 0.5, np.float32),
        np.zeros(n, np.uint8),
    )  # fmt: skip
    writer.close()
    return path


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One intra-op thread: on a busy 2-core machine, two spinning threads per process
    make small models an order of magnitude slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def motif_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planted_store(tmp_path_factory.mktemp("zoo") / "planted.h5", n=1500, window=60, n_tasks=2)


def test_registry_lists_the_zoo() -> None:
    assert set(NETWORKS) == {"deepbind", "deepsea", "basset", "danq", "dilated", "transformer"}
    assert set(BASELINES) == {"kmer_logreg", "kmer_gbm"}
    for name, entry in CATALOG.items():
        cls = model_class(name)
        signature = inspect.signature(cls.__init__).parameters
        fixed = ("self", "n_tasks", "window") if entry.family == "torch" else ("self", "double_stranded", "seed")
        assert tuple(signature)[: len(fixed)] == fixed, name
        assert set(entry.params) == set(signature) - set(fixed), f"{name}: catalog params differ from the constructor"
        if entry.family == "torch":  # each architecture cites its paper: authors and year
            cited = (cls.__doc__ or "") + (sys.modules[cls.__module__].__doc__ or "")
            assert re.search(r"[A-Z][a-z]+.*\b(19|20)\d\d\b", cited), name


@pytest.mark.parametrize("name", NETWORKS)
def test_any_window_and_task_count(name: str) -> None:
    torch.manual_seed(0)
    for window in (101, 200, 12):
        for n_tasks in (1, 3):
            model = build_network(name, n_tasks, window).eval()
            x = torch.nn.functional.one_hot(torch.randint(0, 4, (5, window)), 4).float().transpose(1, 2)
            with torch.no_grad():
                out = model(x)
            assert out.shape == (5, n_tasks), (name, window, n_tasks)
            assert torch.isfinite(out).all()


def test_parameters_are_overridable() -> None:
    small = build_network("basset", 2, 120, {"filters": [16, 16, 16], "hidden": [32]})
    default = build_network("basset", 2, 120)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in default.parameters())
    assert build_network("transformer", 1, 50, {"layers": 1, "heads": 2}).encoder.num_layers == 1
    with pytest.raises(ValueError, match="no parameter bogus"):
        build_network("danq", 1, 100, {"bogus": 1})
    with pytest.raises(ValueError, match="needs 3 values"):
        build_network("deepsea", 1, 100, {"filters": [8, 8]})
    with pytest.raises(KeyError, match="unknown model"):
        build_network("alexnet", 1, 100)
    with pytest.raises(ValueError, match="not a neural network"):
        build_network("kmer_gbm", 1, 100)
    assert build_baseline("kmer_logreg", True, 0, {"k": 3}).k == 3


def _mean_loss(trainer: Trainer, codes: torch.Tensor, y: torch.Tensor) -> float:
    trainer.model.eval()
    with torch.no_grad():
        return float(trainer.loss(trainer.model(trainer.batcher.one_hot(codes)), y))


@pytest.mark.parametrize("name", NETWORKS)
def test_learns_a_planted_motif(name: str, motif_store: Path) -> None:
    """Six short epochs of the engine (about 200 steps, cosine schedule) lower the loss on
    held-out windows and score the windows with a motif above those without."""
    torch.manual_seed(1)
    epochs, batch = 6, 32
    with Store(motif_store) as store:
        train, test = store.rows("train"), store.rows("test")
        labels = store.labels
        codes = torch.from_numpy(np.concatenate([c for _, c in store.batches(test, 512)]))
        y = torch.from_numpy(labels[test].astype(np.float32))
        model = build_network(name, 2, store.window)
        cfg = {"learning_rate": 0.005, "grad_clip": 1.0, "max_epochs": epochs}
        cfg |= {"lr_schedule": "cosine", "warmup_epochs": 0.5}
        steps = -(-len(train) // batch)
        trainer = Trainer(model, cfg, torch.device("cpu"), rc_augment=True, steps_per_epoch=steps)
        before = _mean_loss(trainer, codes, y)
        stream = StoreStream(str(motif_store), train, labels, batch, 16)
        for epoch in range(epochs):
            stream.seed = epoch
            result = trainer.train_epoch(stream, steps, name)
            assert result.samples == len(train)
        assert trainer.lr < 1e-5  # the cosine schedule ran to its end
        after = _mean_loss(trainer, codes, y)
        p = predict(model, store, test, trainer.batcher, rc_average=True)
    assert after < 0.75 * before, (name, before, after)
    for t in range(2):
        has_motif = labels[test, t] == 1
        assert p[has_motif, t].mean() > p[~has_motif, t].mean() + 0.15, (name, t)
