"""Typed dataset specs: one source inference, defaults from the schema alone, frozen specs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.specs import (
    SPEC_TYPES,
    AlignmentSpec,
    DatasetSpec,
    GenomeSpec,
    SignalSpec,
    TableSpec,
    dataset_source,
    dataset_spec,
)
from genomicdl.core.errors import ConfigError
from genomicdl.datasets.preprocess import build_dataset
from genomicdl.io.store import Store, window_of

SCHEMA = gconfig.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
DATASET = SCHEMA["$defs"]["dataset"]["properties"]
GENOME = {"genome": {"url": "g.fa"}, "targets": {"T": {"url": "t.bed"}}}
# the smallest dataset of each source, and a model that can train it
MINIMAL: dict[str, tuple[dict[str, Any], str]] = {
    "genome": (GENOME, "deepbind"),
    "signal": ({**GENOME, "signal": {}}, "bpnet"),
    "table": ({"table": {"url": "t.csv"}}, "deepbind"),
    "alignment": ({"alignment": {"url": "a.a2m"}, "scans": {"s": {"url": "s.csv"}}}, "site_independent"),
}
CLASSES = {"genome": GenomeSpec, "signal": SignalSpec, "table": TableSpec, "alignment": AlignmentSpec}


def spec_of(source: str, **over: Any) -> DatasetSpec:
    raw, model = MINIMAL[source]
    cfg = gconfig.validate({"datasets": {"d": {**raw, **over}}, "models": [model]}, SCHEMA)
    return dataset_spec("d", cfg["datasets"]["d"])


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref", "")
    return SCHEMA["$defs"][ref.rsplit("/", 1)[1]] if ref.startswith("#/$defs/") else node


def schema_default(prop: Mapping[str, Any], source: str) -> Any:
    """The value validation gives a key left out: its source's default when the plain
    default is null, an object's default with its properties' defaults filled."""
    default = prop["default"]
    if default is None:
        return (prop.get("source_defaults") or {}).get(source)
    if isinstance(default, dict):
        return {**default, **section_defaults(_resolve(prop), source)}
    return default


def section_defaults(node: Mapping[str, Any], source: str) -> dict[str, Any]:
    return {k: schema_default(sub, source) for k, sub in node.get("properties", {}).items() if "default" in sub}


def agrees(value: Any, expected: Any, where: str) -> list[str]:
    """Where ``value`` differs from ``expected`` (mappings: the expected keys only)."""
    if isinstance(expected, dict):
        if not isinstance(value, Mapping):
            return [f"{where}: {value!r} is not a mapping"]
        return [d for k, v in expected.items() for d in agrees(value.get(k, "<missing>"), v, f"{where}.{k}")]
    return [] if value == expected and type(value) is type(expected) else [f"{where}: {value!r} != {expected!r}"]


@pytest.mark.parametrize("source", list(MINIMAL))
def test_schema_defaults_and_spec_agree(source: str) -> None:
    spec = spec_of(source)
    raw = MINIMAL[source][0]
    compared, differences = 0, []
    for field in dataclasses.fields(spec):
        prop = DATASET.get(field.name)
        if prop is None:
            continue
        value = getattr(spec, field.name)
        if field.name in raw:  # a section the dataset gives: the defaults of what it leaves out
            given = raw[field.name]
            expected = {k: v for k, v in section_defaults(_resolve(prop), source).items() if k not in given}
        else:
            expected = schema_default(prop, source)
        differences += agrees(value, expected, field.name)
        compared += 1
    assert not differences, differences
    assert compared == {"genome": 12, "signal": 13, "table": 15, "alignment": 3}[source]


def test_each_source_dependent_default_lives_in_the_schema() -> None:
    by_source = {name: prop["source_defaults"] for name, prop in DATASET.items() if "source_defaults" in prop}
    assert by_source["window"] == {"genome": 200, "signal": 200}  # tables keep their lengths
    assert set(by_source) == {"window", "kind", "double_stranded"}
    for name, defaults in by_source.items():
        assert DATASET[name]["default"] is None, name  # the plain default defers to the source's
        assert set(defaults) <= set(SPEC_TYPES), name
    assert spec_of("genome").window == 200 and spec_of("signal").window == 200 and spec_of("table").window is None
    assert spec_of("genome", window=500).window == 500 and spec_of("table", window=50).window == 50
    for source, (raw, model) in MINIMAL.items():  # a run setting, not in the spec: filled all the same
        ds = gconfig.validate({"datasets": {"d": raw}, "models": [model]}, SCHEMA)["datasets"]["d"]
        assert ds["double_stranded"] is by_source["double_stranded"][source], source


@pytest.mark.parametrize("source", list(MINIMAL))
def test_spec_is_frozen_and_of_its_source(source: str) -> None:
    spec = spec_of(source)
    assert type(spec) is CLASSES[source] and spec.source == source and spec.name == "d"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    section = spec.alignment if isinstance(spec, AlignmentSpec) else spec.split
    with pytest.raises(TypeError):
        section["anything"] = 1  # type: ignore[index]
    assert spec.is_genome == (source in ("genome", "signal"))
    expected_kind = {"genome": "binary", "signal": "regression", "table": "binary", "alignment": "mutation_effect"}
    assert spec.kind == expected_kind[source]


def test_spec_does_not_share_state_with_the_config() -> None:
    raw, model = MINIMAL["genome"]
    ds = gconfig.validate({"datasets": {"d": raw}, "models": [model]}, SCHEMA)["datasets"]["d"]
    spec = dataset_spec("d", ds)
    ds["split"]["leakage"] = "warn"
    ds["negatives"]["per_positive"] = 9
    assert spec.split["leakage"] == "fail" and spec.negatives["per_positive"] == 2
    assert spec.tasks == ("T",) and spec.urls == {"genome": "g.fa", "target.T": "t.bed"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({**GENOME, "table": {"url": "t.csv"}}, "config key datasets.bad: give either genome + targets or table"),
        ({"window": 100}, "config key datasets.bad: needs genome + targets or table"),
        ({"targets": {"T": {"url": "t.bed"}}}, "config key datasets.bad.genome: required with genome datasets"),
        ({"scans": {"s": {"url": "s.csv"}}}, "config key datasets.bad.scans: needs an alignment"),
        ({"alignment": {"url": "a.a2m"}, "table": {"url": "t.csv"}}, "config key datasets.bad: give an alignment or"),
    ],
)
def test_a_dataset_without_one_source_fails_naming_it(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("+", r"\+")):
        gconfig.validate({"datasets": {"bad": raw}}, SCHEMA)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("+", r"\+")):
        dataset_source("bad", raw)


def test_a_spec_never_invents_a_missing_setting() -> None:
    raw, model = MINIMAL["table"]
    ds = gconfig.validate({"datasets": {"t": raw}, "models": [model]}, SCHEMA)["datasets"]["t"]
    del ds["max_length"]
    with pytest.raises(ConfigError, match=r"config key datasets\.t\.max_length: missing"):
        dataset_spec("t", ds)


def test_the_source_decides_the_kind_of_genome_and_alignment_datasets() -> None:
    with pytest.raises(ConfigError, match=r"datasets\.d: genome \+ targets datasets are alphabet dna, kind regression"):
        spec_of("signal", kind="binary")
    with pytest.raises(ConfigError, match=r"datasets\.d\.kind: alignment datasets are of kind mutation_effect"):
        spec_of("alignment", kind="regression")
    with pytest.raises(ConfigError, match=r"datasets\.d\.kind: mutation_effect is the kind of alignment datasets"):
        spec_of("table", kind="mutation_effect")


def test_preprocess_builds_only_the_sources_it_knows(tmp_path: Path) -> None:
    spec = spec_of("alignment")
    out = [str(tmp_path / name) for name in ("d.h5", "s.json", "gc.tsv")]
    with pytest.raises(ValueError, match="dataset d: the preprocess stage builds genome, signal and table"):
        build_dataset(spec, {}, None, *out)
    with pytest.raises(ValueError, match="a genome dataset needs the prepared genome"):
        build_dataset(spec_of("genome"), {}, None, *out)


def test_window_is_read_by_one_accessor_naming_the_file(tmp_path: Path) -> None:
    assert window_of({"window": 200}, "m.pt") == 200
    with pytest.raises(ValueError, match=r"m\.pt: records no window"):
        window_of({"tasks": ["T"]}, "m.pt")
    store = tmp_path / "old.h5"
    with h5py.File(store, "w") as h5:
        h5.attrs["format"] = "genomicdl-store/2"
    with pytest.raises(ValueError, match=f"{store}: records no window"):
        Store(store)
