# Genome FASTA -> indexed FASTA + code cache (one pass); inputs -> on-disk dataset store.


rule prepare_genome:
    input:
        lambda w: resource_paths(w.dataset)["genome"],
    output:
        fasta=paths.GENOME,
        fai=f"{paths.GENOME}.fai",
        gzi=f"{paths.GENOME}.gzi",
        codes=f"{paths.GENOME}.codes",
    log:
        "logs/prepare_genome/{dataset}.log",
    benchmark:
        "benchmarks/prepare_genome/{dataset}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 2  # BGZF recompression of a plain gzip genome; the other inputs need one
    resources:
        mem_mb=1000,
        runtime=lambda w, input: int(max(10, input.size_mb / 20)),
    script:
        "../../scripts/prepare_genome.py"


rule preprocess:
    input:
        preprocess_inputs,
    output:
        store=paths.STORE,
        summary=paths.SUMMARY,
        gc=report(
            paths.GC,
            caption="../report/gc.rst",
            category="{dataset}",
            subcategory="data",
        ),
    log:
        "logs/preprocess/{dataset}.log",
    benchmark:
        "benchmarks/preprocess/{dataset}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=preprocess_mem_mb,
        runtime=lambda w, input: int(max(15, input.size_mb / 5)),
    params:
        dataset=lambda w: data_config(w.dataset),
        files=lambda w: resource_paths(w.dataset),
        genome=lambda w: (
            paths.fill(paths.GENOME, dataset=w.dataset)
            if is_genome_dataset(w.dataset)
            else None
        ),
    script:
        "../../scripts/preprocess.py"
