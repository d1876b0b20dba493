"""One epoch of each model family, timed three ways: the course's loop, the reference, the fast path."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from homework1.benchmark import course
from homework1 import q1, q2
from homework1.core.seeding import seed_everything
from homework1.plan.specs import model_spec

SEED = 42


def timed(fn, device=None):
    """(seconds, result) of ``fn()``, waiting for a GPU to finish its work."""
    start = time.perf_counter()
    result = fn()
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, result


def relative_difference(a, b) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def q1_flops(model, n_train: int, n_val: int, has_loss: bool) -> int:
    """Useful float operations of one epoch of per-example SGD on ``model`` (from its weight
    matrices): per example the forward products and, for a model with a loss (all but the
    perceptron, which updates on mistakes only), as many again for the update; then the train
    and validation evaluation."""
    weights = sum(p.size for p in model.parameters().values() if p.ndim == 2)
    return 2 * weights * n_train * (2 if has_loss else 1) + 2 * weights * (n_train + n_val)


def time_q1(model_name: str, hparams: dict, splits: dict, rounds: int, implementations: list[str]):
    """(seconds per epoch of each side, same-result note, FLOP per epoch, the fast path's status).
    The course's side is timed for the models the course has (``course.Q1_MODELS``)."""
    hparams = {key: value for key, value in hparams.items() if key != "model"}
    one_epoch = dict(hparams, epochs=1)
    n_classes = int(splits["train"][1].max()) + 1
    q1.fit(model_name, {name: (X[:8], y[:8]) for name, (X, y) in splits.items()},  # compile outside the timing
           seed=SEED, implementation="fast", n_classes=n_classes, log=lambda line: None, **one_epoch)
    settings = {key: value for key, value in hparams.items() if key != "epochs"}
    in_course = model_name in course.Q1_MODELS
    times = {"course": [] if in_course else [float("nan")]} | {implementation: [] for implementation in implementations}
    fitted = {}
    for _ in range(rounds):  # an epoch of each side per round: the machine's drifts hit all alike
        if in_course:
            course_model, history = course.q1_main_loop(model_name, splits, epochs=1, seed=SEED, **settings)
            times["course"].append(history[0]["seconds"])
        for implementation in implementations:
            fitted[implementation] = q1.fit(model_name, splits, seed=SEED, implementation=implementation,
                                            log=lambda line: None, **one_epoch)
            times[implementation].append(fitted[implementation][1].history[0]["epoch_time_s"])
    fast_model, result = fitted["fast"]
    if in_course:
        worst = max(relative_difference(value, vars(course_model)[name])  # the fast path's, after one epoch
                    for name, value in fast_model.parameters().items())
        same = "bit-identical weights" if worst == 0 else f"weights within {worst:.1e} (relative)"
    else:
        same = "not in the course"
    X = splits["train"][0]
    flops = q1_flops(fast_model, X.shape[0], splits["val"][0].shape[0],
                     has_loss="train_loss" in result.history[0])
    return times, same, flops, result.status


def gemm_seconds(shapes, device, repeats=5) -> dict:
    """Median seconds of one float32 product (m x k) @ (k x n) for each (m, k, n), timed alone."""
    seconds = {}
    for m, k, n in set(shapes):
        a = torch.rand(m, k, device=device)
        b = torch.rand(k, n, device=device)
        out = torch.empty(m, n, device=device)
        torch.mm(a, b, out=out)
        seconds[(m, k, n)] = statistics.median(
            timed(lambda: torch.mm(a, b, out=out), device)[0] for _ in range(repeats))
    return seconds


def q2_products(batch_size: int, widths: list[int], n_train: int, n_val: int) -> list:
    """[(count, (m, k, n))] of every matrix product of one epoch: per batch, each layer's
    forward and weight gradient and, above the first layer, its input gradient; then the
    validation forward pass."""
    n_batches, remainder = divmod(n_train, batch_size)
    products = []
    for batch, count in ((batch_size, n_batches), (remainder, 1 if remainder else 0)):
        for layer, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
            products.append((count, (batch, fan_in, fan_out)))          # forward
            products.append((count, (fan_out, batch, fan_in)))          # weight gradient
            if layer > 0:
                products.append((count, (batch, fan_out, fan_in)))      # input gradient
    products += [(1, (n_val, fan_in, fan_out)) for fan_in, fan_out in zip(widths, widths[1:])]
    return [(count, shape) for count, shape in products if count]


def q2_flops(model, X: torch.Tensor, y: torch.Tensor, batch_size: int, X_val: torch.Tensor) -> int:
    """Float operations of one epoch (every batch's forward and backward, then the validation
    forward), counted by torch's FlopCounterMode on the model itself: right for any model."""
    from torch.utils.flop_counter import FlopCounterMode

    n_batches, remainder = divmod(X.shape[0], batch_size)
    total = 0
    for size, count in ((batch_size, n_batches), (remainder, 1 if remainder else 0)):
        if count:
            with FlopCounterMode(display=False) as counter:
                F.cross_entropy(model(X[:size]), y[:size]).backward()
            total += count * counter.get_total_flops()
    model.zero_grad(set_to_none=True)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(X_val)
    return total + counter.get_total_flops()


def linear_widths(model) -> list[int] | None:
    """[input, hidden..., output] widths of a chain of Linear layers (None for another model)."""
    from homework1.q2.fused import linear_layers

    try:
        layers = [linear for linear, _ in linear_layers(model)]
    except ValueError:
        return None
    return [layers[0].in_features] + [linear.out_features for linear in layers]


def time_q2(model_name: str, hparams: dict, splits: dict, rounds: int, device: torch.device, threads: int,
            implementations: list[str]):
    """(seconds per epoch of each side, same-result note, FLOP per epoch, floor seconds (None where the
    model is no chain of Linear layers), the fast step)."""
    hparams = {key: value for key, value in hparams.items() if key != "model"}
    batch_size = hparams["batch_size"]
    X, y = (torch.as_tensor(a) for a in splits["train"])
    X = X.float()
    X_val, y_val = (torch.as_tensor(a).to(device) for a in splits["val"])
    X_val = X_val.float()
    n_classes = int(y.max()) + 1
    architecture = {key: hparams[key] for key in model_spec("q2", model_name).architecture}
    sgd = q2.SGD(hparams["learning_rate"], hparams["momentum"], hparams["weight_decay"])

    def new_model():
        seed_everything(SEED)
        model = q2.build_model(model_name, X.shape[1:], n_classes, **architecture).to(device)
        return model, q2.make_optimizer(model, sgd)

    # The same result: the course's loop fed the project's batch order (and, seeded alike, its dropout draws).
    model, optimizer = new_model()
    order = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(SEED))
    same_order = DataLoader(TensorDataset(X, y), batch_size=batch_size, sampler=order.tolist(),
                            generator=torch.Generator())  # a loader draws a seed: not from dropout's generator
    course_check = course.q2_epoch(model, optimizer, same_order, X_val, y_val, device)

    # The course's loop as it is (shuffle=True), after that first epoch; the project's second epochs.
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    times = {"course": [], **{implementation: [] for implementation in implementations}}
    results = {}
    for _ in range(rounds):  # an epoch of each side per round: the machine's drifts hit all alike
        times["course"].append(timed(lambda: course.q2_epoch(model, optimizer, loader, X_val, y_val, device),
                                     device)[0])
        for implementation in implementations:
            results[implementation] = q2.train(
                model_name, splits, seed=SEED, device=str(device), threads=threads, implementation=implementation,
                full_train_accuracy=False, log=lambda line: None, **dict(hparams, epochs=2))
            times[implementation].append(results[implementation].history[1]["epoch_time_s"])
    result = results["fast"]
    first = result.history[0]  # the fast path's first epoch
    n_val = X_val.shape[0]  # accuracies compared as counts: the course's is a float32 mean
    apart = abs(round(first["val_acc"] * n_val) - round(course_check[2] * n_val))
    same = (f"val loss {abs(first['val_loss'] - course_check[1]) / course_check[1]:.1e} (relative), val acc "
            + ("equal" if apart == 0 else f"{apart} of {n_val} apart"))

    if device.type == "cuda":  # the other way to replay a step: let torch.compile capture it
        times["torch.compile"] = [torch_compile_epoch_seconds(new_model, X, y, batch_size, device)]

    model, _ = new_model()
    flops = q2_flops(model, X.to(device), y.to(device), batch_size, X_val)
    widths, floor = linear_widths(model), None
    if widths is not None:
        products = q2_products(batch_size, widths, X.shape[0], X_val.shape[0])
        seconds = gemm_seconds([shape for _, shape in products], device)
        floor = sum(count * seconds[shape] for count, shape in products)
    return times, same, flops, floor, result.extra["training_step"]


