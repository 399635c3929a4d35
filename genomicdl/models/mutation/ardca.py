"""Autoregressive family model (arDCA: Trinquier, Uguzzoni, Pagnani, Zamponi & Weigt,
Nat Commun 2021).

p(x) = prod_i p(x_i | x_<i) in a position ``order``; each conditional is a softmax over
the 21 states of h_i + sum_{j<i} J_ij(x_j, .). Fitted by weighted likelihood (weights
normalised to sum 1) with L2: lambda_h |h_i|^2 + lambda_j |J_i.|^2 per position. The
objective is a sum of convex per-position problems, so positions are fitted in chunks
(``chunk`` positions at a time, each chunk full batch with L-BFGS): the chunk's logits are
one dense product of the one-hot prefix with its coupling block, which runs at the
machine's matmul rate. Mutation effect = log p(mutant) - log p(wild type).

``lambda_j: auto`` chooses lambda_J by held-out likelihood (see ``ArDCA``).

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

from genomicdl.core.files import atomic_output
from genomicdl.core.seeds import stable_seed
from genomicdl.io.alignment import STATES

ORDERS = ("natural", "reverse", "entropic")
AUTO = "auto"
LAMBDA_J_GRID = (0.01, 0.02, 0.05, 0.1)


def _check_lambdas(lambda_j: object, grid: object, holdout: object) -> tuple[float, ...]:
    """The grid, strongest first; a clear error for a bad lambda_j, grid or holdout."""
    def number(v: object) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    if not (lambda_j == AUTO or (number(lambda_j) and lambda_j >= 0)):
        raise ValueError(f"lambda_j must be a number >= 0 or {AUTO!r}, not {lambda_j!r}")
    values = list(grid) if isinstance(grid, list | tuple) else []
    if not values or not all(number(v) and v > 0 for v in values) or len(set(values)) < len(values):
        raise ValueError(f"lambda_j_grid must be a list of distinct numbers > 0, not {grid!r}")
    if not (number(holdout) and 0 < holdout <= 0.5):
        raise ValueError(f"holdout must be a fraction in (0, 0.5], not {holdout!r}")
    return tuple(sorted((float(v) for v in values), reverse=True))


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
    several orders, log p(x) is the mean of the orders' log-likelihoods.

    ``lambda_j="auto"`` chooses lambda_J from ``lambda_j_grid`` by held-out likelihood: a
    seeded ``holdout`` fraction of the sequences (the same split for every seed) is set
    aside, the model is fitted on the rest for every grid value (strongest first, each fit
    started from the previous optimum), the value with the highest weighted mean held-out
    log p wins (ties: the stronger), and the model is refitted on every sequence with it,
    started from its held-out fit (the objective is convex: a start moves the optimum only
    within the tolerance)."""

    closed_form = True  # fitted by its own optimiser (``fit``), not by Adam steps

    def __init__(
        self,
        length: int,
        *,
        lambda_h: float = 0.01,
        lambda_j: float | str = 0.01,
        lambda_j_grid: list[float] | tuple[float, ...] = LAMBDA_J_GRID,
        holdout: float = 0.1,
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
        self.grid = _check_lambdas(lambda_j, lambda_j_grid, holdout)
        q, k = STATES, len(self.orders)
        self.length, self.q, self.chunk = length, q, max(1, int(chunk))
        self.lambda_h, self.lambda_j, self.max_iter, self.tolerance = lambda_h, lambda_j, max_iter, tolerance
        self.holdout = float(holdout)
        # diagnostics of the last ``auto`` fit in this process (bench scripts): the chosen
        # held-out fit's h and j, and the held-out log p of every grid value (orders x rows)
        self.selected_fit: dict[str, torch.Tensor] | None = None
        self.heldout_log_probs: dict[float, torch.Tensor] = {}
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

    def split(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(fitted rows, held-out rows) of ``lambda_j: auto``: a fixed seeded permutation."""
        held = round(self.holdout * n)
        if held < 1 or held >= n:
            raise ValueError(f"lambda_j {AUTO!r}: holdout {self.holdout} of {n} sequences leaves no split")
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(stable_seed("ardca-holdout") % 2**63))
        return perm[held:].sort().values, perm[:held].sort().values

    def fit(
        self,
        codes: torch.Tensor,
        weights: torch.Tensor,
        *,
        checkpoint: Path | None = None,
        signature: str = "",
        log: Callable[[str], None] = print,
        refit: bool = True,
    ) -> dict[str, Any]:
        """Fit order by order, chunk by chunk (after the selection phases of ``lambda_j:
        auto``; ``refit=False`` stops there, the model being the chosen held-out fit); with
        ``checkpoint``, the state is saved atomically after every chunk and a rerun with
        the same ``signature`` resumes."""
        self._set_orders(codes, weights)
        auto = self.lambda_j == AUTO
        phases: list[float | None] = [*self.grid, None] if auto else [float(self.lambda_j)]
        fitted, held = self.split(len(codes)) if auto else (None, None)
        run: dict[str, Any] = {"phase": 0, "done": 0, "iterations": [], "losses": [], "table": [], "best": None}
        self._resume(run, checkpoint, signature, log)
        save = (lambda: self._save(checkpoint, signature, run)) if checkpoint is not None else (lambda: None)
        for p in range(run["phase"], len(phases)):
            lam = phases[p]
            if lam is None and not refit:
                break
            if lam is None:  # the refit on every sequence with the chosen value
                lam = max(run["table"], key=lambda r: (r["heldout_ll"], r["lambda_j"]))["lambda_j"]
                self._fit_phase(codes, weights, lam, run, save, log)
            elif not auto:
                self._fit_phase(codes, weights, lam, run, save, log)
            else:
                self._fit_phase(codes[fitted], weights[fitted], lam, run, save, log)
                self._select(lam, codes[held], weights[held], run, log)
                if p + 1 == len(phases) - 1:  # the refit starts from the chosen fit
                    self.selected_fit, run["best"] = run["best"], None
                    self.h.copy_(self.selected_fit["h"])
                    self.j.copy_(self.selected_fit["j"])
                run.update(phase=p + 1, done=0, losses=[])
                save()
        out = {"evaluations": sum(run["iterations"]), "chunks": len(run["iterations"]),
               "objective": sum(run["losses"]) / len(self.orders)}
        if auto:
            chosen = max(run["table"], key=lambda r: (r["heldout_ll"], r["lambda_j"]))["lambda_j"]
            out.update(lambda_j=chosen, selection=run["table"])
        return out

    def _resume(self, run: dict[str, Any], checkpoint: Path | None, signature: str,
                log: Callable[[str], None]) -> None:
        if checkpoint is None or not checkpoint.exists():
            return
        state = torch.load(checkpoint, map_location=self.h.device, weights_only=True)
        if state.get("signature") != signature:
            return
        self.load_state_dict(state["model"])
        for key in run:
            run[key] = state.get(key, run[key])
        run["phase"], run["done"] = int(run["phase"]), int(run["done"])
        log(f"resumed from {checkpoint}: phase {run['phase']}, "
            f"{run['done']} of {self.length * len(self.orders)} positions fitted")

    def _save(self, checkpoint: Path, signature: str, run: dict[str, Any]) -> None:
        with atomic_output(checkpoint) as tmp:
            torch.save({"signature": signature, "model": self.state_dict(), **run}, tmp)

    def _fit_phase(self, codes: torch.Tensor, weights: torch.Tensor, lam: float, run: dict[str, Any],
                   save: Callable[[], None], log: Callable[[str], None]) -> None:
        """Fit every order's remaining chunks with lambda_J = ``lam``, from the current state."""
        w = (weights / weights.sum()).float()
        for k, name in enumerate(self.orders):
            if run["done"] >= (k + 1) * self.length:
                continue
            x = self._onehot(codes, k)
            target = codes.long()[:, self.order[k]]
            index = target + torch.arange(self.length, device=target.device) * self.q
            for start in range(run["done"] - k * self.length, self.length, self.chunk):
                stop = min(start + self.chunk, self.length)
                began = time.time()
                count, loss = self._fit_chunk(k, x, index, target, w, start, stop, lam)
                run["iterations"].append(count)
                run["losses"].append(loss)
                run["done"] = k * self.length + stop
                log(f"order {name}, lambda_j {lam:g}, {len(codes)} sequences: positions {start}-{stop - 1} of "
                    f"{self.length}: {count} L-BFGS evaluations, loss {loss:.4f}, {time.time() - began:.1f} s")
                save()

    def _select(self, lam: float, codes: torch.Tensor, weights: torch.Tensor, run: dict[str, Any],
                log: Callable[[str], None]) -> None:
        """Record the held-out log-likelihood of the fit with ``lam``; keep the best fit."""
        w = (weights / weights.sum()).double()
        self.heldout_log_probs[lam] = torch.stack([self.order_log_prob(codes, k) for k in range(len(self.orders))])
        by_order = [float((w * lp).sum()) for lp in self.heldout_log_probs[lam]]
        row = {"lambda_j": lam, "heldout_ll": sum(by_order) / len(by_order), "heldout_ll_by_order": by_order,
               "evaluations": sum(run["iterations"]), "held_out": len(codes)}
        best = max(run["table"], key=lambda r: (r["heldout_ll"], r["lambda_j"]), default=None)
        if best is None or row["heldout_ll"] > best["heldout_ll"]:
            run["best"] = {"h": self.h.clone(), "j": self.j.clone()}
        run["table"].append(row)
        log(f"lambda_j {lam:g}: held-out log-likelihood {row['heldout_ll']:.4f} per sequence "
            f"({', '.join(f'{o} {v:.4f}' for o, v in zip(self.orders, by_order, strict=True))})")

    def _fit_chunk(self, k: int, x: torch.Tensor, index: torch.Tensor, target: torch.Tensor, w: torch.Tensor,
                   start: int, stop: int, lam: float) -> tuple[int, float]:
        """L-BFGS on the conditionals of order positions start..stop-1 (a convex problem),
        from the current parameters (zeros before any fit)."""
        q, width = self.q, stop - start
        prefix, rows = x[:, : stop * q], index[:, :stop].contiguous()
        mask = torch.ones(stop * q, width * q, device=x.device)
        for c in range(width):  # position start+c sees only the positions before it
            mask[(start + c) * q:, c * q:(c + 1) * q] = 0
        coupling = self.j[k, : stop * q, start * q:stop * q].clone().requires_grad_(True)
        field = self.h[k, start:stop].clone().requires_grad_(True)
        opt = torch.optim.LBFGS([coupling, field], max_iter=self.max_iter, tolerance_grad=self.tolerance,
                                tolerance_change=1e-10, history_size=10, line_search_fn="strong_wolfe")
        calls, last = [0], [0.0]

        def closure() -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            masked = coupling * mask
            logits = _PrefixProduct.apply(rows, prefix, masked).view(-1, width, q) + field
            nll = functional.cross_entropy(logits.transpose(1, 2), target[:, start:stop], reduction="none")
            loss = (w[:, None] * nll).sum()
            loss = loss + lam * masked.square().sum() + self.lambda_h * field.square().sum()
            loss.backward()
            calls[0], last[0] = calls[0] + 1, float(loss.detach())
            return loss

        opt.step(closure)
        with torch.no_grad():
            self.j[k, : stop * q, start * q:stop * q] = coupling * mask
            self.h[k, start:stop] = field
        return calls[0], last[0]

    @torch.no_grad()
    def order_log_prob(self, codes: torch.Tensor, k: int) -> torch.Tensor:
        """log p(x) of each sequence under order k (float64), in blocks of 512 sequences."""
        out = []
        for block in codes.split(512):
            logits = (self._onehot(block, k) @ self.j[k]).view(-1, self.length, self.q) + self.h[k]
            target = block.long()[:, self.order[k]]
            out.append(functional.log_softmax(logits, -1).gather(2, target[..., None])[..., 0].double().sum(1))
        return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64, device=codes.device)

    @torch.no_grad()
    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(x) of each sequence: float64, the mean over the orders."""
        return sum(self.order_log_prob(codes, k) for k in range(len(self.orders))) / len(self.orders)

    def score(self, mutants: torch.Tensor, wild_type: torch.Tensor, **_: object) -> torch.Tensor:
        out = [self.log_prob(chunk) for chunk in mutants.split(512)]
        return (torch.cat(out) - self.log_prob(wild_type[None])).float()
