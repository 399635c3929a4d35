"""Snakemake entry of rule ensemble_mutation: the seeds' effects averaged, scored as one run."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.mutation.train import ensemble
from genomicdl.core.runner import run_step

w = snakemake.wildcards
run_step(
    snakemake,
    lambda: ensemble(
        predictions=list(snakemake.input.predictions),
        out_dir=Path(snakemake.output.metrics).parent,
        run={"dataset": w.dataset, "model": f"{w.model}_ensemble", "balance": w.balance, "seed": "ensemble"},
        bootstrap=snakemake.params.bootstrap,
    ),
)
