# Question 2: logistic regression and feed-forward nets in PyTorch, mini-batch SGD.


rule train_q2:
    input:
        data="resources/datasets/{dataset}.npz",
        code=code_of("train_q2.py"),
    output:
        metrics="results/runs/{dataset}/q2/{experiment}/{variant}/seed{seed}/metrics.csv",
        summary="results/runs/{dataset}/q2/{experiment}/{variant}/seed{seed}/summary.json",
    params:
        hparams=run_hparams("q2"),
        seed=lambda wildcards: int(wildcards.seed),
        dataset=dataset_info,
        device=config["device"],
        implementation=config["implementation"],
        full_train_accuracy=config["q2_full_train_accuracy"],
        # Where the run checkpoints (fixed by the wildcards). How often, and whether
        # to keep it, change no result: the script reads those from the config,
        # so editing them reruns nothing.
        checkpoint="results/checkpoints/{dataset}/q2/{experiment}/{variant}/seed{seed}.pt",
    log:
        "logs/runs/{dataset}/q2/{experiment}/{variant}/seed{seed}.log",
    benchmark:
        "benchmarks/runs/{dataset}/q2/{experiment}/{variant}/seed{seed}.tsv"
    threads: config["torch_threads"]
    resources:
        **attempt_resources(runtime=240, mem_mb=8000),
        **q2_resources(),
    conda:
        ENV
    script:
        "../../scripts/train_q2.py"
