"""Snakemake entry of rule train_mutation: fit one mutation-effect model (one seed)."""

from _entry import run_step  # first: this checkout on sys.path
import logging
from genomicdl.core.files import write_json_atomic
from genomicdl.mutation.train import split_params, train_mutation


def main():
    params, training = split_params(snakemake.wildcards.model, snakemake.params.params)
    stats = train_mutation(
        alignment=snakemake.input.alignment,
        model=snakemake.wildcards.model,
        out=snakemake.output.model,
        params=params,
        balance=snakemake.wildcards.balance,
        seed=int(snakemake.wildcards.seed),
        steps=training["steps"],
        batch_size=training["batch_size"],
        learning_rate=training["learning_rate"],
        checkpoint_every=training["checkpoint_every"],
        history=snakemake.output.history,
        device=snakemake.params.device,
        log=logging.getLogger("genomicdl").info,
    )
    write_json_atomic(snakemake.output.stats, stats)


run_step(snakemake, main)
