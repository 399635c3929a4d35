"""Saving and loading training state: model files, resumable checkpoints, history.

Files are written atomically. A checkpoint keeps its previous generation
(``checkpoint.pt.prev``); an unreadable checkpoint is reported (file, reason), set aside
as ``*.bad`` and training resumes from the previous generation or starts afresh.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

import genomicdl
from genomicdl.core.files import atomic_output, disk_full, disk_full_error, write_text_atomic

log = logging.getLogger(__name__)

MODEL_FORMAT = "genomicdl-model/2"
CHECKPOINT_FORMAT = "genomicdl-checkpoint/3"
HISTORY_FIELDS = ("epoch", "train_loss", "valid_loss", "valid_score", "lr", "seconds")


def config_fingerprint(obj: Any) -> str:
    """Stable hash of a JSON-able object (to refuse resuming a different run)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plain(obj: Any) -> Any:
    """Numpy scalars/arrays -> Python types, so that torch.load(weights_only=True) works."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def save_torch(obj: dict[str, Any], path: str | Path) -> None:
    """torch.save atomically through a Python file, so that a full disk is a real ENOSPC
    (torch's own writer only says "unexpected pos") and becomes one DiskFullError line;
    nothing half-written is left either way."""
    try:
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            torch.save(obj, fh)
    except (OSError, RuntimeError) as err:
        if disk_full(err):
            raise disk_full_error(path, "rerun: training resumes from the last checkpoint") from None
        raise OSError(f"{path}: could not write ({err})") from err


def load_torch(path: str | Path) -> dict[str, Any]:
    """torch.load with weights_only=True (no arbitrary code from a file)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def save_checkpoint(obj: dict[str, Any], path: str | Path) -> None:
    """Write a checkpoint, keeping the previous generation as ``<path>.prev``."""
    path = Path(path)
    if path.exists():
        os.replace(path, path.with_name(path.name + ".prev"))
    save_torch(obj, path)


def load_checkpoint(path: str | Path, fmt: str, fingerprint: str) -> dict[str, Any] | None:
    """The newest readable checkpoint of this run (current, else previous generation).

    Unreadable files are logged with the reason and renamed ``*.bad``; checkpoints of
    another configuration are ignored.
    """
    path = Path(path)
    for candidate in (path, path.with_name(path.name + ".prev")):
        if not candidate.exists():
            continue
        try:
            saved = load_torch(candidate)
        except Exception as err:  # truncated or corrupt: any reader error
            bad = candidate.with_name(candidate.name + ".bad")
            os.replace(candidate, bad)
            log.warning("checkpoint %s is unreadable (%s): set aside as %s", candidate, err, bad.name)
            continue
        if saved.get("format") == fmt and saved.get("fingerprint") == fingerprint:
            return saved
        log.info("ignoring %s: it belongs to another configuration", candidate)
    return None


def remove_checkpoints(path: str | Path) -> None:
    path = Path(path)
    for p in (path, path.with_name(path.name + ".prev")):
        p.unlink(missing_ok=True)


def versions() -> dict[str, str]:
    import sklearn

    return {
        "genomicdl": genomicdl.__version__,
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def write_history(history: list[dict[str, Any]], path: str | Path) -> None:
    """history.csv: one row per epoch."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: row[k] for k in HISTORY_FIELDS})
    write_text_atomic(path, buf.getvalue())
