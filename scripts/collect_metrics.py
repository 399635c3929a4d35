"""Snakemake entry of rule collect_metrics: every run's metrics in benchmark.tsv and
metrics.tsv, with seed ensembles from the runs' arrays."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.evaluation.benchmark import run_collect

smk = snakemake
run_step(
    smk,
    lambda: run_collect(
        list(smk.input.metrics),
        arrays={tuple(map(str, run)): path for run, path in zip(smk.params.runs, smk.input.arrays)},
        bootstrap=smk.params.bootstrap, min_positives=smk.params.min_positives, out_table=smk.output.table,
        out_metrics=smk.output.metrics,
    ),
)
