# One training job per dataset x model x balance x seed. Networks declare gpu=1 when
# they will use a GPU, so --resources gpu=N bounds concurrent GPU trainings; inside the
# job a slot allocator picks a free GPU (genomicdl.training.devices). With tune.enabled, a tuned
# network trains on its study's choice (results/tune/.../best.yaml; gtune is genomicdl.training.tune).
# With train.processes/nodes above 1 the job asks for a GPU per process and a task per
# node and starts torchrun (srun torchrun on several nodes): gdist is genomicdl.training.ddp_launch.
# Threads follow the network's cost (network_threads in common.smk).

from genomicdl.training import ddp_launch as gdist

# The SLURM profile's GPU request per training job (profiles/slurm/config.yaml).
gdist.export_cluster_gpus(config["train"])

from genomicdl.training import finetune as gfinetune  # noqa: E402

try:
    gfinetune.check_config(config)
except gfinetune.InitError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None


rule train_network:
    input:
        store=paths.STORE,
        index=paths.INDEX,
        tuned=lambda w: gtune.best_path(config, w.dataset, w.model) or [],
        init=lambda w: gfinetune.inputs(config, w.dataset, w.model, w.balance, w.seed),
    output:
        model=paths.MODEL,
        history=paths.HISTORY,
        stats=paths.TRAIN_STATS,
    log:
        "logs/train/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/train/{dataset}/{model}/{balance}/{seed}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "torch"),
    conda:
        "../../envs/torch.yaml"
    threads: network_threads
    resources:
        **gdist.rule_resources(config["train"], USE_GPU),
        mem_mb=lambda w, input: mb(input.size_mb, 1.5, 2000),
        runtime=lambda w, input: int(max(30, input.size_mb)),
    params:
        params=lambda w: gtune.train_settings(config, w.dataset, w.model)[0],
        train=lambda w: gtune.train_settings(config, w.dataset, w.model)[1],
        double_stranded=lambda w: DATASETS[w.dataset]["double_stranded"],
        init_from=lambda w: gfinetune.spec(
            config, w.dataset, w.model, w.balance, w.seed
        ),
    script:
        "../../scripts/train.py"


rule train_baseline:
    input:
        store=paths.STORE,
        index=paths.INDEX,
    output:
        model=paths.BASELINE_MODEL,
        stats=paths.TRAIN_STATS,
    log:
        "logs/train/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/train/{dataset}/{model}/{balance}/{seed}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family == "sklearn"),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 4, 2000),
        runtime=lambda w, input: int(max(30, input.size_mb)),
    params:
        params=lambda w: config["model_params"].get(w.model, {}),
        train=config["train"],
        double_stranded=lambda w: DATASETS[w.dataset]["double_stranded"],
    script:
        "../../scripts/train_baseline.py"
