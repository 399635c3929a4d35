"""Configuration: schema validation with defaults, semantic checks, and input files.

Every error names the config key at fault, so a bad config fails before any job starts.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from genomicdl.config.sources import SPLIT_NAMES
from genomicdl.config.specs import dataset_source, dataset_specs, fill_source_defaults
from genomicdl.core.enums import BALANCE_STRATEGIES
from genomicdl.core.errors import ConfigError
from genomicdl.kinds.targets import CLASS_KINDS
from genomicdl.models.catalog import CATALOG, models_for

URL_SCHEMES = ("http://", "https://", "ftp://", "file://")
# A name that becomes a path component (dataset, task, model, ...): never . or .., no
# leading dot (hidden files, ..) or dash (read as an option), no slash.
SAFE_NAME = "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
SAFE_NAME_RULE = "letters, digits, _ . - only, not starting with a dot or dash (it becomes a file or folder name)"
_ROMAN = re.compile(r"(X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUE = {"I": 1, "V": 5, "X": 10}
_MITO = {"m", "mt", "mito", "mitochondrion"}


# libyaml's loader when PyYAML was built with it: the same documents, ~10x faster (0.05 s less
# per process for the config schema)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with an error naming the file when it is not one."""
    try:
        with open(path) as fh:
            data = yaml.load(fh, Loader=_YAML_LOADER)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return data


def _defaulting_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator that fills each missing property with a *copy* of its default."""
    base = Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, sub in props.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from check_properties(validator, props, instance, schema)

    cls = validators.extend(base, {"properties": properties})
    return cls(schema)


def _key_path(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _describe(error: ValidationError) -> str:
    where = _key_path(error)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        prefix = f"{where}." if error.absolute_path else ""
        extra = ", ".join(prefix + str(k) for k in sorted(set(error.instance) - set(allowed)))
        hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"unknown config key {extra}{hint}"
    if error.validator == "pattern" and error.validator_value == SAFE_NAME:
        name_of = f"config key {where}" if error.absolute_path else "config key"
        return f"{name_of}: {error.instance!r} is not a path-safe name: {SAFE_NAME_RULE}"
    if error.validator == "propertyNames":
        return f"config key {where}: invalid name: {error.message}"
    return f"config key {where}: {error.message}"


def validate(config: Mapping[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Return a validated copy of ``config`` with every default filled in.

    Raises ConfigError naming the first offending key (type errors, unknown keys,
    missing keys), then checks the rules the schema cannot express.
    """
    cfg = copy.deepcopy(dict(config))
    validator = _defaulting_validator(schema)
    error = best_match(validator.iter_errors(cfg))
    if error is not None:
        raise ConfigError(_describe(error))
    from genomicdl.config.plan import expand_folds

    cfg = expand_folds(cfg)
    check_names(cfg)
    dataset_keys = schema.get("$defs", {}).get("dataset", {}).get("properties", {})
    for name, ds in cfg["datasets"].items():
        fill_source_defaults(name, ds, dataset_keys)
    check_semantics(cfg)
    dataset_specs(cfg)  # every dataset parses into its typed spec
    if "train" in schema.get("properties", {}):
        _check_dataset_train(cfg, schema["properties"]["train"])
    return cfg


def _check_dataset_train(cfg: Mapping[str, Any], train_schema: dict[str, Any]) -> None:
    """A dataset's own ``train`` names top-level train keys, with values of their types."""
    for name, ds in cfg["datasets"].items():
        override = ds.get("train") or {}
        for key in override:
            if key not in cfg["train"]:
                known = ", ".join(cfg["train"])
                raise ConfigError(f"unknown config key datasets.{name}.train.{key}: train takes {known}")
            if key in ("processes", "nodes"):  # they size every training job's scheduler request
                raise ConfigError(f"config key datasets.{name}.train.{key}: set it in the top-level train section")
        error = best_match(Draft202012Validator(train_schema).iter_errors({**cfg["train"], **override}))
        if error is not None:
            raise ConfigError(f"config key datasets.{name}.train.{_key_path(error)}: {error.message}")


