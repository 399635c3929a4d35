"""Pairwise (Potts) model fitted by weighted pseudo-likelihood with L2, as in EVmutation
(Hopf et al. 2017) and plmc.

P(x) ~ exp(sum_i h_i(x_i) + sum_{i<j} J_ij(x_i, x_j)) over 21 states. The couplings are
kept symmetric (J = (W + W^T) / 2, zero self-blocks). The conditional logits of every
column are one ``embedding_bag`` over the sequence's L (column, state) indices: L x Lq
work per sequence instead of the Lq x Lq of a dense one-hot product. Regularisation as
EVcouplings' defaults: lambda_h = 0.01, lambda_J = 0.01 * (q - 1) * (L - 1), counted per
pair i < j; the objective is divided by N_eff.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from genomicdl.io.alignment import STATES


class Potts(nn.Module):
    """Fields h (L, q) and couplings W (L*q, L*q)."""

    closed_form = False

    def __init__(self, length: int, *, lambda_h: float = 0.01, lambda_j: float = 0.01) -> None:
        super().__init__()
        q = STATES
        self.length, self.q = length, q
        self.lambda_h = lambda_h
        self.lambda_j = lambda_j * (q - 1) * (length - 1)
        self.h = nn.Parameter(torch.zeros(length, q))
        self.w = nn.Parameter(torch.zeros(length * q, length * q))
        block = torch.arange(length).repeat_interleave(q)
        self.register_buffer("offdiag", (block[:, None] != block[None, :]).float(), persistent=False)
        self.register_buffer("base", torch.arange(length) * q, persistent=False)

    def couplings(self) -> torch.Tensor:
        return (self.w + self.w.T) * 0.5 * self.offdiag

    def _pair_logits(self, codes: torch.Tensor, coupling: torch.Tensor) -> torch.Tensor:
        index = codes.long() + self.base
        return functional.embedding_bag(index, coupling, mode="sum").view(-1, self.length, self.q)

    def loss(self, codes: torch.Tensor, weights: torch.Tensor, neff: float) -> torch.Tensor:
        """Weighted negative pseudo-log-likelihood + L2, per unit of N_eff."""
        coupling = self.couplings()
        logits = self.h + self._pair_logits(codes, coupling)
        nll = functional.cross_entropy(logits.transpose(1, 2), codes.long(), reduction="none").sum(1)
        data = (weights * nll).sum() / weights.sum()
        penalty = self.lambda_h * self.h.square().sum() + 0.5 * self.lambda_j * coupling.square().sum()
        return data + penalty / neff

    @torch.no_grad()
    def energy(self, codes: torch.Tensor) -> torch.Tensor:
        """Statistical energy sum_i h_i + sum_{i<j} J_ij of each sequence (higher = fitter)."""
        index = codes.long()
        pair = self._pair_logits(codes, self.couplings()).gather(2, index[..., None])[..., 0]
        field = self.h.gather(1, index.T).T
        return (field + 0.5 * pair).sum(1)

    def score(self, mutants: torch.Tensor, wild_type: torch.Tensor, **_: object) -> torch.Tensor:
        out = [self.energy(chunk) for chunk in mutants.split(1024)]
        return torch.cat(out) - self.energy(wild_type[None])
