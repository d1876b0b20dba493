"""Q2's fast training steps against the reference (autograd + torch.optim.SGD): the hand-written
fused step, and the CUDA-graph step (its bookkeeping runs uncaptured on any machine and must be
the eager loop's to the bit; the capture itself is tested where there is a GPU)."""

import importlib

import pytest
import torch
from torch import nn

from conftest import N_CLASSES, N_FEATURES, needs_cuda, quiet, torch_splits
from homework1 import q2
from homework1.q2.fused import FusedSGD, linear_layers
from homework1.q2.devices import device_unusable
from homework1.q2.graph import GraphedTrainStep
from homework1.q2.graph_check import checked_graph_step

CASES = {
    "logreg, weight decay": ("logreg", dict(learning_rate=0.05, weight_decay=0.01, batch_size=32)),
    "ffn, dropout": ("ffn", dict(learning_rate=0.05, dropout=0.3, batch_size=64)),
    "ffn, momentum and weight decay": ("ffn", dict(learning_rate=0.02, momentum=0.9, weight_decay=0.01,
                                                   dropout=0.5, batch_size=32)),
    "ffn, 3 layers, no dropout": ("ffn", dict(learning_rate=0.05, dropout=0.0, layers=3, batch_size=48)),
    "ffn, one batch larger than the data": ("ffn", dict(learning_rate=0.05, batch_size=500)),
}


def model_and_sgd(model_name, settings, device="cpu"):
    """The same initial weights for every step: a fresh model and its SGD settings."""
    torch.manual_seed(0)
    architecture = {} if model_name == "logreg" else dict(
        hidden_size=settings.get("hidden_size", 16), layers=settings.get("layers", 2),
        dropout=settings.get("dropout", 0.3))
    model = q2.build_model(model_name, N_FEATURES, N_CLASSES, **architecture).to(device)
    return model, q2.SGD(settings["learning_rate"], settings.get("momentum", 0.0), settings.get("weight_decay", 0.0))


def train_epochs(step_name, model_name, settings, device="cpu", epochs=3, capture=False):
    """(model, step, epoch statistics) of ``epochs`` epochs with one step, from the same start and
    shuffling and dropout draws as every other step's."""
    X, y = q2.to_tensors(torch_splits(), torch.device(device))["train"]  # 200 examples: a partial last batch
    model, sgd = model_and_sgd(model_name, settings, device)
    shuffle = torch.Generator().manual_seed(5)
    if step_name == "cuda_graph":
        step = GraphedTrainStep(model, sgd, X, y, settings["batch_size"], capture=capture)
    else:
        step = q2.make_step(step_name, model, sgd, X, y, settings["batch_size"])
    torch.manual_seed(1)  # dropout draws from torch's global generator in every step
    return model, step, [step.train_epoch(shuffle) for _ in range(epochs)]


def test_linear_layers_reads_the_structure_of_both_models():
    ffn = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=8, layers=3, dropout=0.25)
    layers = linear_layers(ffn)
    assert [p for _, p in layers] == [0.25, 0.25, 0.25, None]
    assert [linear.out_features for linear, _ in layers] == [8, 8, 8, N_CLASSES]
    logreg = q2.build_model("logreg", N_FEATURES, N_CLASSES)
    assert linear_layers(logreg) == [(logreg, None)]
    with pytest.raises(ValueError, match="Linear, ReLU, Dropout"):
        linear_layers(nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Dropout(0.1), nn.Linear(4, 2)))


# ----------------------------------------------------------------------------- the fused step (CPU)

@pytest.mark.parametrize("case", list(CASES))
def test_fused_epochs_follow_the_reference(case):
    model_name, settings = CASES[case]
    reference, reference_step, reference_stats = train_epochs("autograd", model_name, settings)
    fast, fast_step, fast_stats = train_epochs("fused", model_name, settings)
    start, _ = model_and_sgd(model_name, settings)
    for (name, expected), actual in zip(reference.state_dict().items(), fast.state_dict().values(), strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6, msg=name)
        assert not torch.equal(actual, start.state_dict()[name])  # it trained
    for expected, actual in zip(reference_stats, fast_stats, strict=True):
        assert actual.train_loss == pytest.approx(expected.train_loss, rel=1e-5)
        assert actual.train_acc_running == expected.train_acc_running and actual.diverged_batch is None
    buffers = zip(reference_step.momentum_buffers(), fast_step.momentum_buffers(), strict=True)
    for expected, actual in buffers:
        if settings.get("momentum"):
            torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)
        else:
            assert actual is None and expected is None


@pytest.mark.parametrize("device, fast_step", [
    ("cpu", "fused"), pytest.param("cuda", "cuda_graph", marks=needs_cuda)])