def path_names(cfg: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(config key, name) of every config name that becomes a path component."""
    for name, ds in cfg.get("datasets", {}).items():
        yield "datasets", name
        for task in (ds or {}).get("targets", {}) or {}:
            yield f"datasets.{name}.targets", task
        table = (ds or {}).get("table") or {}
        for column in table.get("label_columns", []) or []:
            yield f"datasets.{name}.table.label_columns", column
        if "task" in table:
            yield f"datasets.{name}.table.task", table["task"]
    for key in ("models", "model_params"):
        for model in cfg.get(key, []) or []:
            yield key, model


def check_names(cfg: Mapping[str, Any]) -> None:
    """Every name that becomes a path component is path-safe (see SAFE_NAME)."""
    for key, name in path_names(cfg):
        if not isinstance(name, str) or not re.fullmatch(SAFE_NAME, name):
            raise ConfigError(f"config key {key}: {name!r} is not a path-safe name: {SAFE_NAME_RULE}")


def load_schema(path: str | Path) -> dict[str, Any]:
    """Load the workflow's config schema, with the enumerations that live in Python
    (genomicdl.core.enums) injected: the balance strategies."""
    schema = load_yaml(path)
    balance = schema.get("properties", {}).get("balance")
    if balance is not None:
        balance["items"]["enum"] = list(BALANCE_STRATEGIES)
    return schema


def check_semantics(cfg: dict[str, Any]) -> None:
    """Rules across keys: the source and kind of each dataset, split lists, model parameters."""
    for name, ds in cfg["datasets"].items():
        key = f"datasets.{name}"
        source = dataset_source(name, ds)
        if source == "alignment":
            _check_alignment(key, ds)
            continue
        if source == "table":
            _check_table(key, ds)
        else:
            _check_genome(key, ds, source)
        _check_target(key, ds)
    _check_dataset_models(cfg)
    _check_models_fit(cfg)
    for key in ("models", "model_params"):
        for model in cfg[key]:
            if model not in CATALOG:
                raise ConfigError(
                    f"config key {key}: unknown model {model!r}; the registry has {', '.join(sorted(CATALOG))}"
                )
    for model in cfg.get("mutation_ensemble") or []:
        if model not in cfg["models"] or CATALOG.get(model) is None or CATALOG[model].family != "mutation":
            raise ConfigError(f"config key mutation_ensemble: {model!r} is not a mutation-effect model of `models`")
    for dataset in (cfg.get("predict") or {}).get("datasets") or []:
        if dataset not in cfg["datasets"]:
            raise ConfigError(f"config key predict.datasets: {dataset!r} is not a dataset of the config")
    for model, params in cfg["model_params"].items():
        allowed = CATALOG[model].params
        for param in params:
            if param not in allowed:
                raise ConfigError(
                    f"unknown config key model_params.{model}.{param}: {model} takes {', '.join(allowed)}"
                )
    from genomicdl.config.tuning import check_config as check_tune

    check_tune(cfg)


def _check_alignment(key: str, ds: dict[str, Any]) -> None:
    """A mutation-effect dataset: one strand, kind mutation_effect."""
    if ds["kind"] != "mutation_effect":
        raise ConfigError(f"config key {key}.kind: alignment datasets are of kind mutation_effect, not {ds['kind']}")
    ds["double_stranded"] = False


def _check_genome(key: str, ds: dict[str, Any], source: str) -> None:
    """Genome windows: a chromosome split; alphabet dna; kind binary (regression with signal)."""
    _check_chromosome_split(key, ds["split"], ds["chrom_aliases"])
    kind = "regression" if source == "signal" else "binary"
    if ds["alphabet"] != "dna" or ds["kind"] != kind:
        raise ConfigError(
            f"config key {key}: genome + targets datasets are alphabet dna, kind {kind}"
            + (" (bigWig targets under signal:)" if source == "signal" else "")
        )
    weights = (ds.get("signal") or {}).get("track_weights", "equal")
    if weights != "equal" and ds["loss"] != "log1p_mse":
        raise ConfigError(f"config key {key}.signal.track_weights: {weights} needs loss log1p_mse, not {ds['loss']}")


def _check_target(key: str, ds: dict[str, Any]) -> None:
    """Alphabet and target kind agree with the other keys of a dataset."""
    if ds["double_stranded"] and ds["alphabet"] == "protein":
        raise ConfigError(
            f"config key {key}.double_stranded: protein has no reverse complement (set double_stranded: false)"
        )
    kind = ds["kind"]
    if kind == "mutation_effect":
        raise ConfigError(f"config key {key}.kind: mutation_effect is the kind of alignment datasets")
    if ds["classes"] is not None and kind not in CLASS_KINDS:
        raise ConfigError(f"config key {key}.classes: only for kinds {', '.join(CLASS_KINDS)}, not {kind}")
    if ds["classes"] is not None and len(ds["classes"]) < 2:
        raise ConfigError(f"config key {key}.classes: at least two classes")
    if ds["loss"] != "default" and kind != "regression":
        raise ConfigError(f"config key {key}.loss: only for kind regression, not {kind}")
    table = ds.get("table")
    if table and kind in ("multiclass", "per_position") and len(table["label_columns"]) != 1:
        raise ConfigError(f"config key {key}.table.label_columns: kind {kind} reads one label column")


def _check_dataset_models(cfg: dict[str, Any]) -> None:
    """A dataset's own ``models`` pick from the top-level list."""
    for name, ds in cfg["datasets"].items():
        for model in ds.get("models") or []:
            if model not in cfg["models"]:
                raise ConfigError(
                    f"config key datasets.{name}.models: {model!r} is not in the top-level models {cfg['models']}"
                )


def _check_models_fit(cfg: dict[str, Any]) -> None:
    """Every dataset gets at least one model that supports its kind."""
    from genomicdl.config.plan import dataset_kind, runs

    for name, ds in cfg["datasets"].items():
        if not any(True for _ in runs(cfg, name)):
            kind = dataset_kind(ds)
            fitting = models_for(kind)
            raise ConfigError(
                f"config key models: none of {cfg['models']} (with balance {cfg['balance']}) can train dataset "
                f"{name} of kind {kind}; models for it: {', '.join(fitting)}"
            )


def chrom_key(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """The name a chromosome has whatever its spelling: chr4, 4, chrIV and IV are '4';
    chrM, MT are 'M'. A lone X stays X (the sex chromosome of most genomes)."""
    name = (aliases or {}).get(name, name)
    stem = name[3:] if name.lower().startswith("chr") else name
    if stem.lower() in _MITO:
        return "M"
    if stem.isdigit():
        return str(int(stem))
    if stem and stem != "X" and _ROMAN.fullmatch(stem):
        values = [_ROMAN_VALUE[c] for c in stem]
        return str(sum(-v if v < max(values[i + 1 :], default=0) else v for i, v in enumerate(values)))
    return stem


def _check_chromosome_split(key: str, split: dict[str, Any], aliases: Mapping[str, str] | None = None) -> None:
    valid, test = split["valid"], split["test"]
    if isinstance(valid, list) != isinstance(test, list):
        raise ConfigError(f"config key {key}.split: valid and test must both be chromosome lists or both be fractions")
    if isinstance(valid, list):
        both = sorted(set(valid) & set(test))
        if both:
            raise ConfigError(f"config key {key}.split: {both} in both valid and test")
        tested = {chrom_key(c, aliases): c for c in test}
        same = [(v, tested[chrom_key(v, aliases)]) for v in valid if chrom_key(v, aliases) in tested]
        if same:
            pairs = ", ".join(f"{v} (valid) and {t} (test)" for v, t in same)
            raise ConfigError(
                f"config key {key}.split: {pairs} are the same chromosome under another name; "
                "hold each chromosome out once (valid or test)"
            )
    elif valid + test >= 1:
        raise ConfigError(f"config key {key}.split: valid + test fractions must be below 1")


def _check_table(key: str, ds: dict[str, Any]) -> None:
    table = ds["table"]
    split = ds["split"]
    if isinstance(split["valid"], list) or isinstance(split["test"], list):
        raise ConfigError(f"config key {key}.split: tables split by fractions (numbers), not chromosome lists")
    files = [s for s in SPLIT_NAMES if s in table]
    if table.get("url") and files:
        raise ConfigError(f"config key {key}.table: give url (one file) or train/valid/test files, not both")
    if not table.get("url") and "train" not in table:
        raise ConfigError(f"config key {key}.table: needs url or train")
    if ds.get("blacklist") is not None:
        raise ConfigError(f"config key {key}.blacklist: needs a genome dataset")
    try:
        pattern = re.compile(table["label_pattern"])
    except re.error as err:
        raise ConfigError(f"config key {key}.table.label_pattern: {err}") from err
    if pattern.groups < 1:
        raise ConfigError(f"config key {key}.table.label_pattern: needs one (group) for the label")


def resolve_paths(cfg: dict[str, Any], base: str | Path) -> dict[str, Any]:
    """Make every relative plain-path url absolute against ``base`` (used for the
    embedded default config, whose bundled files live in the repository)."""
    base = Path(base)

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "url" and isinstance(value, str) and not value.startswith(URL_SCHEMES):
                    out[key] = str(base / value) if not Path(value).is_absolute() else value
                else:
                    out[key] = fix(value)
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(cfg)


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge ``override`` into a copy of ``base`` (as --config does)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
