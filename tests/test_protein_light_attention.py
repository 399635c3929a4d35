"""Convolutional protein networks for CPU throughput (issue 22): light attention for
localisation, the dilated CNN per residue. Shapes, masking, and tiny real training runs
that must learn a planted signal."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.models.catalog import CATALOG, supported_kinds
from genomicdl.models.networks.light_attention import LightAttention

CLASSES = ("nucleus", "cytoplasm", "membrane")
MOTIFS = ((18, 18, 18, 1), (1, 1, 4, 4), (10, 12, 10, 12))  # residue indices planted per class


def one_hot(codes: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Residue codes of several lengths -> padded (batch, 20, L) one-hot and lengths."""
    lengths = torch.tensor([len(c) for c in codes])
    x = torch.zeros(len(codes), 20, int(lengths.max()))
    for i, c in enumerate(codes):
        x[i, c, torch.arange(len(c))] = 1.0
    return x, lengths


def planted(n: int, seed: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Random proteins of 30-80 residues, each with its class's motif at a random place."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, len(CLASSES), (n,), generator=gen)
    codes = []
    for label in labels.tolist():
        length = int(torch.randint(30, 81, (1,), generator=gen))
        seq = torch.randint(0, 20, (length,), generator=gen)
        at = int(torch.randint(0, length - 4, (1,), generator=gen))
        seq[at : at + 4] = torch.tensor(MOTIFS[label])
        codes.append(seq)
    return codes, labels


def light(kind: str = "multiclass", **params: object) -> nn.Module:
    target = Target(kind, ("location",) if kind == "multiclass" else CLASSES, CLASSES)
    return build_network("light_attention", target=target, window=80, alphabet="protein", variable=True,
                         params=params)  # fmt: skip


def test_registered_for_localisation_only() -> None:
    assert set(supported_kinds("light_attention")) == {"multiclass", "multilabel"}
    assert {"features", "channels", "layers"} <= set(CATALOG["light_attention"].space())
    target = Target("per_position", ("q3",), ("C", "E", "H"), "default")
    with pytest.raises(ValueError, match="cannot predict per_position"):
        build_network("light_attention", target=target, window=30, alphabet="protein", variable=True, params=None)
    with pytest.raises(ValueError, match="not per residue"):
        LightAttention(3, 30, head="position")
    with pytest.raises(ValueError, match="features must be one of"):
        light(features="esm")


@pytest.mark.parametrize("kind", ["multiclass", "multilabel"])
@pytest.mark.parametrize("features", ["onehot", "blosum62", "onehot+blosum62"])
def test_padding_changes_nothing_and_attention_covers_valid_residues(kind: str, features: str) -> None:
    torch.manual_seed(0)
    model = light(kind, features=features, layers=1).eval()
    codes, _ = planted(4, seed=1)
    x, lengths = one_hot(codes)
    with torch.no_grad():
        logits = model(x, lengths)
        assert logits.shape == (4, 3) and torch.isfinite(logits).all()
        for i, n in enumerate(lengths.tolist()):
            torch.testing.assert_close(model(x[i : i + 1, :, :n], lengths[i : i + 1]), logits[i : i + 1],
                                       atol=2e-5, rtol=1e-4)  # fmt: skip
        _, weights = model.pool(*model.trunk(x, lengths))
    short = int(lengths.argmin())
    assert float(weights[short, :, lengths[short] :].abs().sum()) == 0.0
    torch.testing.assert_close(weights.sum(-1), torch.ones(4, weights.shape[1]))


def fit(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    """Adam on mini-batches of 32, cross-entropy (per residue when the output has a length axis)."""
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        for rows in torch.randperm(len(x), generator=gen).split(32):
            out = model(x[rows], lengths[rows])
            opt.zero_grad()
            nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y[rows].reshape(-1), ignore_index=-1).backward()
            opt.step()
    model.eval()


def test_light_attention_learns_a_planted_motif() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    codes, labels = planted(330, seed=2)
    x, lengths = one_hot(codes)
    model = light(features="blosum62", channels=16, layers=1, hidden=16, dropout=0.1)
    fit(model, x[:240], lengths[:240], labels[:240], epochs=15)
    with torch.no_grad():
        accuracy = float((model(x[240:], lengths[240:]).argmax(1) == labels[240:]).float().mean())
    assert accuracy >= 0.9, accuracy  # chance: 1/3


def test_dilated_per_residue_learns_a_signal_three_residues_upstream() -> None:
    """Residue i's label is whether residue i - 3 is one of the first ten amino acids: a
    per-residue network must look 3 residues away (padding labelled -1, ignored)."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(3)
    sizes = torch.randint(30, 81, (200,), generator=gen).tolist()
    codes = [torch.randint(0, 20, (n,), generator=gen) for n in sizes]
    x, lengths = one_hot(codes)
    y = torch.full((len(codes), x.shape[-1]), -1)
    for i, c in enumerate(codes):
        y[i, : len(c)] = 0
        y[i, 3 : len(c)] = (c[:-3] < 10).long()
    target = Target("per_position", ("q2",), ("a", "b"), "default")
    model = build_network("dilated", target=target, window=80, alphabet="protein", variable=True,
                          params={"channels": 24, "stem_width": 3, "layers": 2, "dropout": 0.0})  # fmt: skip
    fit(model, x[:150], lengths[:150], y[:150], epochs=12)
    with torch.no_grad():
        predicted = model(x[150:], lengths[150:]).argmax(-1)
    valid = y[150:] >= 0
    accuracy = float((predicted[valid] == y[150:][valid]).float().mean())
    majority = float(y[150:][valid].float().mean())
    assert max(majority, 1 - majority) < 0.6 and accuracy >= 0.9, (accuracy, majority)
