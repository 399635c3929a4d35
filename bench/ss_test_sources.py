"""Per-source Q of a per-residue run whose test split mixes two test sets.

netsurfp_cb513 reads FLIP's files for training, and their SET=test records (NEW364) land
in its test split beside the CB513 file's 511 chains: the workflow's figure is over both.
This splits the run's predictions by source (ids of FLIP's SET=test records) and gives Q
with a 95% bootstrap CI over proteins (1,000 resamples, seed 0) for each and for all.

    python bench/ss_test_sources.py results/netsurfp_cb513/dilated/none/1/predictions.tsv.gz \
        ../shared/data/protein_structure/netsurfp/flip_sampled.fasta.gz
"""

from __future__ import annotations

import argparse
import gzip

import numpy as np
import pandas as pd


def flip_test_ids(labels: str) -> set[str]:
    """Ids of the SET=test records of FLIP's label FASTA."""
    with gzip.open(labels, "rt") as fh:
        return {line[1:].split()[0] for line in fh if line.startswith(">") and "SET=test" in line}


def q_with_ci(labels: pd.Series, predicted: pd.Series, n_boot: int = 1000) -> tuple[float, float, float]:
    """Residue accuracy over scored residues (label not '-'), CI by resampling proteins."""
    hits, total = [], []
    for lab, pred in zip(labels, predicted, strict=True):
        scored = [(a, b) for a, b in zip(lab, pred, strict=False) if a != "-"]
        hits.append(sum(a == b for a, b in scored))
        total.append(len(scored))
    h, t = np.array(hits), np.array(total)
    rng = np.random.default_rng(0)
    boots = [h[i].sum() / t[i].sum() for i in (rng.integers(0, len(h), len(h)) for _ in range(n_boot))]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return float(h.sum() / t.sum()), float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("predictions")
    ap.add_argument("flip_labels")
    args = ap.parse_args()
    table = pd.read_csv(args.predictions, sep="\t")
    test = table[table["split"] == "test"]
    source = np.where(test["id"].astype(str).isin(flip_test_ids(args.flip_labels)), "NEW364 (FLIP test)", "CB513")
    for name in ("CB513", "NEW364 (FLIP test)", "all"):
        part = test if name == "all" else test[source == name]
        q, lo, hi = q_with_ci(part["label"], part["predicted"])
        print(f"{name}\t{len(part)} proteins\t{q:.3f} [{lo:.3f}, {hi:.3f}]")


if __name__ == "__main__":
    main()
