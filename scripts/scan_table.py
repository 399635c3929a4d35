"""Snakemake entry of rule scan_table: rho per scan and model, and the models' ensemble."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.mutation.table import scan_table, write_scan_table
from genomicdl.core.runner import run_step


def main():
    runs = {(m, str(s)): p for (m, s), p in zip(snakemake.params.runs, snakemake.input.predictions, strict=True)}
    rows = scan_table(runs, dataset=snakemake.wildcards.dataset, balance=snakemake.wildcards.balance,
                      members=snakemake.params.members, bootstrap=snakemake.params.bootstrap)
    write_scan_table(rows, snakemake.output.tsv, snakemake.output.markdown)


run_step(snakemake, main)
