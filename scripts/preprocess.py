"""Snakemake entry of rule preprocess: inputs -> dataset store, summary, GC table."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.config.specs import dataset_spec
from genomicdl.datasets.preprocess import build_dataset
from genomicdl.io.integrity import verify_inputs


def step():
    verify_inputs(snakemake.params.files.values())  # each downloaded input is still the file fetched
    return build_dataset(
        dataset_spec(snakemake.wildcards.dataset, snakemake.params.dataset),
        snakemake.params.files,
        snakemake.params.genome,
        snakemake.output.store,
        snakemake.output.summary,
        snakemake.output.gc,
    )


run_step(snakemake, step)
