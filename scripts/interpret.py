"""Snakemake entry of rule interpret: attributions, motifs and JASPAR matches of one network."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.interpret.stage import interpret_run

out = snakemake.output
run_step(
    snakemake,
    lambda: interpret_run(
        snakemake.input.store,
        snakemake.input.model,
        snakemake.input.predictions,
        snakemake.params.settings,
        snakemake.threads,
        out.attributions,
        out.meme,
        out.table,
        out.logos,
        out.tracks,
        out.modisco,
        out.modisco_dir,
    ),
)
