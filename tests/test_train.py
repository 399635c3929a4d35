"""The training engine: outputs, determinism, resuming after a real SIGKILL, loader
workers, losses and schedules, and the classical baselines under each strategy."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
import yaml
from conftest import REPO
from test_models import planted_store

from genomicdl.core.sequence import one_hot, reverse_complement
from genomicdl.core.sequence_torch import DeviceEncoder
from genomicdl.io.store import Store
from genomicdl.kinds.targets import Target
from genomicdl.metrics import auprc, auroc
from genomicdl.training.baselines import load_baseline, predict_baseline, train_baseline
from genomicdl.training.checkpoints import CHECKPOINT_FORMAT, MODEL_FORMAT, load_torch, save_torch
from genomicdl.training.engine import Trainer, lr_lambda, train_network
from genomicdl.training.inference import load_network, predict
from genomicdl.training.loader import StoreStream, epoch_batches, shard_batches
from genomicdl.training.rebalance import rebalance

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def train_cfg(**overrides: Any) -> dict[str, Any]:
    """The schema's train defaults (every key the engine reads), with overrides."""
    props = yaml.safe_load(SCHEMA.read_text())["properties"]["train"]["properties"]
    return {key: spec["default"] for key, spec in props.items()} | {"device": "cpu"} | overrides


