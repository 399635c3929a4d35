"""Data stage of mutation effects: prepared alignment + theta weights + summary, atomically."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import torch

from genomicdl.core.files import atomic_output, write_json_atomic
from genomicdl.io.alignment import prepare_alignment
from genomicdl.mutation.seqweights import effective_number, sequence_weights

log = logging.getLogger(__name__)


def prepare_dataset(
    path: str | Path, *, out: str | Path, summary: str | Path, settings: Mapping[str, Any], threads: int = 1
) -> dict[str, Any]:
    """Filter and encode the alignment, add its sequence weights, write the summary JSON.

    ``settings``: the validated alignment section (AlignmentSpec.alignment; focus, theta,
    max_gap_fraction, min_coverage, every default filled from the schema)."""
    torch.set_num_threads(max(1, threads))
    start = time.time()
    with atomic_output(out) as tmp:
        counts = prepare_alignment(
            path, tmp, focus=settings["focus"], max_gap_fraction=float(settings["max_gap_fraction"]),
            min_coverage=float(settings["min_coverage"]),
        )
        theta = float(settings["theta"])
        with h5py.File(tmp, "a") as h5:
            dataset = h5["codes"]
            n = dataset.shape[0]
            weights = sequence_weights(lambda a, b: dataset[a:b], n, theta=theta)
            h5["weights"] = weights
            h5.attrs["theta"] = theta
    report = {
        **dataclasses.asdict(counts),
        "theta": theta,
        "neff": round(effective_number(weights), 2),
        "seconds": round(time.time() - start, 2),
    }
    log.info("alignment %s: %s sequences kept, N_eff %.1f", path, counts.sequences_kept, report["neff"])
    write_json_atomic(summary, report)
    return report
