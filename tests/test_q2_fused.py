"""Q2's hand-written training step (the fast path) against autograd + torch.optim.SGD (the reference)."""

import pytest
import torch
from torch import nn

from homework1 import q2
from homework1.q2_fused import FusedSGD, linear_layers
from tests.test_q2 import N_CLASSES, N_FEATURES, make_splits


def test_linear_layers_reads_the_structure_of_both_models():
    ffn = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=8, layers=3, dropout=0.25)
    layers = linear_layers(ffn)
    assert [p for _, p in layers] == [0.25, 0.25, 0.25, None]
    assert [linear.out_features for linear, _ in layers] == [8, 8, 8, N_CLASSES]
    logreg = q2.build_model("logreg", N_FEATURES, N_CLASSES)
    assert linear_layers(logreg) == [(logreg, None)]
    with pytest.raises(ValueError, match="Linear, ReLU, Dropout"):
        linear_layers(nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Dropout(0.1), nn.Linear(4, 2)))


def model_and_optimizer(model_name, settings):
    torch.manual_seed(0)  # the same initial weights for both implementations
    model = q2.build_model(model_name, N_FEATURES, N_CLASSES, hidden_size=settings.get("hidden_size", 16),
                           layers=settings.get("layers", 2), dropout=settings.get("dropout", 0.3))
    return model, q2.make_optimizer(model, settings["learning_rate"], settings.get("momentum", 0.0),
                                    settings.get("weight_decay", 0.0))


CASES = {
    "logreg, weight decay": ("logreg", dict(learning_rate=0.05, weight_decay=0.01, batch_size=32)),
    "ffn, dropout": ("ffn", dict(learning_rate=0.05, dropout=0.3, batch_size=64)),
    "ffn, momentum and weight decay": ("ffn", dict(learning_rate=0.02, momentum=0.9, weight_decay=0.01,
                                                   dropout=0.5, batch_size=32)),
    "ffn, 3 layers, no dropout": ("ffn", dict(learning_rate=0.05, dropout=0.0, layers=3, batch_size=48)),
    "ffn, one batch larger than the data": ("ffn", dict(learning_rate=0.05, batch_size=500)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_epochs_follow_the_reference(case):
    model_name, settings = CASES[case]
    X, y = q2.to_tensors(make_splits(), torch.device("cpu"))["train"]  # 200 examples: a partial last batch
    runs = {}
    for implementation in ("reference", "fast"):
        model, optimizer = model_and_optimizer(model_name, settings)
        shuffle = torch.Generator().manual_seed(5)
        fused = FusedSGD(model, optimizer, X, y, settings["batch_size"])
        torch.manual_seed(1)  # dropout draws from torch's global generator in both
        stats = []
        for _ in range(3):
            if implementation == "reference":
                stats.append(q2.train_epoch(model, optimizer, X, y, settings["batch_size"], shuffle))
            else:
                stats.append(fused.train_epoch(shuffle))
        runs[implementation] = model, optimizer, stats

    (reference, reference_optimizer, reference_stats), (fast, fast_optimizer, fast_stats) = runs.values()
    for (name, expected), actual in zip(reference.state_dict().items(), fast.state_dict().values(), strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6, msg=name)
        assert not torch.equal(actual, model_and_optimizer(model_name, settings)[0].state_dict()[name])  # it trained
    for expected, actual in zip(reference_stats, fast_stats, strict=True):
        assert actual.train_loss == pytest.approx(expected.train_loss, rel=1e-5)
        assert actual.train_acc_running == expected.train_acc_running and actual.diverged_batch is None
    if settings.get("momentum"):
        for param, fast_param in zip(reference.parameters(), fast.parameters()):
            torch.testing.assert_close(fast_optimizer.state[fast_param]["momentum_buffer"],
                                       reference_optimizer.state[param]["momentum_buffer"], rtol=1e-5, atol=1e-6)


def test_whole_runs_reach_the_same_accuracy():
    settings = dict(epochs=6, batch_size=32, learning_rate=0.05, momentum=0.9, dropout=0.3, hidden_size=16,
                    seed=2, log=lambda line: None)
    fast = q2.train("ffn", make_splits(), implementation="fast", **settings)
    reference = q2.train("ffn", make_splits(), implementation="reference", **settings)
    assert (fast.extra["training_step"], reference.extra["training_step"]) == ("fused", "autograd")
    assert round(fast.history[-1]["val_acc"], 3) == round(reference.history[-1]["val_acc"], 3)
    assert fast.test_acc == reference.test_acc
    for fast_row, reference_row in zip(fast.history, reference.history, strict=True):
        assert fast_row["val_loss"] == pytest.approx(reference_row["val_loss"], rel=1e-4)


def test_a_non_finite_loss_leaves_the_weights_unchanged():
    X, y = q2.to_tensors(make_splits(), torch.device("cpu"))["train"]
    model, optimizer = model_and_optimizer("ffn", dict(learning_rate=0.05))
    fused = FusedSGD(model, optimizer, X, y, 32)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    poisoned = X[:32].clone()
    poisoned[0, 0] = float("inf")
    loss, _ = fused.step(poisoned, y[:32])
    assert not torch.isfinite(loss)
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())
