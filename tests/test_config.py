"""The config contract: schema defaults, errors that name the key, checks before any job."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import DEMO, REPO, snakemake

from genomicdl.config import sources
from genomicdl.config import validation as gconfig
from genomicdl.core.errors import ConfigError
from genomicdl.core.files import sha256sum

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")


def base() -> dict:
    return {
        "datasets": {
            "d": {
                "genome": {"url": str(DEMO / "yeast" / "genome.fa.gz")},
                "targets": {"Reb1": {"url": str(DEMO / "yeast" / "Reb1.bed")}},
                "split": {"valid": ["chrXVI"], "test": ["chrIV"]},
            }
        }
    }


def test_defaults_fill_every_documented_key() -> None:
    cfg = gconfig.validate(base(), SCHEMA)
    ds = cfg["datasets"]["d"]
    assert ds["window"] == 200 and ds["double_stranded"] is True
    assert ds["negatives"] == {"strategy": "gc_matched", "per_positive": 2, "gc_bins": 20}
    assert cfg["models"] == ["deepbind", "kmer_logreg"]
    assert cfg["train"]["device"] == "auto"


def test_every_schema_property_has_a_description_and_leaf_defaults() -> None:
    missing = []

    def walk(node: dict, path: str) -> None:
        for name, sub in node.get("properties", {}).items():
            where = f"{path}.{name}"
            if "description" not in sub:
                missing.append(f"{where}: description")
            scalar = "enum" in sub or sub.get("type") in ("string", "number", "integer", "boolean", "array")
            if scalar and name not in node.get("required", []) and "default" not in sub:
                missing.append(f"{where}: default")
            walk(sub, where)

    walk(SCHEMA, "config")
    for name, sub in SCHEMA["$defs"].items():
        walk(sub, name)
    assert not missing, missing


def test_defaults_are_not_shared_between_datasets() -> None:
    raw = base()
    raw["datasets"]["e"] = dict(raw["datasets"]["d"])
    cfg = gconfig.validate(raw, SCHEMA)
    cfg["datasets"]["d"]["negatives"]["per_positive"] = 5
    assert cfg["datasets"]["e"]["negatives"]["per_positive"] == 2


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"train": {"max_epochs": "ten"}}, "train.max_epochs"),
        ({"trian": {}}, "unknown config key trian"),
        ({"datasets": {"d": {"windw": 100}}}, "datasets.d.windw"),
        ({"models": ["deepbind", "resnet9000"]}, "unknown model 'resnet9000'"),
        ({"balance": ["smote"]}, "balance.0"),
        ({"model_params": {"deepbind": {"layers": 3}}}, "model_params.deepbind.layers"),
        ({"datasets": {"d": {"split": {"valid": 0.1, "test": ["chrIV"]}}}}, "datasets.d.split"),
        ({"datasets": {"d": {"split": {"valid": ["chrIV"], "test": ["chrIV"]}}}}, "in both valid and test"),
        ({"datasets": {"d": {"genome": {"url": "x.fa", "sha256": "abc"}}}}, "datasets.d.genome.sha256"),
        ({"datasets": {"d": {"table": {"url": "t.tsv"}}}}, "not both"),
        ({"datasets": {"d": {"models": ["kmer_ridge"]}}}, "datasets.d.models: 'kmer_ridge' is not in the top-level"),
        ({"datasets": {"d": {"train": {"max_epoch": 3}}}}, "unknown config key datasets.d.train.max_epoch"),
        ({"datasets": {"d": {"train": {"max_epochs": 0}}}}, "datasets.d.train.max_epochs"),
        ({"datasets": {"d": {"train": {"processes": 2}}}}, "datasets.d.train.processes: set it in the top-level"),
        ({"predict": {"datasets": ["nope"]}}, "predict.datasets: 'nope' is not a dataset"),
        ({"mutation_ensemble": ["deepbind"]}, "mutation_ensemble: 'deepbind' is not a mutation-effect model"),
    ],
)
def test_bad_config_names_the_key(patch: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        gconfig.validate(gconfig.merge(base(), patch), SCHEMA)
    assert expected in str(err.value)


def test_a_dataset_narrows_the_models_and_overrides_training() -> None:
    from genomicdl.config.plan import runs
    from genomicdl.config.tuning import train_settings

    raw = gconfig.merge(base(), {"models": ["deepbind", "kmer_logreg"], "balance": ["none"]})
    raw["datasets"]["e"] = {**raw["datasets"]["d"], "models": ["deepbind"], "train": {"max_epochs": 3}}
    cfg = gconfig.validate(raw, SCHEMA)
    assert [r[1] for r in runs(cfg, "d")] == ["deepbind", "kmer_logreg"]
    assert [r[1] for r in runs(cfg, "e")] == ["deepbind"]
    assert train_settings(cfg, "e", "deepbind")[1]["max_epochs"] == 3
    assert train_settings(cfg, "d", "deepbind")[1]["max_epochs"] == cfg["train"]["max_epochs"] == 50


def test_table_dataset_needs_a_file() -> None:
    raw = {"datasets": {"t": {"table": {"format": "tsv"}}}}
    with pytest.raises(ConfigError, match=r"datasets\.t\.table: needs url or train"):
        gconfig.validate(raw, SCHEMA)


def test_file_suffix_keeps_compression() -> None:
    assert sources.file_suffix("https://x.org/a/sacCer3.fa.gz") == ".fa.gz"
    assert sources.file_suffix("peaks.narrowPeak") == ".narrowPeak"
    assert sources.file_suffix("file:///data/x.bed?raw=1") == ".bed"


@pytest.mark.parametrize(
    ("patch", "expected"),
    [({"train": {"max_epochs": "ten"}}, "train.max_epochs"), ({"bogus": 1}, "unknown config key bogus")],
)
def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path: Path, patch: dict, expected: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(gconfig.merge(base(), patch)))
    result = snakemake(["--cores", "1", "--configfile", str(cfg)], cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert expected in result.stderr + result.stdout
    assert not (tmp_path / "resources").exists() and not (tmp_path / "logs").exists()


def test_default_config_is_valid_and_offline() -> None:
    raw = gconfig.resolve_paths(gconfig.load_yaml(REPO / "config" / "config.yaml"), REPO)
    cfg = gconfig.validate(raw, SCHEMA)
    for ds in cfg["datasets"].values():
        for _, source in sources.iter_sources(ds):
            assert Path(source.url).is_file(), source.url  # bundled, no network
            assert source.sha256, f"{source.url} is not pinned"


BENCHMARKS = sorted((REPO / "config" / "benchmarks").glob("*.yaml"))


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_benchmark_configs_are_valid_and_their_local_copies_match(path: Path) -> None:
    cfg = gconfig.load_yaml(path)
    validated = gconfig.validate(cfg, SCHEMA)
    for ds in validated["datasets"].values():
        for _, source in sources.iter_sources(ds):
            assert source.url.startswith("https://") and source.sha256, source
    local = path.parent / "local" / path.name
    assert local.is_file(), f"{path.name} has no offline override"
    merged = gconfig.validate(gconfig.merge(cfg, gconfig.load_yaml(local)), SCHEMA)
    shared = REPO.parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    for ds in merged["datasets"].values():
        for _, source in sources.iter_sources(ds):
            copy = REPO / source.url
            assert copy.is_file(), copy
            assert sha256sum(copy) == source.sha256, copy


OVERLAYS = sorted((REPO / "config" / "benchmarks" / "overlays").glob("*.yaml"))


@pytest.mark.parametrize("path", OVERLAYS, ids=[p.stem for p in OVERLAYS])
def test_benchmark_overlays_validate_on_their_benchmark(path: Path) -> None:
    """An overlay (named <benchmark>_<variant>.yaml) is valid given after its benchmark."""
    base = REPO / "config" / "benchmarks" / f"{path.stem.split('_')[0]}.yaml"
    merged = gconfig.merge(gconfig.load_yaml(base), gconfig.load_yaml(path))
    validated = gconfig.validate(merged, SCHEMA)
    assert set(gconfig.load_yaml(path).get("models", validated["models"])) <= set(validated["models"])


SCALED = sorted(path for sub in ("cpu", "full") for path in (REPO / "config" / "benchmarks" / sub).glob("*.yaml"))


@pytest.mark.parametrize("path", SCALED, ids=[f"{p.parent.name}/{p.stem}" for p in SCALED])
def test_scaled_settings_validate_on_their_benchmark(path: Path) -> None:
    """cpu/ (scaled down) and full/ (every training protein) settings are valid given after
    their benchmark and its local copy, name only the benchmark's models, and full/ keeps
    every training record (no subsample)."""
    base = gconfig.load_yaml(REPO / "config" / "benchmarks" / path.name)
    merged = gconfig.merge(gconfig.merge(base, gconfig.load_yaml(path.parent.parent / "local" / path.name)),
                           gconfig.load_yaml(path))  # fmt: skip
    validated = gconfig.validate(merged, SCHEMA)
    assert set(gconfig.load_yaml(path)["models"]) <= set(base["models"]), path.name
    if path.parent.name == "full":
        for name, ds in validated["datasets"].items():
            assert not ds.get("table", {}).get("subsample"), f"{path}: {name} subsamples its training records"
