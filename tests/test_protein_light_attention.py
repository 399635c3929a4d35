"""Protein networks at CPU throughput (issue 22): light attention for localisation, the
dilated CNN per residue (shapes, masking, tiny real training runs that must learn a
planted signal), and the unpacked bidirectional GRU (the packed one's outputs)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from genomicdl.kinds.targets import Target
from genomicdl.models import build_network
from genomicdl.models.catalog import CATALOG, supported_kinds
from genomicdl.models.networks.layers import valid_mask
from genomicdl.models.networks.light_attention import LightAttention
from genomicdl.models.networks.padded_rnn import run_bidirectional_padded
from genomicdl.models.networks.recurrent import run_rnn

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


@pytest.mark.parametrize("layers", [1, 2])
def test_gru_runs_unpacked_with_the_packed_outputs_and_gradients(layers: int) -> None:
    """run_rnn's GRU path (padded, per-row reversed) gives what the packed GRU gives."""
    torch.manual_seed(4)
    gru = nn.GRU(12, 8, num_layers=layers, batch_first=True, bidirectional=True).eval()
    lengths = torch.tensor([15, 7, 1, 10])
    x = torch.randn(4, 12, 15) * valid_mask(lengths, 15)[:, None, :]
    fast_x, packed_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    fast = run_rnn(gru, fast_x, lengths)
    seq = pack_padded_sequence(packed_x.transpose(1, 2), lengths, batch_first=True, enforce_sorted=False)
    packed = pad_packed_sequence(gru(seq)[0], batch_first=True, total_length=15)[0].transpose(1, 2)
    torch.testing.assert_close(fast, packed, atol=1e-6, rtol=1e-5)
    assert float(fast[1, :, 7:].abs().sum()) == 0.0
    weights = torch.randn_like(fast)
    grads = [torch.autograd.grad((out * weights).sum(), [inp, *gru.parameters()])
             for out, inp in ((fast, fast_x), (packed, packed_x))]  # fmt: skip
    for got, want in zip(*grads, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="bidirectional"):
        run_bidirectional_padded(nn.GRU(12, 8, batch_first=True), x.transpose(1, 2), lengths)
