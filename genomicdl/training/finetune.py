"""Fine-tuning: start a dataset's networks from another dataset's trained model, behind a
leakage guard.

``datasets.<name>.init_from`` names the source run -- ``{dataset, model, balance, seed}``,
each omitted key taken from the run being trained -- or a file (a trained model.pt, or
the model.ts of an export folder). The network keeps the source's trunk; its head is
copied when the targets are the same (kind, tasks, classes) and trained afresh when they
differ. ``freeze`` stops the gradient of the whole trunk (true) or of named top-level
modules; the trunk's learning rate is the head's times ``trunk_lr``.

The guard runs before the first epoch: the new dataset's test sequences against the
source run's training rows -- identical sequences, and near-identical ones within
``max_mismatches`` substitutions (genomicdl.datasets.families, as the split's leakage check) --
and, when both are genome windows, test windows overlapping a source training window.
``leakage``: warn (count and log), drop (count; the evaluate stage leaves those test rows
out for this run) or fail (an error with the counts). The counts go to the run's
train_stats.json, model.pt and model card.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genomicdl.core import paths
from genomicdl.core.errors import GenomicdlError

if TYPE_CHECKING:  # torch is imported where a network is touched: the Snakefile reads this module
    import torch

log = logging.getLogger(__name__)

#: Top-level modules that make a network's head (the rest is its trunk).
HEADS = ("head", "profile", "counts")
DEFAULTS = {
    "balance": None,
    "seed": None,
    "model": None,
    "freeze": False,
    "trunk_lr": 0.1,
    "leakage": "fail",
    "max_mismatches": 2,
    "file": None,
    "store": None,
    "index": None,
}


class InitError(GenomicdlError):
    """An init_from that cannot start this network (another alphabet, window, model...)."""


# ------------------------------------------------------------------ config -> source run


def spec(config: Mapping[str, Any], dataset: str, model: str, balance: str, seed: int | str) -> dict[str, Any] | None:
    """The resolved init_from of one run (None when the dataset has none or the source
    is a run of another architecture)."""
    raw = config["datasets"][dataset].get("init_from")
    if not raw:
        return None
    s = DEFAULTS | dict(raw)
    if s["file"]:  # another architecture's file (when named) leaves this run from scratch
        return None if s["model"] not in (None, model) else s | {"model": model}
    s["model"] = s["model"] or model
    if s["model"] != model:
        return None
    s["balance"] = s["balance"] or balance
    s["seed"] = int(s["seed"] if s["seed"] is not None else seed)
    run = (s["dataset"], s["model"], s["balance"], s["seed"])
    s["file"] = paths.run_path(paths.MODEL, run)
    s["store"] = paths.run_path(paths.STORE, run)
    s["index"] = paths.run_path(paths.INDEX, run)
    return s


def inputs(config: Mapping[str, Any], dataset: str, model: str, balance: str, seed: int | str) -> list[str]:
    """Files a fine-tuning run needs: the source model, its store and training index."""
    s = spec(config, dataset, model, balance, seed)
    if s is None:
        return []
    return [p for p in (s["file"], s["store"], s["index"]) if p]


def check_config(config: Mapping[str, Any]) -> None:
    """init_from names a known dataset other than itself (checked before any job)."""
    for name, ds in config["datasets"].items():
        raw = ds.get("init_from")
        if not raw:
            continue
        src = raw.get("dataset")
        if src is None and raw.get("file") is None:
            raise InitError(f"datasets.{name}.init_from: name a source dataset (dataset:) or a model file (file:)")
        if raw.get("file") is None and src not in config["datasets"]:
            raise InitError(f"datasets.{name}.init_from.dataset: {src!r} is not a dataset of the config")
        if src == name:
            raise InitError(f"datasets.{name}.init_from.dataset: a dataset cannot start from its own model")
        if raw.get("file") is None:  # what the config already says; the training job checks the files
            for key in ("alphabet", "window"):
                mine, theirs = ds.get(key), config["datasets"][src].get(key)
                if mine is not None and theirs is not None and mine != theirs:
                    raise InitError(
                        f"datasets.{name}.init_from: {name} has {key} {mine}, its source {src} has "
                        f"{theirs} -- a network cannot start from a model of another {key}"
                    )


# ------------------------------------------------------------------ the source model


def load_source(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(network state_dict, description) of a trained model.pt or an exported model.ts."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise InitError(f"init_from: {path} does not exist (train the source run first)")
    if path.suffix == ".ts":
        import json
        import warnings

        with warnings.catch_warnings():  # torch.jit is deprecated, still supported
            warnings.simplefilter("ignore")
            scripted = torch.jit.load(str(path), map_location="cpu")
        info = json.loads(path.with_name("export.json").read_text())
        card = json.loads(path.with_name("model_card.json").read_text())
        state = {k.removeprefix("net."): v for k, v in scripted.state_dict().items() if k.startswith("net.")}
        meta = {
            "model": info["model"],
            "params": card["model"]["params"],
            "alphabet": info["alphabet"],
            "window": info["window"],
            "variable": bool(info.get("variable")),
            "target": {k: info["output"][k] for k in ("kind", "tasks", "classes", "loss")},
        }
        return state, meta
    from genomicdl.training.checkpoints import MODEL_FORMAT, load_torch

    saved = load_torch(path)
    if saved.get("format") != MODEL_FORMAT:
        raise InitError(f"init_from: {path} is not a {MODEL_FORMAT} model file")
    return saved.pop("state_dict"), saved


def check_compatible(
    source: Mapping[str, Any],
    path: str | Path,
    *,
    model: str,
    alphabet: str,
    window: int,
    dataset: str,
    variable: bool = False,
) -> None:
    """The source must be the same architecture over the same alphabet and window. Two
    variable-length stores (proteins) may differ in window: there it is only the longest
    sequence, and a network that takes any length has no parameter sized by it (a shape
    that still differs is refused when the weights are copied)."""
    if source["alphabet"] != alphabet:
        raise InitError(
            f"init_from: {path} was trained on {source['alphabet']} sequences; {dataset} has {alphabet} "
            "sequences -- a network cannot start from a model of another alphabet"
        )
    if int(source["window"]) != int(window) and not (variable and source.get("variable")):
        raise InitError(
            f"init_from: {path} was trained on windows of {source['window']}; {dataset} has windows of "
            f"{window} -- set datasets.{dataset}.window to {source['window']} or start from scratch"
        )
    if source["model"] != model:
        raise InitError(f"init_from: {path} is a {source['model']} network; this run trains {model}")


def is_head(name: str) -> bool:
    return name.split(".", 1)[0] in HEADS


def initialise(
    net: torch.nn.Module, state: Mapping[str, torch.Tensor], *, same_targets: bool, freeze: bool | list[str]
) -> dict[str, Any]:
    """Copy the source's trunk (and head, for the same targets) into ``net``; freeze what is
    asked. Returns what was copied, kept fresh and frozen."""
    own = net.state_dict()
    copied, fresh = [], []
    for name, value in own.items():
        if is_head(name) and not same_targets:
            fresh.append(name)
        elif name in state and state[name].shape == value.shape:
            own[name] = state[name].clone()
            copied.append(name)
        else:
            raise InitError(
                f"init_from: the source network has no parameter {name} of shape {tuple(value.shape)} "
                "(another configuration of the model: use the same model_params)"
            )
    net.load_state_dict(own)
    frozen = []
    for name, p in net.named_parameters():
        top = name.split(".", 1)[0]
        if not is_head(name) and (freeze is True or (isinstance(freeze, list) and top in freeze)):
            p.requires_grad_(False)
            frozen.append(name)
    return {"copied": len(copied), "new_head": sorted({n.split(".", 1)[0] for n in fresh}), "frozen": len(frozen)}


def param_groups(net: torch.nn.Module, lr: float, trunk_lr: float) -> list[dict[str, Any]]:
    """Optimiser groups: the head at ``lr`` (first: the reported learning rate), the trunk
    at ``lr * trunk_lr``; frozen parameters are left out."""
    head = [p for n, p in net.named_parameters() if p.requires_grad and is_head(n)]
    trunk = [p for n, p in net.named_parameters() if p.requires_grad and not is_head(n)]
    return [g for g in ({"params": head, "lr": lr}, {"params": trunk, "lr": lr * trunk_lr}) if g["params"]]


# ------------------------------------------------------------------ the leakage guard


def _sequences(store: Any, rows: np.ndarray) -> list[bytes]:
    """Codes of ``rows`` (unique, sorted) as bytes, trimmed to each row's length."""
    lengths = store.lengths
    return [
        c[: lengths[r]].tobytes()
        for batch_rows, codes, *_ in store.batches(rows, 1024, bucket=False)
        for r, c in zip(batch_rows.tolist(), codes)
    ]


