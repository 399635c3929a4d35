"""The training engine for neural networks, every target kind.

AdamW, a learning-rate schedule (reduction on plateau, or cosine with warm-up), early
stopping on the kind's validation score, gradient clipping, reverse-complement
augmentation and strand-averaged prediction (alphabets with a complement), a checkpoint
every epoch (model, optimiser, scheduler, scaler, RNG) from which a rerun resumes to the
same result. Batches stream from the on-disk store, cropped to their longest row; on
CUDA a DataLoader shards them over worker processes into pinned memory, copies are
non-blocking and autocast runs in bf16/fp16.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from genomicdl.core.files import remove_stale_temporaries, write_json_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.core.sequence import get
from genomicdl.core.sequence_torch import DeviceEncoder, reversal_index
from genomicdl.io.store import Store
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.training import devices
from genomicdl.training.checkpoints import (
    CHECKPOINT_FORMAT,
    MODEL_FORMAT,
    config_fingerprint,
    load_checkpoint,
    plain,
    remove_checkpoints,
    save_checkpoint,
    save_torch,
    versions,
    write_history,
)
from genomicdl.training.inference import autocast, autocast_dtype, forward, predict, rc_label_columns, resolve_device
from genomicdl.training.loader import StoreStream, epoch_batches, worker_count
from genomicdl.training.losses import KindLoss
from genomicdl.training.rebalance import load_index
from genomicdl.training.scores import prediction_loss, signal_score, validation_score

log = logging.getLogger(__name__)

#: Called after each epoch with (epoch, validation score); may raise to stop the run.
EpochCallback = Callable[[int, float], None]


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

    ``cfg`` is the validated ``train`` config (the schema holds every default).
    ``weights`` are the balance strategy's per-output loss weights (ones for none).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        cfg: Mapping[str, Any],
        device: torch.device,
        *,
        target: Target,
        alphabet: str = "dna",
        strategy: str = "none",
        weights: np.ndarray | None = None,
        rc_augment: bool = False,
        steps_per_epoch: int = 1,
        param_groups: list[dict[str, Any]] | None = None,
    ) -> None:
        self.model, self.device, self.target = model, device, target
        self.encoder = DeviceEncoder(device, alphabet)
        self.amp = autocast_dtype(device, cfg["precision"])
        self.rc_augment = rc_augment and get(alphabet).has_complement
        self.rc_columns = rc_label_columns(target, device)  # signal labels: bins reversed, strands swapped
        self.grad_clip = float(cfg["grad_clip"])
        w = np.ones(target.outputs, np.float32) if weights is None else np.asarray(weights, np.float32)
        self.loss = KindLoss(target, strategy, torch.from_numpy(w).to(device), float(cfg["focal_gamma"]))
        self.params = [p for p in model.parameters() if p.requires_grad]
        groups = param_groups or self.params  # fine-tuning: head and trunk groups (genomicdl.training.finetune)
        self.optimizer = torch.optim.AdamW(groups, lr=cfg["learning_rate"], weight_decay=cfg["weight_decay"])
        self.schedule = cfg["lr_schedule"]
        warmup = round(float(cfg["warmup_epochs"]) * steps_per_epoch) if self.schedule != "plateau" else 0
        total = int(cfg["max_epochs"]) * steps_per_epoch
        self.step_scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda(self.schedule, warmup, total))
        self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="max", factor=0.5, patience=int(cfg["lr_patience"])
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)

    def _augment(self, x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reverse-complement a random half of the batch (and its per-position labels)."""
        flip = (torch.rand(len(x)) < 0.5).to(self.device, non_blocking=True)
        x = torch.where(flip[:, None], self.encoder.reverse_complement(x, lengths), x)
        if y.dim() == 2 and self.target.k.per_position:
            y = torch.where(flip[:, None], y.gather(1, reversal_index(lengths, y.shape[1])), y)
        elif self.rc_columns is not None:
            y = torch.where(flip[:, None], y[:, self.rc_columns], y)
        return x, y

    def step(self, codes: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """One optimiser step on a batch of codes; returns the (detached) batch loss."""
        x = self.encoder.codes(codes)
        y = y.to(self.device, non_blocking=True)
        lengths = lengths.to(self.device, non_blocking=True)
        if self.rc_augment:
            x, y = self._augment(x, y, lengths)
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.amp):
            out = forward(self.model, self.encoder, x, lengths)
        loss = self.loss(out.float(), y)
        self.scaler.scale(loss).backward()
        if self.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.schedule != "plateau":
            self.step_scheduler.step()
        return loss.detach()

    def train_epoch(self, batches: Iterable[tuple[torch.Tensor, ...]], total: int, desc: str) -> EpochStats:
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
            codes, y, lengths = batch
            loss_sum += self.step(codes, y, lengths).double() * len(codes)
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


