"""utr_mpra: near-duplicate leakage of a random vs a family split, and the 6-mer ridge
bar on each (Pearson per cell type, bootstrap CI). Last line: one JSON object.

    python bench/utr_families.py /work/shared/data/utr_mpra/fastUTR_mpra.txt.gz
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.core.sequence import encode
from genomicdl.datasets.families import family_split, near_duplicates
from genomicdl.evaluation.signal_eval import bootstrap, pearson
from genomicdl.models.baselines.kmer import kmer_frequencies

TASKS = ("Jurkat", "Beas2B")


def read(path: str) -> tuple[list[str], np.ndarray]:
    """The header-less table: sequence, Jurkat, Beas2B (NA = not measured)."""
    seqs, ys = [], []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            seqs.append(f[0].upper())
            ys.append([float("nan") if v == "NA" else float(v) for v in f[1:3]])
    return seqs, np.asarray(ys)


def ridge_scores(x: np.ndarray, y: np.ndarray, split: np.ndarray) -> dict[str, list[float]]:
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    out = {}
    for t, task in enumerate(TASKS):
        ok = ~np.isnan(y[:, t])
        tr, va, te = ok & (split == "train"), ok & (split == "valid"), ok & (split == "test")
        sc = StandardScaler().fit(x[tr])
        fits = {a: Ridge(alpha=a).fit(sc.transform(x[tr]), y[tr, t]) for a in (10, 100, 1000, 1e4)}
        best = max(fits, key=lambda a: pearson(y[va, t], fits[a].predict(sc.transform(x[va]))))
        p = fits[best].predict(sc.transform(x[te]))
        lo, hi = np.nanpercentile(bootstrap(y[te, t], [p], pearson, 1000, 0)[:, 0], [2.5, 97.5])
        out[task] = [round(pearson(y[te, t], p), 4), round(lo, 4), round(hi, 4), int(te.sum()), best]
    return out


def main() -> None:
    t0 = time.time()
    seqs, y = read(sys.argv[1])
    codes = [encode(s.replace("N", "N")) for s in seqs]
    width = max(len(c) for c in codes)
    pad = np.full((len(codes), width), 255, np.uint8)
    for i, c in enumerate(codes):
        pad[i, : len(c)] = c
    x = kmer_frequencies(pad, np.array([len(c) for c in codes]), 6)
    rng = np.random.default_rng(0)
    u = rng.random(len(seqs))
    random_split = np.where(u < 0.1, "valid", np.where(u < 0.2, "test", "train"))
    fam_split, fam = family_split(seqs, 0.1, 0.1, seed=0, max_mismatches=2)
    res = {"rows": len(seqs), "families": len(np.unique(fam))}
    for name, split in (("random", random_split), ("family", fam_split)):
        train = [s for s, k in zip(seqs, split) if k == "train"]
        test = [s for s, k in zip(seqs, split) if k == "test"]
        leak = near_duplicates(train, test, 2)
        res[name] = {"test_with_train_within_2_mismatches": round(float(leak.mean()), 4),
                     "ridge_6mer_pearson": ridge_scores(x, y, split)}  # fmt: skip
        print(name, res[name], flush=True)
    res["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
