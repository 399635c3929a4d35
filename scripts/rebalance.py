"""Snakemake entry of rule rebalance: training index and weights of one strategy."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.training.rebalance import rebalance

run_step(
    snakemake,
    lambda: rebalance(
        snakemake.input.store, snakemake.wildcards.balance, int(snakemake.wildcards.seed), snakemake.params.ratio,
        snakemake.output.index, snakemake.output.counts,
    ),
)
