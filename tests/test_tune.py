"""The tune stage: search spaces, the config, a study that never reads the test split,
and a real snakemake run of a 3-trial study whose choice every seed retrains on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from conftest import REPO, snakemake, srf_table

from genomicdl.config import tuning
from genomicdl.config import validation as gconfig
from genomicdl.core.errors import ConfigError, InputError
from genomicdl.models.catalog import CATALOG, NETWORKS, Range
from genomicdl.training import tune

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
TRIALS = 3


def tiny_config(workdir: Path) -> Path:
    """One tiny binary dataset (SRF, DeepBind's ChIP-seq set), one network, two seeds."""
    cfg = {
        "datasets": {
            "srf": srf_table(workdir),
        },
        "models": ["deepbind"],
        "balance": ["none"],
        "seeds": [1, 2],
        "train": {"max_epochs": 2, "patience": 2, "batch_size": 32, "device": "cpu"},
        "tune": {
            "enabled": True,
            "trials": TRIALS,
            "max_epochs": 3,
            "startup_trials": 1,
            "prune_warmup": 1,
            "space": {"deepbind": {"filters": {"low": 8, "high": 24}, "filter_width": None}},
        },
    }
    path = workdir / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def validated(**tune_section: object) -> dict:
    raw = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    raw["tune"] = tune_section
    return gconfig.validate(gconfig.resolve_paths(raw, str(REPO)), SCHEMA)


# ------------------------------------------------------------------ spaces and config


def test_every_network_declares_a_search_space_of_its_own_parameters() -> None:
    for name in NETWORKS:
        space = CATALOG[name].space()
        assert space, name
        for param, r in space.items():
            assert param in CATALOG[name].params or param in ("learning_rate", "weight_decay", "batch_size")
            assert r.choices or (r.low is not None and r.high is not None and r.low <= r.high), (name, param)


def test_the_config_replaces_and_removes_single_parameters() -> None:
    space = tuning.search_space("deepbind", {"filters": {"low": 8, "high": 64, "log": True}, "pool": None})
    assert space["filters"] == Range(8, 64, True)
    assert "pool" not in space and space["dropout"] == CATALOG["deepbind"].space()["dropout"]
    assert tuning.search_space("deepbind", {"hidden": {"choices": [0, 16]}})["hidden"].choices == (0, 16)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"space": {"deepbind": {"kernel": {"low": 1, "high": 2}}}}, "tune.space.deepbind.kernel"),
        ({"space": {"deepbind": {"dropout": {"low": 0.5, "high": 0.1}}}}, "low 0.5 is above high 0.1"),
        ({"space": {"deepbind": {"learning_rate": {"low": 0, "high": 1, "log": True}}}}, "log scale needs low > 0"),
        ({"space": {"kmer_logreg": {"k": {"low": 1, "high": 2}}}}, "not a registered network"),
        ({"space": {"deepbind": {"filters": {"low": 8}}}}, "tune.space.deepbind.filters"),
        ({"models": ["deepsea"]}, "tune.models"),
        ({"datasets": ["nope"]}, "tune.datasets"),
        ({"trials": 0}, "tune.trials"),
    ],
)
def test_a_bad_tune_section_fails_naming_the_key(section: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        validated(**section)


def test_tuned_pairs_follow_the_config() -> None:
    assert tuning.tuned_pairs(validated()) == []
    cfg = validated(enabled=True, models=["deepbind"], datasets=["srf", "structure"])
    assert tuning.tuned_pairs(cfg) == [("srf", "deepbind"), ("structure", "deepbind")]
    assert tuning.tuning_run(cfg, "srf", "deepbind") == ("none", 1)


def test_train_jobs_take_the_choice_of_a_tuned_pair_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = validated(enabled=True, models=["deepbind"], datasets=["srf"])
    cfg["model_params"] = {"deepbind": {"filters": 8, "hidden": 0}}
    monkeypatch.chdir(tmp_path)
    assert tuning.train_settings(cfg, "srf", "deepbind") == (cfg["model_params"]["deepbind"], cfg["train"])
    best = Path(tuning.best_path(cfg, "srf", "deepbind"))
    best.parent.mkdir(parents=True)
    best.write_text(yaml.safe_dump({"params": {"filters": 40}, "train": {"learning_rate": 0.01}}))
    params, train = tuning.train_settings(cfg, "srf", "deepbind")
    assert params == {"filters": 40, "hidden": 0} and train == {**cfg["train"], "learning_rate": 0.01}
    assert tuning.best_path(cfg, "utr", "deepbind") is None and tuning.best_path(cfg, "srf", "cnn_birnn") is None
    assert tuning.trial_index(cfg, "srf", "deepbind") == "data/srf/rebalance/none/1/index.npz"


def test_the_registry_and_the_config_check_import_neither_torch_nor_optuna() -> None:
    code = (
        "import sys; import genomicdl.models.catalog, genomicdl.training.tune, genomicdl.config.validation; "
        "print(sorted(m for m in ('torch', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_best_is_chosen_by_validation_and_a_study_without_a_completed_trial_fails(tmp_path: Path) -> None:
    def record(number: int, state: str, value: float | None) -> str:
        path = tmp_path / f"{number}.json"
        rec = {"format": tune.TRIAL_FORMAT, "study": "s", "job": number, "number": number, "state": state,
               "value": value, "metric": "auprc", "params": {"filters": number}, "train": {}, "epochs": 1,
               "best_epoch": 1, "cpu_seconds": 1.5, "wall_seconds": 2.0}  # fmt: skip
        path.write_text(json.dumps(rec))
        return str(path)

    paths = [record(0, "complete", 0.7), record(1, "pruned", 0.9), record(2, "complete", 0.8), record(3, "fail", None)]
    best = tune.write_best(trials=paths, dataset="d", model="deepbind", out=str(tmp_path / "best.yaml"))
    assert best["params"] == {"filters": 2} and best["study"]["best_trial"] == 2
    assert (best["study"]["complete"], best["study"]["pruned"], best["study"]["failed"]) == (2, 1, 1)
    assert best["study"]["cpu_seconds"] == 6.0
    with pytest.raises(InputError, match="no trial completed"):
        tune.write_best(trials=paths[1:2], dataset="d", model="deepbind", out=str(tmp_path / "none.yaml"))


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def tuned_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A 3-trial study, then both seeds trained on its choice; trials two at a time."""
    workdir = tmp_path_factory.mktemp("tune")
    cfg = tiny_config(workdir)
    targets = ["results/tune/srf/deepbind/best.yaml", *(f"models/srf/deepbind/none/{s}/model.pt" for s in (1, 2))]
    args = ["--cores", "2", "--set-threads", "tune_trial=1", "train_network=1", "--configfile", str(cfg)]
    return workdir, snakemake([*targets, *args], cwd=workdir)


def test_the_study_writes_its_choice_and_every_seed_retrains_on_it(tuned_run: tuple[Path, object]) -> None:
    import torch

    workdir, result = tuned_run
    assert result.returncode == 0, result.stderr[-4000:]
    best = yaml.safe_load((workdir / "results/tune/srf/deepbind/best.yaml").read_text())
    study = best["study"]
    assert study["trials"] == TRIALS and study["complete"] >= 1 and study["metric"] == "auprc"
    assert 0 < study["best_valid_score"] <= 1 and study["cpu_seconds"] > 0
    assert 8 <= best["params"]["filters"] <= 24 and "filter_width" not in best["params"]
    assert {"learning_rate", "weight_decay"} <= set(best["train"])
    assert sorted(t["number"] for t in best["trials"]) == list(range(TRIALS))
    for seed in (1, 2):
        saved = torch.load(workdir / f"models/srf/deepbind/none/{seed}/model.pt", weights_only=False)
        assert saved["params"] == best["params"], seed
        assert saved["train"]["learning_rate"] == best["train"]["learning_rate"]
        assert saved["train"]["max_epochs"] == 2  # the trials' max_epochs does not leak into training


def test_trials_share_one_journal_without_colliding(tuned_run: tuple[Path, object]) -> None:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    workdir, result = tuned_run
    assert result.returncode == 0, result.stderr[-4000:]
    storage = JournalStorage(JournalFileBackend(str(workdir / "results/tune/srf/deepbind/journal.log")))
    (summary,) = optuna.get_all_study_summaries(storage)
    trials = optuna.load_study(study_name=summary.study_name, storage=storage).get_trials()
    assert sorted(t.number for t in trials) == list(range(TRIALS))
    assert sorted(t.user_attrs["job"] for t in trials) == list(range(TRIALS))
    assert all(t.state.is_finished() for t in trials)


def test_a_finished_study_is_not_rerun(tuned_run: tuple[Path, object]) -> None:
    workdir, result = tuned_run
    assert result.returncode == 0, result.stderr[-4000:]
    again = snakemake(["-n", "--configfile", str(workdir / "tiny.yaml")], cwd=workdir)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "tune_trial" not in again.stdout and "tune_best" not in again.stdout


# ------------------------------------------------------------------ the test split is never read


def _corrupt_test_rows(store: Path, out: Path) -> int:
    """A copy of ``store`` whose test rows have random sequences and flipped labels."""
    shutil.copy(store, out)
    with h5py.File(out, "r+") as h5:
        split_names = json.loads(h5.attrs["splits"])
        rows = np.flatnonzero(h5["split"][:] == split_names.index("test"))
        rng = np.random.default_rng(0)
        seq = h5["seq"][:]
        seq[rows] = rng.integers(0, 4, size=(len(rows), seq.shape[1]), dtype=seq.dtype)
        h5["seq"][:] = seq
        labels = h5["labels"][:]
        labels[rows] = 1 - labels[rows]
        h5["labels"][:] = labels
    return len(rows)


def _one_trial(workdir: Path, store: Path, journal: Path, out: Path) -> dict:
    cfg = gconfig.validate(yaml.safe_load((workdir / "tiny.yaml").read_text()), SCHEMA)
    return tune.run_trial(
        store=str(store), index=str(workdir / "data/srf/rebalance/none/1/index.npz"), journal=str(journal),
        dataset="srf", model="deepbind", job=0, params={}, train=cfg["train"], tune=cfg["tune"], seed=1,
        threads=1, double_stranded=True, out=str(out),
    )  # fmt: skip


def test_trials_never_read_the_test_split(tuned_run: tuple[Path, object], tmp_path: Path) -> None:
    """Same trial on the store and on a copy whose test rows are garbage: same result."""
    workdir, result = tuned_run
    assert result.returncode == 0, result.stderr[-4000:]
    store = workdir / "data/srf/dataset.h5"
    assert _corrupt_test_rows(store, tmp_path / "corrupt.h5") > 0
    clean = _one_trial(workdir, store, tmp_path / "a.log", tmp_path / "a.json")
    corrupt = _one_trial(workdir, tmp_path / "corrupt.h5", tmp_path / "b.log", tmp_path / "b.json")
    assert clean["state"] == corrupt["state"] == "complete"
    assert clean["params"] == corrupt["params"] and clean["train"] == corrupt["train"]
    assert clean["value"] == corrupt["value"]


def test_a_training_index_with_test_rows_is_refused(tuned_run: tuple[Path, object], tmp_path: Path) -> None:
    workdir, result = tuned_run
    assert result.returncode == 0, result.stderr[-4000:]
    with np.load(workdir / "data/srf/rebalance/none/1/index.npz") as data:
        arrays = dict(data)
    with h5py.File(workdir / "data/srf/dataset.h5", "r") as h5:
        test_row = int(np.flatnonzero(h5["split"][:] == json.loads(h5.attrs["splits"]).index("test"))[0])
    arrays["index"] = np.append(arrays["index"], test_row)
    leaky = tmp_path / "index.npz"
    np.savez(leaky, **arrays)
    with pytest.raises(InputError, match="validation or test rows"):
        tune.check_training_only(str(workdir / "data/srf/dataset.h5"), str(leaky))
