"""One home for path templates and enumerations (genomicdl.core.paths, genomicdl.core.enums),
and the top-level Snakefile."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO

from genomicdl.config import validation as gconfig
from genomicdl.config.tuning import best_path, trial_index
from genomicdl.core import paths
from genomicdl.core.enums import BALANCE_STRATEGIES, alternatives
from genomicdl.core.errors import ConfigError
from genomicdl.kinds.targets import BALANCE

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
RULES = [REPO / "Snakefile", REPO / "workflow" / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]


def test_templates_fill_in_the_wildcard_order() -> None:
    run = ("yeast", "deepbind", "class_weight", 3)
    assert paths.run_path(paths.METRICS, run) == "results/yeast/deepbind/class_weight/3/metrics.tsv"
    assert paths.run_path(paths.MODEL, run) == "models/yeast/deepbind/class_weight/3/model.pt"
    assert paths.fill(paths.INDEX, dataset="yeast", balance="none", seed=1) == "data/yeast/rebalance/none/1/index.npz"
    with pytest.raises(KeyError):
        paths.fill(paths.RUN_DIR, dataset="yeast")  # every wildcard must be given


def test_rules_and_package_write_no_path_template_of_their_own() -> None:
    """data/, models/ and results/ paths of a dataset or run are spelled in core/paths.py only."""
    literal = re.compile(r"""["'](data|models|results|export)/(\{|tune/|plots/)|f["'](data|models|results)/""")
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in [*RULES, *sorted((REPO / "genomicdl").rglob("*.py"))]
        if path.name != "paths.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []


def test_tuning_paths_come_from_the_templates() -> None:
    config = gconfig.validate(
        gconfig.merge(gconfig.resolve_paths(gconfig.load_yaml(REPO / "config" / "config.yaml"), str(REPO)),
                      {"tune": {"enabled": True, "trials": 2}}),
        gconfig.load_schema(SCHEMA),
    )  # fmt: skip
    dataset = next(iter(config["datasets"]))
    model = next(m for m in config["models"] if best_path(config, dataset, m))
    assert best_path(config, dataset, model) == paths.fill(paths.TUNE_BEST, dataset=dataset, model=model)
    index = trial_index(config, dataset, model)
    assert re.fullmatch(paths.INDEX.format(dataset=dataset, balance="(\\w+)", seed="(\\d+)"), index)


def test_the_balance_strategies_are_listed_once() -> None:
    schema = gconfig.load_schema(SCHEMA)
    assert schema["properties"]["balance"]["items"]["enum"] == list(BALANCE_STRATEGIES)
    assert "enum:" not in SCHEMA.read_text().split("\n  balance:\n", 1)[1].split("\n  seeds:\n", 1)[0]
    for kind, allowed in BALANCE.items():  # every kind allows a subset, in the same order
        assert [s for s in BALANCE_STRATEGIES if s in allowed] == list(allowed), kind
    assert re.fullmatch(alternatives(BALANCE_STRATEGIES), "class_weight")
    assert not re.fullmatch(alternatives(BALANCE_STRATEGIES), "smote")
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert "balance=alternatives(BALANCE_STRATEGIES)" in common


def test_a_bad_strategy_is_named_with_the_choices() -> None:
    raw = gconfig.merge(gconfig.resolve_paths(gconfig.load_yaml(REPO / "config" / "config.yaml"), str(REPO)),
                        {"balance": ["none", "smote"]})  # fmt: skip
    with pytest.raises(ConfigError, match=r"balance\.1.*smote.*") as err:
        gconfig.validate(raw, gconfig.load_schema(SCHEMA))
    assert "focal" in str(err.value)  # the allowed strategies are listed


def dry_run_jobs(*args: str) -> dict[str, int]:
    """rule -> job count of a real `snakemake -n` from the repository root."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    stats = result.stdout.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def test_the_top_level_snakefile_runs_the_workflow() -> None:
    """`snakemake` at the root (the top-level Snakefile) plans the jobs of workflow/Snakefile."""
    root = dry_run_jobs()
    catalog = dry_run_jobs("--snakefile", "workflow/Snakefile")
    assert root.pop("default") == catalog.pop("all") == 1  # the root's target is rule all's inputs
    assert root == catalog
    assert {"preprocess", "train_network", "evaluate", "summarize"} <= set(root)
