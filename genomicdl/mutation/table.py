"""One table per alignment dataset: Spearman rho per scan and model (each seed, and the
seeds' mean where a model has several), with a bootstrap CI over mutants, plus the
ensemble of models as its own row.

Ensemble: within each scan, every run's effects are standardised (z-scores over the
scan's mutants); a model's score is the mean over its seeds, standardised again; the
ensemble is the mean over the member models (each model counts once, whatever its number
of seeds). Which models are members is fixed by the config (``mutation_ensemble``), never
by the scans' values.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from genomicdl.core.files import atomic_output, write_text_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.mutation.train import spearman_ci

COLUMNS = ["dataset", "balance", "scan", "model", "seed", "n", "spearman", "lo", "hi"]
ENSEMBLE_ROW = "ensemble"


def read_effects(path: str | Path) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    """scan -> (mutants, fitness, effect) of one run's predictions.tsv.gz."""
    rows: dict[str, tuple[list[str], list[float], list[float]]] = {}
    with gzip.open(path, "rt") as fh:
        for record in csv.DictReader(fh, delimiter="\t"):
            mutants, fitness, effect = rows.setdefault(record["scan"], ([], [], []))
            mutants.append(record["mutant"])
            fitness.append(float(record["fitness"]))
            effect.append(float(record["effect"]))
    return {s: (m, np.asarray(f), np.asarray(e)) for s, (m, f, e) in rows.items()}


def standardise(values: np.ndarray) -> np.ndarray:
    sd = values.std()
    return (values - values.mean()) / (sd if sd > 0 else 1.0)


def scan_table(
    runs: Mapping[tuple[str, str], str | Path],
    *,
    dataset: str,
    balance: str,
    members: Sequence[str],
    bootstrap: int,
) -> list[dict[str, object]]:
    """Rows of COLUMNS for runs keyed by (model, seed) -> predictions.tsv.gz."""
    effects = {key: read_effects(path) for key, path in runs.items()}
    first = next(iter(effects.values()))
    models = list(dict.fromkeys(model for model, _ in runs))
    missing = [m for m in members if m not in models]
    if missing:
        raise ValueError(f"mutation_ensemble names {', '.join(missing)}, which have no runs "
                         f"(runs: {', '.join(models)})")
    rows: list[dict[str, object]] = []
    def row(scan: str, fitness: np.ndarray, model: str, seed: str, score: np.ndarray) -> dict[str, object]:
        rho, lo, hi = spearman_ci(fitness, score, bootstrap=bootstrap, seed=stable_seed("table", scan) % 2**32)
        return {"dataset": dataset, "balance": balance, "scan": scan, "model": model, "seed": seed,
                "n": len(fitness), "spearman": rho, "lo": lo, "hi": hi}

    for scan, (mutants, fitness, _) in first.items():
        per_model: dict[str, np.ndarray] = {}
        for model in models:
            seeds = [seed for m, seed in runs if m == model]
            for seed in seeds:
                their_mutants, _, effect = effects[(model, seed)][scan]
                if their_mutants != mutants:
                    raise ValueError(f"{runs[(model, seed)]}: scan {scan} has other mutants than "
                                     f"{runs[next(iter(runs))]}")
                rows.append(row(scan, fitness, model, seed, effect))
            mean = np.mean([standardise(effects[(model, s)][scan][2]) for s in seeds], axis=0)
            per_model[model] = standardise(mean)
            if len(seeds) > 1:
                rows.append(row(scan, fitness, model, "mean of seeds", per_model[model]))
        if members:
            score = np.mean([per_model[m] for m in members], axis=0)
            rows.append(row(scan, fitness, ENSEMBLE_ROW, "+".join(members), score))
    return rows


def write_scan_table(rows: list[dict[str, object]], tsv: str | Path, markdown: str | Path) -> None:
    """The table as TSV and as Markdown (rho [95% CI] per scan and model), atomically."""
    with atomic_output(tsv) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS, delimiter="\t")
        writer.writeheader()
        writer.writerows({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in r.items()} for r in rows)
    lines = ["| scan | model | seed | n | Spearman ρ (95% CI) |", "|---|---|---|---|---|"]
    lines += [f"| {r['scan']} | {r['model']} | {r['seed']} | {r['n']} | {r['spearman']:.3f} "
              f"({r['lo']:.3f}–{r['hi']:.3f}) |" for r in rows]
    write_text_atomic(markdown, "\n".join(lines) + "\n")
