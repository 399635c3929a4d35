"""Typed dataset specs: a dataset's settings, parsed once from the validated config.

Which source a dataset uses is decided here and nowhere else (``dataset_source``):

- ``genome``: genome + targets (BED / narrowPeak per task), windows with 0/1 labels;
- ``signal``: genome + targets that are bigWig tracks (a ``signal`` section), regression;
- ``table``: labelled sequences from CSV / TSV / FASTA files;
- ``alignment``: a multiple sequence alignment and its deep mutational scans.

Every default comes from the schema (workflow/schemas/config.schema.yaml): validation
fills each key's ``default``, then, for the keys whose default depends on the source
(``window``, ``kind``, ``double_stranded``), the schema's ``source_defaults`` of the
key (``fill_source_defaults``). So the window's default lives in one place: the
schema's ``window.source_defaults`` (200 bp for genome and signal datasets; tables keep
null, each sequence's own length). A spec never invents a value: it reads the validated
dictionary and fails, naming the dataset and key, when a key is missing.

A spec holds the settings that shape a dataset's data (what the preprocess stage and the
alignment preparation read); the run settings of a dataset (models, train,
double_stranded, variants, init_from, published) stay in the validated config, which the
plan and the training rules read.

Nested sections (split, negatives, tiles, signal, table, alignment, scans) are
read-only mappings (their lists are copies, kept lists: chromosome hold-outs are told
from fractions by being lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from genomicdl.config.sources import iter_sources
from genomicdl.core.errors import ConfigError

SourceName = Literal["genome", "signal", "table", "alignment"]
SOURCES: tuple[SourceName, ...] = ("genome", "signal", "table", "alignment")


def dataset_source(name: str, ds: Mapping[str, Any]) -> SourceName:
    """The source of a dataset from its keys: the one place it is inferred.

    Raises ConfigError naming the dataset and key when the keys give no source or
    several (genome + table, an alignment beside a table, scans without an alignment).
    """
    key = f"datasets.{name}"
    has_genome = "genome" in ds or "targets" in ds
    if "alignment" in ds or ds.get("scans"):
        if "alignment" not in ds:
            raise ConfigError(f"config key {key}.scans: needs an alignment")
        if has_genome or "table" in ds:
            raise ConfigError(f"config key {key}: give an alignment or genome + targets or table, not several")
        return "alignment"
    if has_genome and "table" in ds:
        raise ConfigError(f"config key {key}: give either genome + targets or table, not both")
    if not has_genome and "table" not in ds:
        raise ConfigError(f"config key {key}: needs genome + targets or table")
    if not has_genome:
        return "table"
    for part in ("genome", "targets"):
        if part not in ds:
            raise ConfigError(f"config key {key}.{part}: required with genome datasets")
    return "genome" if ds.get("signal") is None else "signal"


def fill_source_defaults(name: str, ds: dict[str, Any], properties: Mapping[str, Any]) -> SourceName:
    """Fill, in place, each null key whose schema property has ``source_defaults`` with
    the default of the dataset's source; returns the source."""
    source = dataset_source(name, ds)
    for key, prop in properties.items():
        by_source = prop.get("source_defaults") if isinstance(prop, Mapping) else None
        if by_source and ds.get(key) is None and source in by_source:
            ds[key] = by_source[source]
    return source


def _frozen(value: Any) -> Any:
    """A deep copy whose mappings are read-only (MappingProxyType)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_frozen(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """What every dataset has: its name, source and target kind, and the
    download URL of each input role (for errors that name where a file came from)."""

    source: ClassVar[SourceName]
    name: str
    kind: str
    urls: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_genome(self) -> bool:
        """Windows of a genome (genome or signal source)."""
        return self.source in ("genome", "signal")


@dataclass(frozen=True, kw_only=True)
class _SequenceSpec(DatasetSpec):
    """Settings of the sequence datasets (genome, signal, table)."""

    alphabet: str
    window: int | None
    seed: int
    split: Mapping[str, Any]
    negatives: Mapping[str, Any]
    max_n_fraction: float
    loss: str


@dataclass(frozen=True, kw_only=True)
class GenomeSpec(_SequenceSpec):
    """Windows of a genome around each task's peaks (mode peaks) or tiling chromosomes
    (mode tiles), labelled 0/1 per task; ``window`` is never null here."""

    source: ClassVar[SourceName] = "genome"
    window: int
    tasks: tuple[str, ...]
    chrom_aliases: Mapping[str, str]
    unknown_chroms: str
    mode: str
    tiles: Mapping[str, Any]
    has_blacklist: bool


@dataclass(frozen=True, kw_only=True)
class SignalSpec(GenomeSpec):
    """Windows of a genome labelled by bigWig tracks (``signal``: output length, bins,
    statistic, NaN and negative handling, regions, control, jitter)."""

    source: ClassVar[SourceName] = "signal"
    signal: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class TableSpec(_SequenceSpec):
    """Labelled sequences of a table; ``window`` null keeps each sequence's length."""

    source: ClassVar[SourceName] = "table"
    table: Mapping[str, Any]
    classes: tuple[str, ...] | None
    class_map: Mapping[str, str]
    max_length: int
    too_long: str
    crop: str
    bad_letters: str


@dataclass(frozen=True, kw_only=True)
class AlignmentSpec(DatasetSpec):
    """A multiple sequence alignment (focus, theta, filters) and its scans by name."""

    source: ClassVar[SourceName] = "alignment"
    alignment: Mapping[str, Any]
    scans: Mapping[str, Any]


SPEC_TYPES: dict[SourceName, type[DatasetSpec]] = {
    "genome": GenomeSpec, "signal": SignalSpec, "table": TableSpec, "alignment": AlignmentSpec,
}  # fmt: skip
# keys a spec takes under another name, or computes
_DERIVED = {"name", "urls", "tasks", "has_blacklist"}


def dataset_spec(name: str, ds: Mapping[str, Any]) -> DatasetSpec:
    """The typed spec of dataset ``name`` from its validated settings (defaults filled)."""
    source = dataset_source(name, ds)
    cls = SPEC_TYPES[source]
    values: dict[str, Any] = {"name": name, "urls": MappingProxyType({r: s.url for r, s in iter_sources(ds)})}
    for f in _fields(cls):
        if f in _DERIVED:
            continue
        if f not in ds:
            raise ConfigError(f"config key datasets.{name}.{f}: missing (is the config validated?)")
        values[f] = _frozen(ds[f])
    if source in ("genome", "signal"):
        values["tasks"] = tuple(ds["targets"])
        values["has_blacklist"] = bool(ds.get("blacklist"))
        if values["window"] is None:
            raise ConfigError(f"config key datasets.{name}.window: a {source} dataset needs a window")
    return cls(**values)


def _fields(cls: type[DatasetSpec]) -> list[str]:
    return [f.name for f in fields(cls)]


def dataset_specs(config: Mapping[str, Any]) -> dict[str, DatasetSpec]:
    """The spec of every dataset of a validated config, by name."""
    return {name: dataset_spec(name, ds) for name, ds in config["datasets"].items()}
