# Question 2: logistic regression and feed-forward nets in PyTorch, mini-batch SGD.


# The paths of one run (homework1.plan.study.RUN_PATH), the question filled in.
RUN_Q2 = run_path(question="q2")


# Where the Question 2 runs keep their checkpoints while they train.
CHECKPOINTS = "results/checkpoints"


rule train_q2:
    input:
        data=installed_dataset("q2"),
        code=training_code("q2"),
    output:
        metrics=f"{RUNS_DIR}/{RUN_Q2}/metrics.csv",
        summary=f"{RUNS_DIR}/{RUN_Q2}/summary.json",
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
        checkpoint=f"{CHECKPOINTS}/{RUN_Q2}.pt",
    log:
        f"logs/runs/{RUN_Q2}.log",
    benchmark:
        run_benchmark(RUN_Q2)
    threads: config["torch_threads"]
    resources:
        **attempt_resources(runtime=240, mem_mb=8000),
        **q2_resources(),
    conda:
        ENV
    script:
        "../../scripts/train_q2.py"
