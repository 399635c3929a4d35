"""The held-out selection of arDCA's orders, then (diagnostic only) its rho on a scan.

    python bench/ardca_report.py --fits /tmp/ardca --orders natural reverse entropic

Reads what ``bench/ardca_select.py`` saved for each order. The rule, fixed before any
scan was scored: lambda_J per order = the grid value of highest held-out log-likelihood
(``lambda_j: auto``); the model = the subset of orders whose product of experts (the
mean of the orders' log p, which is what ``ArDCA`` scores; its log-ratios need no
normaliser) has the highest *normalised* held-out log-likelihood: the mean of the
members' held-out log p minus log Z, Z = sum_x prod_k p_k(x)^(1/K) <= 1 estimated by
importance sampling from each member's held-out fit (a single order has Z = 1). Only
then are the refitted models scored on the scan's columns, with bootstrap CIs, as a
diagnostic; the table marks the chosen row. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.io.alignment import load_alignment
from genomicdl.io.scans import mutant_codes, read_scan
from genomicdl.models.mutation.ardca import ArDCA
from genomicdl.mutation.seqweights import _one_hot_block
from genomicdl.mutation.train import spearman_ci

DATA = Path(__file__).resolve().parents[2] / "shared/data/mutation_effects"
DEFAULT_SCAN = DATA / "BLAT_ECOLX_Ranganathan2015.csv.gz"


def load(path: Path, selected: bool) -> ArDCA:
    """A saved model: the refit (``{order}.pt``) or the chosen held-out fit."""
    saved = torch.load(path, weights_only=True)
    model = ArDCA(saved["length"], **saved["params"])
    if selected:
        model.h.copy_(saved["h"])
        model.j.copy_(saved["j"])
        model.order.copy_(saved["order"])
    else:
        model.load_state_dict(saved["state"])
    return model


@torch.no_grad()
def sample(model: ArDCA, n: int, seed: int) -> torch.Tensor:
    """n exact samples (column codes) of a one-order model, position by position."""
    gen = torch.Generator().manual_seed(seed)
    q, length = model.q, model.length
    onehot = torch.zeros(n, length * q)
    drawn = torch.zeros(n, length, dtype=torch.long)
    for i in range(length):
        logits = model.h[0, i] + onehot[:, : i * q] @ model.j[0, : i * q, i * q:(i + 1) * q]
        state = torch.multinomial(functional.softmax(logits, -1), 1, generator=gen)[:, 0]
        drawn[:, i] = state
        onehot[torch.arange(n), i * q + state] = 1
    codes = torch.empty_like(drawn)
    codes[:, model.order[0]] = drawn  # order position i holds column order[i]
    return codes


def log_z(members: list[ArDCA], n: int) -> tuple[float, float, float]:
    """log Z of the product of experts prod_k p_k^(1/K), its standard error, and (two
    members) a conservative upper bound, from n samples of each member: for a pair the
    ratio sqrt(p_b / p_a) under p_a has second moment sum p_b = 1, so the estimate's
    standard deviation is at most 1 / sqrt(2n) and Z <= estimate + 3 / sqrt(2n)."""
    estimates = []
    for a, proposal in enumerate(members):
        x = sample(proposal, n, seed=a + 1)
        logs = torch.stack([m.order_log_prob(x, 0) for m in members])
        ratio = (logs.mean(0) - logs[a]).exp()
        estimates.append(ratio)
    ratio = torch.cat(estimates)
    z, se = float(ratio.mean()), float(ratio.std() / len(ratio) ** 0.5)
    bound = float(np.log(min(1.0, z + 3 / len(ratio) ** 0.5))) if len(members) == 2 else float("nan")
    return float(np.log(z)), se / z, bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=Path, required=True)
    parser.add_argument("--orders", nargs="+", default=["natural", "reverse", "entropic"])
    parser.add_argument("--alignment", type=Path, default=Path("data/blat_ecolx/alignment.h5"))
    parser.add_argument("--scan", type=Path, default=DEFAULT_SCAN)
    parser.add_argument("--columns", nargs="+", default=["2500", "625", "156", "39"])
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--theta", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cpu = time.process_time()
    fits = {o: json.loads((args.fits / f"{o}.json").read_text()) for o in args.orders}
    print("lambda_J selection (weighted mean held-out log p per sequence; * = chosen):")
    for o, stats in fits.items():
        cells = [f"{r['lambda_j']:g}: {r['heldout_ll']:.3f}{'*' if r['lambda_j'] == stats['lambda_j'] else ''}"
                 for r in stats["selection"]]
        cost = f"({stats.get('cpu_seconds')} CPU s, {stats.get('wall_seconds')} wall s)"
        print(f"  {o:9s} " + "  ".join(cells) + f"   {cost}")
    held = {o: np.load(args.fits / f"{o}_heldout.npz") for o in args.orders}
    weights = held[args.orders[0]]["weights"] / held[args.orders[0]]["weights"].sum()
    leakage(args, held[args.orders[0]], {o: (held[o]["grid"], held[o]["log_p"]) for o in args.orders})
    chosen_lp = {o: held[o]["log_p"][list(held[o]["grid"]).index(fits[o]["lambda_j"])] for o in args.orders}
    selected = {o: load(args.fits / f"{o}_selected.pt", True) for o in args.orders}
    rows = []
    for size in range(1, len(args.orders) + 1):
        for subset in itertools.combinations(args.orders, size):
            mean_ll = float(np.mean([weights @ chosen_lp[o] for o in subset]))
            lz, se, most = log_z([selected[o] for o in subset], args.samples) if size > 1 else (0.0, 0.0, 0.0)
            rows.append({"orders": "+".join(subset), "heldout_mean_ll": mean_ll, "log_z": lz, "log_z_se": se,
                         "heldout_ll": mean_ll - lz, "heldout_ll_at_least": mean_ll - most})
    best = max(rows, key=lambda r: r["heldout_ll"])
    print("\norders (product of experts): held-out log p = mean of members - log Z:")
    for r in rows:
        print(f"  {r['orders']:26s} {r['heldout_mean_ll']:.3f} - ({r['log_z']:.3f} +- {r['log_z_se']:.3f}) = "
              f"{r['heldout_ll']:.3f} (at least {r['heldout_ll_at_least']:.3f}){'   <- chosen' if r is best else ''}")
    diagnostics(args, rows, best)
    print(json.dumps({"chosen": best["orders"], "rows": rows, "cpu_seconds": round(time.process_time() - cpu, 1)}))


def leakage(args: argparse.Namespace, held: np.lib.npyio.NpzFile, log_p: dict) -> None:
    """How many held-out sequences have a fitted neighbour (identity >= 1 - theta, as the
    weights count them), and the selection on the held-out sequences without one (a
    sensitivity check, not the rule)."""
    aln = load_alignment(args.alignment)
    rows = held["rows"]
    fitted = np.setdiff1d(np.arange(len(aln.codes)), rows)
    left = _one_hot_block(aln.codes[rows], torch.device("cpu"))
    right = _one_hot_block(aln.codes[fitted], torch.device("cpu"))
    identity = (left @ right.T) / left.sum(1).clamp(min=1)[:, None]
    novel = (identity < 1 - args.theta - 1e-6).all(1).numpy()
    w = held["weights"]
    print(f"\nheld-out sequences without a fitted neighbour (identity >= {1 - args.theta:g}): {novel.sum()} of "
          f"{len(rows)}, {w[novel].sum() / w.sum():.1%} of the held-out weight; on them alone:")
    for order, (grid, lp) in log_p.items():
        ll = lp[:, novel] @ (w[novel] / w[novel].sum())
        print(f"  {order:9s} " + "  ".join(f"{g:g}: {v:.3f}" for g, v in zip(grid, ll, strict=True)))


def diagnostics(args: argparse.Namespace, rows: list[dict], best: dict) -> None:
    """rho of every row's refitted models on every scan column (after the choice)."""
    aln = load_alignment(args.alignment)
    wild = torch.as_tensor(aln.wild_type.astype(np.int64))
    refits, kinds = {}, {}
    for o in args.orders:  # the refit on every sequence, else (--select-only) the held-out fit
        done = (args.fits / f"{o}.pt").exists()
        refits[o] = load(args.fits / (f"{o}.pt" if done else f"{o}_selected.pt"), not done)
        kinds[o] = "refit on all sequences" if done else "held-out fit (90%)"
    print(f"\ndiagnostic: Spearman rho (95% bootstrap CI) per scan column; models: {kinds}")
    scans = {c: read_scan(args.scan, aln, fitness_column=c, bad_mutants="skip") for c in args.columns}
    names = list(dict.fromkeys(m for scan in scans.values() for m in scan.mutants))
    subs = {m: s for scan in scans.values() for m, s in zip(scan.mutants, scan.substitutions, strict=True)}
    mutants = torch.as_tensor(mutant_codes(aln.wild_type, [subs[m] for m in names]).astype(np.int64))
    scored = {o: dict(zip(names, m.score(mutants, wild).numpy(), strict=True)) for o, m in refits.items()}
    for column, scan in scans.items():
        effects = {o: np.array([scored[o][m] for m in scan.mutants]) for o in refits}
        y = np.asarray(scan.fitness, dtype=np.float64)
        for r in rows:
            pred = np.mean([effects[o] for o in r["orders"].split("+")], axis=0)
            rho, lo, hi = spearman_ci(y, pred, bootstrap=args.bootstrap, seed=0)
            r[f"rho_{column}"] = [round(rho, 4), round(lo, 4), round(hi, 4)]
            mark = "   <- chosen" if r is best else ""
            print(f"  {column:>5s} {r['orders']:26s} {rho:.3f} ({lo:.3f}-{hi:.3f}) n={len(y)}{mark}")


if __name__ == "__main__":
    main()
