# Export stage (opt-in: export.enabled): each trained run to export/{dataset}/{model}/{balance}/{seed}/
# -- networks as ONNX + TorchScript validated with onnxruntime, baselines as their model.npz --
# with a model card beside it (genomicdl.export.convert, genomicdl.export.card, docs/export.md).

EXPORT = config["export"]
EXPORT_DIR = paths.EXPORT_DIR


register_targets(
    lambda: [
        EXPORT_DIR.format(dataset=d, model=m, balance=b, seed=s)
        for d, m, b, s in runs()
        if EXPORT["enabled"]
        and m in TORCH_MODELS + BASELINE_MODELS
        and (EXPORT["datasets"] is None or d in EXPORT["datasets"])
    ]
)


rule export:
    input:
        model=model_file,
        stats=paths.TRAIN_STATS,
        store=paths.STORE,
        summary=paths.SUMMARY,
        metrics=paths.METRICS,
        arrays=paths.ARRAYS,
        resources=lambda w: list(resource_paths(w.dataset).values()),
    output:
        directory(EXPORT_DIR),
    log:
        "logs/export/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/export/{dataset}/{model}/{balance}/{seed}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family in ("torch", "sklearn")),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        family=lambda w: CATALOG[w.model].family,
        sources=lambda w: {
            role: (name, {"url": src.url, "sha256": src.sha256})
            for role, (name, src) in resource_files(w.dataset).items()
        },
        local=lambda w: resource_paths(w.dataset),
        published=lambda w: DATASETS[w.dataset]["published"],
        command=lambda w: f"snakemake {EXPORT_DIR.format(**dict(w.items()))} --cores 1"
        + "".join(f" --configfile {f}" for f in workflow.config_settings.configfiles),
        bootstrap=config["evaluate"]["bootstrap"],
        tolerance=EXPORT["tolerance"],
        windows=EXPORT["windows"],
    script:
        "../../scripts/export.py"
