# Mutation effects from a multiple sequence alignment (datasets with `alignment`):
# prepare the alignment (codes + theta weights + N_eff) -> train site_independent,
# pairwise (Potts) and vae per balance x seed -> score every deep mutational scan
# (Spearman vs measured fitness) -> an ensemble run over the seeds of each trained model.
# Balance: `none` = uniform sequence weights, `class_weight` = theta reweighting.

from genomicdl.models.mutation import params as mparams  # noqa: E402

FAMILIES = {name: entry.family for name, entry in CATALOG.items()}

# the targets of this stage (also what `rule mutation` builds)
register_targets(lambda: mparams.mutation_targets(config, FAMILIES))


localrules:
    mutation,


rule mutation:
    input:
        mparams.mutation_targets(config, FAMILIES),


rule prepare_alignment:
    input:
        alignment=lambda w: resource_paths(w.dataset)["alignment"],
    output:
        alignment=paths.ALIGNMENT,
        summary=paths.ALIGNMENT_SUMMARY,
    log:
        "logs/prepare_alignment/{dataset}.log",
    benchmark:
        "benchmarks/prepare_alignment/{dataset}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=2000,  # streamed in chunks; weights in blocks of 2048 x 2048
        runtime=60,
    params:
        settings=lambda w: DATASETS[w.dataset]["alignment"],
    script:
        "../../scripts/prepare_alignment.py"


rule train_mutation:
    input:
        alignment=paths.ALIGNMENT,
    output:
        model=paths.MODEL,
        history=paths.HISTORY,
        stats=paths.TRAIN_STATS,
    log:
        "logs/train/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/train/{dataset}/{model}/{balance}/{seed}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "mutation"),
        balance="none|class_weight",
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1 if USE_GPU else 0,
        mem_mb=lambda w, input: mb(input.size_mb, 40, 4000),
        runtime=240,
    params:
        params=lambda w: config["model_params"].get(w.model, {}),
        device=config["train"]["device"],
    script:
        "../../scripts/train_mutation.py"


rule score_scan:
    input:
        alignment=paths.ALIGNMENT,
        model=paths.MODEL,
        scans=lambda w: [
            resource_paths(w.dataset)[f"scan.{name}"]
            for name in DATASETS[w.dataset]["scans"]
        ],
    output:
        metrics=f"{paths.RUN_DIR}/metrics.tsv",
        arrays=f"{paths.RUN_DIR}/arrays.npz",
        predictions=f"{paths.RUN_DIR}/predictions.tsv.gz",
        summary=f"{paths.RUN_DIR}/scan_summary.json",
    log:
        "logs/score_scan/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/score_scan/{dataset}/{model}/{balance}/{seed}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "mutation"),
        balance="none|class_weight",
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1 if USE_GPU else 0,
        mem_mb=4000,
        runtime=60,
    params:
        scans=lambda w: DATASETS[w.dataset]["scans"],
        params=lambda w: config["model_params"].get(w.model, {}),
        bootstrap=config["evaluate"]["bootstrap"],
        device=config["train"]["device"],
    script:
        "../../scripts/score_scan.py"


rule ensemble_mutation:
    input:
        predictions=lambda w: expand(
            f"{paths.RUN_DIR}/predictions.tsv.gz",
            dataset=w.dataset,
            model=w.model,
            balance=w.balance,
            seed=mparams.seeds_of(w.model, config),
        ),
    output:
        metrics=f"{paths.ENSEMBLE_RUN_DIR}/metrics.tsv",
        arrays=f"{paths.ENSEMBLE_RUN_DIR}/arrays.npz",
        predictions=f"{paths.ENSEMBLE_RUN_DIR}/predictions.tsv.gz",
    log:
        "logs/ensemble_mutation/{dataset}/{model}/{balance}.log",
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "mutation"),
        balance="none|class_weight",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        bootstrap=config["evaluate"]["bootstrap"],
    script:
        "../../scripts/ensemble_mutation.py"


rule scan_table:
    input:
        predictions=lambda w: [
            f"{paths.RUN_DIR}/predictions.tsv.gz".format(
                dataset=w.dataset, model=m, balance=w.balance, seed=s
            )
            for m, s in mparams.table_runs(config, FAMILIES, w.dataset, w.balance)
        ],
    output:
        tsv=f"{paths.SCAN_TABLE}.tsv",
        markdown=f"{paths.SCAN_TABLE}.md",
    log:
        "logs/scan_table/{dataset}/{balance}.log",
    wildcard_constraints:
        balance="none|class_weight",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        runs=lambda w: mparams.table_runs(config, FAMILIES, w.dataset, w.balance),
        members=mparams.ensemble_members(config, FAMILIES),
        bootstrap=config["evaluate"]["bootstrap"],
    script:
        "../../scripts/scan_table.py"
