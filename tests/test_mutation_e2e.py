"""End to end: the real snakemake on a tiny alignment dataset (300 BLAT_ECOLX sequences).

"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DATA, snakemake

pytestmark = pytest.mark.e2e


def test_mutation_workflow(tmp_path: Path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("BLAT_ECOLX.head300.a2m.gz", "BLAT_ECOLX_Ranganathan2015.every20.csv.gz"):
        shutil.copy(DATA / name, inputs / name)
    cfg = {
        "datasets": {
            "blat": {
                "alignment": {"url": "inputs/BLAT_ECOLX.head300.a2m.gz"},
                "scans": {
                    "stiffler": {"url": "inputs/BLAT_ECOLX_Ranganathan2015.every20.csv.gz", "fitness_column": "2500"}
                },
            }
        },
        "models": ["site_independent", "pairwise", "vae"],
        "balance": ["class_weight"],
        "seeds": [1, 2],
        "model_params": {
            "pairwise": {"steps": 3},
            "vae": {"encoder": [16, 8], "latent": 4, "decoder": [8, 16], "dictionary": 4,
                    "steps": 6, "batch_size": 16, "samples": 2, "checkpoint_every": 3},
        },
        "train": {"device": "cpu"},
        "evaluate": {"bootstrap": 20},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    done = snakemake(["mutation", "--cores", "2", "--configfile", "c.yaml"], cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((tmp_path / "data/blat/alignment_summary.json").read_text())
    assert summary["sequences_read"] == 300 and summary["neff"] > 10
    rows = []
    for model, seed in [("site_independent", "1"), ("pairwise", "1"), ("vae", "1"), ("vae_ensemble", "ensemble")]:
        run = tmp_path / "results/blat" / model / "class_weight" / seed
        metrics = pd.read_csv(run / "metrics.tsv", sep="\t")
        rows.append(metrics[metrics.metric == "spearman"].iloc[0])
        arrays = np.load(run / "arrays.npz")
        assert arrays["y_test"].shape == arrays["p_test"].shape and len(arrays["y_test"]) > 100
    assert all(r.kind == "mutation_effect" and r.task == "stiffler" for r in rows)
    assert rows[0].value > 0.2  # site-independent on 300 sequences still ranks the scan
    again = snakemake(["mutation", "-n", "--cores", "2", "--configfile", "c.yaml"], cwd=tmp_path, timeout=300)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_several_scans_one_seed_through_summarize(tmp_path: Path):
    """Two scans of one alignment (the original Stiffler format and a ProteinGym-format
    slice read as distributed: mutant, DMS_score, mutated_sequence), one seed: every run
    scores both and summarize gives the task-mean rows their bootstrap interval."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    names = ("BLAT_ECOLX.head300.a2m.gz", "BLAT_ECOLX_Ranganathan2015.every20.csv.gz",
             "BLAT_ECOLX_Stiffler_2015.proteingym.every25.csv.gz")
    for name in names:
        shutil.copy(DATA / name, inputs / name)
    cfg = {
        "datasets": {
            "blat": {
                "alignment": {"url": f"inputs/{names[0]}"},
                "scans": {
                    "stiffler": {"url": f"inputs/{names[1]}", "fitness_column": "2500"},
                    "proteingym": {"url": f"inputs/{names[2]}"},
                },
            }
        },
        "models": ["site_independent", "pairwise", "ardca"],
        "mutation_ensemble": ["pairwise", "ardca"],
        "balance": ["class_weight"],
        "seeds": [1],
        "model_params": {"pairwise": {"steps": 3}, "ardca": {"chunk": 253, "max_iter": 1}},
        "train": {"device": "cpu"},
        "evaluate": {"bootstrap": 20},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    done = snakemake(["mutation", "results/summary.tsv", "--cores", "2", "--configfile", "c.yaml"], cwd=tmp_path,
                     timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    scans = json.loads((tmp_path / "results/blat/pairwise/class_weight/1/scan_summary.json").read_text())
    assert scans["proteingym"]["scored"] > 150 and scans["proteingym"]["bad"] == 0
    assert scans["stiffler"]["scored"] > 200
    summary = pd.read_csv(tmp_path / "results/summary.tsv", sep="\t")
    means = summary[summary.task == "(mean over tasks)"].set_index("model")
    assert set(means.index) == {"site_independent", "pairwise", "ardca"} and (means["tasks"] == 2).all()
    for model in means.index:
        row = means.loc[model]
        assert row.score_ci_lo < row.score_mean < row.score_ci_hi
    per_scan = summary[(summary.task == "proteingym") & (summary.model == "site_independent")]
    assert per_scan["score_mean"].iloc[0] > 0.2
    table = pd.read_csv(tmp_path / "results/blat/scan_table_class_weight.tsv", sep="\t")
    assert len(table) == 2 * 4 and set(table.scan) == {"stiffler", "proteingym"}
    ensemble = table[table.model == "ensemble"]
    assert list(ensemble.seed) == ["pairwise+ardca"] * 2
    assert ((ensemble.lo < ensemble.spearman) & (ensemble.spearman < ensemble.hi)).all()
    assert "| proteingym | ensemble |" in (tmp_path / "results/blat/scan_table_class_weight.md").read_text()