def _hashes(store: Any, rows: np.ndarray) -> np.ndarray:
    """64-bit hashes of the sequences of ``rows``, streamed (genome-sized row sets)."""
    lengths = store.lengths
    return np.array(
        [
            hash(c[: lengths[r]].tobytes())
            for batch_rows, codes, *_ in store.batches(rows, 4096, bucket=False)
            for r, c in zip(batch_rows.tolist(), codes)
        ],
        np.int64,
    )


def _intervals(store: Any, rows: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    chroms = [store.chroms[c] for c in store.column("chrom")[rows]]
    start = store.column("start")[rows].astype(np.int64)
    return chroms, start, start + store.lengths[rows].astype(np.int64)


def _merged(chroms: list[str], start: np.ndarray, end: np.ndarray):
    """Sorted, merged intervals per chromosome (genomicdl.datasets.windows.IntervalSet)."""
    from genomicdl.datasets.windows import IntervalSet

    by: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    names = np.asarray(chroms)
    for c in sorted(set(chroms)):
        sel = names == c
        order = np.argsort(start[sel], kind="stable")
        s, e = start[sel][order], end[sel][order]
        reach = np.maximum.accumulate(e)
        new = np.concatenate([[True], s[1:] >= reach[:-1]])
        by[c] = (s[new], np.maximum.reduceat(e, np.flatnonzero(new)))
    return IntervalSet(by)


def guard(*, store: str, source_store: str, source_index: str, policy: str, max_mismatches: int = 2) -> dict[str, Any]:
    """Test rows of ``store`` that the source run trained on (identical, near-identical,
    overlapping genome windows). warn/drop: the counts (and, for drop, the rows to leave
    out of the test split); fail: an InitError naming the counts."""
    from genomicdl.datasets.families import near_duplicates
    from genomicdl.io.store import Store
    from genomicdl.training.rebalance import load_index

    train_rows = np.unique(load_index(source_index)[0])
    with Store(store) as new, Store(source_store) as src:
        test_rows = new.rows("test")
        exact = np.isin(_hashes(new, test_rows), _hashes(src, train_rows))
        genome = bool((new.column("start")[test_rows] >= 0).all() and (src.column("start")[train_rows] >= 0).all())
        near = np.zeros(len(test_rows), bool)
        if not genome and max_mismatches > 0:  # tables: near-identical sequences (genomes: overlaps below)
            near = near_duplicates(_sequences(src, train_rows), _sequences(new, test_rows), max_mismatches) & ~exact
        overlap = np.zeros(len(test_rows), bool)
        if genome and len(test_rows) and len(train_rows):
            intervals = _merged(*_intervals(src, train_rows))
            chroms, lo, hi = _intervals(new, test_rows)
            names = np.asarray(chroms)
            for c in set(chroms):
                sel = names == c
                overlap[sel] = intervals.overlaps(c, lo[sel], hi[sel])
        leaked = exact | near | overlap
        examples = new.ids(test_rows[leaked][:5]) if leaked.any() else []
    counts = {
        "test_rows": len(test_rows),
        "source_training_rows": len(train_rows),
        "identical": int(exact.sum()),
        "near_identical": int(near.sum()),
        "overlapping": int(overlap.sum()),
        "leaked": int(leaked.sum()),
        "max_mismatches": max_mismatches,
        "policy": policy,
    }
    if counts["leaked"]:
        message = (
            f"init_from leakage: {counts['leaked']} of {len(test_rows)} test sequences of {store} are in the "
            f"source model's training data ({counts['identical']} identical, {counts['near_identical']} within "
            f"{max_mismatches} mismatches, {counts['overlapping']} overlapping windows; e.g. {', '.join(examples)})"
        )
        if policy == "fail":
            raise InitError(f"{message}; set init_from.leakage to drop (leave them out of the test) or warn")
        log.warning("%s; %s", message, "left out of this run's test split" if policy == "drop" else "kept")
    else:
        log.info(
            "init_from leakage guard: none of %d test sequences is in the source's %d training rows",
            len(test_rows),
            len(train_rows),
        )
    counts["dropped_test_rows"] = test_rows[leaked].tolist() if policy == "drop" else []
    return counts


def excluded_test_rows(model_path: str | Path) -> np.ndarray:
    """Test rows a fine-tuned run's guard dropped (empty for other runs and baselines)."""
    if Path(model_path).suffix != ".pt":
        return np.empty(0, np.int64)
    from genomicdl.training.checkpoints import load_torch

    init = load_torch(model_path).get("init_from") or {}
    return np.asarray((init.get("guard") or {}).get("dropped_test_rows", []), np.int64)


# ------------------------------------------------------------------ the engine's hook


def prepare(
    net: torch.nn.Module,
    init: Mapping[str, Any],
    *,
    model: str,
    store: str,
    target: Any,
    alphabet: str,
    window: int,
    lr: float,
    variable: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Load the source into ``net`` after the guard; returns (optimiser groups, report)."""
    state, meta = load_source(init["file"])
    dataset = Path(store).parent.name
    check_compatible(
        meta, init["file"], model=model, alphabet=alphabet, window=window, dataset=dataset, variable=variable
    )
    report: dict[str, Any] = {k: init.get(k) for k in ("dataset", "model", "balance", "seed", "file")}
    if init.get("store") and init.get("index"):
        report["guard"] = guard(
            store=store,
            source_store=init["store"],
            source_index=init["index"],
            policy=init["leakage"],
            max_mismatches=int(init["max_mismatches"]),
        )
    else:
        if init["leakage"] == "fail":
            raise InitError(
                f"init_from: {init['file']} comes without its training data (init_from.store and "
                "init_from.index): the leakage guard cannot run; set leakage to warn to go on unchecked"
            )
        log.warning("init_from: %s comes without its training data: leakage not checked", init["file"])
        report["guard"] = {"checked": False, "policy": init["leakage"], "dropped_test_rows": []}
    src_target = meta["target"]
    same = (src_target["kind"], list(src_target["tasks"]), list(src_target.get("classes") or ())) == (
        target.kind,
        list(target.tasks),
        list(target.classes),
    )
    freeze = init.get("freeze", False)
    report |= initialise(net, state, same_targets=same, freeze=freeze if isinstance(freeze, list) else bool(freeze))
    report |= {"same_targets": same, "trunk_lr": float(init["trunk_lr"]), "freeze": freeze}
    log.info(
        "init_from %s: %d tensors copied, new head %s, %d frozen, trunk learning rate x%g",
        init["file"],
        report["copied"],
        report["new_head"] or "none",
        report["frozen"],
        report["trunk_lr"],
    )
    return param_groups(net, lr, float(init["trunk_lr"])), report


def summary(report: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The report without the dropped rows (their count stays): for train_stats.json."""
    if not report:
        return None
    g = dict(report.get("guard") or {})
    g["dropped"] = len(g.pop("dropped_test_rows", []))
    return dict(report) | {"guard": g}
