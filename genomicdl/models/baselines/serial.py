"""Fitted baselines on disk without pickle (a tampered pickle runs code on load).

A model file is one ``.npz``: the fitted numbers as plain arrays (coefficients, scaler,
tree nodes) and one JSON document (the ``__meta__`` entry: the format, the model's
registry name, its state description and the caller's meta). Reading uses
``np.load(allow_pickle=False)``: an object array or a pickle is refused before anything
in it is touched, and the estimators are rebuilt from the numbers alone.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from genomicdl.core.files import atomic_output
from genomicdl.models.catalog import CATALOG

FORMAT = "genomicdl-baseline/1"
META = "__meta__"


class UnsafeModelFileError(ValueError):
    """A model file that is not a plain-array baseline file (possibly tampered with)."""


def _registry_name(model: Any) -> str:
    path = f"{type(model).__module__}:{type(model).__name__}"
    for name, entry in CATALOG.items():
        if entry.target == path and entry.family == "sklearn":
            return name
    raise ValueError(f"{path} is not a registered baseline")


def save_baseline(model: Any, path: str | Path, meta: dict[str, Any] | None = None) -> None:
    """Write a fitted baseline and ``meta`` (JSON-able) to ``path`` (.npz), atomically."""
    state, arrays = model.to_state()
    document = {"format": FORMAT, "model": _registry_name(model), "state": state, "meta": meta or {}}
    payload = {key: np.ascontiguousarray(value) for key, value in arrays.items()}
    bad = [key for key, value in payload.items() if value.dtype.hasobject or key == META]
    if bad:
        raise ValueError(f"baseline arrays {', '.join(bad)} cannot be saved without pickle")
    payload[META] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **payload)


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise UnsafeModelFileError(f"{path}: not a baseline model file (.npz archive)")
            return {key: data[key] for key in data.files}
    except UnsafeModelFileError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise UnsafeModelFileError(f"{path}: refused: not a plain-array baseline model file ({err})") from err


def load_baseline(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(fitted baseline, meta) from a file written by :func:`save_baseline`."""
    path = Path(path)
    arrays = _read(path)
    if META not in arrays:
        raise UnsafeModelFileError(f"{path}: no {META} entry: not a baseline model file")
    try:
        document = json.loads(arrays.pop(META).tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UnsafeModelFileError(f"{path}: its {META} entry is not JSON ({err})") from err
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (trained by another version? retrain it)")
    name = document.get("model")
    if name not in CATALOG or CATALOG[name].family != "sklearn":
        raise ValueError(f"{path}: names {name!r}, which is not a registered baseline")
    module, cls = CATALOG[name].target.split(":")
    try:
        model = getattr(importlib.import_module(module), cls).from_state(document["state"], arrays)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ValueError(f"{path}: the {name} model in it is incomplete or inconsistent ({err!r})") from err
    return model, document["meta"]
