"""Snakemake entry of rule prepare_alignment: match-column codes, weights and N_eff."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.mutation.data import prepare_dataset
from genomicdl.core.runner import run_step

run_step(
    snakemake,
    lambda: prepare_dataset(
        snakemake.input.alignment,
        out=snakemake.output.alignment,
        summary=snakemake.output.summary,
        settings=snakemake.params.settings,
        threads=snakemake.threads,
    ),
)
