"""Snakemake entry of rule evaluate: predictions and metrics of one run."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.evaluation.evaluate import evaluate_run

run_step(
    snakemake,
    lambda: evaluate_run(
        store=snakemake.input.store, model=snakemake.input.model, family=snakemake.params.family,
        run=dict(snakemake.wildcards.items()), settings=snakemake.params.evaluate,
        out_predictions=snakemake.output.predictions, out_metrics=snakemake.output.metrics,
        out_arrays=snakemake.output.arrays, device=snakemake.params.device,
    ),
)
