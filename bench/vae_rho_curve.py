"""Spearman rho of the VAE against training steps: one seed, trained as train_mutation
trains it (weighted batches seeded by (seed, step), Adam, resumable checkpoints), scored
on a scan after each step count of ``--schedule``.

    python bench/vae_rho_curve.py --schedule 500 1000 2000 4000 --samples 10 --out curve.tsv

Timed: the training steps and the scoring, each in CPU seconds of this process and wall
seconds (the alignment's preparation is not timed). Each row is written to ``--out`` as
soon as it is measured, so a stopped run keeps its rows. The last line is one JSON object.
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

from genomicdl.config import validation as gconfig
from genomicdl.core.seeds import stable_seed
from genomicdl.io.alignment import load_alignment
from genomicdl.io.scans import read_scan
from genomicdl.mutation.data import prepare_dataset
from genomicdl.mutation.train import _optimise, _signature, build_model, predict_effects, spearman_ci

DATA = Path(__file__).resolve().parents[2] / "shared/data/mutation_effects"
DEFAULT_A2M = DATA / "BLAT_ECOLX_hmmerbit_plmc_n5_m30_f50_t0.2_r24-286_id100_b105.a2m.gz"
DEFAULT_SCAN = DATA / "BLAT_ECOLX_Ranganathan2015.csv.gz"
SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def alignment_settings(path: str | Path) -> dict:
    """The alignment section as the workflow passes it: validated, the schema's defaults filled."""
    raw = {"datasets": {"a": {"alignment": {"url": str(path)}}}, "models": ["site_independent"]}
    return gconfig.validate(raw, gconfig.load_schema(SCHEMA))["datasets"]["a"]["alignment"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alignment", type=Path, default=DEFAULT_A2M)
    parser.add_argument("--scan", type=Path, default=DEFAULT_SCAN)
    parser.add_argument("--fitness-column", default="2500")
    parser.add_argument("--schedule", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=0.003)
    parser.add_argument("--encoder", type=int, nargs="+", default=[512, 256])
    parser.add_argument("--decoder", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--samples", type=int, default=10, help="ELBO samples per mutant when scoring")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("vae_rho_curve.tsv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    params = {"encoder": tuple(args.encoder), "decoder": tuple(args.decoder)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        h5 = Path(tmp) / "a.h5"
        settings = alignment_settings(args.alignment)
        prepare_dataset(args.alignment, out=h5, summary=Path(tmp) / "s.json", settings=settings)
        aln = load_alignment(h5)
        scan = read_scan(args.scan, aln, fitness_column=args.fitness_column)
        torch.manual_seed(stable_seed("init", args.seed) % 2**63)
        net = build_model("vae", aln.length, params)
        codes = torch.as_tensor(aln.codes.astype(np.int64))
        weights = torch.as_tensor(aln.weights.astype(np.float32))
        signature = _signature(model="vae", params=params, seed=args.seed, batch_size=args.batch_size,
                               learning_rate=args.learning_rate)
        args.out.write_text("steps\tsequences\tspearman\tlo\thi\ttrain_cpu_s\tscore_cpu_s\ttrain_wall_s\n")
        train_cpu = train_wall = 0.0
        for steps in sorted(args.schedule):
            cpu, wall = time.process_time(), time.perf_counter()
            history = _optimise(net, codes, weights, neff=float(weights.sum()), seed=args.seed, steps=steps,
                                batch_size=args.batch_size, learning_rate=args.learning_rate,
                                checkpoint_every=max(args.schedule), checkpoint=Path(tmp) / "m.ckpt",
                                signature=signature, log=lambda _: None)
            train_cpu += time.process_time() - cpu
            train_wall += time.perf_counter() - wall
            cpu = time.process_time()
            net.eval()
            effects = predict_effects(net, aln, scan, samples=args.samples, seed=args.seed)
            net.train()
            rho, lo, hi = spearman_ci(np.asarray(scan.fitness), effects, bootstrap=args.bootstrap, seed=0)
            row = {"steps": steps, "sequences": steps * args.batch_size, "spearman": round(rho, 4),
                   "lo": round(lo, 4), "hi": round(hi, 4), "train_cpu_s": round(train_cpu, 1),
                   "score_cpu_s": round(time.process_time() - cpu, 1), "train_wall_s": round(train_wall, 1),
                   "loss": round(history[-1]["loss"], 2)}
            rows.append(row)
            with args.out.open("a") as fh:
                fh.write("\t".join(str(row[k]) for k in ("steps", "sequences", "spearman", "lo", "hi",
                                                         "train_cpu_s", "score_cpu_s", "train_wall_s")) + "\n")
            print(f"{steps} steps ({row['sequences']} sequences): rho {rho:.3f} ({lo:.3f}-{hi:.3f}), "
                  f"loss {row['loss']}, train {train_cpu:.0f} CPU s", flush=True)
    print(json.dumps({"bench": "vae_rho_curve", "params": params, "batch_size": args.batch_size,
                      "learning_rate": args.learning_rate, "samples": args.samples, "rows": rows}))


if __name__ == "__main__":
    main()
