"""Position-aware pooling (deepbind's local pools) and search spaces that contain the
architecture choices: where a motif sits must be learnable, and tunable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genomicdl.kinds.targets import Target
from genomicdl.models import CATALOG, build_network
from genomicdl.models.catalog import NETWORKS, TRAIN_PARAMS

MOTIF = np.array([0, 3, 3, 0, 0, 3], np.uint8)  # ATTAAT


def _where_data(n: int, window: int = 60, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Every window carries the motif once: at the centre (label 1) or in a flank (label 0)."""
    rng = np.random.default_rng(seed)
    seq = rng.integers(1, 3, size=(n, window)).astype(np.uint8)  # C/G background: no stray motif
    y = (rng.random(n) < 0.5).astype(np.float32)
    for i in range(n):
        start = (
            window // 2 - 3 + int(rng.integers(-2, 3))
            if y[i]
            else int(rng.choice([int(rng.integers(0, 8)), int(rng.integers(46, 54))]))
        )
        seq[i, start : start + len(MOTIF)] = MOTIF
    x = torch.nn.functional.one_hot(torch.from_numpy(seq).long(), 4).permute(0, 2, 1).float()
    return x, torch.from_numpy(y)


def _fit_and_score(pool: str) -> float:
    torch.manual_seed(0)
    net = build_network(
        "deepbind",
        target=Target("binary", ("site",)),
        window=60,
        alphabet="dna",
        variable=False,
        params={"filters": 8, "filter_width": 6, "pool": pool, "pool_width": 10, "dropout": 0.0},
    )
    x, y = _where_data(1024)
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(6):
        for lo in range(0, len(x), 64):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x[lo : lo + 64])[:, 0], y[lo : lo + 64])
            loss.backward()
            opt.step()
    net.eval()
    xt, yt = _where_data(400, seed=1)
    with torch.no_grad():
        score = net(xt)[:, 0]
    pos, neg = score[yt == 1], score[yt == 0]
    return float((pos[:, None] > neg[None, :]).float().mean())  # auROC


def test_positional_pooling_learns_where_a_motif_sits_and_global_pooling_cannot() -> None:
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        local, glob = _fit_and_score("local_max"), _fit_and_score("max")
    assert local > 0.95, local
    assert glob < 0.75, glob  # the same motif everywhere: global max sees only that it is there


@pytest.mark.parametrize("pool", ["local_max", "local_avg"])
def test_positional_pooling_shapes_and_pooled_fallback(pool: str) -> None:
    target = Target("binary", ("a", "b"))
    net = build_network(
        "deepbind",
        target=target,
        window=101,
        alphabet="rna",
        variable=False,
        params={"filters": 5, "filter_width": 7, "pool": pool, "pool_width": 10},
    )
    assert net(torch.zeros(3, 4, 101)).shape == (3, 2)
    assert net.head[-1].in_features == 5 * 11  # (101 + 7 - 1) / 10 blocks, rounded up
    pooled = build_network(
        "deepbind", target=target, window=101, alphabet="rna", variable=True, params={"pool": pool}
    )  # variable lengths: global masked pooling
    assert pooled(torch.zeros(2, 4, 90), torch.tensor([90, 50])).shape == (2, 2)
    with pytest.raises(ValueError, match="pool must be one of"):
        build_network("deepbind", target=target, window=101, alphabet="rna", variable=False, params={"pool": "min"})
    with pytest.raises(ValueError, match="pool_width must be at least 1"):
        build_network(
            "deepbind",
            target=target,
            window=101,
            alphabet="rna",
            variable=False,
            params={"pool": pool, "pool_width": 0},
        )


ARCHITECTURE = {"filters", "channels", "pool", "pools", "pool_width", "layers", "width", "filter_width", "lstm", "gru"}


def test_every_search_space_holds_architecture_choices() -> None:
    for name in NETWORKS:
        space = CATALOG[name].space()
        arch = set(space) - set(TRAIN_PARAMS)
        if name == "binned":  # its trunk's dict is set in model_params, not searched
            continue
        assert arch & ARCHITECTURE, f"{name}: the search space has no architecture choice: {sorted(space)}"
    deepbind = CATALOG["deepbind"].space()
    assert {"local_max", "local_avg", "max"} <= set(deepbind["pool"].choices) and "pool_width" in deepbind
