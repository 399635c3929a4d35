"""The training engine.

Neural networks: AdamW, learning-rate reduction on plateau, early stopping on the
validation auPRC, gradient clipping, reverse-complement augmentation, a checkpoint
every epoch (model, optimiser, scheduler, RNG) from which a rerun resumes to the same
result, autocast / pinned memory / non-blocking copies on CUDA.
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
import platform
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
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
CHECKPOINT_FORMAT = "genomicdl-checkpoint/1"


# ------------------------------------------------------------------ tensors


class Batcher:
    """Turns integer-coded batches into one-hot tensors on the device (one-hot is made
    there: 4x less to copy), with reverse complements when asked."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        table = torch.zeros(5, 4)
        table[:4] = torch.eye(4)
        self.table = table.to(device)
        self.complement = torch.tensor([3, 2, 1, 0, 4], dtype=torch.long, device=device)
        self.pin = device.type == "cuda"

    def codes(self, codes: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(codes))
        if self.pin:
            t = t.pin_memory()
        return t.to(self.device, non_blocking=True).long()

    def one_hot(self, codes: torch.Tensor) -> torch.Tensor:
        return self.table[codes].transpose(1, 2).contiguous()

    def reverse_complement(self, codes: torch.Tensor) -> torch.Tensor:
        return self.complement[codes.flip(1)]


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
    """Sigmoid outputs for ``rows`` (in store order), averaged over strands if asked."""
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


