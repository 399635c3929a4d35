"""Family splits of tables: near-identical sequences stay together; near-duplicate leakage."""

from __future__ import annotations

import numpy as np

from genomicdl.datasets.families import families, family_split, near_duplicates


def mutants(seed: int, n: int, length: int = 60) -> list[str]:
    rng = np.random.default_rng(seed)
    base = "".join(rng.choice(list("ACGT"), length))
    out = [base]
    for _ in range(n - 1):
        s = list(base)
        for p in rng.choice(length, 2, replace=False):
            s[p] = "ACGT"[("ACGT".index(s[p]) + 1) % 4]
        out.append("".join(s))
    return out


def test_point_mutant_families_stay_together_and_split_is_deterministic() -> None:
    seqs = [s for f in range(40) for s in mutants(f, 5)]
    fam = families(seqs, max_mismatches=2)
    assert len(np.unique(fam)) == 40
    split, _ = family_split(seqs, 0.2, 0.2, seed=1)
    for f in range(40):
        assert len(set(split[f * 5 : f * 5 + 5])) == 1
    assert (family_split(seqs[::-1], 0.2, 0.2, seed=1)[0][::-1] == split).all()
    assert {"train", "valid", "test"} <= set(split)


def test_near_duplicates_found_within_the_distance_only() -> None:
    train = mutants(1, 3)
    probe = list(train[0])
    probe[0] = "A" if probe[0] != "A" else "C"
    far = mutants(2, 1)[0]
    assert near_duplicates(train, ["".join(probe), far, train[1]], 2).tolist() == [True, False, True]
    assert near_duplicates(train, ["".join(probe)], 0).tolist() == [False]


def test_prefix_mode_groups_by_key() -> None:
    assert families(["AAAAC", "AAAAG", "CCCCC"], mode="prefix", key_length=4).tolist() == [0, 0, 2]
