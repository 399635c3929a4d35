"""End to end, every target kind: the real snakemake on .test/config/config.yaml (one
tiny real dataset per kind), and bad inputs of the new kinds failing before training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake

pytestmark = pytest.mark.e2e

EXPECTED = {  # dataset -> (kind, primary metric)
    "srf": ("binary", "auroc"),
    "localization": ("multiclass", "accuracy"),
    "locations": ("multilabel", "micro_f1"),
    "structure": ("per_position", "q_accuracy"),
    "utr": ("regression", "pearson"),
}


def kinds_config(tmp_path: Path, **override: object) -> Path:
    """.test/config/config.yaml with its repository-relative paths made absolute."""
    cfg = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    for ds in cfg["datasets"].values():
        table = ds["table"]
        for part in [table, *(table[s] for s in ("train", "valid", "test") if s in table)]:
            if "url" in part:
                part["url"] = str(REPO / part["url"])
    cfg.update(override)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def kinds_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("kinds")
    result = snakemake(["--cores", "2", "--configfile", str(kinds_config(work))], cwd=work, timeout=2400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return work


def test_every_kind_trains_a_network_and_a_baseline(kinds_run: Path) -> None:
    table = pd.read_csv(kinds_run / "results" / "benchmark.tsv", sep="\t")
    assert {"dataset", "model", "balance", "seed", "task", "auroc", "auprc", "kind", "metric", "score",
            "score_lo", "score_hi"} <= set(table.columns)  # fmt: skip
    for dataset, (kind, metric) in EXPECTED.items():
        rows = table[table["dataset"] == dataset]
        assert set(rows["kind"]) == {kind} and set(rows["metric"]) == {metric}, dataset
        families = {"network" if m in ("deepbind", "cnn_birnn") else "baseline" for m in rows["model"]}
        assert families == {"network", "baseline"}, dataset
        finite = rows.dropna(subset=["score"])
        assert len(finite) and ((finite["score_lo"] <= finite["score"]) & (finite["score"] <= finite["score_hi"])).all()
        if kind != "binary":
            assert rows["auroc"].isna().all()  # no auROC for this kind: empty, not a number
    # regression has no class balance: one strategy only; baselines never repeat under focal
    assert set(table.loc[table["dataset"] == "utr", "balance"]) == {"none"}
    metrics = pd.read_csv(kinds_run / "results" / "metrics.tsv", sep="\t")
    assert {"dataset", "model", "balance", "seed", "task", "metric", "value", "lo", "hi"} <= set(metrics.columns)
    assert {"macro_f1", "mcc"} <= set(metrics.loc[metrics["dataset"] == "localization", "metric"])
    assert {"spearman", "r2"} <= set(metrics.loc[metrics["dataset"] == "utr", "metric"])


def test_protein_lengths_are_kept(kinds_run: Path) -> None:
    import json

    summary = json.loads((kinds_run / "data" / "structure" / "summary.json").read_text())
    assert summary["alphabet"] == "protein" and summary["variable_length"] is True
    predictions = pd.read_csv(kinds_run / "results/structure/cnn_birnn/none/1/predictions.tsv.gz", sep="\t")
    assert (predictions["predicted"].str.len() == predictions["length"]).all()  # one class per residue, no padding


@pytest.mark.parametrize(
    ("dataset", "text", "message"),
    [
        ("localization", ">P1 Nucleus-S test\nMKV1L\n", "line 1: record 'P1': letter '1' at position 4"),
        (
            "structure",
            "id,len,input,expected\n1,5,MKVLA,CCH\n",
            "line 2: record '1': per-position labels have length 3",
        ),
        (
            "utr",
            "sequence\tjurkat\tbeas2b\nACGTACGT\t0.5\thigh\n",
            "line 2: record '1': value 'beas2b' must be a number",
        ),
    ],
)
def test_bad_inputs_of_the_kinds_fail_before_training(tmp_path: Path, dataset: str, text: str, message: str) -> None:
    bad = tmp_path / {"localization": "bad.fasta", "structure": "bad.csv", "utr": "bad.tsv"}[dataset]
    bad.write_text(text)
    cfg = yaml.safe_load(kinds_config(tmp_path).read_text())
    ds = cfg["datasets"][dataset]
    ds["table"]["url"] = str(bad)
    cfg["datasets"] = {dataset: ds}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    result = snakemake(["--cores", "1", "--configfile", str(tmp_path / "config.yaml")], cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "data" / dataset / "dataset.h5").exists()
    assert not (tmp_path / "models").exists()  # nothing trained
