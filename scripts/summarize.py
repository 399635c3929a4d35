"""Snakemake entry of rule summarize: statistics over seeds, selection on validation,
comparisons, published figures, Markdown."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.evaluation.benchmark import run_summary

smk = snakemake
run_step(
    smk,
    lambda: run_summary(
        table_path=smk.input.table, metrics_path=smk.input.metrics, runs=smk.params.runs,
        arrays_files=list(smk.input.arrays), published=smk.params.published, n_boot=smk.params.bootstrap,
        folds=smk.params.folds, out_summary=smk.output.summary, out_comparisons=smk.output.comparisons,
        out_published=smk.output.published, out_markdown=smk.output.markdown,
        out_task_comparisons=smk.output.task_comparisons,
    ),
)
