"""The benchmark's logic: what it counts and estimates, and the course's loops it times against.
(Speed itself is measured by running it, never asserted by a test.)"""

import numpy as np
import pytest
import torch

from conftest import SHIPPED_RUNS, image_arrays, image_splits, quiet, torch_splits
from homework1.config import configuration
from homework1.benchmark import course
from homework1 import q1, q2
from homework1.benchmark import THREAD_VARIABLES, pin_threads
from homework1.benchmark.epochs import linear_widths, q1_flops, q2_flops, q2_products, time_q1, time_q2
from homework1.benchmark.estimate import (
    family_name, job_start_seconds, longest_first_makespan, speed_family, study_runs,
)
from homework1.core.data import write_npz


def test_the_shipped_study_is_fifteen_runs_in_nine_families():
    runs = study_runs(configuration.load())
    assert len(runs) == sum(SHIPPED_RUNS.values())
    families = {family_name(family) for family, _, _ in runs}
    assert families == {"Q1 perceptron", "Q1 logreg", "Q1 logreg +l2_penalty", "Q1 logreg +l1_penalty",
                        "Q1 mlp hidden_size 100", "Q2 logreg batch 32", "Q2 ffn batch 64, hidden_size 200, layers 2",
                        "Q2 ffn batch 512, hidden_size 200, layers 2", "Q2 ffn batch 1024, hidden_size 200, layers 2"}
    assert sum(epochs for _, _, epochs in runs) == 4 * 100 + 20 + 3 * 100 + 7 * 200
    assert len(study_runs(configuration.load(overrides={"seeds": [1, 2, 3]}))) == 3 * sum(SHIPPED_RUNS.values())


def test_a_jobs_start_is_timed_by_importing_what_a_job_imports(tmp_path):
    # the subprocess imports the package's modules by name: a module moved to another layer breaks it
    write_npz(tmp_path / "data.npz", image_arrays())
    assert job_start_seconds(tmp_path / "data.npz") > 0


def test_the_estimate_counts_the_runs_of_the_settle_looks():
    # looks [2, 3] with seeds [42]: seeds 1 and 2 of each of the 12 configurations the claims compare, beside
    # the 15 configured runs (as if no claim were decided at look 1: the most the looks can train)
    runs = study_runs(configuration.load(overrides={"settle": {"looks": [2, 3]}}))
    assert len(runs) == sum(SHIPPED_RUNS.values()) + 12 * 2
    assert sum(1 for _, hparams, _ in runs if hparams["model"] == "perceptron") == 1  # claimed by none


def test_the_benchmark_times_the_dropout_the_workflow_trains_with():
    # its settings come from the configuration, defaults included (the schema's: dropout 0.3)
    ffn = [hparams for family, hparams, _ in study_runs(configuration.load()) if family[1] == "ffn"]
    assert ffn and all(hparams["dropout"] in (0.3, 0.01, 0.25, 0.5) for hparams in ffn)
    assert speed_family("q2", ffn[0])[1:] == ("ffn", (("batch", ffn[0]["batch_size"]), ("hidden_size", 200),
                                                      ("layers", 2)), ())


def test_longest_first_makespan():
    assert longest_first_makespan([3, 3, 2, 2, 2], 2) == 7  # 3+2+2 | 3+2
    assert longest_first_makespan([5, 1, 1], 3) == 5
    assert longest_first_makespan([1, 1, 1, 1], 1) == 4


