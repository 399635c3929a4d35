"""Snakemake entry of rule prepare_alignment: match-column codes, weights and N_eff."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.mutation.data import prepare_dataset

run_step(
    snakemake,
    lambda: prepare_dataset(
        snakemake.input.alignment, out=snakemake.output.alignment, summary=snakemake.output.summary,
        settings=snakemake.params.settings, threads=snakemake.threads,
    ),
)
