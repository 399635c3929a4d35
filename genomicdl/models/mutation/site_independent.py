"""Site-independent model (the independent baseline of Hopf et al. 2017, EVmutation):
weighted per-column amino-acid frequencies with pseudo-counts.

Effect of a mutant = sum over its substitutions of log f_i(mutant) - log f_i(wild type).
Fitted in closed form (no optimiser); gaps are a state of their own (21 states).
"""

from __future__ import annotations

import torch
from torch import nn

from genomicdl.io.alignment import STATES


class SiteIndependent(nn.Module):
    """Log frequencies (L, 21); ``pseudocount`` is a fraction of N_eff spread over the states."""

    closed_form = True

    def __init__(self, length: int, *, pseudocount: float = 0.1) -> None:
        super().__init__()
        self.pseudocount = pseudocount
        self.register_buffer("log_freq", torch.full((length, STATES), -float(torch.log(torch.tensor(STATES)))))

    def fit(self, codes: torch.Tensor, weights: torch.Tensor, **_: object) -> None:
        """Weighted counts of every state per column, plus pseudo-counts."""
        counts = torch.zeros_like(self.log_freq, dtype=torch.float64)
        cols = torch.arange(codes.shape[1]).expand_as(codes)
        counts.index_put_((cols.reshape(-1), codes.reshape(-1).long()),
                          weights.double()[:, None].expand_as(codes).reshape(-1), accumulate=True)
        counts += self.pseudocount * weights.double().sum() / STATES
        self.log_freq.copy_((counts / counts.sum(1, keepdim=True)).log().float())

    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """Sum of per-column log frequencies of each sequence."""
        return self.log_freq.gather(1, codes.long().T).sum(0)

    def score(self, mutants: torch.Tensor, wild_type: torch.Tensor, **_: object) -> torch.Tensor:
        return self.log_prob(mutants) - self.log_prob(wild_type[None])
