"""Snakemake entry of rule tune_trial: one trial of a (dataset, network) study."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.training.tune import run_trial

run_step(
    snakemake,
    lambda: run_trial(
        store=snakemake.input.store, index=snakemake.input.index, journal=snakemake.params.journal,
        dataset=snakemake.wildcards.dataset, model=snakemake.wildcards.model, job=int(snakemake.wildcards.trial),
        params=snakemake.params.params, train=snakemake.params.train, tune=snakemake.params.tune,
        seed=snakemake.params.seed, threads=snakemake.threads, double_stranded=snakemake.params.double_stranded,
        out=snakemake.output.trial,
    ),
)
