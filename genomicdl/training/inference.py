"""Predictions of trained models, for every target kind: loading model files and
streaming rows of the store through them (on the GPU when there is one)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genomicdl.core.sequence_torch import DeviceEncoder, reversal_index
from genomicdl.io.store import Store, window_of
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.training.checkpoints import MODEL_FORMAT, load_torch
from genomicdl.training.losses import outputs_to_predictions

log = logging.getLogger(__name__)


def resolve_device(preference: str) -> torch.device:
    """cpu, cuda, or auto (cuda when available)."""
    if preference == "cpu":
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device is cuda but no CUDA device is available")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_computes_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX tiles). Without
    either, oneDNN emulates bf16 and autocast is slower than fp32 (measured 3-6x on an
    AVX2-only CPU, docs/proteins.md)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """Autocast dtype (None = full precision): on CUDA auto/bf16/fp16; on CPU bf16 only
    when asked for by name and the CPU computes it natively (auto stays fp32 there; an
    emulated bf16 is slower than fp32, so ``bf16`` falls back to fp32 with a warning)."""
    if device.type != "cuda":
        if precision != "bf16":
            return None
        if cpu_computes_bf16():
            return torch.bfloat16
        log.warning(
            "train.precision is bf16 but this CPU has no native bf16 (AVX512-BF16 or AMX): "
            "training in fp32, which is faster here than emulated bf16"
        )
        return None
    if precision == "fp32":
        return None
    if precision == "fp16":
        return torch.float16
    if precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def prediction_shape(target: Target, n: int, window: int) -> tuple[int, ...]:
    return target.k.prediction_shape(n, window, target.outputs)


def forward(
    model: torch.nn.Module, encoder: DeviceEncoder, x: torch.Tensor, lengths: torch.Tensor, *, rc: bool = False
) -> torch.Tensor:
    """Network outputs for codes ``x``; with ``rc``, of their reverse complement, with
    per-position outputs flipped back onto the forward strand."""
    if not rc:
        return model(encoder.one_hot(x), lengths)
    out = model(encoder.one_hot(encoder.reverse_complement(x, lengths)), lengths)
    if out.dim() == 3:  # (n, L, C): position i of the reverse strand is position len-1-i
        out = out.gather(1, reversal_index(lengths, out.shape[1]).unsqueeze(-1).expand_as(out))
    return out


def rc_label_columns(target: Target, device: torch.device) -> torch.Tensor | None:
    """Signal targets: label columns under reverse complement (genomicdl.kinds.signal_layout)."""
    from genomicdl.kinds.signal_layout import rc_columns

    cols = rc_columns(target.tasks) if target.k.labels == "values" else None
    return None if cols is None else torch.from_numpy(cols).to(device)


#: Rows per prediction batch when rows differ in length: sorted by length, batches of 64
#: compute 1.03-1.25x the real residues on the protein validation and test splits, against
#: 1.6-3.5x for batches of 512 (one or two batches a split).
VARIABLE_BATCH = 64


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    store: Store,
    rows: np.ndarray,
    encoder: DeviceEncoder,
    *,
    target: Target,
    rc_average: bool = False,
    batch_size: int = 512,
    amp: torch.dtype | None = None,
) -> np.ndarray:
    """Predictions for ``rows`` (any order; unique), in the kind's shape, averaged over
    strands if asked. Per-position predictions are zero on padding. Rows of different
    lengths are batched by length (``Store.batches(by_length=True)``, at most
    :data:`VARIABLE_BATCH` rows): a batch of 512 in store order is cropped to its longest
    row, 3-4x the residues on protein validation splits."""
    model.eval()
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(prediction_shape(target, len(rows), store.window), dtype=np.float32)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    flip = rc_label_columns(target, encoder.device)
    size = min(batch_size, VARIABLE_BATCH) if store.variable else batch_size
    for batch_rows, codes, *_ in store.batches(ordered, size, by_length=True):
        x = encoder.codes(codes)
        n = store.lengths[batch_rows].astype(np.int64)
        lengths = torch.from_numpy(n).to(encoder.device)
        with autocast(encoder.device, amp):
            p = outputs_to_predictions(forward(model, encoder, x, lengths).float(), target)
            if rc_average:
                q = outputs_to_predictions(forward(model, encoder, x, lengths, rc=True).float(), target)
                p = (p + (q if flip is None else q[:, flip])) / 2
        at = order[np.searchsorted(ordered, batch_rows)]
        p = p.cpu().numpy()
        if target.k.per_position:  # zero on each row's padding, whatever the batch's width
            p[np.arange(p.shape[1])[None, :] >= n[:, None]] = 0
            out[at, : p.shape[1]] = p
        else:
            out[at] = p
    return out


def load_network(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A trained network and its self-description, from model.pt."""
    saved = load_torch(path)
    if saved.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: not a {MODEL_FORMAT} file (trained by another version? retrain it)")
    model = build_network(
        saved["model"],
        target=Target.from_json(saved["target"]),
        window=window_of(saved, path),
        alphabet=saved["alphabet"],
        variable=saved["variable"],
        params=saved["params"],
    )
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model, saved


def predict_rows(model_path: str, family: str, store: Store, rows: np.ndarray, device: str = "auto") -> np.ndarray:
    """Predictions for ``rows`` from a saved model of either family (kind-shaped)."""
    if family == "torch":
        model, meta = load_network(model_path)
        dev = resolve_device("cpu" if device == "cpu" else "auto")
        model.to(dev)
        return predict(
            model,
            store,
            rows,
            DeviceEncoder(dev, store.alphabet),
            target=store.target,
            rc_average=bool(meta["rc_average"]),
        )
    from genomicdl.training.baselines import load_baseline, predict_baseline

    model, _ = load_baseline(model_path)
    return predict_baseline(model, store, rows)
