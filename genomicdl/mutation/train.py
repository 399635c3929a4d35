"""Train mutation-effect models on a prepared alignment and score deep mutational scans.

Training: Adam on the model's objective; batches are drawn in proportion to the sequence
weights from a generator seeded by (seed, step), and the global RNG (VAE noise) is
reseeded the same way at every step, so a run resumed from its checkpoint (written
atomically every ``checkpoint_every`` steps: model, optimiser, step, history) continues
exactly as an uninterrupted one and the same seed gives the same model on CPU.
``batch_size: 0`` uses every sequence at every step with its weight (full batch).

Rebalancing: sequence reweighting is this kind's rebalancing. Balance ``none`` gives
every sequence weight 1; ``class_weight`` uses the theta weights of the data stage
(1 / neighbours within identity 1 - theta). Other strategies do not apply.
"""

from __future__ import annotations

import csv
import gzip
import importlib
import json
import pickle
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from genomicdl.core.errors import ConfigError
from genomicdl.core.files import atomic_output, write_json_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.io.alignment import Alignment, load_alignment
from genomicdl.io.scans import Scan, mutant_codes, read_scan
from genomicdl.models.catalog import CATALOG
from genomicdl.models.mutation.params import split_params  # noqa: F401 (entry scripts import it from here)

BALANCES = ("none", "class_weight")
KIND = "mutation_effect"
METRIC_COLUMNS = ["dataset", "model", "balance", "seed", "kind", "task", "split", "metric", "value", "lo", "hi"]


def build_model(name: str, length: int, params: dict[str, Any]) -> torch.nn.Module:
    """Instantiate a registry model of family "mutation" for an alignment of ``length`` columns."""
    entry = CATALOG.get(name)
    if entry is None or entry.family != "mutation":
        raise ConfigError(f"model {name!r} is not a mutation-effect model of the registry")
    module, cls = entry.target.split(":")
    return getattr(importlib.import_module(module), cls)(length, **params)


def balance_weights(aln: Alignment, balance: str) -> np.ndarray:
    """Uniform weights for ``none``, the theta weights for ``class_weight``."""
    if balance == "none":
        return np.ones(len(aln.codes), dtype=np.float32)
    if balance == "class_weight":
        if aln.weights is None:
            raise ConfigError("balance class_weight needs sequence weights in the prepared alignment")
        return aln.weights.astype(np.float32)
    raise ConfigError(f"balance {balance!r} does not apply to mutation effects; use one of {', '.join(BALANCES)}")


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _batch(weights: torch.Tensor, size: int, seed: int, step: int) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Rows of this step (None = all) and their loss weights."""
    if size <= 0 or size >= len(weights):
        return None, weights
    gen = torch.Generator().manual_seed(stable_seed("batch", seed, step) % 2**63)
    rows = torch.multinomial(weights.cpu(), size, replacement=True, generator=gen)
    return rows.to(weights.device), torch.ones(size, device=weights.device)


def _signature(**kwargs: Any) -> str:
    return json.dumps(kwargs, sort_keys=True, default=str)


def train_mutation(
    *,
    alignment: str | Path,
    model: str,
    out: str | Path,
    params: dict[str, Any] | None = None,
    balance: str = "class_weight",
    seed: int = 1,
    steps: int = 1000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    checkpoint_every: int = 100,
    history: str | Path | None = None,
    device: str = "auto",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit ``model`` and save it to ``out`` (torch file); returns the run's statistics."""
    params = dict(params or {})
    aln = load_alignment(alignment)
    weights_np = balance_weights(aln, balance)
    dev = pick_device(device)
    torch.manual_seed(stable_seed("init", seed) % 2**63)
    net = build_model(model, aln.length, params).to(dev)
    codes = torch.as_tensor(aln.codes.astype(np.int64), device=dev)
    weights = torch.as_tensor(weights_np, device=dev)
    neff = float(weights_np.sum())
    start, cpu = time.time(), time.process_time()
    rows: list[dict[str, float]] = []
    fitted: dict[str, Any] = {}
    signature = _signature(model=model, params=params, balance=balance, seed=seed, batch_size=batch_size,
                           learning_rate=learning_rate)
    if getattr(net, "closed_form", False):  # the model's own fit (closed form, or L-BFGS by chunks)
        fitted = net.fit(codes, weights, checkpoint=Path(f"{out}.ckpt"), signature=signature, log=log) or {}
        steps = 0
    else:
        rows = _optimise(net, codes, weights, neff=neff, seed=seed, steps=steps, batch_size=batch_size,
                         learning_rate=learning_rate, checkpoint_every=checkpoint_every,
                         checkpoint=Path(f"{out}.ckpt"), signature=signature, log=log)
    stats = {"model": model, "balance": balance, "seed": seed, "steps": steps, "sequences": len(codes),
             "neff": neff, "device": str(dev), "seconds": round(time.time() - start, 2),
             "final_loss": rows[-1]["loss"] if rows else None, "cpu_seconds": round(time.process_time() - cpu, 2),
             **fitted}
    save = {"model": model, "params": params, "length": aln.length, "state": net.state_dict(), "stats": stats}
    with atomic_output(out) as tmp:
        torch.save(save, tmp)
    Path(f"{out}.ckpt").unlink(missing_ok=True)
    if history is not None:
        with atomic_output(history) as tmp, open(tmp, "w") as fh:
            fh.write("step,loss\n" + "".join(f"{r['step']},{r['loss']:.6f}\n" for r in rows))
    return stats


