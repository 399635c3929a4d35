"""VAE training throughput: our entry (train_mutation) against a bare PyTorch loop and
against the compute bound of the model's layers, one run.

Compute bound: the matmul FLOPs of one training step (forward: embedding_bag adds,
linear layers 2*in*out per sequence, the output layer 2*H*L*20 per sequence, the
dictionary product 2*H*L*C*20 once per step; backward counted as 2x forward), divided
by the batch, give FLOPs per sequence; a float32 matmul of the output layer's shape
timed in the same run gives this machine's rate (FLOP per CPU second); bound =
rate / FLOPs per sequence. Elementwise work (sampling, KL, softmax, Adam) counts nothing
in the bound: it is what keeps a run below it.

Both train the same VAE (same size, same initial weights: same seed) for the same steps
and batch size with Adam on the same prepared alignment:

- bare: codes in memory as one tensor, batches by ``torch.randint``, loss, step;
- ours: ``genomicdl.mutation.train.train_mutation`` exactly as the train_mutation rule
  runs it: batches drawn in proportion to the sequence weights from a (seed, step)
  generator, the global RNG reseeded per step, an atomic checkpoint every
  ``--checkpoint-every`` steps, the model file written at the end.

    python bench/vae_throughput.py [--steps 200] [--batch-size 128] [--encoder 512 256] [--threads 1]

Timed: the training steps only (not the alignment's preparation), in CPU seconds of this
process (``time.process_time``, robust to other load on the machine) and in wall seconds.
"before" is the bare loop as the model trained until issue 27 (PyTorch's default Adam,
the weights' KL through autograd); "bare" is the same loop with the fused Adam and the
closed-form KL, as train_mutation now trains; "ours" is train_mutation itself.

The last line is one JSON object:
{"bench": "vae_throughput", "ours_seq_s": ..., "bare_seq_s": ..., "bound_seq_s": ..., ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import types
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.config import validation as gconfig
from genomicdl.io.alignment import load_alignment
from genomicdl.mutation.data import prepare_dataset
from genomicdl.mutation.train import build_model, train_mutation

DEFAULT_A2M = (Path(__file__).resolve().parents[2] / "shared/data/mutation_effects"
               / "BLAT_ECOLX_hmmerbit_plmc_n5_m30_f50_t0.2_r24-286_id100_b105.a2m.gz")
SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def alignment_settings(path: str | Path) -> dict:
    """The alignment section as the workflow passes it: validated, the schema's defaults filled."""
    raw = {"datasets": {"a": {"alignment": {"url": str(path)}}}, "models": ["site_independent"]}
    return gconfig.validate(raw, gconfig.load_schema(SCHEMA))["datasets"]["a"]["alignment"]


def autograd_penalty(net: torch.nn.Module) -> torch.Tensor:
    """The VAE's penalty as it was before the closed-form KL: autograd through the
    elementwise expression (the "before" loop uses it)."""
    total = net.sparsity * torch.sigmoid(net.scales).sum()
    var = net.prior_scale**2
    for name, mean in net.mean.items():
        log_sigma = net.log_sigma[name]
        total = total + 0.5 * ((mean.square() + (2 * log_sigma).exp()) / var - 1 - 2 * log_sigma).sum()
        total = total + 0.5 * mean.numel() * torch.log(torch.tensor(var))
    return total


def bare(h5: Path, params: dict, *, steps: int, batch: int, lr: float, before: bool) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of a hand-written loop over the same model; ``before``:
    PyTorch's default Adam and the autograd KL, as train_mutation ran until issue 27."""
    aln = load_alignment(h5)
    codes = torch.as_tensor(aln.codes.astype(np.int64))
    torch.manual_seed(0)
    net = build_model("vae", aln.length, params)
    if before:
        net.penalty = types.MethodType(autograd_penalty, net)
    opt = torch.optim.Adam(net.parameters(), lr=lr, fused=not before)
    ones, neff = torch.ones(batch), float(aln.weights.sum())
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(steps):
        loss = net.loss(codes[torch.randint(0, len(codes), (batch,))], ones, neff)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.process_time() - cpu, time.perf_counter() - wall


