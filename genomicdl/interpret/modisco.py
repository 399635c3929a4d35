"""TF-MoDISco (modisco-lite) motifs from hypothetical contribution scores.

modisco-lite calls seqlets on the contribution of the observed bases, clusters them by
their hypothetical contributions, and returns patterns: a PPM, a contribution weight
matrix (CWM) and the seqlets that support it. Each pattern becomes a
:class:`genomicdl.interpret.motifs.Motif` trimmed, as modisco's reports trim it, to the columns
whose contribution reaches a fraction of the pattern's peak, so it can be compared with
JASPAR like every other motif; its seqlets are listed with the sequence they came from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from genomicdl.interpret.attributions import one_hot
from genomicdl.interpret.motifs import Motif, ppm_from_counts, trim_span

log = logging.getLogger(__name__)

SEQLET_COLUMNS = ["motif", "task", "sequence", "start", "end", "strand"]


@dataclass
class Patterns:
    """The motifs modisco-lite found for one task and their seqlets (one row each;
    ``sequence`` indexes the explained sequences given to :func:`run_modisco`)."""

    motifs: list[Motif]
    seqlets: pd.DataFrame


def run_modisco(hypothetical: np.ndarray, codes: np.ndarray, task: str, settings: Mapping[str, Any]) -> Patterns:
    """modisco-lite on (n, 4, L) hypothetical contributions of integer-coded sequences.

    Positive patterns (bases that raise the task's logit) come first; negative ones
    are kept too, named ``neg``. Fewer seqlets than ``min_metacluster_size`` give no
    pattern (logged), not an error.
    """
    from modiscolite.tfmodisco import TFMoDISco

    x = one_hot(codes).numpy().transpose(0, 2, 1).astype(np.float32)  # (n, L, 4)
    hyp = np.ascontiguousarray(hypothetical.transpose(0, 2, 1), dtype=np.float32)
    length = x.shape[1]
    window = min(int(settings["window"]), length - 2 * int(settings["flank"]) - 1)
    if window < 5:
        raise ValueError(f"interpret.modisco: sequences of {length} bp are too short for seqlets")
    pos, neg = TFMoDISco(
        one_hot=x,
        hypothetical_contribs=hyp,
        sliding_window_size=window,
        flank_size=int(settings["flank"]),
        max_seqlets_per_metacluster=int(settings["max_seqlets"]),
        min_metacluster_size=int(settings["min_metacluster_size"]),
        final_min_cluster_size=int(settings["min_seqlets"]),
        n_leiden_runs=int(settings["leiden_runs"]),
        trim_to_window_size=min(int(settings["trim_to_window"]), length),
        initial_flank_to_add=int(settings["flank"]),
    )
    motifs: list[Motif] = []
    rows: list[dict[str, Any]] = []
    for sign, patterns in (("pos", pos), ("neg", neg)):
        for k, pattern in enumerate(patterns or []):
            name = f"modisco_{task}_{sign}_{k}"
            cwm = np.asarray(pattern.contrib_scores, dtype=np.float64)
            score = np.abs(cwm).sum(axis=1)
            span = trim_span(score, float(settings["trim"]) * score.max()) if score.max() > 0 else None
            if span is None:
                continue
            seqlets = pattern.seqlets
            counts = np.asarray(pattern.sequence, dtype=np.float64)[span] * len(seqlets)
            motifs.append(Motif(name, "modisco", task, ppm_from_counts(counts), len(seqlets), cwm[span]))
            rows += [
                {
                    "motif": name,
                    "task": task,
                    "sequence": int(s.example_idx),
                    "start": int(s.start),
                    "end": int(s.end),
                    "strand": "-" if s.is_revcomp else "+",
                }
                for s in seqlets
            ]
    log.info("%s: modisco-lite found %d patterns (%d seqlets)", task, len(motifs), len(rows))
    return Patterns(motifs, pd.DataFrame(rows, columns=SEQLET_COLUMNS))
