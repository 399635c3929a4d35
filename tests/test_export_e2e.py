"""End to end: the real snakemake trains a source network, fine-tunes another dataset's
network from it behind the leakage guard (with planted duplicates in its test file), and
exports both with their model cards; and a bad init_from fails before any job."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DATA, snakemake

pytestmark = pytest.mark.e2e

PLANTED = 10


def read_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt") as fh:
        return fh.read().splitlines()


def inputs(workdir: Path) -> None:
    """The SRF slices; the fine-tuned dataset trains on two thirds of the B slice and is
    tested on the rest plus ten verbatim copies of source (AC) training-file lines."""
    d = workdir / "inputs"
    d.mkdir(parents=True)
    shutil.copy(DATA / "SRF_AC.head300.seq.gz", d / "src.seq.gz")
    src = read_lines(DATA / "SRF_AC.head300.seq.gz")
    b = read_lines(DATA / "SRF_B.slice300.seq.gz")
    header, body = b[0], b[1:]
    planted = [
        "\t".join([f[0], "planted_" + f[1], *f[2:]]) for f in (line.split("\t") for line in src[1 : 1 + PLANTED])
    ]
    with gzip.open(d / "ft_train.seq.gz", "wt") as fh:
        fh.write("\n".join([header] + [r for i, r in enumerate(body) if i % 3]) + "\n")
    with gzip.open(d / "ft_test.seq.gz", "wt") as fh:
        fh.write("\n".join([header] + [r for i, r in enumerate(body) if i % 3 == 0] + planted) + "\n")
    shutil.copy(DATA / "SRF_B.slice300.seq.gz", d / "src_test.seq.gz")


def table(train: str, test: str) -> dict:
    return {
        "train": {"url": train},
        "test": {"url": test},
        "sequence_column": "seq",
        "label_columns": ["Bound"],
        "id_column": "EventID",
    }


def config(workdir: Path, **init: object) -> Path:
    cfg = {
        "datasets": {
            "src": {
                "table": table("inputs/src.seq.gz", "inputs/src_test.seq.gz"),
                "negatives": {"strategy": "shuffle", "per_positive": 1},
                "split": {"valid": 0.2},
                "published": [{"metric": "auroc", "value": 0.9, "source": "a paper", "model": "DeepBind"}],
            },
            "ft": {
                "table": table("inputs/ft_train.seq.gz", "inputs/ft_test.seq.gz"),
                "negatives": {"strategy": "shuffle", "per_positive": 1},
                "split": {"valid": 0.2},
                "init_from": {"dataset": "src", "leakage": "drop", "freeze": ["conv"]} | init,
            },
        },
        "models": ["deepbind", "kmer_logreg"],
        "balance": ["none"],
        "seeds": [1],
        "train": {"max_epochs": 2, "patience": 2},
        "evaluate": {"bootstrap": 20},
        "export": {"enabled": True, "datasets": ["src"]},
    }
    path = workdir / "ft.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    workdir = tmp_path_factory.mktemp("export_e2e")
    inputs(workdir)
    cfg = config(workdir)
    targets = [
        "export/src/deepbind/none/1",
        "export/src/kmer_logreg/none/1",
        "export/ft/deepbind/none/1",
        "results/ft/kmer_logreg/none/1/predictions.tsv.gz",
    ]
    return workdir, snakemake([*targets, "--cores", "1", "--configfile", str(cfg)], cwd=workdir)


def test_export_writes_onnx_torchscript_and_a_model_card(run: tuple[Path, object]) -> None:
    workdir, result = run
    assert result.returncode == 0, result.stderr[-4000:]
    out = workdir / "export/src/deepbind/none/1"
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {
        "model.onnx",
        "model.ts",
        "export.json",
        "model_card.json",
        "model_card.md",
    }
    card = json.loads((out / "model_card.json").read_text())
    sources = {s["role"]: s for s in card["dataset"]["sources"]}
    local = workdir / "resources/src" / sources["table.train"]["file"]
    assert sources["table.train"]["sha256"] == hashlib.sha256(local.read_bytes()).hexdigest()
    assert card["dataset"]["alphabet"] == "dna" and card["dataset"]["window"] == 101
    assert card["target"]["kind"] == "binary" and card["target"]["tasks"] == ["Bound"]
    assert card["training"]["seed"] == "1" and card["training"]["config"]["max_epochs"] == 2
    assert card["split"]["splits"]["test"]["windows"] == 300 and card["split"]["leakage_policy"] == "fail"
    for split in ("validation", "test"):
        auroc = next(r for r in card["metrics"][split] if r["metric"] == "auroc")
        assert auroc["lo"] <= auroc["value"] <= auroc["hi"], (split, auroc)
    assert card["published"][0]["model"] == "DeepBind"
    assert card["export"]["validation"]["max_abs_diff_onnxruntime"] <= card["export"]["validation"]["tolerance"]
    assert "onnxruntime" in card["versions"]["exported_with"]
    assert card["command"].startswith("snakemake export/src/deepbind/none/1 --cores 1 --configfile ")
    md = (out / "model_card.md").read_text()
    assert "ONNX opset 18" in md and "| Bound | auroc |" in md and sources["table.train"]["sha256"] in md
    baseline = workdir / "export/src/kmer_logreg/none/1"
    assert {p.name for p in baseline.iterdir() if not p.name.startswith(".")} == {
        "model.npz",
        "model_card.json",
        "model_card.md",
    }
    assert json.loads((baseline / "model_card.json").read_text())["export"] is None


def test_the_guard_drops_the_planted_duplicates_of_the_fine_tuned_run(run: tuple[Path, object]) -> None:
    workdir, result = run
    assert result.returncode == 0, result.stderr[-4000:]
    from genomicdl.io.store import Store
    from genomicdl.training.rebalance import load_index

    with Store(workdir / "data/src/dataset.h5") as st:  # planted copies the source actually trained on
        trained = set(st.ids(np.unique(load_index(workdir / "data/src/rebalance/none/1/index.npz")[0])))
    src_lines = read_lines(DATA / "SRF_AC.head300.seq.gz")[1 : 1 + PLANTED]
    expected = sum(line.split("\t")[1] in trained for line in src_lines)
    assert 0 < expected <= PLANTED
    stats = json.loads((workdir / "models/ft/deepbind/none/1/train_stats.json").read_text())
    guard = stats["init_from"]["guard"]
    assert guard["identical"] == expected and guard["dropped"] == guard["leaked"] >= expected
    assert stats["init_from"]["frozen"] > 0 and stats["init_from"]["copied"] > 0
    predictions = pd.read_csv(workdir / "results/ft/deepbind/none/1/predictions.tsv.gz", sep="\t")
    test = predictions[predictions["split"] == "test"]
    assert test["id"].str.startswith("planted_").sum() == PLANTED - guard["leaked"]
    baseline = pd.read_csv(workdir / "results/ft/kmer_logreg/none/1/predictions.tsv.gz", sep="\t")
    assert (baseline["split"] == "test").sum() == len(test) + guard["leaked"]  # other models keep the whole test
    card = json.loads((workdir / "export/ft/deepbind/none/1/model_card.json").read_text())
    assert card["model"]["init_from"]["guard"]["dropped"] == guard["dropped"]


def test_an_init_from_of_an_unknown_dataset_fails_before_any_job(tmp_path: Path) -> None:
    inputs(tmp_path)
    cfg = config(tmp_path, dataset="nowhere")
    result = snakemake(["-n", "--cores", "1", "--configfile", str(cfg)], cwd=tmp_path)
    assert result.returncode != 0
    assert "datasets.ft.init_from.dataset: 'nowhere' is not a dataset of the config" in result.stdout + result.stderr