def flops_per_sequence(length: int, params: dict, batch: int) -> float:
    """Matmul FLOPs of one training step per sequence (backward = 2x forward)."""
    encoder, decoder = list(params["encoder"]), list(params["decoder"])
    latent, dictionary, q = params.get("latent", 30), params.get("dictionary", 40), 20
    forward = length * encoder[0]  # embedding_bag: one add per column and unit
    forward += sum(2 * a * b for a, b in pairwise(encoder))
    forward += 2 * encoder[-1] * 2 * latent  # mean and log-variance heads
    forward += sum(2 * a * b for a, b in pairwise([latent, *decoder]))
    forward += 2 * decoder[-1] * length * q  # output layer
    forward += 2 * decoder[-1] * length * dictionary * q / batch  # dictionary product, once per step
    return 3.0 * forward


def matmul_rate(batch: int, hidden: int, width: int, repeats: int = 5) -> float:
    """FLOP per CPU second of a float32 (batch, hidden) @ (hidden, width) product, best of repeats."""
    a, b = torch.randn(batch, hidden), torch.randn(hidden, width)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(5):
            a @ b
        best = min(best, (time.process_time() - start) / 5)
    return 2.0 * batch * hidden * width / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alignment", type=Path, default=DEFAULT_A2M)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--encoder", type=int, nargs="+", default=[512, 256])
    parser.add_argument("--decoder", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    params = {"encoder": tuple(args.encoder), "decoder": tuple(args.decoder)}
    with tempfile.TemporaryDirectory() as tmp:
        h5 = Path(tmp) / "a.h5"
        settings = alignment_settings(args.alignment)
        prepare_dataset(args.alignment, out=h5, summary=Path(tmp) / "s.json", settings=settings)
        length = load_alignment(h5).length
        rate = matmul_rate(args.batch_size, args.decoder[-1], length * 20)
        before_cpu, before_wall = bare(h5, params, steps=args.steps, batch=args.batch_size, lr=1e-3, before=True)
        bare_cpu, bare_wall = bare(h5, params, steps=args.steps, batch=args.batch_size, lr=1e-3, before=False)
        cpu, wall = time.process_time(), time.perf_counter()
        train_mutation(alignment=h5, model="vae", out=Path(tmp) / "m.pt", params=params, steps=args.steps,
                       batch_size=args.batch_size, learning_rate=1e-3, checkpoint_every=args.checkpoint_every,
                       device="cpu", log=lambda _: None)
        ours_cpu, ours_wall = time.process_time() - cpu, time.perf_counter() - wall
    seqs = args.steps * args.batch_size
    flops = flops_per_sequence(length, params, args.batch_size)
    bound = rate / flops
    result = {"before": seqs / before_cpu, "bare": seqs / bare_cpu, "ours": seqs / ours_cpu}
    print(f"matmul rate {rate / 1e9:.1f} GFLOP/s (CPU time); {flops / 1e6:.2f} MFLOP per sequence; "
          f"bound {bound:.0f} sequences/s")
    for name, value in result.items():
        print(f"{name}: {value:.0f} sequences per CPU second ({100 * value / bound:.1f}% of the bound)")
    print(f"wall: before {seqs / before_wall:.0f}, bare {seqs / bare_wall:.0f}, ours {seqs / ours_wall:.0f} "
          "sequences/s (other load on the machine counts here)")
    print(json.dumps({
        "bench": "vae_throughput", "steps": args.steps, "batch_size": args.batch_size, "params": params,
        "matmul_gflop_s": round(rate / 1e9, 2), "mflop_per_seq": round(flops / 1e6, 3),
        "bound_seq_s": round(bound, 1), **{f"{k}_seq_s": round(v, 1) for k, v in result.items()},
        **{f"{k}_share": round(v / bound, 4) for k, v in result.items()},
        "speedup_vs_before": round(result["ours"] / result["before"], 3),
        "overhead": round(ours_cpu / bare_cpu, 3), "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