def model_outputs(model: torch.nn.Module) -> int:
    return int(model.n_tasks) if hasattr(model, "n_tasks") else list(model.parameters())[-1].shape[0]


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


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
    """Train one network; resumes from ``checkpoint`` when it exists and matches."""
    torch.set_num_threads(max(1, threads))
    slot = None
    if train_cfg["device"] != "cpu" and devices.has_gpu():
        slot = devices.acquire()
    device = resolve_device(train_cfg["device"])
    torch.use_deterministic_algorithms(device.type == "cpu", warn_only=True)
    amp = autocast_dtype(device, train_cfg["precision"])
    rc_aug = bool(train_cfg["rc_augment"]) and double_stranded
    rc_avg = bool(train_cfg["rc_average"]) and double_stranded
    checkpoint = checkpoint or str(Path(out_model).with_name("checkpoint.pt"))

    store = Store(store_path)
    index, pos_weight, strategy = load_index(index_path)
    labels = store.labels
    valid_rows = store.rows("valid")
    if len(valid_rows) == 0:
        raise ValueError(f"{store_path}: the validation split is empty; early stopping needs it")

    torch.manual_seed(seed)
    model = build_network(model_name, len(store.tasks), store.window, dict(params)).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log.info(
        "model %s: %d parameters; device %s%s; %d threads; balance %s",
        model_name,
        n_params,
        device,
        f" ({amp})" if amp else "",
        threads,
        strategy,
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=train_cfg["learning_rate"], weight_decay=train_cfg["weight_decay"]
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=1)
    scaler = torch.amp.GradScaler("cuda", enabled=amp == torch.float16)
    pw = torch.tensor(pos_weight, device=device)
    gamma = float(train_cfg["focal_gamma"])

    def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if strategy == "focal":
            return focal_loss(logits, y, gamma)
        return F.binary_cross_entropy_with_logits(logits, y, pos_weight=pw)

    fingerprint = config_fingerprint(
        {
            "model": model_name,
            "params": params,
            "train": train_cfg,
            "seed": seed,
            "index": hashlib.sha256(index.tobytes()).hexdigest(),
            "store": store.n,
        }
    )
    state = {"epoch": 0, "best_score": -math.inf, "best_epoch": 0, "bad_epochs": 0, "history": [], "best_state": None}
    if Path(checkpoint).exists():
        saved = load_torch(checkpoint)
        if saved.get("format") == CHECKPOINT_FORMAT and saved.get("fingerprint") == fingerprint:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            scaler.load_state_dict(saved["scaler"])
            torch.set_rng_state(saved["torch_rng"])
            state = saved["state"]
            log.info("resuming from %s after epoch %d", checkpoint, state["epoch"])
        else:
            log.info("ignoring %s: it belongs to another configuration", checkpoint)

    batcher = Batcher(device)
    bs = int(train_cfg["batch_size"])
    epoch_times, samples_seen, train_seconds = [], 0, 0.0
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    while state["epoch"] < train_cfg["max_epochs"] and state["bad_epochs"] < train_cfg["patience"]:
        epoch = state["epoch"] + 1
        model.train()
        t0 = time.time()
        total, count = 0.0, 0
        n_batches = math.ceil(len(index) / bs)
        batches = store.batches(
            index,
            bs,
            shuffle=True,
            seed=stable_seed("epoch", seed, epoch),
            chunks_per_block=train_cfg["shuffle_chunks"],
        )
        bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch}", file=sys.stderr, mininterval=10, disable=None)
        for rows, codes in bar:
            x = batcher.codes(codes)
            y = torch.from_numpy(labels[rows].astype(np.float32)).to(device, non_blocking=True)
            if rc_aug:
                flip = torch.rand(len(rows)) < 0.5
                if flip.any():
                    x[flip.to(device)] = batcher.reverse_complement(x[flip.to(device)])
            optimizer.zero_grad(set_to_none=True)
            with _autocast(device, amp):
                logits = model(batcher.one_hot(x))
            loss = loss_fn(logits.float(), y)
            scaler.scale(loss).backward()
            if train_cfg["grad_clip"] > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg["grad_clip"])
            scaler.step(optimizer)
            scaler.update()
            total += float(loss) * len(rows)
            count += len(rows)
        bar.close()
        train_time = time.time() - t0
        p_valid = predict(model, store, valid_rows, batcher, rc_avg, amp=amp)
        y_valid = labels[valid_rows]
        score = mean_auprc(y_valid, p_valid)
        valid_loss = float(
            F.binary_cross_entropy(
                torch.from_numpy(p_valid).clamp(1e-7, 1 - 1e-7), torch.from_numpy(y_valid.astype(np.float32))
            )
        )
        scheduler.step(score if not math.isnan(score) else -math.inf)
        seconds = time.time() - t0
        epoch_times.append(round(seconds, 3))
        samples_seen += count
        train_seconds += train_time
        improved = not math.isnan(score) and score > state["best_score"]
        if improved:
            state["best_score"], state["best_epoch"], state["bad_epochs"] = score, epoch, 0
            state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            state["bad_epochs"] += 1
        state["history"].append(
            {
                "epoch": epoch,
                "train_loss": total / max(count, 1),
                "valid_loss": valid_loss,
                "valid_auprc": score,
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": round(seconds, 3),
            }
        )
        state["epoch"] = epoch
        log.info(
            "epoch %d: train loss %.4f, valid loss %.4f, valid auPRC %.4f%s (%.1f s)",
            epoch,
            total / max(count, 1),
            valid_loss,
            score,
            " *" if improved else "",
            seconds,
        )
        save_torch(
            {
                "format": CHECKPOINT_FORMAT,
                "fingerprint": fingerprint,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "state": _plain(state),
            },
            checkpoint,
        )
    if state["best_state"] is None:
        state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    store.close()
    save_torch(
        {
            "format": MODEL_FORMAT,
            "model": model_name,
            "family": "torch",
            "params": _plain(dict(params)),
            "tasks": store.tasks,
            "window": store.window,
            "alphabet": "ACGT",
            "double_stranded": double_stranded,
            "rc_average": rc_avg,
            "train": _plain(dict(train_cfg)),
            "seed": seed,
            "balance": strategy,
            "best_epoch": state["best_epoch"],
            "best_valid_auprc": state["best_score"],
            "versions": versions(),
            "state_dict": state["best_state"],
        },
        out_model,
    )
    _write_history(state["history"], out_history)
    stats = {
        "model": model_name,
        "parameters": n_params,
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "gpu_slot": slot.device if slot else None,
        "precision": str(amp) if amp else "fp32",
        "threads": threads,
        "epochs_run": state["epoch"],
        "best_epoch": state["best_epoch"],
        "best_valid_auprc": state["best_score"],
        "epoch_seconds": epoch_times,
        "samples_per_s": round(samples_seen / train_seconds, 1) if train_seconds else None,
        "peak_gpu_memory_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
        if device.type == "cuda"
        else None,
        "train_rows": len(index),
        "resumed": len(epoch_times) < state["epoch"],
    }
    write_json_atomic(out_stats, stats)
    Path(checkpoint).unlink(missing_ok=True)
    if slot:
        slot.release()
    return stats


def _write_history(history: list[dict[str, Any]], path: str) -> None:
    buf = io.StringIO()
    fields = ["epoch", "train_loss", "valid_loss", "valid_auprc", "lr", "seconds"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: row[k] for k in fields})
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
        if strategy == "focal":
            log.info("focal loss has no classical counterpart: %s trains unweighted", model_name)
        log.info("model %s: %d rows x %d k-mer features; balance %s", model_name, *x.shape, strategy)
        model.fit(x, y, pos_weight)
        tasks, window = store.tasks, store.window
    meta = {
        "format": MODEL_FORMAT,
        "model": model_name,
        "family": "sklearn",
        "params": dict(params),
        "tasks": tasks,
        "window": window,
        "double_stranded": double_stranded,
        "seed": seed,
        "balance": strategy,
        "versions": versions(),
    }
    with atomic_output(out_model) as tmp:
        joblib.dump({"meta": meta, "model": model}, tmp)
    stats = {
        "model": model_name,
        "device": "cpu",
        "train_rows": len(rows),
        "features": int(x.shape[1]),
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
