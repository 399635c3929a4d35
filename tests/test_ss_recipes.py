"""bench/ss_recipes.py and bench/ss_learning_curve.py, run as scripts on small protein
stores: ``--also-test`` evaluates the selected weights on a second store's test split (the
same figure as the run's own test when the second store is a copy), and refuses a store of
other classes or one whose test split holds a training protein, before any training."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import write_protein_store

from genomicdl.training.rebalance import load_index, rebalance

REPO = Path(__file__).resolve().parents[1]
TINY = ["--model", "dilated", "--params", '{"pool": 1, "layers": 2, "channels": 8}']
TRAIN = ["--train", '{"max_epochs": 1, "patience": 1, "batch_size": 16}']
Q3 = ("C", "E", "H")


def protein_data(root: Path, seqs: list[np.ndarray], split: np.ndarray, classes: tuple[str, ...]) -> Path:
    """data/<name>/dataset.h5 (variable-length proteins, per-residue labels) and the
    workflow's training index beside it, as ``snakemake data/<name>/rebalance/none/1/index.npz``."""
    rng = np.random.default_rng(len(classes))
    pos = np.full((len(seqs), max(len(s) for s in seqs)), -1, np.int8)
    for i, s in enumerate(seqs):
        pos[i, : len(s)] = np.where(s < 7, 0, np.where(s < 14, 1, 2)) % len(classes)  # learnable per residue
        pos[i, : len(s) : 5] = rng.integers(0, len(classes), len(s[::5]))
    root.mkdir(parents=True, exist_ok=True)
    write_protein_store(root / "dataset.h5", seqs, pos, split, classes)
    index = root / "rebalance/none/1"
    index.mkdir(parents=True)
    rebalance(root / "dataset.h5", "none", 1, 1.0, index / "index.npz", index / "counts.tsv")
    return root


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A 3-state store (90 proteins: 60 train, 15 valid, 15 test), an exact copy of it,
    and its sequences and splits for variants."""
    root = tmp_path_factory.mktemp("ss")
    rng = np.random.default_rng(5)
    seqs = [rng.integers(0, 20, n).astype(np.uint8) for n in rng.integers(12, 41, 90)]
    split = np.repeat(np.array([0, 1, 2], np.uint8), [60, 15, 15])
    main = protein_data(root / "data/main", seqs, split, Q3)
    copy = root / "data/copy"
    shutil.copytree(main, copy)
    return {"root": root, "main": main, "copy": copy, "seqs": seqs, "split": split}


def recipes(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, str(REPO / "bench/ss_recipes.py"), *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def q(records: list[dict], split: str = "test") -> dict:
    return next(r for r in records if r["split"] == split and r["metric"] == "q_accuracy")


def test_also_test_scores_the_selected_weights_on_a_second_store(stores: dict, tmp_path: Path) -> None:
    """A fraction of the training proteins, trained once, tested on its own store and on a
    copy of it: the copy's test figure (and CI) is the run's own; the curve script reads
    either, and the 100% point from --full when the workflow's summary is not at hand."""
    out = tmp_path / "run"
    done = recipes(
        "--data", stores["main"], "--fraction", "0.5", *TINY, *TRAIN, "--test", "--also-test", stores["copy"],
        "--out", out, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["train_proteins"] == 30 == len(load_index(str(out / "index.npz"))[0])
    other = result["also_test"]["copy"]
    assert other["guard"]["leaked"] == 0 and other["guard"]["source_training_rows"] == 30
    own, again = q(result["test"]), q(other["metrics"])
    assert own["value"] == again["value"] and (own["lo"], own["hi"]) != (None, None)
    assert 0.0 < own["value"] < 1.0 and (out / "also_test/copy/predictions.tsv.gz").is_file()
    results = tmp_path / "lc.jsonl"
    results.write_text(done.stdout.strip().splitlines()[-1] + "\n")
    full = '{"proteins": 60, "valid": 0.9, "test": 0.8, "lo": 0.75, "hi": 0.85, "cpu_s": 1}'
    curve = subprocess.run(
        [sys.executable, str(REPO / "bench/ss_learning_curve.py"), str(results), "--also-test", "copy",
         "--full", full, "--dataset", "copy", "--out", str(tmp_path / "lc.png")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip
    assert curve.returncode == 0, curve.stderr
    rows = [line.split() for line in curve.stdout.splitlines()[1:3]]
    assert [r[0] for r in rows] == ["0.5", "1.0"] and float(rows[0][3]) == pytest.approx(again["value"], abs=1e-4)
    assert float(rows[1][3]) == 0.8 and (tmp_path / "lc.png").stat().st_size > 0


def test_also_test_refuses_other_classes_before_training(stores: dict, tmp_path: Path) -> None:
    q8 = protein_data(tmp_path / "data/q8", stores["seqs"], stores["split"], ("L", "B", "E", "G", "I", "H", "S", "T"))
    out = tmp_path / "run"
    done = recipes("--data", stores["main"], *TINY, *TRAIN, "--test", "--also-test", q8, "--out", out, cwd=tmp_path)
    assert done.returncode != 0 and not (out / "model.pt").exists()
    assert f"--also-test {q8}/dataset.h5: its classes is" in done.stderr and "'T'" in done.stderr


def test_also_test_refuses_a_store_whose_test_holds_a_training_protein(stores: dict, tmp_path: Path) -> None:
    """A training protein planted in the second store's test split, with one substitution:
    the near-identical check finds it and the run stops before training."""
    seqs = list(stores["seqs"])
    planted = seqs[3].copy()
    planted[0] = (planted[0] + 1) % 20
    seqs[80] = planted  # row 80 is a test protein, row 3 a training one
    leaky = protein_data(tmp_path / "data/leaky", seqs, stores["split"], Q3)
    out = tmp_path / "run"
    done = recipes("--data", stores["main"], *TINY, *TRAIN, "--test", "--also-test", leaky, "--out", out, cwd=tmp_path)
    assert done.returncode != 0 and not (out / "model.pt").exists()
    assert "1 of its 15 test proteins are among this run's 60 training proteins" in done.stderr
    assert "(0 identical, 1 within 2 substitutions)" in done.stderr


def test_also_test_without_test_is_refused(stores: dict, tmp_path: Path) -> None:
    done = recipes("--data", stores["main"], *TINY, "--also-test", stores["copy"], "--out", tmp_path, cwd=tmp_path)
    assert done.returncode == 2 and "--also-test evaluates on test splits: use it with --test" in done.stderr