def _optimise(net, codes, weights, *, neff, seed, steps, batch_size, learning_rate, checkpoint_every,
              checkpoint: Path, signature: str, log) -> list[dict[str, float]]:
    """Adam steps with resumable, atomically written checkpoints."""
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate, fused=True)  # one kernel per step, not ~12 passes
    step, rows = 0, []
    state = _read_checkpoint(checkpoint, codes.device, log)
    if state is not None:
        if state.get("signature") == signature:
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            step, rows = state["step"], state["history"]
            log(f"resumed from {checkpoint} at step {step}")
        else:
            log(f"ignoring {checkpoint}: it belongs to other settings")
    net.train()
    while step < steps:
        step += 1
        torch.manual_seed(stable_seed("step", seed, step) % 2**63)
        index, w = _batch(weights, batch_size, seed, step)
        loss = net.loss(codes if index is None else codes[index], w, neff)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        rows.append({"step": step, "loss": float(loss.detach())})
        if step % checkpoint_every == 0 or step == steps:
            with atomic_output(checkpoint) as tmp:
                torch.save({"signature": signature, "model": net.state_dict(), "optimizer": opt.state_dict(),
                            "step": step, "history": rows}, tmp)
            log(f"step {step}/{steps} loss {rows[-1]['loss']:.4f} (checkpoint written)")
    return rows


def _read_checkpoint(path: Path, device: torch.device, log: Callable[[str], None]) -> dict[str, Any] | None:
    """A checkpoint read with weights_only=True (no code from the file); an unreadable one
    is reported (file, reason) and set aside as ``*.bad`` so that training starts afresh."""
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # truncated, corrupt or not plain data: any reader error
        bad = path.with_name(path.name + ".bad")
        path.replace(bad)
        log(f"checkpoint {path} is unreadable ({' '.join(str(err).split())[:200]}): set aside as {bad.name}")
        return None