def test_q2_products_count_every_matrix_product_of_an_epoch():
    # 100 examples in batches of 32: 3 full batches and one of 4; a net 10 -> 8 -> 3
    products = dict()
    for count, shape in q2_products(32, [10, 8, 3], n_train=100, n_val=7):
        products[shape] = products.get(shape, 0) + count
    assert products == {
        (32, 10, 8): 3, (8, 32, 10): 3, (32, 8, 3): 3, (3, 32, 8): 3, (32, 3, 8): 3,  # full batches
        (4, 10, 8): 1, (8, 4, 10): 1, (4, 8, 3): 1, (3, 4, 8): 1, (4, 3, 8): 1,        # the last one
        (7, 10, 8): 1, (7, 8, 3): 1,                                                  # validation
    }
    # Q1, from the model's weight matrices: 3 classes x 4 features; an MLP 4 -> 6 -> 3
    perceptron, mlp = q1.build_model("perceptron", (4,), 3), q1.build_model("mlp", (4,), 3, hidden_size=6)
    assert q1_flops(perceptron, 10, 5, has_loss=False) == 2 * 3 * 4 * 10 + 2 * 3 * 4 * 15
    assert q1_flops(mlp, 10, 5, has_loss=True) == 2 * (6 * 4 + 3 * 6) * (2 * 10 + 15)


def test_torch_counts_the_flops_the_products_add_up_to():
    # FlopCounterMode on the model itself (any model) against the products written out (a Linear chain)
    model = q2.build_model("ffn", 10, 3, hidden_size=8, layers=1, dropout=0.0)
    X, y = torch.rand(100, 10), torch.randint(0, 3, (100,))
    products = q2_products(32, linear_widths(model), n_train=100, n_val=7)
    assert q2_flops(model, X, y, 32, torch.rand(7, 10)) == sum(count * 2 * m * k * n for count, (m, k, n) in products)
    assert linear_widths(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten())) is None


def test_threads_are_pinned_before_numpy_loads(monkeypatch):
    # setenv first, so that monkeypatch puts back what was there (or removes them) whatever pin_threads sets
    for variable in THREAD_VARIABLES:
        monkeypatch.setenv(variable, "")
        monkeypatch.delenv(variable)
    assert pin_threads(["--quick", "--threads", "3"]) == 3
    import os

    assert os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "3"
    assert pin_threads([]) == 1


@pytest.mark.parametrize("model_name, hparams", [
    ("perceptron", {}),
    ("logreg", dict(learning_rate=0.01, l2_penalty=0.01, l1_penalty=0.0)),
    ("mlp", dict(learning_rate=0.01, hidden_size=8)),
])
def test_the_course_loop_and_the_project_agree(model_name, hparams):
    splits = image_splits(q1.uses_bias(model_name), sizes=(40, 10, 10), shape=(2, 2, 3), spread=50)
    model, history = course.q1_main_loop(model_name, splits, epochs=2, seed=3, **hparams)
    ours, result = q1.fit(model_name, splits, seed=3, implementation="reference", epochs=2, log=quiet, **hparams)
    assert [row["val_acc"] for row in history] == [row["val_acc"] for row in result.history]
    for name, value in ours.parameters().items():
        np.testing.assert_allclose(value, vars(model)[name], rtol=1e-12, atol=1e-15)


def test_one_round_of_each_side_is_timed_and_checked():
    splits = image_splits(True, sizes=(40, 10, 10), shape=(2, 2, 3), spread=50)
    times, same, flops, status = time_q1("perceptron", {"model": "perceptron", "epochs": 100}, splits, 1,
                                         ["fast", "reference"])
    assert set(times) == {"course", "fast", "reference"} and all(len(t) == 1 and t[0] > 0 for t in times.values())
    assert same == "bit-identical weights" and status == "ok" and flops > 0

    hparams = {"model": "ffn", "epochs": 200, "batch_size": 16, "learning_rate": 0.05, "weight_decay": 0.0,
               "momentum": 0.0, "dropout": 0.3, "hidden_size": 8, "layers": 2}
    times, same, flops, floor, step = time_q2("ffn", hparams, torch_splits(), 1, torch.device("cpu"), 1,
                                              ["fast", "reference"])
    assert step == "fused" and floor > 0 and flops > 0
    assert same.endswith("val acc equal"), same  # the course's loop, fed the same batches and draws

