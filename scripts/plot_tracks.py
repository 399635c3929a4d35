"""Snakemake entry of plot_signal_tracks: predicted beside measured tracks of a signal dataset."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.plots.evaluation import labels_for
from genomicdl.plots.signal import signal_tracks

smk = snakemake


def plot() -> None:
    signal_tracks(
        dict(zip(smk.params.tracks, smk.input.measured)),
        dict(zip(labels_for(smk.params.runs), smk.input.predicted)),
        smk.params.chroms,
        smk.wildcards.dataset,
        smk.output.png,
        stat=smk.params.stat,
        aliases=smk.params.aliases,
    )


run_step(smk, plot)