def test_whole_runs_reach_the_eager_accuracy_with_the_fast_step(device, fast_step):
    settings = dict(epochs=6, batch_size=32, learning_rate=0.05, weight_decay=0.0, momentum=0.9, dropout=0.3,
                    hidden_size=16, layers=2, seed=2, device=device, full_train_accuracy=False, log=quiet)
    fast = q2.train("ffn", torch_splits(), implementation="fast", **settings)
    reference = q2.train("ffn", torch_splits(), implementation="reference", **settings)
    assert (fast.extra["training_step"], reference.extra["training_step"]) == (fast_step, "autograd")
    assert round(fast.history[-1]["val_acc"], 3) == round(reference.history[-1]["val_acc"], 3)
    if device == "cpu":  # the same dropout draws on the CPU: the same predictions
        assert fast.test_acc == reference.test_acc
    for fast_row, reference_row in zip(fast.history, reference.history, strict=True):
        assert fast_row["val_loss"] == pytest.approx(reference_row["val_loss"], rel=1e-4)


def test_a_non_finite_loss_leaves_the_weights_unchanged():
    X, y = q2.to_tensors(torch_splits(), torch.device("cpu"))["train"]
    model, sgd = model_and_sgd("ffn", dict(learning_rate=0.05))
    fused = FusedSGD(model, sgd, X, y, 32)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    poisoned = X[:32].clone()
    poisoned[0, 0] = float("inf")
    loss, _ = fused.step(poisoned, y[:32])
    assert not torch.isfinite(loss)
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())


def test_momentum_buffers_carry_over_between_steps():
    # A checkpoint keeps the buffers of one step and a resumed run may continue with another.
    settings = CASES["ffn, momentum and weight decay"][1]
    X, y = q2.to_tensors(torch_splits(), torch.device("cpu"))["train"]
    _, fused, _ = train_epochs("fused", "ffn", settings, epochs=1)
    model, sgd = model_and_sgd("ffn", settings)
    with torch.no_grad():
        for param, trained in zip(model.parameters(), fused.model.parameters()):
            param.copy_(trained)
    continued = {}
    for name in ("fused", "autograd"):
        model_copy, _ = model_and_sgd("ffn", settings)
        model_copy.load_state_dict(model.state_dict())
        step = q2.make_step(name, model_copy, sgd, X, y, settings["batch_size"], fused.momentum_buffers())
        torch.manual_seed(1)
        step.train_epoch(torch.Generator().manual_seed(6))
        continued[name] = model_copy
    for fast, reference in zip(continued["fused"].parameters(), continued["autograd"].parameters()):
        torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-6)
    without = q2.make_step("fused", model, sgd, X, y, settings["batch_size"])
    torch.manual_seed(1)
    without.train_epoch(torch.Generator().manual_seed(6))
    assert not torch.allclose(next(model.parameters()), next(continued["fused"].parameters()))


# ----------------------------------------------------------------------------- the CUDA-graph step

@pytest.mark.parametrize("case", list(CASES))
def test_uncaptured_graph_steps_are_the_eager_loop_to_the_bit(case):
    # The warm-up steps train for real; everything they changed must be put back.
    model_name, settings = CASES[case]
    eager, eager_step, eager_stats = train_epochs("autograd", model_name, settings)
    graph, graph_step, graph_stats = train_epochs("cuda_graph", model_name, settings)
    assert graph_stats == eager_stats
    for (name, expected), actual in zip(eager.state_dict().items(), graph.state_dict().values(), strict=True):
        assert torch.equal(actual, expected), name
    for expected, actual in zip(eager_step.momentum_buffers(), graph_step.momentum_buffers(), strict=True):
        assert (actual is None and expected is None) or torch.equal(actual, expected)


def test_divergence_is_found_at_the_same_batch():
    settings = dict(learning_rate=1e9, batch_size=32)
    # the eager loop checked once per epoch, as on an accelerator
    X, y = q2.to_tensors(torch_splits(), torch.device("cpu"))["train"]
    model, sgd = model_and_sgd("ffn", settings)
    torch.manual_seed(1)
    eager = q2.train_epoch(model, q2.make_optimizer(model, sgd), X, y, 32, torch.Generator().manual_seed(5),
                           check_each_batch=False)
    _, _, graph_stats = train_epochs("cuda_graph", "ffn", settings, epochs=1)
    assert eager.diverged_batch is not None
    assert graph_stats[0].diverged_batch == eager.diverged_batch