def load_model(path: str | Path, device: str = "auto") -> torch.nn.Module:
    """A trained mutation-effect model, read with weights_only=True (a file that holds
    anything but tensors and plain data is refused and nothing in it runs)."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(f"{path}: refused: not a plain-data model file ({str(err).splitlines()[0]})") from None
    net = build_model(saved["model"], saved["length"], saved["params"])
    net.load_state_dict(saved["state"])
    return net.to(pick_device(device)).eval()


def predict_effects(
    net: torch.nn.Module, aln: Alignment, scan: Scan, *, samples: int = 100, seed: int = 1
) -> np.ndarray:
    """Predicted effect (higher = fitter) of every scored mutant of ``scan``."""
    if not scan.mutants:
        return np.zeros(0, dtype=np.float32)
    dev = next(iter(net.buffers())).device
    torch.manual_seed(stable_seed("score", seed) % 2**63)
    mutants = torch.as_tensor(mutant_codes(aln.wild_type, scan.substitutions).astype(np.int64), device=dev)
    wild = torch.as_tensor(aln.wild_type.astype(np.int64), device=dev)
    with torch.no_grad():
        return net.score(mutants, wild, samples=samples).cpu().numpy().astype(np.float32)


def spearman_ci(y: np.ndarray, p: np.ndarray, *, bootstrap: int, seed: int) -> tuple[float, float, float]:
    """Spearman rho and its percentile bootstrap 95% interval over mutants (NaN when < 3)."""
    if len(y) < 3:
        return float("nan"), float("nan"), float("nan")
    rho = float(spearmanr(y, p)[0])
    rng = np.random.default_rng(seed)
    draws = [spearmanr(y[i], p[i])[0] for i in (rng.integers(0, len(y), len(y)) for _ in range(bootstrap))]
    lo, hi = np.nanpercentile(draws, [2.5, 97.5]) if bootstrap else (np.nan, np.nan)
    return rho, float(lo), float(hi)


def write_run_outputs(
    out_dir: str | Path,
    *,
    run: dict[str, Any],
    results: Sequence[tuple[str, Scan, np.ndarray]],
    bootstrap: int = 1000,
) -> list[dict[str, Any]]:
    """metrics.tsv (long), arrays.npz and predictions.tsv.gz of one run, over its scans."""
    out_dir = Path(out_dir)
    metrics = []
    for name, scan, pred in results:
        y = np.asarray(scan.fitness, dtype=np.float64)
        rho, lo, hi = spearman_ci(y, pred, bootstrap=bootstrap, seed=stable_seed("ci", name) % 2**32)
        base = {**run, "kind": KIND, "task": name, "split": "test"}
        metrics.append({**base, "metric": "spearman", "value": rho, "lo": lo, "hi": hi})
        for metric, value in (("scored", len(y)), ("insert_columns", len(scan.insert)), ("bad_mutants", len(scan.bad))):
            metrics.append({**base, "metric": metric, "value": value, "lo": "", "hi": ""})
    with atomic_output(out_dir / "metrics.tsv") as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, METRIC_COLUMNS, delimiter="\t")
        writer.writeheader()
        writer.writerows({k: _fmt(v) for k, v in m.items()} for m in metrics)
    meta = {"kind": KIND, "tasks": [n for n, _, _ in results], "classes": None}
    y_test = np.concatenate([np.asarray(s.fitness, dtype=np.float32) for _, s, _ in results] or [np.zeros(0)])
    y_test = y_test.astype(np.float32)
    p_test = np.concatenate([p for _, _, p in results] or [np.zeros(0)]).astype(np.float32)
    task_index = np.concatenate([np.full(len(p), i, dtype=np.int16) for i, (_, _, p) in enumerate(results)] or
                                [np.zeros(0, dtype=np.int16)])
    if len(results) > 1:  # one column per scan, NaN on the other scans' rows (the kind's layout)
        y_test, p_test = by_scan(y_test, task_index, len(results)), by_scan(p_test, task_index, len(results))
    with atomic_output(out_dir / "arrays.npz") as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, y_valid=np.zeros(0, np.float32), p_valid=np.zeros(0, np.float32), y_test=y_test,
                            p_test=p_test, task_index=task_index, meta=np.array(json.dumps(meta)))
    with atomic_output(out_dir / "predictions.tsv.gz") as tmp, gzip.open(tmp, "wt") as fh:
        fh.write("scan\tmutant\tfitness\teffect\n")
        for name, scan, pred in results:
            rows = zip(scan.mutants, scan.fitness, pred, strict=True)
            fh.writelines(f"{name}\t{m}\t{f:.9g}\t{e:.9g}\n" for m, f, e in rows)
    return metrics


def by_scan(values: np.ndarray, task_index: np.ndarray, scans: int) -> np.ndarray:
    """(n, scans) float32: each row's value in its scan's column, NaN elsewhere."""
    out = np.full((len(values), scans), np.nan, dtype=np.float32)
    out[np.arange(len(values)), task_index] = values
    return out


def flat_rows(values: np.ndarray, task_index: np.ndarray) -> np.ndarray:
    """The inverse of ``by_scan`` (a 1-d array is returned as it is)."""
    return values if values.ndim == 1 else values[np.arange(len(values)), task_index]


def _fmt(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


def score_scans(
    *,
    alignment: str | Path,
    model_path: str | Path,
    scans: dict[str, dict[str, Any]],
    scan_files: dict[str, str | Path],
    out_dir: str | Path,
    run: dict[str, Any],
    samples: int = 100,
    bootstrap: int = 1000,
    device: str = "auto",
) -> dict[str, Any]:
    """Score every scan of a dataset with one trained model; returns the scans' summaries."""
    aln = load_alignment(alignment)
    net = load_model(model_path, device)
    results, summaries = [], {}
    for name, cfg in scans.items():
        scan = read_scan(scan_files[name], aln, mutant_column=cfg.get("mutant_column", "mutant"),
                         fitness_column=str(cfg.get("fitness_column", "DMS_score")),
                         bad_mutants=cfg.get("bad_mutants", "skip"))
        results.append((name, scan, predict_effects(net, aln, scan, samples=samples, seed=int(run["seed"]))))
        summaries[name] = scan.summary()
    write_run_outputs(out_dir, run=run, results=results, bootstrap=bootstrap)
    write_json_atomic(Path(out_dir) / "scan_summary.json", summaries)
    return summaries


