"""Snakemake entry of rule ensemble_mutation: the seeds' effects averaged, scored as one run."""

from _entry import run_step  # first: this checkout on sys.path
from pathlib import Path

from genomicdl.mutation.train import ensemble

w = snakemake.wildcards
run_step(
    snakemake,
    lambda: ensemble(
        predictions=list(snakemake.input.predictions), out_dir=Path(snakemake.output.metrics).parent,
        run={"dataset": w.dataset, "model": f"{w.model}_ensemble", "balance": w.balance, "seed": "ensemble"},
        bootstrap=snakemake.params.bootstrap,
    ),
)