@needs_cuda
@pytest.mark.parametrize("case", list(CASES))
def test_captured_steps_follow_the_eager_loop_on_cuda(case):
    model_name, settings = CASES[case]
    eager, _, eager_stats = train_epochs("autograd", model_name, settings, "cuda")
    graph, _, graph_stats = train_epochs("cuda_graph", model_name, settings, "cuda", capture=True)
    for expected, actual in zip(eager_stats, graph_stats, strict=True):
        assert actual.train_loss == pytest.approx(expected.train_loss, rel=1e-4)
    for (name, expected), actual in zip(eager.state_dict().items(), graph.state_dict().values(), strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5, msg=name)


def test_a_graph_that_cannot_be_captured_falls_back_to_autograd_untouched():
    # Where the capture fails, the run goes on as an eager run, with the warm-up steps undone.
    # Tensors on the CPU cannot be captured, on a machine with a GPU too (where torch would
    # capture an empty graph, with a warning, if the step did not refuse them first).
    settings = dict(learning_rate=0.05, momentum=0.9, batch_size=32)
    X, y = q2.to_tensors(torch_splits(), torch.device("cpu"))["train"]
    results = []
    for name in ("cuda_graph", "autograd"):
        model, sgd = model_and_sgd("ffn", settings)
        lines = []
        step = q2.make_step(name, model, sgd, X, y, 32, log=lines.append)
        torch.manual_seed(1)
        results.append(([step.train_epoch(torch.Generator().manual_seed(5)) for _ in range(2)], model.state_dict(),
                        step.name, lines))
    (fallback_stats, fallback_state, used, lines), (eager_stats, eager_state, _, _) = results
    assert used == "autograd" and any("cuda_graph step could not be made" in line for line in lines)
    assert fallback_stats == eager_stats
    assert all(torch.equal(fallback_state[name], value) for name, value in eager_state.items())


# ---------------------------------------------------------------- a model no fast step knows

def convolutional_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 5 * 4, N_CLASSES))


@pytest.mark.parametrize("device, fast_step", [("cpu", "fused"), ("cuda", "cuda_graph")])
def test_a_model_the_fast_step_cannot_train_goes_to_autograd_saying_why(device, fast_step):
    # ffn's spec lists both fast steps; this model and these images are nothing the steps know
    images = torch.rand(10, 1, 5, 4)
    lines = []
    name = q2.training_step_for("fast", torch.device(device), "ffn", convolutional_model(), images, lines.append)
    assert name == "autograd" and len(lines) == 1
    assert lines[0].startswith(f"ffn: the {fast_step} step cannot train it (") and "autograd" in lines[0]
    # a model the step knows, on data it can take, keeps the fast step (on the CPU: the fused one)
    flat = torch.rand(10, N_FEATURES)
    assert q2.training_step_for("fast", torch.device("cpu"), "ffn", model_and_sgd("ffn", {"learning_rate": 0.1})[0],
                                flat, lines.append) == "fused" and len(lines) == 1


def test_a_fast_step_that_fails_to_start_falls_back_to_autograd():
    X, y = torch.rand(20, 1, 5, 4), torch.randint(0, N_CLASSES, (20,))
    lines = []
    step = q2.make_step("fused", convolutional_model(), q2.SGD(0.1, 0.0, 0.0), X, y, 8, log=lines.append)
    assert step.name == "autograd" and "the fused step could not be made (ValueError" in lines[0]
    assert step.train_epoch(torch.Generator().manual_seed(0)).diverged_batch is None


def test_every_step_says_what_it_supports():
    flat, images = torch.rand(4, N_FEATURES), torch.rand(4, 1, 5, 4)
    ffn = model_and_sgd("ffn", {"learning_rate": 0.1})[0]
    assert FusedSGD.unsupported(ffn, flat) is None
    assert "flat features" in FusedSGD.unsupported(ffn, images)
    assert "expected Linear, ReLU, Dropout at 0..2" in FusedSGD.unsupported(convolutional_model(), flat)
    assert "CUDA device" in GraphedTrainStep.unsupported(ffn, flat)
    assert q2.make_step("autograd", ffn, q2.SGD(0.1, 0.0, 0.0), flat, torch.zeros(4, dtype=torch.int64),
                        2).unsupported(convolutional_model(), images) is None


# ---------------------------------------------------------------- the CUDA graphs checked before a run

class SkipsTheUpdate(GraphedTrainStep):
    """A wrong replay: every step computes its loss and gradients but never applies them."""

    def _step(self, size):
        self.optimizer.step, step = (lambda: None), self.optimizer.step
        try:
            super()._step(size)
        finally:
            self.optimizer.step = step


class RepeatsTheFirstBatch(GraphedTrainStep):
    """A wrong replay: every step trains on the epoch's first batch (its position is never advanced)."""

    def _step(self, size):
        self.batch_number.zero_()
        super()._step(size)


