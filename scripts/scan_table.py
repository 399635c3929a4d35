"""Snakemake entry of rule scan_table: rho per scan and model, and the models' ensemble."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.mutation.table import scan_table, write_scan_table


def main():
    runs = {(m, str(s)): p for (m, s), p in zip(snakemake.params.runs, snakemake.input.predictions, strict=True)}
    rows = scan_table(runs, dataset=snakemake.wildcards.dataset, balance=snakemake.wildcards.balance,
                      members=snakemake.params.members, bootstrap=snakemake.params.bootstrap)
    write_scan_table(rows, snakemake.output.tsv, snakemake.output.markdown)


run_step(snakemake, main)
