"""The benchmark stage: per-run metrics gathered into results/benchmark.tsv."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from genomicdl.files import write_text_atomic

BENCHMARK_COLUMNS = ("dataset", "model", "balance", "seed", "task", "auroc", "auprc")


def collect(metric_files: Sequence[str | Path]) -> pd.DataFrame:
    """Concatenate metrics.tsv files, one row per dataset x model x balance x seed x task."""
    frames = [pd.read_csv(f, sep="\t") for f in metric_files]
    table = pd.concat(frames, ignore_index=True)
    missing = [c for c in BENCHMARK_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"metrics files lack columns {missing}")
    return table.sort_values(list(BENCHMARK_COLUMNS[:5]), kind="stable").reset_index(drop=True)


def write_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write a TSV atomically."""
    buf = io.StringIO()
    table.to_csv(buf, sep="\t", index=False, float_format="%.6g")
    write_text_atomic(path, buf.getvalue())