def ensemble(
    *,
    predictions: Sequence[str | Path],
    out_dir: str | Path,
    run: dict[str, Any],
    bootstrap: int = 1000,
) -> None:
    """Average the effects of several seeds (their predictions.tsv.gz and, beside each,
    arrays.npz with the exact float32 values) into one run over the same mutants."""
    tables = [_read_predictions(p) for p in predictions]
    arrays = [np.load(Path(p).with_name("arrays.npz")) for p in predictions]
    for path, table, arr in zip(predictions, tables, arrays, strict=True):
        if table != tables[0] or not np.array_equal(arr["y_test"], arrays[0]["y_test"], equal_nan=True):
            raise ValueError(f"{path}: not the same mutants as {predictions[0]}")
    index = arrays[0]["task_index"]
    effects = np.mean([flat_rows(arr["p_test"], index) for arr in arrays], axis=0).astype(np.float32)
    fitness = flat_rows(arrays[0]["y_test"], index)
    results = []
    for i, scan_name in enumerate(dict.fromkeys(name for name, _ in tables[0])):
        rows = np.flatnonzero(index == i)
        scan = Scan(mutants=[tables[0][r][1] for r in rows], fitness=[float(f) for f in fitness[rows]])
        results.append((scan_name, scan, effects[rows]))
    write_run_outputs(out_dir, run=run, results=results, bootstrap=bootstrap)


def _read_predictions(path: str | Path) -> list[tuple[str, str]]:
    """(scan, mutant) of every row of a predictions.tsv.gz, in order."""
    with gzip.open(path, "rt") as fh:
        return [(r["scan"], r["mutant"]) for r in csv.DictReader(fh, delimiter="\t")]
