# Predict stage: trained networks over whole chromosomes (one job per chromosome), merged
# into one bigWig per track with a sidecar JSON (genomicdl.evaluation.predict, docs/signal.md).


rule predict_chrom:
    input:
        model=paths.MODEL,
        genome=paths.GENOME,
    output:
        directory(f"{paths.PREDICT_DIR}/chroms/{{chrom}}"),
    log:
        "logs/predict/{dataset}/{model}/{balance}/{seed}/{chrom}.log",
    benchmark:
        "benchmarks/predict/{dataset}/{model}/{balance}/{seed}/{chrom}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        stride=PREDICT.get("stride"),
        batch_size=PREDICT.get("batch_size", 256),
    script:
        "../../scripts/predict.py"


rule predict_tracks:
    input:
        chroms=lambda w: expand(
            f"{paths.PREDICT_DIR}/chroms/{{chrom}}",
            chrom=predict_chroms(w.dataset),
            allow_missing=True,
        ),
        genome=paths.GENOME,
    output:
        directory(f"{paths.PREDICT_DIR}/tracks"),
    log:
        "logs/predict/{dataset}/{model}/{balance}/{seed}/tracks.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        step="merge",
    script:
        "../../scripts/predict.py"


localrules:
    download_predict_regions,


rule download_predict_regions:
    output:
        "resources/predict_regions.bed",
    log:
        "logs/download/predict_regions.log",
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    params:
        source=lambda w: PREDICT["regions"],
    script:
        "../../scripts/download.py"


rule predict_contributions:
    input:
        model=paths.MODEL,
        genome=paths.GENOME,
        regions="resources/predict_regions.bed",
    output:
        directory(f"{paths.PREDICT_DIR}/contributions"),
    log:
        "logs/predict/{dataset}/{model}/{balance}/{seed}/contributions.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        step="contributions",
        method=PREDICT.get("contribution_method", "gradient_x_input"),
        shuffles=PREDICT.get("contribution_shuffles", 20),
        aliases=lambda w: DATASETS[w.dataset]["chrom_aliases"],
    script:
        "../../scripts/predict.py"


rule plot_signal_tracks:
    input:
        predicted=lambda w: [
            paths.run_path(f"{paths.PREDICT_DIR}/tracks", (w.dataset, m, b, s))
            for m, b, s in plotted_runs(w.dataset)
        ],
        measured=lambda w: [
            resource_paths(w.dataset)[f"target.{t}"]
            for t in DATASETS[w.dataset]["targets"]
        ],
    output:
        **plot_output(
            "tracks",
            "signal_tracks",
            "predict",
            "predicted beside measured tracks",
            svg=False,
        ),
    log:
        plot_log("tracks"),
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        tracks=lambda w: list(DATASETS[w.dataset]["targets"]),
        runs=lambda w: plotted_runs(w.dataset),
        chroms=lambda w: predict_chroms(w.dataset),
        stat=lambda w: DATASETS[w.dataset]["signal"]["stat"],
        aliases=lambda w: DATASETS[w.dataset]["chrom_aliases"],
    script:
        "../../scripts/plot_tracks.py"
