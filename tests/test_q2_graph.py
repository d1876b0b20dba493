"""Q2's CUDA-graph step: its bookkeeping runs uncaptured on any machine and must be the
eager loop's to the bit; the capture itself is tested where there is a GPU."""

import pytest
import torch

from homework1 import q2
from homework1.q2_graph import GraphedTrainStep
from tests.test_q2 import make_splits, needs_cuda
from tests.test_q2_fused import CASES, model_and_optimizer


def train_both(model_name, settings, device="cpu", epochs=3, capture=False):
    X, y = q2.to_tensors(make_splits(), torch.device(device))["train"]  # 200 examples: a partial last batch
    runs = {}
    for step in ("eager", "graph"):
        model, optimizer = model_and_optimizer(model_name, settings)
        model.to(device)
        shuffle = torch.Generator().manual_seed(5)
        torch.manual_seed(1)
        graphed = GraphedTrainStep(model, optimizer, X, y, settings["batch_size"], capture=capture) \
            if step == "graph" else None
        stats = [graphed.train_epoch(shuffle) if graphed else
                 q2.train_epoch(model, optimizer, X, y, settings["batch_size"], shuffle, check_each_batch=False)
                 for _ in range(epochs)]
        runs[step] = model, optimizer, stats
    return runs


@pytest.mark.parametrize("case", list(CASES))
def test_uncaptured_steps_are_the_eager_loop_to_the_bit(case):
    # The warm-up steps train for real; everything they changed must be put back.
    (eager, eager_optimizer, eager_stats), (graph, graph_optimizer, graph_stats) = train_both(*CASES[case]).values()
    assert graph_stats == eager_stats
    for (name, expected), actual in zip(eager.state_dict().items(), graph.state_dict().values(), strict=True):
        assert torch.equal(actual, expected), name
    for param, graph_param in zip(eager.parameters(), graph.parameters()):
        expected = eager_optimizer.state[param].get("momentum_buffer")
        actual = graph_optimizer.state[graph_param].get("momentum_buffer")
        assert (actual is None and expected is None) or torch.equal(actual, expected)


def test_divergence_is_found_at_the_same_batch():
    settings = dict(learning_rate=1e6, batch_size=32)
    eager_stats, graph_stats = (stats for _, _, stats in train_both("ffn", settings, epochs=1).values())
    assert eager_stats[0].diverged_batch is not None
    assert graph_stats[0].diverged_batch == eager_stats[0].diverged_batch


@needs_cuda
@pytest.mark.parametrize("case", list(CASES))
def test_captured_steps_follow_the_eager_loop_on_cuda(case):
    model_name, settings = CASES[case]
    (eager, _, eager_stats), (graph, _, graph_stats) = train_both(model_name, settings, "cuda", capture=True).values()
    for expected, actual in zip(eager_stats, graph_stats, strict=True):
        assert actual.train_loss == pytest.approx(expected.train_loss, rel=1e-4)
    for (name, expected), actual in zip(eager.state_dict().items(), graph.state_dict().values(), strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5, msg=name)


@needs_cuda
def test_runs_on_cuda_use_the_graph_and_reach_the_eager_accuracy():
    settings = dict(epochs=6, batch_size=32, learning_rate=0.05, momentum=0.9, dropout=0.3, hidden_size=16,
                    seed=2, device="cuda", log=lambda line: None)
    fast = q2.train("ffn", make_splits(), implementation="fast", **settings)
    reference = q2.train("ffn", make_splits(), implementation="reference", **settings)
    assert (fast.extra["training_step"], reference.extra["training_step"]) == ("cuda_graph", "autograd")
    assert round(fast.history[-1]["val_acc"], 3) == round(reference.history[-1]["val_acc"], 3)


def test_a_graph_that_cannot_be_captured_falls_back_to_autograd_untouched():
    # On CPU tensors the capture itself fails (no CUDA): the run must go on as an eager run,
    # with the warm-up steps undone.
    X, y = q2.to_tensors(make_splits(), torch.device("cpu"))["train"]
    settings = dict(learning_rate=0.05, momentum=0.9, batch_size=32)
    results = []
    for step in ("cuda_graph", "autograd"):
        model, optimizer = model_and_optimizer("ffn", settings)
        torch.manual_seed(1)
        lines = []
        run_epoch, used = q2.epoch_runner(step, model, optimizer, X, y, 32, torch.Generator().manual_seed(5),
                                          lines.append)
        results.append(([run_epoch() for _ in range(2)], model.state_dict(), used, lines))
    (fallback_stats, fallback_state, used, lines), (eager_stats, eager_state, _, _) = results
    assert used == "autograd" and any("could not be captured" in line for line in lines)
    assert fallback_stats == eager_stats
    assert all(torch.equal(fallback_state[name], value) for name, value in eager_state.items())
