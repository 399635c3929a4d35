"""Hyper-parameter search: one Optuna study per (dataset, network), one Snakemake job per trial.

The study lives in a journal file (``JournalStorage`` on a ``JournalFileBackend``: no
database server; its file lock keeps concurrent trial jobs of one study from colliding),
so ``--cores``, ``--resources gpu=N`` and SLURM run trials side by side. Each job asks
the study for a trial (ask-and-tell), trains it with the normal engine on the training
index and the validation split, reports the validation score every epoch to a median
pruner and tells the study the best validation score. The test split is never read:
a trial's index is checked to hold no test row, and the engine validates on the valid
rows only. ``write_best`` picks the best completed trial (validation only) into
``best.yaml``, which the train rules read.

The search space and the plan (which pairs are tuned, what a train job then uses) are
:mod:`genomicdl.config.tuning`'s, importable without Optuna or PyTorch; this module runs
the trials.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import resource
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from genomicdl.config.tuning import search_space
from genomicdl.core.errors import InputError
from genomicdl.core.files import write_json_atomic, write_text_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.models.catalog import TRAIN_PARAMS, Range

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)

TRIAL_FORMAT = "genomicdl-tune-trial-1"


def study_name(*, dataset: str, model: str, space: Mapping[str, Range], settings: Mapping[str, Any]) -> str:
    """The study's name: dataset/model and a fingerprint of what defines the search, so
    a changed space or training setting starts a new study in the same journal."""
    text = json.dumps({"space": {k: vars(v) for k, v in space.items()}, **settings}, sort_keys=True, default=str)
    return f"{dataset}/{model}/{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def split_params(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model parameters, training settings) of a trial's sampled values."""
    model = {k: v for k, v in values.items() if k not in TRAIN_PARAMS}
    train = {k: v for k, v in values.items() if k in TRAIN_PARAMS}
    return model, train


# ------------------------------------------------------------------ Optuna


