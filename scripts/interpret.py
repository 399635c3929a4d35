"""Snakemake entry of rule interpret: attributions, motifs and JASPAR matches of one network."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.interpret.stage import interpret_run

out = snakemake.output
run_step(
    snakemake,
    lambda: interpret_run(
        snakemake.input.store, snakemake.input.model, snakemake.input.predictions, snakemake.params.settings,
        snakemake.threads, out.attributions, out.meme, out.table, out.logos, out.tracks, out.modisco, out.modisco_dir,
    ),
)
