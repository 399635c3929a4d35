"""The training engine.

Neural networks: AdamW, a learning-rate schedule (reduction on plateau, or cosine with
warm-up), early stopping on the validation auPRC, gradient clipping, reverse-complement
augmentation and strand-averaged prediction, a checkpoint every epoch (model, optimiser,
scheduler, scaler, RNG) from which a rerun resumes to the same result. Batches stream
from the on-disk store; on CUDA a DataLoader shards them over worker processes into
pinned memory, copies are non-blocking and autocast runs in bf16/fp16.
Classical baselines: k-mer features of a bounded, seeded subsample, scikit-learn fit.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from tqdm import tqdm

import genomicdl
from genomicdl import devices
from genomicdl.encode import Store
from genomicdl.files import atomic_output, write_json_atomic, write_text_atomic
from genomicdl.metrics import mean_auprc
from genomicdl.models import build_baseline, build_network
from genomicdl.negatives import stable_seed
from genomicdl.rebalance import load_index

log = logging.getLogger(__name__)

MODEL_FORMAT = "genomicdl-model/1"
CHECKPOINT_FORMAT = "genomicdl-checkpoint/2"
HISTORY_FIELDS = ("epoch", "train_loss", "valid_loss", "valid_auprc", "lr", "seconds")


# ------------------------------------------------------------------ tensors


class Batcher:
    """Turns integer-coded batches (A C G T N = 0..4) into one-hot tensors on the device.

    The codes travel as bytes (4x less to copy than one-hot floats) and are expanded
    where the model runs; N becomes an all-zero column.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.bases = torch.arange(4, dtype=torch.uint8, device=device).view(1, 4, 1)
        self.pin = device.type == "cuda"

    def codes(self, codes: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Codes (n, L) as a uint8 tensor on the device."""
        t = torch.as_tensor(np.ascontiguousarray(codes)) if isinstance(codes, np.ndarray) else codes
        if self.pin and not t.is_pinned():
            t = t.pin_memory()
        return t.to(self.device, dtype=torch.uint8, non_blocking=True)

    def one_hot(self, codes: torch.Tensor) -> torch.Tensor:
        """(n, L) codes -> (n, 4, L) float32 one-hot."""
        return (codes.to(torch.uint8).unsqueeze(1) == self.bases).float()

    def reverse_complement(self, codes: torch.Tensor) -> torch.Tensor:
        """Reverse complement of (n, L) codes (N stays N)."""
        flipped = codes.flip(1)
        return torch.where(flipped < 4, 3 - flipped, flipped)


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float) -> torch.Tensor:
    """Binary focal loss (Lin et al. 2017), mean over elements."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = torch.exp(-bce)
    return ((1 - p_t) ** gamma * bce).mean()


def resolve_device(preference: str) -> torch.device:
    """cpu, cuda, or auto (cuda when available)."""
    if preference == "cpu":
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device is cuda but no CUDA device is available")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """Autocast dtype on CUDA (None = full precision)."""
    if device.type != "cuda" or precision == "fp32":
        return None
    if precision == "fp16":
        return torch.float16
    if precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def model_outputs(model: torch.nn.Module) -> int:
    return int(model.n_tasks) if hasattr(model, "n_tasks") else list(model.parameters())[-1].shape[0]


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    store: Store,
    rows: np.ndarray,
    batcher: Batcher,
    rc_average: bool,
    batch_size: int = 512,
    amp: torch.dtype | None = None,
) -> np.ndarray:
    """Sigmoid outputs for ``rows`` (any order), averaged over strands if asked."""
    model.eval()
    out = np.empty((len(rows), model_outputs(model)), dtype=np.float32)
    pos = 0
    order = np.argsort(rows, kind="stable")
    for _, codes in store.batches(rows[order], batch_size):
        x = batcher.codes(codes)
        with _autocast(batcher.device, amp):
            p = torch.sigmoid(model(batcher.one_hot(x)).float())
            if rc_average:
                p = (p + torch.sigmoid(model(batcher.one_hot(batcher.reverse_complement(x))).float())) / 2
        out[order[pos : pos + len(codes)]] = p.cpu().numpy()
        pos += len(codes)
    return out


# ------------------------------------------------------------------ streaming batches


def shard_batches(
    store: Store,
    index: np.ndarray,
    batch_size: int,
    seed: int,
    chunks_per_block: int,
    shard: int = 0,
    shards: int = 1,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Shuffled (rows, codes) batches of one shard of ``index``.

    One shard is exactly ``Store.batches``. With several, the store's chunks are dealt
    to the shards in a seeded random order and each shard shuffles its own chunks, so
    that every worker process reads distinct parts of the file.
    """
    if shards == 1:
        yield from store.batches(index, batch_size, shuffle=True, seed=seed, chunks_per_block=chunks_per_block)
        return
    chunk = np.asarray(index) // store.rows_per_chunk
    chunks = np.unique(chunk)
    owner = np.random.default_rng(seed).permutation(len(chunks)) % shards
    mine = np.isin(chunk, chunks[owner == shard])
    yield from store.batches(
        index[mine], batch_size, shuffle=True, seed=stable_seed(seed, shard), chunks_per_block=chunks_per_block
    )


class StoreStream(IterableDataset):
    """One epoch of training batches, ``(codes uint8 (n, L), labels float32 (n, tasks))``.

    In DataLoader workers each worker opens the store itself and streams its shard;
    in the main process it streams everything. ``labels`` is the store's label matrix
    (shared copy-on-write with forked workers). Set ``seed`` before each epoch.
    """

    def __init__(
        self, path: str, index: np.ndarray, labels: np.ndarray, batch_size: int, chunks_per_block: int, seed: int = 0
    ) -> None:
        self.path, self.index, self.labels = path, index, labels
        self.batch_size, self.chunks_per_block, self.seed = batch_size, chunks_per_block, seed

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        shard, shards = (info.id, info.num_workers) if info else (0, 1)
        with Store(self.path) as store:
            for rows, codes in shard_batches(
                store, self.index, self.batch_size, self.seed, self.chunks_per_block, shard, shards
            ):
                yield torch.from_numpy(codes), torch.from_numpy(self.labels[rows].astype(np.float32))


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


# ------------------------------------------------------------------ optimisation


@dataclass
class EpochStats:
    """What one training epoch did."""

    loss: float
    samples: int
    seconds: float
    wait_seconds: float


def lr_lambda(schedule: str, warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """Learning-rate factor per optimiser step: linear warm-up, then constant or cosine."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        if schedule != "cosine":
            return 1.0
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class Trainer:
    """Model, optimiser, schedules and loss of one run; trains epochs of batches.

    ``strategy`` selects the loss: focal loss for "focal", else binary cross-entropy
    with the per-task positive weights (ones except for "class_weight").
    """

    def __init__(
        self,
        model: torch.nn.Module,
        cfg: Mapping[str, Any],
        device: torch.device,
        strategy: str = "none",
        pos_weight: np.ndarray | None = None,
        rc_augment: bool = False,
        steps_per_epoch: int = 1,
    ) -> None:
        self.model, self.device, self.strategy = model, device, strategy
        self.batcher = Batcher(device)
        self.amp = autocast_dtype(device, cfg.get("precision", "fp32"))
        self.rc_augment = rc_augment
        self.grad_clip = float(cfg.get("grad_clip", 0))
        self.gamma = float(cfg.get("focal_gamma", 2.0))
        n_tasks = model_outputs(model)
        weights = np.ones(n_tasks, np.float32) if pos_weight is None else np.asarray(pos_weight, np.float32)
        self.pos_weight = torch.from_numpy(weights).to(device)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            self.params, lr=cfg["learning_rate"], weight_decay=cfg.get("weight_decay", 0.01)
        )
        self.schedule = cfg.get("lr_schedule", "plateau")
        warmup = round(float(cfg.get("warmup_epochs", 0)) * steps_per_epoch) if self.schedule != "plateau" else 0
        total = int(cfg.get("max_epochs", 1)) * steps_per_epoch
        self.step_scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_lambda(self.schedule, warmup, total)
        )
        self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="max", factor=0.5, patience=int(cfg.get("lr_patience", 3))
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.strategy == "focal":
            return focal_loss(logits, y, self.gamma)
        return F.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight)

    def step(self, codes: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One optimiser step on a batch of codes; returns the (detached) batch loss."""
        x = self.batcher.codes(codes)
        y = y.to(self.device, non_blocking=True)
        if self.rc_augment:
            flip = (torch.rand(len(x)) < 0.5).to(self.device, non_blocking=True)
            x = torch.where(flip[:, None], self.batcher.reverse_complement(x), x)
        self.optimizer.zero_grad(set_to_none=True)
        with _autocast(self.device, self.amp):
            logits = self.model(self.batcher.one_hot(x))
        loss = self.loss(logits.float(), y)
        self.scaler.scale(loss).backward()
        if self.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.schedule != "plateau":
            self.step_scheduler.step()
        return loss.detach()

    def train_epoch(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], total: int, desc: str) -> EpochStats:
        """Train on every batch once; the loss is summed on the device (no per-step sync)."""
        self.model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        samples, wait = 0, 0.0
        start = time.perf_counter()
        bar = tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, mininterval=10)
        it = iter(batches)
        while True:
            t = time.perf_counter()
            batch = next(it, None)
            wait += time.perf_counter() - t
            if batch is None:
                break
            codes, y = batch
            loss_sum += self.step(codes, y).double() * len(codes)
            samples += len(codes)
            bar.update()
        bar.close()
        return EpochStats(float(loss_sum) / max(samples, 1), samples, time.perf_counter() - start, wait)

    def end_epoch(self, score: float) -> None:
        """Epoch-level schedule: reduce the learning rate when the score plateaus."""
        if self.schedule == "plateau":
            self.plateau.step(score if not math.isnan(score) else -math.inf)

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step_scheduler": self.step_scheduler.state_dict(),
            "plateau": self.plateau.state_dict(),
            "scaler": self.scaler.state_dict(),
            "torch_rng": torch.get_rng_state(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step_scheduler.load_state_dict(state["step_scheduler"])
        self.plateau.load_state_dict(state["plateau"])
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["torch_rng"])
        if self.device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)


