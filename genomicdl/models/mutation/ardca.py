"""Autoregressive family model (arDCA: Trinquier, Uguzzoni, Pagnani, Zamponi & Weigt,
Nat Commun 2021).

p(x) = prod_i p(x_i | x_<i) in a position ``order``; each conditional is a softmax over
the 21 states of h_i + sum_{j<i} J_ij(x_j, .). Fitted by weighted likelihood (weights
normalised to sum 1) with L2: lambda_h |h_i|^2 + lambda_j |J_i.|^2 per position. The
objective is a sum of convex per-position problems, so positions are fitted in chunks
(``chunk`` positions at a time, each chunk full batch with L-BFGS): the chunk's logits are
one dense product of the one-hot prefix with its coupling block, which runs at the
machine's matmul rate. Mutation effect = log p(mutant) - log p(wild type).

Orders: ``natural`` (alignment columns), ``reverse``, or ``entropic`` (ascending weighted
column entropy, ArDCA.jl's default); a list of orders fits one model per order and
averages their log-likelihoods.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from genomicdl.io.alignment import STATES
from genomicdl.core.files import atomic_output

ORDERS = ("natural", "reverse", "entropic")


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
    """Per position order k: fields h[k] (L, q) and couplings j[k] (L*q, L*q) in that order:
    j[k][a*q + s, b*q + t] couples state s at order position a < b to state t at b. With
    several orders, log p(x) is the mean of the orders' log-likelihoods."""

    closed_form = True  # fitted by its own optimiser (``fit``), not by Adam steps

    def __init__(
        self,
        length: int,
        *,
        lambda_h: float = 0.01,
        lambda_j: float = 0.01,
        order: str | list[str] = "natural",
        chunk: int = 16,
        max_iter: int = 200,
        tolerance: float = 1e-5,
    ) -> None:
        super().__init__()
        self.orders = [order] if isinstance(order, str) else list(order)
        bad = [o for o in self.orders if o not in ORDERS]
        if bad or not self.orders:
            raise ValueError(f"order must be one or a list of {', '.join(ORDERS)}, not {order!r}")
        q, k = STATES, len(self.orders)
        self.length, self.q, self.chunk = length, q, max(1, int(chunk))
        self.lambda_h, self.lambda_j, self.max_iter, self.tolerance = lambda_h, lambda_j, max_iter, tolerance
        self.register_buffer("order", torch.arange(length).repeat(k, 1))
        self.register_buffer("h", torch.zeros(k, length, q))
        self.register_buffer("j", torch.zeros(k, length * q, length * q))

    def _onehot(self, codes: torch.Tensor, k: int) -> torch.Tensor:
        """(n, L*q) float one-hot of the columns in order k."""
        return functional.one_hot(codes.long()[:, self.order[k]], self.q).flatten(1).float()

    def _set_orders(self, codes: torch.Tensor, weights: torch.Tensor) -> None:
        for k, name in enumerate(self.orders):
            if name == "entropic":
                self.order[k] = entropic_order(codes.cpu(), weights.cpu()).to(self.order.device)
            elif name == "reverse":
                self.order[k] = torch.arange(self.length - 1, -1, -1, device=self.order.device)

    def fit(
        self,
        codes: torch.Tensor,
        weights: torch.Tensor,
        *,
        checkpoint: Path | None = None,
        signature: str = "",
        log: Callable[[str], None] = print,
    ) -> dict[str, Any]:
        """Fit order by order, chunk by chunk; with ``checkpoint``, the finished chunks are
        saved atomically after each one and a rerun with the same ``signature`` resumes."""
        w = (weights / weights.sum()).float()
        self._set_orders(codes, weights)
        done, iterations, losses = 0, [], []  # done counts positions over all orders
        if checkpoint is not None and checkpoint.exists():
            state = torch.load(checkpoint, map_location=self.h.device, weights_only=True)
            if state.get("signature") == signature:
                self.load_state_dict(state["model"])
                done, iterations, losses = int(state["done"]), list(state["iterations"]), list(state["losses"])
                log(f"resumed from {checkpoint}: {done} of {self.length * len(self.orders)} positions fitted")
        for k, name in enumerate(self.orders):
            if done >= (k + 1) * self.length:
                continue
            x = self._onehot(codes, k)
            target = codes.long()[:, self.order[k]]
            index = target + torch.arange(self.length, device=target.device) * self.q
            for start in range(done - k * self.length, self.length, self.chunk):
                stop = min(start + self.chunk, self.length)
                began = time.time()
                count, loss = self._fit_chunk(k, x, index, target, w, start, stop)
                iterations.append(count)
                losses.append(loss)
                done = k * self.length + stop
                log(f"order {name}: positions {start}-{stop - 1} of {self.length}: {count} L-BFGS evaluations, "
                    f"loss {loss:.4f}, {time.time() - began:.1f} s")
                if checkpoint is not None:
                    with atomic_output(checkpoint) as tmp:
                        torch.save({"signature": signature, "model": self.state_dict(), "done": done,
                                    "iterations": iterations, "losses": losses}, tmp)
        return {"evaluations": sum(iterations), "chunks": len(iterations),
                "objective": sum(losses) / len(self.orders)}

    def _fit_chunk(self, k: int, x: torch.Tensor, index: torch.Tensor, target: torch.Tensor, w: torch.Tensor,
                   start: int, stop: int) -> tuple[int, float]:
        """L-BFGS on the conditionals of order positions start..stop-1 (a convex problem)."""
        q, width = self.q, stop - start
        prefix, rows = x[:, : stop * q], index[:, :stop].contiguous()
        mask = torch.ones(stop * q, width * q, device=x.device)
        for c in range(width):  # position start+c sees only the positions before it
            mask[(start + c) * q:, c * q:(c + 1) * q] = 0
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
            self.j[k, : stop * q, start * q:stop * q] = coupling * mask
            self.h[k, start:stop] = field
        return calls[0], last[0]

    @torch.no_grad()
    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(x) of each sequence: float64, the mean over the orders."""
        total = torch.zeros(len(codes), dtype=torch.float64, device=codes.device)
        for k in range(len(self.orders)):
            logits = (self._onehot(codes, k) @ self.j[k]).view(-1, self.length, self.q) + self.h[k]
            target = codes.long()[:, self.order[k]]
            total += functional.log_softmax(logits, -1).gather(2, target[..., None])[..., 0].double().sum(1)
        return total / len(self.orders)

    def score(self, mutants: torch.Tensor, wild_type: torch.Tensor, **_: object) -> torch.Tensor:
        out = [self.log_prob(chunk) for chunk in mutants.split(512)]
        return (torch.cat(out) - self.log_prob(wild_type[None])).float()
