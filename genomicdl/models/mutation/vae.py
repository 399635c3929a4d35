"""DeepSequence-style VAE (Riesselman, Ingraham & Marks 2018).

* Encoder: MLP (default 1500-1500) on the one-hot alignment row (20 amino acids + gap),
  its first layer an ``embedding_bag`` over the L (column, state) indices (L x H work
  instead of L*21 x H); outputs the mean and log-variance of a Gaussian latent (30).
* Decoder: MLP (default 100-500, ReLU then sigmoid) into a structured output layer:
  weights (H, L, C) times a shared amino-acid dictionary (C, 20) (the paper's
  "convolution" over the alphabet), each group of ``tiles`` hidden units gated per
  column by sigmoid(S) (the group-sparsity scales), a softplus temperature, a bias.
* Likelihood: categorical over the 20 amino acids at every non-gap column (gaps do not
  count, as in DeepSequence). Objective: the ELBO of sequences drawn in proportion to
  their weights, minus priors (Gaussian on decoder weights, a sparsity penalty on the
  scales) divided by N_eff.
* Decoder weights (layers, output weights, dictionary, output bias) are Bayesian as in
  the paper: a factorised Gaussian posterior (mean, log sigma) against an N(0, 1) prior,
  sampled at every step and in scoring, their KL divided by N_eff (``bayesian: false``
  gives point estimates with the same prior as an L2 penalty).
* Scaled down from the paper: the sparsity prior is an L1 penalty on the gates
  sigmoid(S) (point estimates) instead of a Bayesian logit-normal prior.

Mutation effect = ELBO(mutant) - ELBO(wild type), averaged over ``samples`` draws, the
wild type and the mutants under common random numbers (the same decoder weights and
latent noise within a draw).
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional

from genomicdl.io.alignment import GAP, STATES


class _GaussianKL(torch.autograd.Function):
    """KL(N(mean, exp(log_sigma)^2) || N(0, var)) summed over the elements, with its
    gradient in closed form: 5 passes over the weights forward, 3 backward, where autograd
    through the elementwise expression takes about 20 (the largest decoder weights are
    L x H x C, so these passes cost more than the batch's matmuls)."""

    @staticmethod
    def forward(ctx, mean: torch.Tensor, log_sigma: torch.Tensor, var: float) -> torch.Tensor:
        sigma2 = (2 * log_sigma).exp_()
        ctx.save_for_backward(mean, sigma2)
        ctx.var = var
        flat = mean.reshape(-1)
        total = (torch.dot(flat, flat) + sigma2.sum()) / var - 2 * log_sigma.sum()
        return 0.5 * (total + mean.numel() * (math.log(var) - 1))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        mean, sigma2 = ctx.saved_tensors
        return mean * (grad / ctx.var), (sigma2 / ctx.var - 1) * grad, None


class VAE(nn.Module):
    """The model; hidden sizes are tuples, ``tiles`` must divide the last decoder width."""

    closed_form = False

    def __init__(
        self,
        length: int,
        *,
        encoder: tuple[int, ...] = (1500, 1500),
        latent: int = 30,
        decoder: tuple[int, ...] = (100, 500),
        dictionary: int = 40,
        tiles: int = 4,
        sparsity: float = 1.0,
        prior_scale: float = 1.0,
        bayesian: bool = True,
    ) -> None:
        super().__init__()
        encoder, decoder = tuple(encoder), tuple(decoder)
        if decoder[-1] % tiles:
            raise ValueError(f"tiles={tiles} must divide the last decoder width {decoder[-1]}")
        self.length, self.latent, self.tiles, self.layers = length, latent, tiles, len(decoder)
        self.sparsity, self.prior_scale, self.bayesian = sparsity, prior_scale, bayesian
        self.embed = nn.EmbeddingBag(length * STATES, encoder[0], mode="sum")
        self.embed_bias = nn.Parameter(torch.zeros(encoder[0]))
        self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(encoder))
        self.mu = nn.Linear(encoder[-1], latent)
        self.logvar = nn.Linear(encoder[-1], latent)
        last, q = decoder[-1], STATES - 1
        shapes = {f"w{i}": (a, b) for i, (a, b) in enumerate(pairwise((latent, *decoder)))}
        shapes |= {f"b{i}": (b,) for i, b in enumerate(decoder)}
        shapes |= {"out_w": (last, length, dictionary), "dictionary": (dictionary, q), "out_b": (length, q)}
        self.mean = nn.ParameterDict()
        self.log_sigma = nn.ParameterDict()
        for name, shape in shapes.items():
            fan = shape[0] if len(shape) == 2 and name.startswith("w") else (last if name == "out_w" else 1)
            scale = 0.0 if name.startswith("b") or name == "out_b" else (2.0 / (fan + shape[-1])) ** 0.5
            if name == "dictionary":
                scale = dictionary**-0.5
            self.mean[name] = nn.Parameter(torch.randn(shape) * scale)
            if bayesian:
                self.log_sigma[name] = nn.Parameter(torch.full(shape, -5.0))
        self.scales = nn.Parameter(torch.zeros(last // tiles, length))
        self.temperature = nn.Parameter(torch.ones(1))
        self.register_buffer("base", torch.arange(length) * STATES, persistent=False)
        nn.init.normal_(self.embed.weight, std=(1.0 / length) ** 0.5)
        nn.init.constant_(self.logvar.bias, -5.0)

    def encode(self, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = functional.relu(self.embed(codes.long() + self.base) + self.embed_bias)
        for layer in self.encoder:
            h = functional.relu(layer(h))
        return self.mu(h), self.logvar(h)

    def draw(self) -> dict[str, torch.Tensor]:
        """One sample of the decoder's weights (their means when not Bayesian), with the
        (H, L*20) output matrix: dictionary product gated by sigmoid(S)."""
        weights = {}
        for name, mean in self.mean.items():
            weights[name] = mean + self.log_sigma[name].exp() * torch.randn_like(mean) if self.bayesian else mean
        w = torch.einsum("hlc,cq->hlq", weights["out_w"], weights["dictionary"])
        gate = torch.sigmoid(self.scales).repeat(self.tiles, 1)
        weights["output"] = (w * gate[:, :, None]).reshape(w.shape[0], -1)
        return weights

    def decode(self, z: torch.Tensor, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, L, 20) log-probabilities under one draw of the decoder's weights."""
        h = z
        for i in range(self.layers):
            h = h @ weights[f"w{i}"] + weights[f"b{i}"]
            h = torch.sigmoid(h) if i == self.layers - 1 else functional.relu(h)
        logits = (h @ weights["output"]).view(-1, self.length, STATES - 1)
        logits = logits * functional.softplus(self.temperature) + weights["out_b"]
        return functional.log_softmax(logits, dim=-1)

    def elbo(
        self, codes: torch.Tensor, weights: dict[str, torch.Tensor] | None = None, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One-sample ELBO of each sequence: log p(x | z) - KL(q(z | x) || N(0, I)), with
        z = mu + noise * sigma (``noise``: standard normal, drawn here when None; a (1, latent)
        row is shared by every sequence)."""
        mu, logvar = self.encode(codes)
        noise = torch.randn_like(mu) if noise is None else noise
        z = mu + noise * (0.5 * logvar).exp()
        logp = self.decode(z, self.draw() if weights is None else weights)
        codes = codes.long()
        residue = codes != GAP
        ll = logp.gather(2, codes.clamp(max=STATES - 2)[..., None])[..., 0]
        kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(1)
        return (ll * residue).sum(1) - kl

    def penalty(self) -> torch.Tensor:
        """KL of the decoder's weights to N(0, prior_scale^2) (an L2 penalty when not
        Bayesian) plus the sparsity penalty on the gates."""
        total = self.sparsity * torch.sigmoid(self.scales).sum()
        var = self.prior_scale**2
        for name, mean in self.mean.items():
            if self.bayesian:
                total = total + _GaussianKL.apply(mean, self.log_sigma[name], var)
            else:
                total = total + mean.square().sum() / (2 * var)
        return total

    def loss(self, codes: torch.Tensor, weights: torch.Tensor, neff: float) -> torch.Tensor:
        """Negative weighted ELBO per sequence plus priors per unit of N_eff."""
        elbo = self.elbo(codes)
        return -(weights * elbo).sum() / weights.sum() + self.penalty() / neff

    @torch.no_grad()
    def score(
        self,
        mutants: torch.Tensor,
        wild_type: torch.Tensor,
        *,
        samples: int = 100,
        chunk: int = 1024,
        common: bool = True,
        **_: object,
    ) -> torch.Tensor:
        """ELBO(mutant) - ELBO(wild type), averaged over ``samples`` draws of the decoder's
        weights and the latent, the wild type scored under the same weight draw.

        ``common`` (common random numbers): within a draw the wild type and every mutant
        also share the latent's standard-normal noise, so the difference keeps the effect
        of the substitution and loses most of the noise of the latent sample (each mutant's
        expected score is unchanged). ``common=False``: each mutant its own noise, the wild
        type's ELBO averaged over 16 noises (the earlier estimator, for comparison)."""
        total = torch.zeros(len(mutants), dtype=torch.float64, device=mutants.device)
        for _ in range(max(samples, 1)):
            weights = self.draw()
            if common:
                noise = torch.randn(1, self.latent, device=mutants.device)
                wt = self.elbo(wild_type[None], weights, noise).double()[0]
            else:
                noise = None
                wt = self.elbo(wild_type[None].expand(16, -1), weights).double().mean()
            parts = [self.elbo(block, weights, noise).double() for block in mutants.split(chunk)]
            total += torch.cat(parts) - wt
        return (total / max(samples, 1)).float()