# ------------------------------------------------------------------ checkpoints


def config_fingerprint(obj: Any) -> str:
    """Stable hash of a JSON-able object (to refuse resuming a different run)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _plain(obj: Any) -> Any:
    """Numpy scalars/arrays -> Python types, so that torch.load(weights_only=True) works."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def save_torch(obj: dict[str, Any], path: str | Path) -> None:
    """torch.save atomically."""
    with atomic_output(path) as tmp:
        torch.save(obj, tmp)


def load_torch(path: str | Path) -> dict[str, Any]:
    """torch.load with weights_only=True (no arbitrary code from a file)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def versions() -> dict[str, str]:
    import sklearn

    return {
        "genomicdl": genomicdl.__version__,
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def _remove_stale_temporaries(*paths: str | Path) -> None:
    """Drop temporaries that a killed writer left beside ``paths`` (atomic_output names)."""
    for path in map(Path, paths):
        for stale in path.parent.glob(f".{path.name}.tmp*"):
            stale.unlink(missing_ok=True)


# ------------------------------------------------------------------ neural networks


def train_network(
    store_path: str,
    index_path: str,
    model_name: str,
    params: Mapping[str, Any],
    train_cfg: Mapping[str, Any],
    seed: int,
    threads: int,
    double_stranded: bool,
    out_model: str,
    out_history: str,
    out_stats: str,
    checkpoint: str | None = None,
) -> dict[str, Any]:
    """Train one network; resumes from ``checkpoint`` (default: checkpoint.pt beside
    ``out_model``) when it exists and belongs to the same configuration."""
    torch.set_num_threads(max(1, threads))
    slot = devices.acquire() if train_cfg["device"] != "cpu" and devices.has_gpu() else None
    try:
        return _train_network(
            store_path, index_path, model_name, params, train_cfg, seed, threads, double_stranded,
            out_model, out_history, out_stats, checkpoint or str(Path(out_model).with_name("checkpoint.pt")),
            slot.device if slot else None,
        )  # fmt: skip
    finally:
        if slot:
            slot.release()


def _train_network(
    store_path: str,
    index_path: str,
    model_name: str,
    params: Mapping[str, Any],
    train_cfg: Mapping[str, Any],
    seed: int,
    threads: int,
    double_stranded: bool,
    out_model: str,
    out_history: str,
    out_stats: str,
    checkpoint: str,
    gpu_slot: str | None,
) -> dict[str, Any]:
    device = resolve_device(train_cfg["device"])
    torch.use_deterministic_algorithms(device.type == "cpu", warn_only=True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.set_float32_matmul_precision("high")
    _remove_stale_temporaries(checkpoint, out_model, out_history, out_stats)

    index, pos_weight, strategy = load_index(index_path)
    store = Store(store_path)
    labels, valid_rows = store.labels, store.rows("valid")
    description = {
        "model": model_name,
        "params": _plain(dict(params)),
        "tasks": store.tasks,
        "window": store.window,
        "alphabet": "ACGT",
        "double_stranded": double_stranded,
        "train": _plain(dict(train_cfg)),
        "seed": seed,
        "balance": strategy,
        "versions": versions(),
    }
    store.close()
    if len(valid_rows) == 0:
        raise ValueError(f"{store_path}: the validation split is empty; early stopping needs it")
    if len(index) == 0:
        raise ValueError(f"{index_path}: the training index is empty")

    batch_size = int(train_cfg["batch_size"])
    workers = worker_count(train_cfg.get("num_workers"), device, threads)
    steps = math.ceil(len(index) / batch_size) + max(0, workers - 1)
    torch.manual_seed(seed)
    model = build_network(model_name, len(description["tasks"]), description["window"], dict(params)).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    rc_avg = bool(train_cfg["rc_average"]) and double_stranded
    trainer = Trainer(
        model, train_cfg, device, strategy, pos_weight, bool(train_cfg["rc_augment"]) and double_stranded, steps
    )
    log.info(
        "model %s: %d parameters; device %s%s; %d threads, %d loader workers; balance %s; %d training rows",
        model_name, n_params, device, f" ({trainer.amp})" if trainer.amp else "", threads, workers, strategy,
        len(index),
    )  # fmt: skip

    fingerprint = config_fingerprint(
        {
            "model": model_name,
            "params": params,
            "train": train_cfg,
            "seed": seed,
            "index": hashlib.sha256(index.tobytes()).hexdigest(),
            "pos_weight": pos_weight.tolist(),
            "store": len(labels),
        }
    )
    state = {"epoch": 0, "best_score": -math.inf, "best_epoch": 0, "bad_epochs": 0, "history": [], "best_state": None}
    resumed_from = 0
    if Path(checkpoint).exists():
        saved = load_torch(checkpoint)
        if saved.get("format") == CHECKPOINT_FORMAT and saved.get("fingerprint") == fingerprint:
            trainer.load_state_dict(saved["trainer"])
            state = saved["state"]
            resumed_from = state["epoch"]
            log.info("resuming from %s after epoch %d", checkpoint, state["epoch"])
        else:
            log.info("ignoring %s: it belongs to another configuration", checkpoint)

    stream = StoreStream(store_path, index, labels, batch_size, int(train_cfg["shuffle_chunks"]))
    samples_seen, train_seconds, wait_seconds = 0, 0.0, 0.0
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with Store(store_path) as store:
        while state["epoch"] < train_cfg["max_epochs"] and state["bad_epochs"] < train_cfg["patience"]:
            epoch = state["epoch"] + 1
            t0 = time.perf_counter()
            stream.seed = stable_seed("epoch", seed, epoch)
            result = trainer.train_epoch(epoch_batches(stream, device, workers), steps, f"epoch {epoch}")
            p_valid = predict(model, store, valid_rows, trainer.batcher, rc_avg, amp=trainer.amp)
            y_valid = labels[valid_rows]
            score = mean_auprc(y_valid, p_valid)
            valid_loss = float(
                F.binary_cross_entropy(
                    torch.from_numpy(p_valid).clamp(1e-7, 1 - 1e-7), torch.from_numpy(y_valid.astype(np.float32))
                )
            )
            trainer.end_epoch(score)
            seconds = time.perf_counter() - t0
            samples_seen += result.samples
            train_seconds += result.seconds
            wait_seconds += result.wait_seconds
            improved = not math.isnan(score) and score > state["best_score"]
            if improved:
                state["best_score"], state["best_epoch"], state["bad_epochs"] = score, epoch, 0
                state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            else:
                state["bad_epochs"] += 1
            state["history"].append(
                {
                    "epoch": epoch,
                    "train_loss": result.loss,
                    "valid_loss": valid_loss,
                    "valid_auprc": score,
                    "lr": trainer.lr,
                    "seconds": round(seconds, 3),
                }
            )
            state["epoch"] = epoch
            log.info(
                "epoch %d: train loss %.4f, valid loss %.4f, valid auPRC %.4f%s (%.1f s, %.0f samples/s)",
                epoch, result.loss, valid_loss, score, " *" if improved else "", seconds,
                result.samples / max(result.seconds, 1e-9),
            )  # fmt: skip
            save_torch(
                {
                    "format": CHECKPOINT_FORMAT,
                    "fingerprint": fingerprint,
                    **description,
                    "trainer": trainer.state_dict(),
                    "state": _plain(state),
                },
                checkpoint,
            )
    if state["best_state"] is None:
        state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    save_torch(
        {
            "format": MODEL_FORMAT,
            "family": "torch",
            **description,
            "rc_average": rc_avg,
            "best_epoch": state["best_epoch"],
            "best_valid_auprc": state["best_score"],
            "parameters": n_params,
            "state_dict": state["best_state"],
        },
        out_model,
    )
    write_history(state["history"], out_history)
    stats = {
        "model": model_name,
        "parameters": n_params,
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "gpu_slot": gpu_slot,
        "precision": str(trainer.amp).removeprefix("torch.") if trainer.amp else "fp32",
        "threads": threads,
        "loader_workers": workers,
        "balance": strategy,
        "train_rows": len(index),
        "epochs_run": state["epoch"],
        "best_epoch": state["best_epoch"],
        "best_valid_auprc": state["best_score"],
        "epoch_seconds": [row["seconds"] for row in state["history"]],
        "samples_per_s": round(samples_seen / train_seconds, 1) if train_seconds else None,
        "loader_wait_fraction": round(wait_seconds / train_seconds, 4) if train_seconds else None,
        "peak_gpu_memory_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
        if device.type == "cuda"
        else None,
        "resumed_from_epoch": resumed_from or None,
    }
    write_json_atomic(out_stats, stats)
    Path(checkpoint).unlink(missing_ok=True)
    return stats


def write_history(history: list[dict[str, Any]], path: str | Path) -> None:
    """history.csv: one row per epoch."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: row[k] for k in HISTORY_FIELDS})
    write_text_atomic(path, buf.getvalue())