def torch_compile_epoch_seconds(new_model, X, y, batch_size, device) -> float:
    """One epoch of the eager step compiled with torch.compile(mode="reduce-overhead") (which
    replays CUDA graphs too), timed after a compiling epoch; NaN, and a message, if it fails."""
    model, optimizer = new_model()
    X, y = X.to(device), y.to(device)

    @torch.compile(mode="reduce-overhead")
    def step(X_batch, y_batch):
        loss = F.cross_entropy(model(X_batch), y_batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def epoch():
        for idx in q2.batch_indices(X.shape[0], batch_size, torch.Generator().manual_seed(SEED), device):
            step(X.index_select(0, idx), y.index_select(0, idx))

    try:
        epoch()
        return timed(epoch, device)[0]
    except Exception as err:  # a benchmark reports what it could not time
        print(f"  torch.compile failed: {type(err).__name__}: {str(err)[:300]}")
        return float("nan")


def float64_matmul_rate(X: np.ndarray) -> float:
    """numpy's float64 matmul rate (GFLOP/s) at the shape of Q1's evaluation (scale for Q1's rates)."""
    X = X[:4096]
    W = np.random.default_rng(0).normal(size=(100, X.shape[1]))
    np.dot(X, W.T)
    seconds = statistics.median(timed(lambda: np.dot(X, W.T))[0] for _ in range(5))
    return 2 * X.shape[0] * X.shape[1] * W.shape[0] / seconds / 1e9
