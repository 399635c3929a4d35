"""Diagnostics on a finished BLAT_ECOLX benchmark run (scoring only, no training): each row
changes one thing against the run's own outputs, and is labelled by whether the change
was chosen without the scan.

    python bench/blat_diagnostics.py --run . --out bench/history/blat_diagnostics.tsv

Rows:
* VAE per seed and the fixed-rule ensemble scored three ways: independent latent noise at
  30 samples (the earlier estimator), common random numbers at 30, and at 100 (the config);
* arDCA: each order alone, and the conditionals renormalised over the 20 amino acids
  (the gap state left out of every softmax, as the VAE's likelihood does): post hoc;
* the ensemble as the mean of ranks instead of standardised effects: post hoc.

Spearman rho on the scan with a 95% percentile bootstrap CI over mutants; CPU seconds of
the scoring. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import rankdata, spearmanr
from torch.nn import functional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.core import paths
from genomicdl.core.seeds import stable_seed
from genomicdl.io.alignment import GAP, load_alignment
from genomicdl.io.scans import mutant_codes, read_scan
from genomicdl.mutation.table import standardise
from genomicdl.mutation.train import load_model

DATASET, BALANCE = "blat_ecolx", "class_weight"


def ci(y: np.ndarray, p: np.ndarray, draws: int = 1000) -> tuple[float, float, float]:
    """Spearman rho and its percentile bootstrap 95% CI over mutants."""
    rng = np.random.default_rng(0)
    boot = [spearmanr(y[i], p[i])[0] for i in (rng.integers(0, len(y), len(y)) for _ in range(draws))]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return float(spearmanr(y, p)[0]), float(lo), float(hi)


def ardca_log_prob(net: torch.nn.Module, codes: torch.Tensor, k: int, amino_only: bool) -> torch.Tensor:
    """log p(x) under order k, optionally each conditional renormalised without the gap state."""
    out = []
    for block in codes.split(512):
        logits = (net._onehot(block, k) @ net.j[k]).view(-1, net.length, net.q) + net.h[k]
        if amino_only:
            logits[..., GAP] = -torch.inf
        target = block.long()[:, net.order[k]]
        out.append(functional.log_softmax(logits, -1).gather(2, target[..., None])[..., 0].double().sum(1))
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("."), help="the workflow's working directory")
    parser.add_argument("--scan", default="resources/blat_ecolx/scan.stiffler2015.csv.gz")
    parser.add_argument("--fitness-column", default="2500")
    parser.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    parser.add_argument("--out", type=Path, default=Path("blat_diagnostics.tsv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    aln = load_alignment(args.run / paths.fill(paths.ALIGNMENT, dataset=DATASET))
    scan = read_scan(args.run / args.scan, aln, fitness_column=args.fitness_column)
    y = np.asarray(scan.fitness, dtype=np.float64)
    mutants = torch.as_tensor(mutant_codes(aln.wild_type, scan.substitutions).astype(np.int64))
    wild = torch.as_tensor(aln.wild_type.astype(np.int64))
    model_file = lambda m, s: args.run / paths.run_path(paths.MODEL, (DATASET, m, BALANCE, s))  # noqa: E731
    rows: list[dict[str, object]] = []

    def add(name: str, score: np.ndarray, scan_free: bool, cpu: float = 0.0) -> None:
        rho, lo, hi = ci(y, score)
        rows.append(
            {
                "row": name,
                "rho": round(rho, 4),
                "lo": round(lo, 4),
                "hi": round(hi, 4),
                "chosen_without_scan": scan_free,
                "cpu_s": round(cpu, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    fixed = {}
    for model in ("pairwise", "ardca"):
        fixed[model] = standardise(load_model(model_file(model, "1"), "cpu").score(mutants, wild).numpy())
    vae = {s: load_model(model_file("vae", s), "cpu") for s in args.seeds}
    for label, samples, common in (
        ("independent noise, 30", 30, False),
        ("common noise, 30", 30, True),
        ("common noise, 100", 100, True),
    ):
        per_seed = []
        for s in args.seeds:
            torch.manual_seed(stable_seed("score", int(s)) % 2**63)
            cpu = time.process_time()
            effects = vae[s].score(mutants, wild, samples=samples, common=common).numpy().astype(np.float64)
            add(f"vae seed {s}, {label}", effects, True, time.process_time() - cpu)
            per_seed.append(standardise(effects))
        seeds_mean = standardise(np.mean(per_seed, axis=0))
        add(f"vae mean of seeds, {label}", seeds_mean, True)
        add(f"ensemble pairwise+ardca+vae, {label}", np.mean([fixed["pairwise"], fixed["ardca"], seeds_mean], 0), True)
        if label.endswith("100"):
            ranks = [rankdata(fixed["pairwise"]), rankdata(fixed["ardca"]), rankdata(seeds_mean)]
            add("ensemble as the mean of ranks, common noise 100 (post hoc)", np.mean(ranks, 0), False)
    net = load_model(model_file("ardca", "1"), "cpu")
    with torch.no_grad():
        for amino_only in (False, True):
            cpu = time.process_time()
            per_order = []
            for k, name in enumerate(net.orders):
                lp = ardca_log_prob(net, mutants, k, amino_only) - ardca_log_prob(net, wild[None], k, amino_only)
                per_order.append(lp.numpy())
                tag = "20 amino acids (post hoc)" if amino_only else "21 states"
                add(f"ardca {name} order, {tag}", per_order[-1], not amino_only)
            add(f"ardca mean of orders, {tag}", np.mean(per_order, 0), not amino_only, time.process_time() - cpu)
    with args.out.open("w") as fh:
        fh.write("row\trho\tlo\thi\tchosen_without_scan\tcpu_s\n")
        fh.writelines(
            "\t".join(str(r[k]) for k in ("row", "rho", "lo", "hi", "chosen_without_scan", "cpu_s")) + "\n"
            for r in rows
        )
    print(json.dumps({"bench": "blat_diagnostics", "rows": rows}))


if __name__ == "__main__":
    main()