pytestmark = pytest.mark.usefixtures("restore_torch_settings")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A planted-motif store (900 windows of 40 bp, 2 tasks) and its rebalance indices."""
    root = tmp_path_factory.mktemp("train")
    store = planted_store(root / "store.h5", n=900, window=40, n_tasks=2, seed=4)
    out = {"store": store}
    for strategy in ("none", "focal", "oversample"):
        out[strategy] = root / f"{strategy}.npz"
        rebalance(store, strategy, 1, 1.0, out[strategy], root / f"{strategy}.tsv")
    return out


def run_args(data: dict[str, Path], out: Path, model: str = "deepbind", seed: int = 1, **cfg: Any) -> dict[str, Any]:
    """Keyword arguments of train_network for one run into ``out``."""
    return {
        "store": str(data["store"]),
        "index": str(data[cfg.pop("balance", "none")]),
        "model": model,
        "params": cfg.pop("params", {}),
        "train": train_cfg(**cfg),
        "seed": seed,
        "threads": 1,
        "double_stranded": True,
        "out_model": str(out / "model.pt"),
        "out_history": str(out / "history.csv"),
        "out_stats": str(out / "train_stats.json"),
    }


def history(out: Path) -> list[dict[str, str]]:
    """history.csv without the wall-clock column."""
    with open(out / "history.csv") as fh:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def weights(out: Path) -> dict[str, torch.Tensor]:
    return load_torch(out / "model.pt")["state_dict"]


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_outputs_are_self_describing(data: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="genomicdl")
    stats = train_network(**run_args(data, tmp_path, max_epochs=3, patience=5))
    saved = torch.load(tmp_path / "model.pt", map_location="cpu", weights_only=True)
    assert saved["format"] == MODEL_FORMAT and saved["model"] == "deepbind" and saved["family"] == "torch"
    assert saved["tasks"] == ["task0", "task1"] and saved["window"] == 40 and saved["alphabet"] == "dna"
    assert saved["train"]["max_epochs"] == 3 and saved["balance"] == "none" and saved["seed"] == 1
    assert {"torch", "numpy", "genomicdl", "scikit-learn", "python"} <= set(saved["versions"])
    model, meta = load_network(tmp_path / "model.pt")
    assert sum(p.numel() for p in model.parameters()) == stats["parameters"] == meta["parameters"]
    assert len(history(tmp_path)) == 3 and list(history(tmp_path)[0]) == [
        "epoch", "train_loss", "valid_loss", "valid_score", "lr",
    ]  # fmt: skip
    written = json.loads((tmp_path / "train_stats.json").read_text())
    assert written["device"] == "cpu" and written["peak_gpu_memory_mb"] is None and written["gpu_slot"] is None
    assert written["samples_per_s"] > 0 and len(written["epoch_seconds"]) == 3 and written["loader_workers"] == 0
    assert written["epochs_run"] == 3 and written["resumed_from_epoch"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "model.pt", "train_stats.json"]
    assert f"model deepbind: {stats['parameters']} parameters" in caplog.text


def test_early_stopping_keeps_the_best_epoch(data: dict[str, Path], tmp_path: Path) -> None:
    stats = train_network(**run_args(data, tmp_path, max_epochs=40, patience=2, learning_rate=0.02))
    rows = history(tmp_path)
    scores = [float(r["valid_score"]) for r in rows]
    assert stats["epochs_run"] == len(rows) < 40  # stopped early
    assert stats["best_epoch"] == int(np.argmax(scores)) + 1 == len(rows) - 2
    assert load_torch(tmp_path / "model.pt")["best_valid_score"] == pytest.approx(max(scores))


def test_same_seed_same_weights_and_metrics(data: dict[str, Path], tmp_path: Path) -> None:
    """Dropout, RC augmentation, shuffling and oversampling all follow the seed."""
    args = {"model": "danq", "max_epochs": 2, "balance": "oversample"}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        train_network(**run_args(data, tmp_path / name, seed=seed, **args))
    assert history(tmp_path / "a") == history(tmp_path / "b")
    assert same_weights(tmp_path / "a", tmp_path / "b")
    assert not same_weights(tmp_path / "a", tmp_path / "c")


CHILD = (
    "import json, sys; from genomicdl.training.engine import train_network; "
    "train_network(**json.loads(sys.argv[1]))"
)


def child(args: dict[str, Any]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], env=env, stderr=subprocess.DEVNULL)


def checkpoint_epoch(path: Path) -> int:
    try:
        return int(load_torch(path)["state"]["epoch"])
    except (FileNotFoundError, RuntimeError, EOFError, KeyError):
        return 0


def test_resume_after_sigkill_ends_like_an_uninterrupted_run(data: dict[str, Path], tmp_path: Path) -> None:
    cfg = {"model": "deepsea", "max_epochs": 5, "patience": 100, "balance": "oversample"}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    train_network(**run_args(data, whole, **cfg))  # uninterrupted, in this process

    proc = child(run_args(data, killed, **cfg))
    checkpoint = killed / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while checkpoint_epoch(checkpoint) < 2:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not (killed / "model.pt").exists()  # killed mid-run: nothing looks finished
    at_kill = checkpoint_epoch(checkpoint)
    assert 2 <= at_kill < 5

    assert child(run_args(data, killed, **cfg)).wait(timeout=300) == 0
    stats = json.loads((killed / "train_stats.json").read_text())
    assert stats["resumed_from_epoch"] == at_kill and stats["epochs_run"] == 5
    assert history(killed) == history(whole)
    assert same_weights(killed, whole)
    assert not checkpoint.exists() and not list(killed.glob(".*tmp*"))
    with Store(data["store"]) as store:
        test_rows, labels = store.rows("test"), store.labels
        scores = [
            predict(
                load_network(out / "model.pt")[0],
                store,
                test_rows,
                DeviceEncoder("cpu"),
                target=store.target,
                rc_average=True,
            )
            for out in (whole, killed)
        ]
    for t in range(2):
        y = labels[test_rows, t]
        assert auroc(y, scores[0][:, t]) == auroc(y, scores[1][:, t])
        assert auprc(y, scores[0][:, t]) == auprc(y, scores[1][:, t])


def test_a_truncated_checkpoint_is_set_aside_and_training_starts_afresh(
    data: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's case: a checkpoint cut by a crash blocked every rerun (Errno 22, no file named)."""
    caplog.set_level(logging.INFO, logger="genomicdl")
    checkpoint = tmp_path / "b" / "checkpoint.pt"
    save_torch({"format": CHECKPOINT_FORMAT, "weights": torch.randn(64, 64)}, checkpoint)
    with open(checkpoint, "r+b") as fh:
        fh.truncate(checkpoint.stat().st_size // 2)
    train_network(**run_args(data, tmp_path / "a", max_epochs=2))
    train_network(**run_args(data, tmp_path / "b", max_epochs=2))
    assert f"checkpoint {checkpoint} is unreadable" in caplog.text
    assert (tmp_path / "b" / "checkpoint.pt.bad").is_file() and not checkpoint.exists()
    assert history(tmp_path / "a") == history(tmp_path / "b") and same_weights(tmp_path / "a", tmp_path / "b")


def test_a_checkpoint_of_another_run_is_ignored(
    data: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="genomicdl")
    save_torch({"format": CHECKPOINT_FORMAT, "fingerprint": "another run"}, tmp_path / "b" / "checkpoint.pt")
    train_network(**run_args(data, tmp_path / "a", max_epochs=2))
    train_network(**run_args(data, tmp_path / "b", max_epochs=2))
    assert "belongs to another configuration" in caplog.text
    assert history(tmp_path / "a") == history(tmp_path / "b") and same_weights(tmp_path / "a", tmp_path / "b")


def test_worker_shards_cover_the_index_once(tmp_path: Path) -> None:
    path = planted_store(tmp_path / "wide.h5", n=3000, window=2048, n_tasks=1, seed=2)  # 512 rows per chunk
    index = np.sort(np.concatenate([np.arange(0, 3000, 2), np.arange(100, 400)]))  # with repeats
    with Store(path) as store:
        assert store.rows_per_chunk == 512
        shards = [
            np.concatenate([r for r, _ in shard_batches(store, index, batch_size=64, seed=9, chunks_per_block=2,
                                                        shard=s, shards=3)])
            for s in range(3)
        ]  # fmt: skip
        labels, lengths = store.labels, store.lengths
    assert np.array_equal(np.sort(np.concatenate(shards)), index)
    chunks = [set((rows // 512).tolist()) for rows in shards]
    assert sum(len(c) for c in chunks) == len(set().union(*chunks)) == 6  # each chunk read by one worker
    stream = StoreStream(str(path), index, labels, kind="binary", batch_size=64, chunks_per_block=2, lengths=lengths,
                         seed=9)  # fmt: skip
    batches = list(epoch_batches(stream, torch.device("cpu"), workers=2))  # real worker processes
    assert sum(len(codes) for codes, _, _ in batches) == len(index)
    assert sum(float(y.sum()) for _, y, _ in batches) == labels[index].sum()
    assert all(codes.dtype == torch.uint8 and codes.shape[1] == 2048 for codes, _, _ in batches)


def test_training_with_loader_workers_is_deterministic(data: dict[str, Path], tmp_path: Path) -> None:
    for name in ("a", "b"):
        stats = train_network(**run_args(data, tmp_path / name, max_epochs=2, num_workers=2))
        assert stats["loader_workers"] == 2
    assert history(tmp_path / "a") == history(tmp_path / "b") and same_weights(tmp_path / "a", tmp_path / "b")


def test_device_encoder_matches_the_numpy_encoding() -> None:
    codes = np.random.default_rng(0).integers(0, 5, size=(7, 33)).astype(np.uint8)
    encoder = DeviceEncoder(torch.device("cpu"))
    x = encoder.codes(codes)
    assert x.dtype == torch.uint8
    assert np.array_equal(encoder.one_hot(x).numpy(), one_hot(codes))
    assert np.array_equal(encoder.reverse_complement(x).numpy(), reverse_complement(codes))
    lengths = np.array([33, 30, 5, 1, 33, 20, 2])
    padded = codes.copy()
    for i, n in enumerate(lengths):
        padded[i, n:] = 255
    rc = encoder.reverse_complement(encoder.codes(padded), torch.from_numpy(lengths)).numpy()
    assert np.array_equal(rc, reverse_complement(padded, "dna", lengths))  # padding stays at the end
    protein = DeviceEncoder("cpu", "protein")
    assert protein.one_hot(protein.codes(np.array([[0, 19, 20, 255]], np.uint8))).shape == (1, 20, 4)
    with pytest.raises(ValueError, match="protein alphabet has no complement"):
        protein.reverse_complement(protein.codes(np.zeros((1, 3), np.uint8)))


BINARY = Target("binary", ("a", "b"))


def test_losses_of_the_strategies() -> None:
    torch.manual_seed(0)
    logits, y = torch.randn(50, 2), (torch.rand(50, 2) < 0.3).float()
    model = torch.nn.Linear(4, 2)
    cfg = train_cfg(learning_rate=0.001, focal_gamma=0.0)
    cpu = torch.device("cpu")
    bce = F.binary_cross_entropy_with_logits(logits, y)
    assert torch.allclose(Trainer(model, cfg, cpu, target=BINARY, strategy="focal").loss(logits, y), bce)
    focal = Trainer(model, cfg | {"focal_gamma": 2.0}, cpu, target=BINARY, strategy="focal").loss(logits, y)
    assert focal < bce  # easy rows down-weighted
    weighted = Trainer(model, cfg, cpu, target=BINARY, strategy="class_weight", weights=np.array([3.0, 1.0])).loss(
        logits, y
    )
    expected = F.binary_cross_entropy_with_logits(logits, y, pos_weight=torch.tensor([3.0, 1.0]))
    assert torch.allclose(weighted, expected)


def test_learning_rate_schedules() -> None:
    cosine = lr_lambda("cosine", warmup_steps=10, total_steps=110)
    assert cosine(0) == pytest.approx(0.1) and cosine(9) == pytest.approx(1.0)
    assert cosine(60) == pytest.approx(0.5) and cosine(110) == pytest.approx(0.0, abs=1e-12)
    assert lr_lambda("constant", 0, 100)(50) == 1.0
    model = torch.nn.Linear(4, 1)
    cfg = train_cfg(learning_rate=0.01, lr_schedule="plateau", lr_patience=2)
    trainer = Trainer(model, cfg, torch.device("cpu"), target=Target("binary", ("a",)))
    for score in (0.5, 0.4, 0.4):
        trainer.end_epoch(score)
    assert trainer.lr == pytest.approx(0.01)  # two stalled epochs: within lr_patience
    trainer.end_epoch(0.45)
    assert trainer.lr == pytest.approx(0.005)  # halved after the third


def test_focal_baseline_trains_as_none(data: dict[str, Path], tmp_path: Path) -> None:
    """The documented choice: focal has no classical counterpart; the baseline trains
    unweighted on every row, so it equals the baseline of strategy none."""
    probabilities = {}
    for strategy in ("none", "focal"):
        out = tmp_path / strategy
        train_baseline(
            store=str(data["store"]), index=str(data[strategy]), model="kmer_logreg", params={"k": 3},
            train=train_cfg(), seed=1, double_stranded=True, out_model=str(out / "model.npz"),
            out_stats=str(out / "train_stats.json"),
        )  # fmt: skip
        baseline, _ = load_baseline(out / "model.npz")
        with Store(data["store"]) as store:
            probabilities[strategy] = predict_baseline(baseline, store, store.rows("test"))
    assert np.array_equal(probabilities["none"], probabilities["focal"])
    assert not math.isnan(float(probabilities["none"].mean()))
