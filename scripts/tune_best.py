"""Snakemake entry of rule tune_best: the study's best trial (by validation) to best.yaml."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.training.tune import write_best

run_step(
    snakemake,
    lambda: write_best(
        trials=list(snakemake.input.trials), dataset=snakemake.wildcards.dataset, model=snakemake.wildcards.model,
        out=snakemake.output.best,
    ),
)
