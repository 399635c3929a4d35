"""The scan table: rho per scan and model, and the ensemble of standardised effects."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from genomicdl.mutation.table import scan_table, standardise, write_scan_table


def predictions(path: Path, rows: list[tuple[str, str, float, float]]) -> Path:
    with gzip.open(path, "wt") as fh:
        fh.write("scan\tmutant\tfitness\teffect\n")
        fh.writelines(f"{s}\t{m}\t{f}\t{e}\n" for s, m, f, e in rows)
    return path


def test_ensemble_row_is_the_mean_of_standardised_models(tmp_path):
    rng = np.random.default_rng(0)
    fitness = rng.normal(size=30)
    mutants = [f"A{i}C" for i in range(30)]
    effects = {("a", "1"): fitness + rng.normal(size=30), ("b", "1"): 100 * fitness + rng.normal(size=30) * 300,
               ("b", "2"): 50 * fitness + rng.normal(size=30) * 100}
    runs = {key: predictions(tmp_path / f"{key[0]}{key[1]}.tsv.gz",
                             [("s", m, f, e) for m, f, e in zip(mutants, fitness, eff, strict=True)])
            for key, eff in effects.items()}
    rows = scan_table(runs, dataset="d", balance="none", members=["a", "b"], bootstrap=50)
    assert [(r["model"], r["seed"]) for r in rows] == [("a", "1"), ("b", "1"), ("b", "2"), ("b", "mean of seeds"),
                                                       ("ensemble", "a+b")]
    b = standardise(np.mean([standardise(effects[("b", s)]) for s in ("1", "2")], axis=0))
    expected = spearmanr(fitness, (standardise(effects[("a", "1")]) + b) / 2)[0]
    assert rows[-1]["spearman"] == pytest.approx(expected, abs=1e-6)
    assert rows[-1]["lo"] < rows[-1]["spearman"] < rows[-1]["hi"]
    write_scan_table(rows, tmp_path / "t.tsv", tmp_path / "t.md")
    assert "| s | ensemble | a+b | 30 |" in (tmp_path / "t.md").read_text()
    with pytest.raises(ValueError, match="mutation_ensemble names c"):
        scan_table(runs, dataset="d", balance="none", members=["a", "c"], bootstrap=0)
    predictions(runs[("b", "2")], [("s", m, f, 0.0) for m, f in zip(mutants[::-1], fitness, strict=True)])
    with pytest.raises(ValueError, match="scan s has other mutants"):
        scan_table(runs, dataset="d", balance="none", members=["a"], bootstrap=0)
