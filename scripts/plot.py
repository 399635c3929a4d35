"""Snakemake entry of the plot_* rules: one plot each, chosen by the rule's name."""

from _entry import run_step  # first: this checkout on sys.path
import pandas as pd

from genomicdl.plots import evaluation as plots
smk = snakemake
dataset = smk.wildcards.dataset


def labelled(files: list[str]) -> dict[str, str]:
    return dict(zip(plots.labels_for(smk.params.runs), files))


PLOTS = {
    "plot_roc_pr": lambda: plots.roc_pr(dataset, labelled(list(smk.input)), list(smk.output)),
    "plot_calibration": lambda: plots.calibration(labelled(list(smk.input)), dataset, list(smk.output)),
    "plot_training": lambda: plots.training_curves(labelled(list(smk.input)), dataset, smk.output[0]),
    "plot_class_balance": lambda: plots.class_balance(
        dict(zip(smk.params.strategies, smk.input)), dataset, smk.output[0]
    ),
    "plot_gc": lambda: plots.gc_distribution(smk.input[0], dataset, smk.output[0]),
    "plot_predictions": lambda: plots.predictions_plot(dataset, labelled(list(smk.input)), list(smk.output)),
    "plot_benchmark": lambda: plots.benchmark_points(pd.read_csv(smk.input[0], sep="\t"), dataset, list(smk.output)),
}

run_step(smk, PLOTS[smk.rule])
