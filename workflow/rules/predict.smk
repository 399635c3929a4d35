# Predict stage: trained networks over whole chromosomes (one job per chromosome), merged
# into one bigWig per track with a sidecar JSON (genomicdl.predict, docs/signal.md).


rule predict_chrom:
    input:
        model="models/{dataset}/{model}/{balance}/{seed}/model.pt",
        genome="data/{dataset}/genome.fa.gz",
    output:
        directory(f"{RUN_DIR}/predict/chroms/{{chrom}}"),
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
            f"{RUN_DIR}/predict/chroms/{{chrom}}",
            chrom=predict_chroms(w.dataset),
            allow_missing=True,
        ),
        genome="data/{dataset}/genome.fa.gz",
    output:
        directory(f"{RUN_DIR}/predict/tracks"),
    log:
        "logs/predict/{dataset}/{model}/{balance}/{seed}/tracks.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        merge=True,
    script:
        "../../scripts/predict.py"