def load_network(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A trained network and its self-description, from model.pt."""
    saved = load_torch(path)
    if saved.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: not a {MODEL_FORMAT} file")
    model = build_network(saved["model"], len(saved["tasks"]), saved["window"], saved["params"])
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model, saved


# ------------------------------------------------------------------ classical baselines


def _subsample(index: np.ndarray, limit: int, seed: int) -> np.ndarray:
    if len(index) <= limit:
        return index
    rng = np.random.default_rng(stable_seed("subsample", seed))
    return np.sort(rng.choice(index, size=limit, replace=False))


def features_of(model: Any, store: Store, rows: np.ndarray, batch: int = 4096) -> Iterator[np.ndarray]:
    """k-mer features of ``rows`` (sorted), batch by batch."""
    for _, codes in store.batches(rows, batch):
        yield model.features(codes)


def baseline_weights(strategy: str, pos_weight: np.ndarray, model_name: str) -> np.ndarray:
    """Positive-row weights of a classical baseline under a strategy.

    class_weight: the per-task weights (sample weights of the fit); undersample and
    oversample act through the index; focal has no classical counterpart (the loss of a
    logistic regression or a boosted tree cannot focus on hard rows), so the baseline
    trains unweighted on every row, exactly as under "none".
    """
    if strategy == "focal":
        log.info("focal loss has no classical counterpart: %s trains unweighted, as under balance none", model_name)
    return np.asarray(pos_weight, dtype=np.float32)


def train_baseline(
    store_path: str,
    index_path: str,
    model_name: str,
    params: Mapping[str, Any],
    train_cfg: Mapping[str, Any],
    seed: int,
    double_stranded: bool,
    out_model: str,
    out_stats: str,
) -> dict[str, Any]:
    """Fit a scikit-learn baseline on a bounded subsample of the training index."""
    t0 = time.time()
    index, pos_weight, strategy = load_index(index_path)
    with Store(store_path) as store:
        rows = _subsample(index, int(train_cfg["max_train_samples"]), seed)
        if len(rows) < len(index):
            log.info("baseline trains on a seeded subsample of %d of %d rows", len(rows), len(index))
        model = build_baseline(model_name, double_stranded, seed, dict(params))
        x = np.concatenate(list(features_of(model, store, rows)))
        y = store.labels[rows]
        weights = baseline_weights(strategy, pos_weight, model_name)
        log.info("model %s: %d rows x %d k-mer features; balance %s", model_name, *x.shape, strategy)
        model.fit(x, y, weights)
        n_params = model.parameter_count()
        log.info("model %s: %d fitted parameters over %d tasks", model_name, n_params, y.shape[1])
        tasks, window = store.tasks, store.window
    meta = {
        "format": MODEL_FORMAT,
        "model": model_name,
        "family": "sklearn",
        "params": dict(params),
        "tasks": tasks,
        "window": window,
        "alphabet": "ACGT",
        "double_stranded": double_stranded,
        "seed": seed,
        "balance": strategy,
        "parameters": n_params,
        "versions": versions(),
    }
    with atomic_output(out_model) as tmp:
        joblib.dump({"meta": meta, "model": model}, tmp)
    stats = {
        "model": model_name,
        "device": "cpu",
        "balance": strategy,
        "balance_note": "focal: no classical counterpart, trained as balance none" if strategy == "focal" else None,
        "train_rows": len(rows),
        "features": int(x.shape[1]),
        "parameters": n_params,
        "seconds": round(time.time() - t0, 2),
    }
    write_json_atomic(out_stats, stats)
    return stats


def load_baseline(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """A fitted baseline and its description, from model.joblib (our own pickle)."""
    saved = joblib.load(path)
    return saved["model"], saved["meta"]


def predict_baseline(model: Any, store: Store, rows: np.ndarray) -> np.ndarray:
    """Probabilities for ``rows`` (any order)."""
    order = np.argsort(rows, kind="stable")
    out = np.empty((len(rows), store.labels.shape[1]), dtype=np.float32)
    pos = 0
    for x in features_of(model, store, rows[order]):
        out[order[pos : pos + len(x)]] = model.predict_proba(x)
        pos += len(x)
    return out
