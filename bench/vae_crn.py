"""Monte-Carlo noise of the VAE's mutation effects: the wild type and the mutants scored
with common random numbers (the same decoder weights and latent noise within a draw) or
with independent latent noise (the wild type averaged over 16), on trained models.

    python bench/vae_crn.py --models models/blat_ecolx/vae/class_weight/*/model.pt \\
        --alignment data/blat_ecolx/alignment.h5 --samples 30 --repeats 2

The selection criterion needs no scan values: two independent scorings (different seeds)
of the same model, the noise s.d. per mutant = s.d.(run 1 - run 2) / sqrt(2) as a
fraction of the effects' s.d., and the rank correlation of the two scorings. Spearman rho
against the scan is printed beside it as a diagnostic only. Times are CPU seconds of this
process. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.core.seeds import stable_seed
from genomicdl.io.alignment import load_alignment
from genomicdl.io.scans import mutant_codes, read_scan
from genomicdl.mutation.train import load_model

DATA = Path(__file__).resolve().parents[2] / "shared/data/mutation_effects"
DEFAULT_SCAN = DATA / "BLAT_ECOLX_Ranganathan2015.csv.gz"


def score(
    net: torch.nn.Module, mutants: torch.Tensor, wild: torch.Tensor, *, samples: int, common: bool, seed: int
) -> tuple[np.ndarray, float]:
    """Effects of one scoring and its CPU seconds."""
    torch.manual_seed(stable_seed("crn", seed) % 2**63)
    cpu = time.process_time()
    effects = net.score(mutants, wild, samples=samples, common=common).numpy().astype(np.float64)
    return effects, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    parser.add_argument("--alignment", type=Path, required=True, help="prepared alignment.h5")
    parser.add_argument("--scan", type=Path, default=DEFAULT_SCAN)
    parser.add_argument("--fitness-column", default="2500")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    aln = load_alignment(args.alignment)
    scan = read_scan(args.scan, aln, fitness_column=args.fitness_column)
    y = np.asarray(scan.fitness, dtype=np.float64)
    mutants = torch.as_tensor(mutant_codes(aln.wild_type, scan.substitutions).astype(np.int64))
    wild = torch.as_tensor(aln.wild_type.astype(np.int64))
    rows = []
    for path in args.models:
        net = load_model(path, "cpu")
        for common in (False, True):
            runs = [score(net, mutants, wild, samples=args.samples, common=common, seed=r) for r in range(args.repeats)]
            effects = np.stack([e for e, _ in runs])
            noise = float(np.std(effects[0] - effects[1]) / np.sqrt(2) / np.std(effects.mean(0)))
            row = {
                "model": str(path),
                "estimator": "common" if common else "independent",
                "samples": args.samples,
                "noise_sd_fraction": round(noise, 4),
                "repeat_rank_corr": round(float(spearmanr(effects[0], effects[1])[0]), 4),
                "rho_each": [round(float(spearmanr(y, e)[0]), 4) for e in effects],
                "rho_mean_of_repeats": round(float(spearmanr(y, effects.mean(0))[0]), 4),
                "cpu_s_per_scoring": round(float(np.mean([c for _, c in runs])), 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"bench": "vae_crn", "rows": rows}))


if __name__ == "__main__":
    main()
