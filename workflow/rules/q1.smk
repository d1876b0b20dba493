# Question 1: perceptron, logistic regression (L2 / L1) and an MLP in numpy.


# The paths of one run (homework1.plan.study.RUN_PATH), the question filled in.
RUN_Q1 = run_path(question="q1")


rule train_q1:
    input:
        data=installed_dataset("q1"),
        code=training_code("q1"),
    output:
        metrics=f"{RUNS_DIR}/{RUN_Q1}/metrics.csv",
        summary=f"{RUNS_DIR}/{RUN_Q1}/summary.json",
    params:
        hparams=run_hparams("q1"),
        seed=lambda wildcards: int(wildcards.seed),
        dataset=dataset_info,
        implementation=config["implementation"],
    log:
        f"logs/runs/{RUN_Q1}.log",
    benchmark:
        run_benchmark(RUN_Q1)
    threads: 1  # per-example SGD: more BLAS threads only add overhead
    resources:
        **attempt_resources(runtime=120, mem_mb=4000),
    conda:
        ENV
    script:
        "../../scripts/train_q1.py"
