# Question 1: perceptron, logistic regression (L2 / L1) and an MLP in numpy.


rule train_q1:
    input:
        data="resources/datasets/{dataset}.npz",
        code=code_of("train_q1.py"),
    output:
        metrics="results/runs/{dataset}/q1/{experiment}/{variant}/seed{seed}/metrics.csv",
        summary="results/runs/{dataset}/q1/{experiment}/{variant}/seed{seed}/summary.json",
    params:
        hparams=run_hparams("q1"),
        seed=lambda wildcards: int(wildcards.seed),
        dataset=dataset_info,
        implementation=config["implementation"],
    log:
        "logs/runs/{dataset}/q1/{experiment}/{variant}/seed{seed}.log",
    benchmark:
        "benchmarks/runs/{dataset}/q1/{experiment}/{variant}/seed{seed}.tsv"
    threads: 1  # per-example SGD: more BLAS threads only add overhead
    resources:
        **attempt_resources(runtime=120, mem_mb=4000),
    conda:
        ENV
    script:
        "../../scripts/train_q1.py"
