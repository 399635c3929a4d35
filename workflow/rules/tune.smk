# Hyper-parameter search (opt-in: tune.enabled). One Optuna study per dataset x network
# in a journal file beside its trials; every trial is its own job (resources as
# train_network), so --cores, --resources gpu=N and SLURM run trials side by side.
# Trials read the training and validation splits only; best.yaml holds the choice,
# which every seed of train_network retrains on (genomicdl.config.tuning.train_settings).

from genomicdl.config import tuning as gtune

TUNE = config["tune"]
TUNE_DIR = paths.TUNE_DIR


register_targets(
    lambda: [
        paths.fill(paths.TUNE_BEST, dataset=d, model=m)
        for d, m in gtune.tuned_pairs(config)
    ]
)


rule tune_trial:
    input:
        store=paths.STORE,
        index=lambda w: gtune.trial_index(config, w.dataset, w.model),
    output:
        trial=f"{TUNE_DIR}/trials/{{trial}}.json",
    log:
        "logs/tune/{dataset}/{model}/{trial}.log",
    benchmark:
        "benchmarks/tune/{dataset}/{model}/{trial}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "torch"),
        trial=r"\d+",
    conda:
        "../../envs/torch.yaml"
    threads: lambda w: network_threads(w, tuned=False)
    resources:
        gpu=1 if USE_GPU else 0,
        mem_mb=lambda w, input: mb(input.size_mb, 1.5, 2000),
        runtime=lambda w, input: int(max(30, input.size_mb)),
    params:
        journal=f"{TUNE_DIR}/journal.log",
        params=lambda w: config["model_params"].get(w.model, {}),
        train=config["train"],
        tune=TUNE,
        seed=lambda w: gtune.tuning_run(config, w.dataset, w.model)[1],
        double_stranded=lambda w: DATASETS[w.dataset]["double_stranded"],
    script:
        "../../scripts/tune_trial.py"


rule tune_best:
    input:
        trials=expand(
            f"{TUNE_DIR}/trials/{{trial}}.json",
            trial=range(TUNE["trials"]),
            allow_missing=True,
        ),
    output:
        best=f"{TUNE_DIR}/best.yaml",
    log:
        "logs/tune/{dataset}/{model}/best.log",
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "torch"),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../../scripts/tune_best.py"
