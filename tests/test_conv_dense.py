"""conv_dense / conv_kmer: the k-mer counts of its hybrid branch agree with the k-mer baselines'
features, the branch learns an additive k-mer effect, and impossible k are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genomicdl.core.sequence import PAD
from genomicdl.core.sequence_torch import DeviceEncoder
from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.models.baselines.kmer import kmer_frequencies
from genomicdl.models.networks.conv_dense import kmer_counts


def test_kmer_counts_match_the_baselines_frequencies() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, (6, 40)).astype(np.uint8)
    codes[0, 30:] = PAD  # padding
    codes[1, 7] = 4  # an unknown letter (N)
    lengths = np.array([30, 40, 40, 40, 40, 40])
    one_hot = DeviceEncoder("cpu", "dna").one_hot(torch.from_numpy(codes))
    for k in (1, 3, 6):
        counts = kmer_counts(one_hot, k).numpy()
        assert counts[0].sum() == 30 - k + 1 and counts[1].sum() == 40 - k + 1 - k
        np.testing.assert_allclose(
            counts / counts.sum(1, keepdims=True), kmer_frequencies(codes, lengths, k), atol=1e-6
        )


def test_the_hybrid_learns_an_additive_kmer_effect_the_pure_cnn_has_no_branch_for() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, (512, 60)).astype(np.uint8)
    x = DeviceEncoder("cpu", "dna").one_hot(torch.from_numpy(codes))
    y = kmer_counts(x, 3)[:, [0b001101, 0b110010]] / 58  # frequencies of two 3-mers: ACT, TAG (A0 C1 G2 T3)
    target = Target(kind="regression", tasks=("a", "b"))
    params = {"filters": [8], "widths": [5], "pools": [4], "hidden": [8], "kmer": 3}
    hybrid = build_network("conv_kmer", target=target, window=60, alphabet="dna", variable=False, params=params)
    pure = build_network(
        "conv_dense", target=target, window=60, alphabet="dna", variable=False, params=params | {"kmer": 0}
    )
    assert not hasattr(pure, "kmer_head") and hybrid.kmer_head[1].in_features == 64
    torch.nn.init.zeros_(hybrid.head[-1].weight)  # the CNN part gives a constant: the k-mer branch learns alone
    opt = torch.optim.Adam(hybrid.kmer_head.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        loss = ((hybrid(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    hybrid.eval()
    with torch.no_grad():
        p = hybrid(x)
    assert min(np.corrcoef(p[:, t], y[:, t])[0, 1] for t in range(2)) > 0.95


def test_a_k_with_too_many_kmers_is_refused() -> None:
    target = Target(kind="regression", tasks=("a",))
    with pytest.raises(ValueError, match=r"kmer must be 0 .* at most 65,536 k-mers of 20 letters, got 6"):
        build_network("conv_kmer", target=target, window=50, alphabet="protein", variable=False, params={"kmer": 6})