# ------------------------------------------------------------------ one training run


@dataclass
class RunPaths:
    """Inputs and outputs of one training run."""

    store: str
    index: str
    model: str
    history: str
    stats: str
    checkpoint: str = ""

    def __post_init__(self) -> None:
        self.checkpoint = self.checkpoint or str(Path(self.model).with_name("checkpoint.pt"))


@dataclass
class RunState:
    """What survives a restart: epochs done, the best score and weights, the history."""

    epoch: int = 0
    best_score: float = -math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_state: dict[str, Any] | None = None


def train_network(
    *,
    store: str,
    index: str,
    model: str,
    params: Mapping[str, Any],
    train: Mapping[str, Any],
    seed: int,
    threads: int,
    double_stranded: bool,
    out_model: str,
    out_history: str,
    out_stats: str,
    checkpoint: str | None = None,
    on_epoch: EpochCallback | None = None,
    init_from: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one network; resumes from ``checkpoint`` (default: checkpoint.pt beside
    ``out_model``) when it exists and belongs to the same configuration. ``on_epoch``
    is called with (epoch, validation score) after each epoch (e.g. to prune a trial)."""
    torch.set_num_threads(max(1, threads))
    paths = RunPaths(store, index, out_model, out_history, out_stats, checkpoint or "")
    slot = devices.acquire() if train["device"] != "cpu" and devices.has_gpu() else None
    try:
        run = NetworkRun(
            paths, model, dict(params), train, seed=seed, threads=threads, double_stranded=double_stranded,
            on_epoch=on_epoch, init_from=init_from,
        )  # fmt: skip
        return run.execute(slot.device if slot else None)
    finally:
        if slot:
            slot.release()


class NetworkRun:
    """One network training run, phase by phase: setup, resume, epochs, finish."""

    def __init__(
        self,
        paths: RunPaths,
        model_name: str,
        params: dict[str, Any],
        cfg: Mapping[str, Any],
        *,
        seed: int,
        threads: int,
        double_stranded: bool,
        on_epoch: EpochCallback | None = None,
        init_from: Mapping[str, Any] | None = None,
    ) -> None:
        self.paths, self.model_name, self.params, self.cfg = paths, model_name, params, cfg
        self.init_from, self.init_report = dict(init_from) if init_from else None, None
        self.seed, self.threads, self.on_epoch = seed, threads, on_epoch
        self.device = resolve_device(cfg["device"])
        torch.use_deterministic_algorithms(self.device.type == "cpu", warn_only=True)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.set_float32_matmul_precision("high")
        for path in (paths.checkpoint, paths.model, paths.history, paths.stats):
            remove_stale_temporaries(path)
        self.index, self.weights, self.strategy = load_index(paths.index)
        with Store(paths.store) as st:
            self.target, self.alphabet, self.window = st.target, st.alphabet, st.window
            self.variable, self.lengths = st.variable, st.lengths
            self.labels, self.valid_rows = st.labels, st.rows("valid")
            self.n_rows = st.n
            signal = st.attr("signal")  # the labels cover the centred output of each window
            self.output_length = int(signal["output"]) if signal else None
            self.index, self.valid_rows = unmasked(st.mask, self.index, self.valid_rows)
        if len(self.valid_rows) == 0:
            raise ValueError(f"{paths.store}: the validation split is empty; early stopping needs it")
        if len(self.index) == 0:
            raise ValueError(f"{paths.index}: the training index is empty")
        stranded = double_stranded and get(self.alphabet).has_complement
        self.double_stranded = stranded
        self.rc_average = bool(cfg["rc_average"]) and stranded
        self.rc_augment = bool(cfg["rc_augment"]) and stranded
        self.state = RunState()

    def description(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "params": plain(self.params),
            "target": self.target.to_json(),
            "tasks": list(self.target.tasks),
            "window": self.window,
            "variable": self.variable,
            "alphabet": self.alphabet,
            "double_stranded": self.double_stranded,
            "output_length": self.output_length,
            "train": plain(dict(self.cfg)),
            "seed": self.seed,
            "balance": self.strategy,
            "versions": versions(),
            "init_from": self.init_report,
        }

    def fingerprint(self) -> str:
        return config_fingerprint(
            {
                "model": self.model_name,
                "params": self.params,
                "train": self.cfg,
                "seed": self.seed,
                "index": hashlib.sha256(self.index.tobytes()).hexdigest(),
                "weights": self.weights.tolist(),
                "store": self.n_rows,
                "init_from": self.init_from,
            }
        )

    def setup(self) -> None:
        batch_size = int(self.cfg["batch_size"])
        self.workers = worker_count(self.cfg["num_workers"], self.device, self.threads)
        self.steps = self.steps_per_epoch(batch_size)
        torch.manual_seed(self.seed)
        self.model = build_network(
            self.model_name,
            target=self.target,
            window=self.window,
            alphabet=self.alphabet,
            variable=self.variable,
            params=self.params,
        ).to(self.device)
        groups = None
        if self.init_from:  # start from another run's network, behind the leakage guard
            from genomicdl.training.finetune import prepare

            groups, self.init_report = prepare(
                self.model, self.init_from, model=self.model_name, store=self.paths.store, target=self.target,
                alphabet=self.alphabet, window=self.window, lr=float(self.cfg["learning_rate"]),
                variable=self.variable,
            )  # fmt: skip
        self.n_params = sum(p.numel() for p in self.model.parameters())
        self.trainer = Trainer(
            self.model,
            self.cfg,
            self.device,
            target=self.target,
            alphabet=self.alphabet,
            strategy=self.strategy,
            weights=self.weights,
            rc_augment=self.rc_augment,
            steps_per_epoch=self.steps,
            param_groups=groups,
        )
        self.stream = StoreStream(
            self.paths.store,
            self.index,
            self.labels,
            kind=self.target.kind,
            batch_size=batch_size,
            chunks_per_block=int(self.cfg["shuffle_chunks"]),
            lengths=self.lengths,
        )
        log.info(
            "model %s: %d parameters; %s target, %d outputs; device %s%s; %d threads, %d loader workers; "
            "balance %s; %d training rows",
            self.model_name, self.n_params, self.target.kind, self.target.outputs, self.device,
            f" ({self.trainer.amp})" if self.trainer.amp else "", self.threads, self.workers, self.strategy,
            len(self.index),
        )  # fmt: skip

    def steps_per_epoch(self, batch_size: int) -> int:
        """Optimiser steps per epoch (each loader worker may end on a partial batch)."""
        return math.ceil(len(self.index) / batch_size) + max(0, self.workers - 1)

    def train_pass(self, epoch: int) -> EpochStats:
        """Train on every batch of the index once."""
        self.stream.seed = stable_seed("epoch", self.seed, epoch)
        return self.trainer.train_epoch(
            epoch_batches(self.stream, self.device, self.workers), self.steps, f"epoch {epoch}"
        )

    def write_checkpoint(self, payload: dict[str, Any]) -> None:
        save_checkpoint(payload, self.paths.checkpoint)

    def resume(self) -> int:
        """Load the newest readable checkpoint of this run; returns the epoch resumed from."""
        saved = load_checkpoint(self.paths.checkpoint, CHECKPOINT_FORMAT, self.fingerprint())
        if saved is None:
            return 0
        self.trainer.load_state_dict(saved["trainer"])
        self.state = RunState(**saved["state"])
        log.info("resuming from %s after epoch %d", self.paths.checkpoint, self.state.epoch)
        return self.state.epoch

    def validate(self, store: Store) -> tuple[float, float]:
        """(score, loss) of the current weights on the validation split."""
        p = predict(
            self.model, store, self.valid_rows, self.trainer.encoder,
            target=self.target, rc_average=self.rc_average, amp=self.trainer.amp,
        )  # fmt: skip
        y = store.positions(self.valid_rows) if self.target.k.per_position else self.labels[self.valid_rows]
        if self.output_length is not None:  # a signal store: the masked primary metric
            return signal_score(self.target.tasks, y, p), prediction_loss(self.target, y, p)
        return validation_score(self.target, y, p), prediction_loss(self.target, y, p)

    def epoch(self, store: Store) -> EpochStats:
        """Train one epoch, validate, update the schedule, record and checkpoint."""
        s = self.state
        epoch = s.epoch + 1
        t0 = time.perf_counter()
        result = self.train_pass(epoch)
        score, valid_loss = self.validate(store)
        self.trainer.end_epoch(score)
        improved = not math.isnan(score) and score > s.best_score
        if improved:
            s.best_score, s.best_epoch, s.bad_epochs = score, epoch, 0
            s.best_state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        else:
            s.bad_epochs += 1
        seconds = time.perf_counter() - t0
        s.history.append(
            {"epoch": epoch, "train_loss": result.loss, "valid_loss": valid_loss, "valid_score": score,
             "lr": self.trainer.lr, "seconds": round(seconds, 3)}
        )  # fmt: skip
        s.epoch = epoch
        log.info(
            "epoch %d: train loss %.4f, valid loss %.4f, valid %s %.4f%s (%.1f s, %.0f samples/s)",
            epoch, result.loss, valid_loss, self.score_name, score, " *" if improved else "", seconds,
            result.samples / max(result.seconds, 1e-9),
        )  # fmt: skip
        self.write_checkpoint(
            {"format": CHECKPOINT_FORMAT, "fingerprint": self.fingerprint(), **self.description(),
             "trainer": self.trainer.state_dict(), "state": plain(vars(s))}
        )  # fmt: skip
        return result

    @property
    def score_name(self) -> str:
        from genomicdl.training.scores import VALIDATION_SCORE

        return VALIDATION_SCORE[self.target.kind]

    def execute(self, gpu_slot: str | None) -> dict[str, Any]:
        self.setup()
        resumed_from = self.resume()
        totals = EpochStats(0.0, 0, 0.0, 0.0)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        with Store(self.paths.store) as store:
            while self.state.epoch < self.cfg["max_epochs"] and self.state.bad_epochs < self.cfg["patience"]:
                result = self.epoch(store)
                totals.samples += result.samples
                totals.seconds += result.seconds
                totals.wait_seconds += result.wait_seconds
                if self.on_epoch is not None:
                    self.on_epoch(self.state.epoch, self.state.history[-1]["valid_score"])
        return self.finish(totals, resumed_from, gpu_slot)

    def finish(self, totals: EpochStats, resumed_from: int, gpu_slot: str | None) -> dict[str, Any]:
        """Write the best weights, the history and the run's statistics; drop the checkpoint."""
        s = self.state
        if s.best_state is None:
            s.best_state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        save_torch(
            {"format": MODEL_FORMAT, "family": "torch", **self.description(), "rc_average": self.rc_average,
             "best_epoch": s.best_epoch, "best_valid_score": s.best_score, "parameters": self.n_params,
             "state_dict": s.best_state},
            self.paths.model,
        )  # fmt: skip
        write_history(s.history, self.paths.history)
        stats = self.stats(totals, resumed_from, gpu_slot)
        write_json_atomic(self.paths.stats, stats)
        remove_checkpoints(self.paths.checkpoint)
        return stats

    def stats(self, totals: EpochStats, resumed_from: int, gpu_slot: str | None) -> dict[str, Any]:
        cuda = self.device.type == "cuda"
        s = self.state
        return {
            "model": self.model_name,
            "kind": self.target.kind,
            "parameters": self.n_params,
            "device": str(self.device),
            "gpu": torch.cuda.get_device_name(self.device) if cuda else None,
            "gpu_slot": gpu_slot,
            "precision": str(self.trainer.amp).removeprefix("torch.") if self.trainer.amp else "fp32",
            "threads": self.threads,
            "loader_workers": self.workers,
            "balance": self.strategy,
            "train_rows": len(self.index),
            "epochs_run": s.epoch,
            "best_epoch": s.best_epoch,
            "best_valid_score": s.best_score,
            "valid_score": self.score_name,
            "epoch_seconds": [row["seconds"] for row in s.history],
            "samples_per_s": round(totals.samples / totals.seconds, 1) if totals.seconds else None,
            "loader_wait_fraction": round(totals.wait_seconds / totals.seconds, 4) if totals.seconds else None,
            "peak_gpu_memory_mb": round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1) if cuda else None,
            "resumed_from_epoch": resumed_from or None,
            "init_from": _init_summary(self.init_report),
        }


def unmasked(mask: np.ndarray, index: np.ndarray, valid_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training index and validation rows without the masked windows of a signal store
    (genomicdl.datasets.signal_mask): they count in neither the loss nor early stopping."""
    if not mask.any():
        return index, valid_rows
    index, valid_rows = np.asarray(index), np.asarray(valid_rows)
    keep_index, keep_valid = mask[index] == 0, mask[valid_rows] == 0
    log.info(
        "mask: %d of %d training rows and %d of %d validation rows left out",
        int((~keep_index).sum()), len(index), int((~keep_valid).sum()), len(valid_rows),
    )  # fmt: skip
    return index[keep_index], valid_rows[keep_valid]


def _init_summary(report: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A fine-tuning report for train_stats.json: the guard's counts, not its row list."""
    from genomicdl.training.finetune import summary

    return summary(report)
