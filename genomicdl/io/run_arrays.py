"""A run's labels and predictions on validation and test (arrays.npz), with what they mean
(kind, tasks, classes): what the benchmark reads for paired bootstraps and ensembles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genomicdl.core.errors import InputError
from genomicdl.core.files import atomic_output

ARRAYS = ("y_valid", "p_valid", "y_test", "p_test")


@dataclass(frozen=True)
class RunArrays:
    """Kind-shaped labels (y) and predictions (p) of the validation and test splits."""

    kind: str
    tasks: list[str]
    classes: list[str] | None
    y_valid: np.ndarray
    p_valid: np.ndarray
    y_test: np.ndarray
    p_test: np.ndarray


def save_arrays(
    path: str | Path,
    *,
    kind: str,
    tasks: list[str],
    classes: list[str] | None,
    y_valid: np.ndarray,
    p_valid: np.ndarray,
    y_test: np.ndarray,
    p_test: np.ndarray,
) -> None:
    """Write arrays.npz atomically (compressed; predictions as float32)."""
    meta = json.dumps({"kind": kind, "tasks": list(tasks), "classes": list(classes) if classes else None})
    arrays = {
        "y_valid": np.asarray(y_valid),
        "y_test": np.asarray(y_test),
        "p_valid": np.asarray(p_valid, dtype=np.float32),
        "p_test": np.asarray(p_test, dtype=np.float32),
    }
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, meta=np.array(meta), **arrays)


def load_arrays(path: str | Path) -> RunArrays:
    """Read arrays.npz; a file without the four arrays or the meta is an InputError."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name] for name in ARRAYS}
    except (KeyError, ValueError, OSError) as err:
        raise InputError(path, f"not a run's arrays.npz ({err})") from err
    return RunArrays(meta["kind"], list(meta["tasks"]), meta.get("classes"), **arrays)


def ensemble(runs: list[RunArrays]) -> RunArrays:
    """The mean of several seeds' predictions (their labels must be the same rows)."""
    first = runs[0]
    for other in runs[1:]:
        if other.kind != first.kind or other.tasks != first.tasks:
            raise ValueError("an ensemble needs runs of one kind and one task list")
        for name in ("y_valid", "y_test"):
            a, b = getattr(first, name), getattr(other, name)
            if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                raise ValueError(f"an ensemble needs the same {name} in every run")

    def mean(name: str) -> np.ndarray:
        return np.mean([getattr(r, name) for r in runs], axis=0, dtype=np.float64)

    return RunArrays(
        first.kind, first.tasks, first.classes, first.y_valid, mean("p_valid"), first.y_test, mean("p_test")
    )


def read_predictions(path: str | Path) -> pd.DataFrame:
    """A predictions.tsv.gz table."""
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
