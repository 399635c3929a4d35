"""Snakemake entry of rule attention: attention plot and table of one DeepLoc-style network."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.plots.protein import attention_run

run_step(
    snakemake,
    lambda: attention_run(
        snakemake.input.store, snakemake.input.model, snakemake.output.png, snakemake.output.tsv
    ),
)
