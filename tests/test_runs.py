"""A run's identity read back from the paths of its files."""

import pytest

from homework1.plan.study import run_identity

EXPECTED = {"dataset": "digits", "question": "q2", "experiment": "logreg_lr",
            "variant": "learning_rate~0.001", "seed": 42}


@pytest.mark.parametrize("path", [
    "results/runs/digits/q2/logreg_lr/learning_rate~0.001/seed42/metrics.csv",
    "/abs/where/results/runs/digits/q2/logreg_lr/learning_rate~0.001/seed42/summary.json",
    "benchmarks/runs/digits/q2/logreg_lr/learning_rate~0.001/seed42.tsv",
    "logs/runs/digits/q2/logreg_lr/learning_rate~0.001/seed42.log",
    "runs/digits/q2/logreg_lr/learning_rate~0.001/seed42",
])
def test_every_file_of_a_run_names_it(path):
    assert run_identity(path) == EXPECTED


@pytest.mark.parametrize("path", ["benchmarks/datasets/digits.tsv", "q2/logreg_lr/default/seed42",
                                  "results/runs/digits/q2/logreg/default/seedX/metrics.csv"])
def test_other_paths_are_refused(path):
    with pytest.raises(ValueError, match="not a run's path"):
        run_identity(path)
