"""Autoregressive family model (arDCA: Trinquier, Uguzzoni, Pagnani, Zamponi & Weigt,
Nat Commun 2021).

p(x) = prod_i p(x_i | x_<i) in a position ``order``; each conditional is a softmax over
the 21 states of h_i + sum_{j<i} J_ij(x_j, .). Fitted by weighted likelihood (weights
normalised to sum 1) with L2: lambda_h |h_i|^2 + lambda_j |J_i.|^2 per position. The
objective is a sum of convex per-position problems, so positions are fitted in chunks
(``chunk`` positions at a time, each chunk full batch with L-BFGS): the chunk's logits are
one dense product of the one-hot prefix with its coupling block, which runs at the
machine's matmul rate. Mutation effect = log p(mutant) - log p(wild type).

Orders: ``natural`` (alignment columns) or ``entropic`` (ascending weighted column
entropy, ArDCA.jl's default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from genomicdl.alignment import STATES
from genomicdl.files import atomic_output

ORDERS = ("natural", "entropic")


def entropic_order(codes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Columns by ascending entropy of their weighted state frequencies (ties by column)."""
    freq = torch.zeros(codes.shape[1], STATES, dtype=torch.float64)
    freq.scatter_add_(1, codes.long().T, weights.double()[None, :].expand(codes.shape[1], -1))
    freq = freq / freq.sum(1, keepdim=True)
    entropy = -(freq * freq.clamp_min(1e-300).log()).sum(1)
    return torch.tensor(sorted(range(codes.shape[1]), key=lambda c: (round(float(entropy[c]), 12), c)))


class _PrefixProduct(torch.autograd.Function):
    """one-hot prefix @ coupling: the forward as an ``embedding_bag`` over each sequence's
    (position, state) rows (q times less work than the dense product), the coupling's
    gradient as the dense product onehot^T @ grad (faster than the bag's scatter)."""

    @staticmethod
    def forward(ctx, index: torch.Tensor, onehot: torch.Tensor, coupling: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(onehot)
        return functional.embedding_bag(index, coupling, mode="sum")

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, None, torch.Tensor]:
        (onehot,) = ctx.saved_tensors
        return None, None, onehot.T @ grad


class ArDCA(nn.Module):
    """Fields h (L, q) and couplings J (L*q, L*q), both in the model's position order:
    J[j*q + a, i*q + b] couples state a at order position j < i to state b at i."""

    closed_form = True  # fitted by its own optimiser (``fit``), not by Adam steps

    def __init__(
        self,
        length: int,
        *,
        lambda_h: float = 0.01,
        lambda_j: float = 0.01,
        order: str = "natural",
        chunk: int = 16,
        max_iter: int = 200,
        tolerance: float = 1e-5,
    ) -> None:
        super().__init__()
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        q = STATES
        self.length, self.q, self.order_name, self.chunk = length, q, order, max(1, int(chunk))
        self.lambda_h, self.lambda_j, self.max_iter, self.tolerance = lambda_h, lambda_j, max_iter, tolerance
        self.register_buffer("order", torch.arange(length))
        self.register_buffer("h", torch.zeros(length, q))
        self.register_buffer("j", torch.zeros(length * q, length * q))

    def _onehot(self, codes: torch.Tensor) -> torch.Tensor:
        """(n, L*q) float one-hot of the columns in model order."""
        return functional.one_hot(codes.long()[:, self.order], self.q).flatten(1).float()

    def fit(
        self,
        codes: torch.Tensor,
        weights: torch.Tensor,
        *,
        checkpoint: Path | None = None,
        signature: str = "",
        log: Callable[[str], None] = print,
    ) -> dict[str, Any]:
        """Fit chunk by chunk; with ``checkpoint``, the finished chunks are saved atomically
        after each one and a rerun with the same ``signature`` resumes after them."""
        w = (weights / weights.sum()).float()
        if self.order_name == "entropic":
            self.order.copy_(entropic_order(codes.cpu(), weights.cpu()).to(self.order.device))
        x = self._onehot(codes)
        target = codes.long()[:, self.order]
        index = target + torch.arange(self.length, device=target.device) * self.q
        done, iterations, losses = 0, [], []
        if checkpoint is not None and checkpoint.exists():
            state = torch.load(checkpoint, map_location=self.h.device, weights_only=True)
            if state.get("signature") == signature:
                self.load_state_dict(state["model"])
                done, iterations, losses = int(state["done"]), list(state["iterations"]), list(state["losses"])
                log(f"resumed from {checkpoint}: {done} of {self.length} positions fitted")
        for start in range(done, self.length, self.chunk):
            stop = min(start + self.chunk, self.length)
            began = time.time()
            count, loss = self._fit_chunk(x, index, target, w, start, stop)
            iterations.append(count)
            losses.append(loss)
            log(f"positions {start}-{stop - 1} of {self.length}: {count} L-BFGS evaluations, "
                f"loss {loss:.4f}, {time.time() - began:.1f} s")
            if checkpoint is not None:
                with atomic_output(checkpoint) as tmp:
                    torch.save({"signature": signature, "model": self.state_dict(), "done": stop,
                                "iterations": iterations, "losses": losses}, tmp)
        return {"evaluations": sum(iterations), "chunks": len(iterations), "objective": sum(losses)}

    def _fit_chunk(self, x: torch.Tensor, index: torch.Tensor, target: torch.Tensor, w: torch.Tensor, start: int,
                   stop: int) -> tuple[int, float]:
        """L-BFGS on the conditionals of order positions start..stop-1 (a convex problem)."""
        q, width = self.q, stop - start
        prefix, rows = x[:, : stop * q], index[:, :stop].contiguous()
        mask = torch.ones(stop * q, width * q, device=x.device)
        for k in range(width):  # position start+k sees only the positions before it
            mask[(start + k) * q:, k * q:(k + 1) * q] = 0
        coupling = torch.zeros(stop * q, width * q, device=x.device, requires_grad=True)
        field = torch.zeros(width, q, device=x.device, requires_grad=True)
        opt = torch.optim.LBFGS([coupling, field], max_iter=self.max_iter, tolerance_grad=self.tolerance,
                                tolerance_change=1e-10, history_size=10, line_search_fn="strong_wolfe")
        calls, last = [0], [0.0]

        def closure() -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            masked = coupling * mask
            logits = _PrefixProduct.apply(rows, prefix, masked).view(-1, width, q) + field
            nll = functional.cross_entropy(logits.transpose(1, 2), target[:, start:stop], reduction="none")
            loss = (w[:, None] * nll).sum()
            loss = loss + self.lambda_j * masked.square().sum() + self.lambda_h * field.square().sum()
            loss.backward()
            calls[0], last[0] = calls[0] + 1, float(loss.detach())
            return loss

        opt.step(closure)
        with torch.no_grad():
            self.j[: stop * q, start * q:stop * q] = coupling * mask
            self.h[start:stop] = field
        return calls[0], last[0]

    @torch.no_grad()
    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(x) of each sequence (float64 sum of the per-position terms)."""
        x = self._onehot(codes)
        logits = (x @ self.j).view(-1, self.length, self.q) + self.h
        target = codes.long()[:, self.order]
        return functional.log_softmax(logits, -1).gather(2, target[..., None])[..., 0].double().sum(1)

    def score(self, mutants: torch.Tensor, wild_type: torch.Tensor, **_: object) -> torch.Tensor:
        out = [self.log_prob(chunk) for chunk in mutants.split(512)]
        return (torch.cat(out) - self.log_prob(wild_type[None])).float()