def open_study(*, journal: str, name: str, sampler_seed: int, startup_trials: int, prune_warmup: int) -> optuna.Study:
    """Create or load the study ``name`` in the journal file (maximising the score)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    Path(journal).parent.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(journal))
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=startup_trials)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=prune_warmup)
    return optuna.create_study(
        storage=storage, sampler=sampler, pruner=pruner, study_name=name, direction="maximize", load_if_exists=True
    )


def suggest(trial: optuna.Trial, space: Mapping[str, Range]) -> dict[str, Any]:
    """Sample every parameter of ``space`` (integers when both bounds are integers)."""
    values: dict[str, Any] = {}
    for param, r in space.items():
        if r.choices:
            values[param] = trial.suggest_categorical(param, list(r.choices))
        elif isinstance(r.low, int) and isinstance(r.high, int) and not isinstance(r.low, bool):
            values[param] = trial.suggest_int(param, r.low, r.high, log=r.log)
        else:
            values[param] = trial.suggest_float(param, float(r.low), float(r.high), log=r.log)
    return values


def check_training_only(store: str, index: str) -> None:
    """Fail unless the training index holds no test (or validation) row."""
    from genomicdl.io.store import Store
    from genomicdl.training.rebalance import load_index

    rows, _, _ = load_index(index)
    with Store(store) as st:
        held_out = np.union1d(st.rows("test"), st.rows("valid"))
    if np.isin(rows, held_out).any():
        raise InputError(index, f"the training index holds validation or test rows of {store}; rerun rebalance")


def pruning_callback(trial: optuna.Trial) -> Callable[[int, float], None]:
    """The engine's per-epoch callback: report the validation score, prune when told."""
    import optuna

    def report(epoch: int, score: float) -> None:
        if math.isnan(score):
            return
        trial.report(score, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(f"epoch {epoch}: validation score {score:.4f} below the median")

    return report


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _earlier_attempt(study: optuna.Study, job: int) -> optuna.trial.FrozenTrial | None:
    """A finished trial of this job from an earlier attempt; a killed one is marked failed."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False):
        if t.user_attrs.get("job") != job:
            continue
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            return t
        if t.state == TrialState.RUNNING:
            study.tell(t.number, state=TrialState.FAIL)
    return None


def trial_record(t: optuna.trial.FrozenTrial, *, study: str, job: int) -> dict[str, Any]:
    """What a trial job writes: its state, values, score and cost."""
    model_params, train_params = split_params(t.params)
    value = t.value if t.value is not None else None
    return {
        "format": TRIAL_FORMAT,
        "study": study,
        "job": job,
        "number": t.number,
        "state": t.state.name.lower(),
        "value": value,
        "metric": t.user_attrs.get("metric"),
        "params": model_params,
        "train": train_params,
        "epochs": t.user_attrs.get("epochs", len(t.intermediate_values)),
        "best_epoch": t.user_attrs.get("best_epoch"),
        "cpu_seconds": t.user_attrs.get("cpu_seconds"),
        "train_cpu_seconds": t.user_attrs.get("train_cpu_seconds"),
        "wall_seconds": t.user_attrs.get("wall_seconds"),
    }


# ------------------------------------------------------------------ one trial job


def _finish_trial(
    study: optuna.Study, trial: optuna.Trial, *, stats: Mapping[str, Any] | None, cost: tuple[float, float]
) -> optuna.trial.FrozenTrial:
    """Record the trial's cost and tell the study how it ended; returns the frozen trial."""
    from optuna.trial import TrialState

    trial.set_user_attr("cpu_seconds", round(_cpu_seconds(), 2))  # the whole job, imports included
    trial.set_user_attr("train_cpu_seconds", round(cost[0], 2))
    trial.set_user_attr("wall_seconds", round(cost[1], 2))
    if stats is None:
        study.tell(trial, state=TrialState.PRUNED)
    else:
        trial.set_user_attr("epochs", int(stats["epochs_run"]))
        trial.set_user_attr("best_epoch", int(stats["best_epoch"]))
        score = float(stats["best_valid_score"])
        if math.isfinite(score):
            study.tell(trial, score)
        else:
            study.tell(trial, state=TrialState.FAIL)
    return next(t for t in study.get_trials(deepcopy=False) if t.number == trial.number)


def _train_trial(
    study: optuna.Study,
    trial: optuna.Trial,
    space: Mapping[str, Range],
    *,
    run: Mapping[str, Any],
    out: str,
) -> optuna.trial.FrozenTrial:
    """Sample the trial's values, train them (pruned by the median rule), tell the study.
    ``run`` holds train_network's arguments other than the outputs and the callback."""
    import optuna

    from genomicdl.training.engine import train_network

    model_params, train_params = split_params(suggest(trial, space))
    log.info("study %s, trial %d: %s %s", study.study_name, trial.number, model_params, train_params)
    work = Path(f"{out}.work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    stats: dict[str, Any] | None = None
    try:
        stats = train_network(
            **{**run, "params": {**run["params"], **model_params}, "train": {**run["train"], **train_params}},
            out_model=str(work / "model.pt"), out_history=str(work / "history.csv"),
            out_stats=str(work / "train_stats.json"), on_epoch=pruning_callback(trial),
        )  # fmt: skip
    except optuna.TrialPruned as pruned:
        log.info("trial %d pruned: %s", trial.number, pruned)
    except BaseException:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _finish_trial(study, trial, stats=stats, cost=(_cpu_seconds() - cpu0, time.perf_counter() - wall0))


def run_trial(
    *,
    store: str,
    index: str,
    journal: str,
    dataset: str,
    model: str,
    job: int,
    params: Mapping[str, Any],
    train: Mapping[str, Any],
    tune: Mapping[str, Any],
    seed: int,
    threads: int,
    double_stranded: bool,
    out: str,
) -> dict[str, Any]:
    """Run trial job ``job`` of the (dataset, model) study: ask, train on the training
    index with validation-score pruning, tell; writes the trial's record to ``out``.
    A rerun of a job whose trial finished earlier writes that trial's record again."""
    from genomicdl.io.store import Store
    from genomicdl.training.scores import VALIDATION_SCORE

    check_training_only(store, index)
    space = search_space(model, tune["space"].get(model))
    cfg = {**train, "max_epochs": tune["max_epochs"] or train["max_epochs"]}
    settings = {"train": {k: v for k, v in cfg.items() if k not in ("device", "num_workers")}, "params": params,
                "index": index, "tune": {k: tune[k] for k in ("seed", "startup_trials", "prune_warmup")}}  # fmt: skip
    name = study_name(dataset=dataset, model=model, space=space, settings=settings)
    study = open_study(
        journal=journal, name=name, sampler_seed=stable_seed("tune", tune["seed"], dataset, model, job) % 2**32,
        startup_trials=tune["startup_trials"], prune_warmup=tune["prune_warmup"],
    )  # fmt: skip
    done = _earlier_attempt(study, job)
    if done is None:
        with Store(store) as st:
            metric = VALIDATION_SCORE[st.kind]
        trial = study.ask()
        trial.set_user_attr("job", job)
        trial.set_user_attr("metric", metric)
        run = {"store": store, "index": index, "model": model, "params": dict(params), "train": cfg, "seed": seed,
               "threads": threads, "double_stranded": double_stranded}  # fmt: skip
        done = _train_trial(study, trial, space, run=run, out=out)
    record = trial_record(done, study=name, job=job)
    log.info("trial %d: %s, %s %s", record["number"], record["state"], record["metric"], record["value"])
    write_json_atomic(out, record)
    return record


# ------------------------------------------------------------------ the study's choice


def read_trials(paths: Sequence[str]) -> list[dict[str, Any]]:
    """The records of trial jobs; a file that is not one is an error naming it."""
    records = []
    for path in paths:
        try:
            record = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(path, f"not a readable trial record ({err})") from err
        if not isinstance(record, dict) or record.get("format") != TRIAL_FORMAT:
            raise InputError(path, f"not a {TRIAL_FORMAT} record; delete it and rerun the tune stage")
        records.append(record)
    return records


def choose(records: Sequence[Mapping[str, Any]], *, where: str) -> Mapping[str, Any]:
    """The completed trial with the best validation score (the lowest number on ties)."""
    complete = [r for r in records if r["state"] == "complete" and r["value"] is not None]
    if not complete:
        states = ", ".join(sorted({r["state"] for r in records}))
        raise InputError(
            where, f"no trial completed (states: {states}); see logs/tune/, widen tune.space or add trials"
        )
    return max(complete, key=lambda r: (r["value"], -r["number"]))


def write_best(*, trials: Sequence[str], dataset: str, model: str, out: str) -> dict[str, Any]:
    """Write best.yaml: the chosen parameters and the study's summary (by validation only)."""
    records = sorted(read_trials(trials), key=lambda r: r["number"])
    best = choose(records, where=str(Path(out).parent))
    states = [r["state"] for r in records]
    summary = {
        "dataset": dataset,
        "model": model,
        "params": copy.deepcopy(best["params"]),
        "train": copy.deepcopy(best["train"]),
        "study": {
            "name": best["study"],
            "trials": len(records),
            "complete": states.count("complete"),
            "pruned": states.count("pruned"),
            "failed": states.count("fail"),
            "best_trial": best["number"],
            "metric": best["metric"],
            "best_valid_score": round(float(best["value"]), 6),
            "cpu_seconds": round(sum(r["cpu_seconds"] or 0.0 for r in records), 1),
            "train_cpu_seconds": round(sum(r.get("train_cpu_seconds") or 0.0 for r in records), 1),
            "wall_seconds": round(sum(r["wall_seconds"] or 0.0 for r in records), 1),
        },
        "trials": [
            {k: r[k] for k in ("number", "state", "value", "epochs", "cpu_seconds", "params", "train")} for r in records
        ],
    }
    write_text_atomic(out, yaml.safe_dump(summary, sort_keys=False, default_flow_style=None))
    return summary
