"""Snakemake entry of rule train_baseline: fit one classical baseline."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.training.baselines import train_baseline

run_step(
    snakemake,
    lambda: train_baseline(
        store=snakemake.input.store, index=snakemake.input.index, model=snakemake.wildcards.model,
        params=snakemake.params.params, train=snakemake.params.train, seed=int(snakemake.wildcards.seed),
        double_stranded=snakemake.params.double_stranded, out_model=snakemake.output.model,
        out_stats=snakemake.output.stats,
    ),
)