def graph_run(step_class=GraphedTrainStep, settings=None):
    """A graph step (replays run eagerly: no GPU here) ready to train, with its SGD and data."""
    settings = settings or dict(learning_rate=0.05, momentum=0.9, weight_decay=0.01, dropout=0.3, batch_size=32)
    X, y = q2.to_tensors(torch_splits(), torch.device("cpu"))["train"]  # 200 examples: a partial last batch
    model, sgd = model_and_sgd("ffn", settings)
    return step_class(model, sgd, X, y, settings["batch_size"], capture=False), sgd


def test_a_correct_graph_step_passes_the_check_at_the_cost_of_one_epoch_of_each(monkeypatch):
    step, sgd = graph_run()
    replays = {size: 0 for size in step.replay}
    for size, replay in list(step.replay.items()):
        def counted(size=size, replay=replay):
            replays[size] += 1
            replay()
        step.replay[size] = counted
    updates = []
    sgd_step = torch.optim.SGD.step
    monkeypatch.setattr(torch.optim.SGD, "step", lambda self, *a, **k: (updates.append(1), sgd_step(self, *a, **k))[1])
    before = [p.detach().clone() for p in step.model.parameters()], torch.get_rng_state()
    shuffle = torch.Generator().manual_seed(5)
    lines = []
    used, record = checked_graph_step(step, sgd, shuffle, 32, None, lines.append)
    assert used is step and record.startswith("passed: largest difference")
    assert "they agree" in lines[0] and len(lines) == 1
    # one epoch with the graphs (7 batches of 32, then 8: both captured shapes), one with the eager step
    assert replays == {32: 6, 8: 1} and len(updates) == 7 + 7
    # and the run starts from where it was: parameters, generators, the shuffling untouched
    assert all(torch.equal(a, b) for a, b in zip(before[0], step.model.parameters()))
    assert torch.equal(before[1], torch.get_rng_state())
    assert torch.equal(shuffle.get_state(), torch.Generator().manual_seed(5).get_state())


@pytest.mark.parametrize("wrong", [SkipsTheUpdate, RepeatsTheFirstBatch])
def test_a_wrong_graph_is_caught_and_the_run_trains_eagerly_from_the_same_start(wrong):
    step, sgd = graph_run(wrong)
    lines = []
    torch.manual_seed(1)
    used, record = checked_graph_step(step, sgd, torch.Generator().manual_seed(5), 32, None, lines.append)
    assert used.name == "autograd" and record.startswith("failed: largest difference")
    assert lines[0].startswith("WARNING: the CUDA graphs disagree with the eager step over one epoch (largest "
                               "difference ") and lines[0].endswith("training with the eager step")
    # the fallback trains as an eager run from the start would
    shuffle = torch.Generator().manual_seed(5)
    fell_back = [used.train_epoch(shuffle) for _ in range(2)]
    eager, _, eager_stats = train_epochs("autograd", "ffn", dict(learning_rate=0.05, momentum=0.9, weight_decay=0.01,
                                                                 dropout=0.3, batch_size=32), epochs=2)
    assert [s.train_loss for s in fell_back] == [s.train_loss for s in eager_stats]
    assert all(torch.equal(a, b) for a, b in zip(used.model.parameters(), eager.parameters()))


def test_a_check_that_raises_falls_back_too():
    step, sgd = graph_run()
    step.train_epoch = None  # not callable: the check itself breaks
    lines = []
    used, record = checked_graph_step(step, sgd, torch.Generator(), 32, None, lines.append)
    assert used.name == "autograd" and "the check raised TypeError" in record and "WARNING" in lines[0]


def test_runs_without_the_graphs_record_the_check_skipped():
    result = q2.train("ffn", torch_splits(), seed=1, device="cpu", implementation="fast", full_train_accuracy=False,
                      log=quiet, epochs=1, batch_size=32, learning_rate=0.05, weight_decay=0.0, momentum=0.0,
                      dropout=0.3, hidden_size=8, layers=2)
    assert result.extra["graph_check"] == "skipped: trained with the fused step"
    assert device_unusable(torch.device("cpu")) is None


def test_a_device_left_unusable_by_a_failed_capture_ends_the_job_in_one_line(monkeypatch):
    # where the failed step left the device capturing or in error, going on would hang or fail later
    train_module = importlib.import_module("homework1.q2.train")
    monkeypatch.setattr(train_module, "device_unusable", lambda device: "its stream is still capturing a graph")
    X, y = torch.rand(20, 1, 5, 4), torch.randint(0, N_CLASSES, (20,))
    with pytest.raises(RuntimeError, match=r"the cpu device is unusable after the fused step failed to start "
                                           r"\(ValueError: .*\): its stream is still capturing a graph; this job "
                                           r"stops so that a retry starts clean"):
        q2.make_step("fused", convolutional_model(), q2.SGD(0.1, 0.0, 0.0), X, y, 8, log=quiet)
