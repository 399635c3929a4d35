"""Model cards: what a model was trained on and how well it does, beside its export.

One card per trained model, as JSON (``model_card.json``) and Markdown (``model_card.md``):
the dataset (every source with its configured and measured sha256), alphabet, window,
target kind, tasks and classes, the training config and seed, the split and its leakage
checks (from the dataset's summary.json), validation and test metrics with 95% bootstrap
intervals (test from the evaluate stage; validation resampled here from arrays.npz),
the published figures beside them, package versions and the command that reproduces it.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from genomicdl.core.files import write_json_atomic, write_text_atomic

CARD_FORMAT = "genomicdl-model-card/1"


def sha256(path: str | Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of the packages a model depends on (those installed)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("genomicdl", "torch", "numpy", "scikit-learn", "onnx", "onnxruntime", "pysam", "snakemake"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def test_metrics(metrics_tsv: str | Path) -> list[dict[str, Any]]:
    """The evaluate stage's test metrics (value, 95% interval) of one run."""
    table = pd.read_csv(metrics_tsv, sep="\t")
    table = table[table["split"] == "test"]
    return [
        {
            "task": str(r.task),
            "metric": str(r.metric),
            "value": _finite(r.value),
            "lo": _finite(r.lo),
            "hi": _finite(r.hi),
        }
        for r in table.itertuples()
    ]


def validation_metrics(arrays_npz: str | Path, bootstrap: int, seed: int) -> list[dict[str, Any]]:
    """Validation metrics with 95% bootstrap intervals, from the run's arrays.npz (the
    evaluate stage leaves validation rows without intervals: it selects on them)."""
    from genomicdl.io.run_arrays import load_arrays
    from genomicdl.metrics import kind_metrics

    a = load_arrays(arrays_npz)
    rows = kind_metrics(
        a.kind,
        y_valid=a.y_valid,
        p_valid=a.p_valid,
        y_test=a.y_valid,
        p_test=a.p_valid,
        tasks=a.tasks,
        classes=a.classes,
        bootstrap=bootstrap,
        seed=seed,
    )
    return [
        {
            "task": r["task"],
            "metric": r["metric"],
            "value": _finite(r["value"]),
            "lo": _finite(r["lo"]),
            "hi": _finite(r["hi"]),
        }
        for r in rows
        if r["split"] == "test"
    ]


