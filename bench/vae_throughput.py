"""VAE training throughput: our entry (train_mutation) against a bare PyTorch loop, one run.

Both train the same VAE (same size, same initial weights: same seed) for the same steps
and batch size with Adam on the same prepared alignment:

- bare: codes in memory as one tensor, batches by ``torch.randint``, loss, step;
- ours: ``genomicdl.mutation_train.train_mutation`` exactly as the train_mutation rule
  runs it: batches drawn in proportion to the sequence weights from a (seed, step)
  generator, the global RNG reseeded per step, an atomic checkpoint every
  ``--checkpoint-every`` steps, the model file written at the end.

    python bench/vae_throughput.py [--steps 200] [--batch-size 128] [--encoder 512 256] [--threads 1]

The last line is one JSON object:
{"bench": "vae_throughput", "ours_seq_s": ..., "bare_seq_s": ..., "overhead": bare/ours, ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomicdl.alignment import load_alignment
from genomicdl.mutation_data import prepare_dataset
from genomicdl.mutation_train import build_model, train_mutation

DEFAULT_A2M = (Path(__file__).resolve().parents[2] / "shared/data/mutation_effects"
               / "BLAT_ECOLX_hmmerbit_plmc_n5_m30_f50_t0.2_r24-286_id100_b105.a2m.gz")


def bare(h5: Path, params: dict, *, steps: int, batch: int, lr: float) -> float:
    """Seconds of a hand-written loop over the same model."""
    aln = load_alignment(h5)
    codes = torch.as_tensor(aln.codes.astype(np.int64))
    torch.manual_seed(0)
    net = build_model("vae", aln.length, params)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    ones, neff = torch.ones(batch), float(aln.weights.sum())
    start = time.perf_counter()
    for _ in range(steps):
        loss = net.loss(codes[torch.randint(0, len(codes), (batch,))], ones, neff)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


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
        prepare_dataset(args.alignment, out=h5, summary=Path(tmp) / "s.json", settings={})
        bare_s = bare(h5, params, steps=args.steps, batch=args.batch_size, lr=1e-3)
        start = time.perf_counter()
        train_mutation(alignment=h5, model="vae", out=Path(tmp) / "m.pt", params=params, steps=args.steps,
                       batch_size=args.batch_size, learning_rate=1e-3, checkpoint_every=args.checkpoint_every,
                       device="cpu", log=lambda _: None)
        ours_s = time.perf_counter() - start
    seqs = args.steps * args.batch_size
    print(f"bare loop: {seqs / bare_s:.0f} sequences/s; train_mutation: {seqs / ours_s:.0f} sequences/s")
    print(json.dumps({
        "bench": "vae_throughput", "steps": args.steps, "batch_size": args.batch_size, "params": params,
        "bare_seq_s": round(seqs / bare_s, 1), "ours_seq_s": round(seqs / ours_s, 1),
        "overhead": round(ours_s / bare_s, 3), "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