def sources(files: Mapping[str, tuple[str, Mapping[str, Any]]], local: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each input of the dataset: role, url, the configured and the measured sha256."""
    out = []
    for role, (name, source) in files.items():
        path = local.get(role)
        measured = sha256(path) if path and Path(path).is_file() else None
        out.append(
            {
                "role": role,
                "file": name,
                "url": source.get("url"),
                "sha256_configured": source.get("sha256"),
                "sha256": measured,
            }
        )
    return out


def build_card(
    *,
    run: Mapping[str, Any],
    meta: Mapping[str, Any],
    summary: Mapping[str, Any],
    sources_: Sequence[Mapping[str, Any]],
    test: Sequence[Mapping[str, Any]],
    valid: Sequence[Mapping[str, Any]],
    published: Sequence[Mapping[str, Any]],
    export: Mapping[str, Any] | None,
    command: str,
) -> dict[str, Any]:
    """The card as a JSON-able dict (see the module docstring for what it holds)."""
    target = meta.get("target") or summary.get("target") or {}
    return {
        "format": CARD_FORMAT,
        "run": dict(run),
        "model": {
            "name": meta.get("model", run.get("model")),
            "family": meta.get("family", "torch"),
            "params": meta.get("params", {}),
            "parameters": meta.get("parameters"),
            "best_epoch": meta.get("best_epoch"),
            "init_from": meta.get("init_from"),
        },
        "dataset": {
            "name": run.get("dataset"),
            "sources": list(sources_),
            "alphabet": summary.get("alphabet"),
            "window": summary.get("window", meta.get("window")),
            "variable_length": summary.get("variable_length"),
        },
        "target": {
            "kind": target.get("kind"),
            "tasks": target.get("tasks"),
            "classes": target.get("classes"),
            "loss": target.get("loss"),
        },
        "training": {
            "config": meta.get("train", {}),
            "seed": run.get("seed"),
            "balance": run.get("balance"),
            "double_stranded": meta.get("double_stranded"),
            "rc_average": meta.get("rc_average"),
        },
        "split": {
            "splits": summary.get("splits"),
            "leakage_policy": summary.get("leakage_policy"),
            "leakage_shared_sequences": summary.get("leakage_shared_sequences"),
            "leakage_near_duplicates": summary.get("leakage_near_duplicates"),
            "leakage_overlaps": summary.get("leakage_overlaps"),
            "homology": summary.get("homology"),
            "split_settings": summary.get("split"),
        },
        "metrics": {
            "validation": list(valid),
            "test": list(test),
            "interval": "95% percentile bootstrap over sequences (test: the evaluate stage's)",
        },
        "published": [dict(p) for p in published],
        "export": dict(export) if export else None,
        "versions": {"trained_with": meta.get("versions"), "exported_with": package_versions()},
        "command": command,
    }


def _fmt(v: Any) -> str:
    return "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def _metric_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["| task | metric | value | 95% CI |", "|---|---|---|---|"]
    for r in rows:
        ci = f"[{_fmt(r['lo'])}, {_fmt(r['hi'])}]" if r.get("lo") is not None else ""
        lines.append(f"| {r['task']} | {r['metric']} | {_fmt(r['value'])} | {ci} |")
    return lines


def markdown(card: Mapping[str, Any]) -> str:
    """The card as Markdown."""
    run, ds, tg, tr, sp = card["run"], card["dataset"], card["target"], card["training"], card["split"]
    name = f"{run['dataset']} / {run['model']} / {run['balance']} / seed {run['seed']}"
    out = [
        f"# Model card: {name}",
        "",
        "## Model",
        "",
        f"- architecture: `{card['model']['name']}` ({card['model']['family']}), parameters "
        f"{_fmt(card['model']['parameters'])}, hyper-parameters `{json.dumps(card['model']['params'])}`",
    ]
    if card["model"].get("init_from"):
        out.append(f"- fine-tuned from: `{json.dumps(card['model']['init_from'])}`")
    exp = card.get("export")
    if exp:
        v = exp["validation"]
        out += [
            f"- files: `{exp['files']['onnx']}` (ONNX opset {exp['opset']}, {exp.get('onnx_exporter')} "
            f"exporter), `{exp['files']['torchscript']}` (TorchScript)",
            f"- input: {exp['inputs']['x']}"
            + (f"; lengths: {exp['inputs']['lengths']}" if "lengths" in exp["inputs"] else ""),
            f"- output `y`: {exp['output']['y']} ({exp['output']['kind']})",
            f"- validated with onnxruntime on {v['windows']} test windows: max |onnxruntime - PyTorch| "
            f"{v['max_abs_diff_onnxruntime']:.3g}, max |TorchScript - PyTorch| {v['max_abs_diff_torchscript']:.3g} "
            f"(tolerance {v['tolerance']:g})",
        ]
    else:
        out.append("- kept in its own pickle-free format (`model.npz`): classical baselines are not exported")
    out += [
        "",
        "## Dataset",
        "",
        f"- alphabet {ds['alphabet']}, window {ds['window']}"
        + (" (variable lengths)" if ds.get("variable_length") else ""),
        f"- target: {tg['kind']}; tasks {tg['tasks']}"
        + (f"; classes {tg['classes']}" if tg.get("classes") else "")
        + f"; loss {tg['loss']}",
        "",
        "| role | file | url | sha256 |",
        "|---|---|---|---|",
    ]
    for s in ds["sources"]:
        out.append(f"| {s['role']} | {s['file']} | {s['url']} | `{s['sha256'] or s['sha256_configured']}` |")
    out += [
        "",
        "## Training",
        "",
        f"- seed {tr['seed']}, balance {tr['balance']}, double-stranded "
        f"{tr['double_stranded']}, strand-averaged predictions {tr['rc_average']}",
        f"- config: `{json.dumps(tr['config'], sort_keys=True)}`",
        "",
        "## Split and leakage checks",
        "",
    ]
    for key in (
        "splits",
        "leakage_policy",
        "leakage_shared_sequences",
        "leakage_near_duplicates",
        "leakage_overlaps",
        "homology",
    ):
        if sp.get(key) is not None:
            out.append(f"- {key}: `{json.dumps(sp[key], sort_keys=True)}`")
    out += [
        "",
        "## Metrics",
        "",
        f"Intervals: {card['metrics']['interval']}.",
        "",
        "### Validation",
        "",
        *_metric_lines(card["metrics"]["validation"]),
        "",
        "### Test",
        "",
        *_metric_lines(card["metrics"]["test"]),
    ]
    if card["published"]:
        out += ["", "## Published figures", "", "| metric | value | model | task | source |", "|---|---|---|---|---|"]
        for p in card["published"]:
            out.append(
                f"| {p['metric']} | {p['value']} | {p.get('model', '')} | {p.get('task') or 'all'} | {p['source']} |"
            )
    out += [
        "",
        "## Versions",
        "",
        f"- trained with: `{json.dumps(card['versions']['trained_with'])}`",
        f"- exported with: `{json.dumps(card['versions']['exported_with'])}`",
        "",
        "## Reproduce",
        "",
        "```",
        card["command"],
        "```",
        "",
    ]
    return "\n".join(out)


def write_card(card: Mapping[str, Any], out_dir: str | Path) -> None:
    """model_card.json and model_card.md in ``out_dir`` (each written atomically)."""
    out_dir = Path(out_dir)
    write_json_atomic(out_dir / "model_card.json", card)
    write_text_atomic(out_dir / "model_card.md", markdown(card))
