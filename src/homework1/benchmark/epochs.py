"""One epoch of each model family, timed three ways: the course's loop, the reference, the fast path."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from homework1 import course, q1, q2
from homework1.seeding import seed_everything

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


def q1_flops(model_name: str, hidden_size: int | None, n_train: int, n_val: int, n_features: int,
             n_classes: int) -> int:
    """Useful float operations of one epoch: per-example products (forward and, but for the
    perceptron, the update) plus the train and validation evaluation."""
    width = hidden_size if model_name == "mlp" else n_classes
    per_example = 2 * width * n_features * (1 if model_name == "perceptron" else 2)
    return per_example * n_train + 2 * width * n_features * (n_train + n_val)


def time_q1(model_name: str, hparams: dict, splits: dict, rounds: int, implementations: list[str]):
    """(seconds per epoch of each side, same-result note, FLOP per epoch, the fast path's status)."""
    hparams = {key: value for key, value in hparams.items() if key != "model"}
    one_epoch = dict(hparams, epochs=1)
    n_classes = int(splits["train"][1].max()) + 1
    q1.fit(model_name, {name: (X[:8], y[:8]) for name, (X, y) in splits.items()},  # compile outside the timing
           seed=SEED, implementation="fast", n_classes=n_classes, log=lambda line: None, **one_epoch)
    settings = {key: value for key, value in hparams.items() if key != "epochs"}
    times = {"course": [], **{implementation: [] for implementation in implementations}}
    fitted = {}
    for _ in range(rounds):  # an epoch of each side per round: the machine's drifts hit all alike
        course_model, history = course.q1_main_loop(model_name, splits, epochs=1, seed=SEED, **settings)
        times["course"].append(history[0]["seconds"])
        for implementation in implementations:
            fitted[implementation] = q1.fit(model_name, splits, seed=SEED, implementation=implementation,
                                            log=lambda line: None, **one_epoch)
            times[implementation].append(fitted[implementation][1].history[0]["epoch_time_s"])
    fast_model, result = fitted["fast"]
    worst = max(relative_difference(value, vars(course_model)[name])  # the fast path's, after one epoch
                for name, value in fast_model.parameters().items())
    same = "bit-identical weights" if worst == 0 else f"weights within {worst:.1e} (relative)"
    X, y = splits["train"]
    flops = q1_flops(model_name, hparams.get("hidden_size"), X.shape[0], splits["val"][0].shape[0],
                     X.shape[1], np.unique(y).size)
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


def time_q2(model_name: str, hparams: dict, splits: dict, rounds: int, device: torch.device, threads: int,
            implementations: list[str]):
    """(seconds per epoch of each side, same-result note, FLOP per epoch, floor seconds, the fast step)."""
    hparams = {key: value for key, value in hparams.items() if key != "model"}
    batch_size = hparams["batch_size"]
    X, y = (torch.as_tensor(a) for a in splits["train"])
    X = X.float()
    X_val, y_val = (torch.as_tensor(a).to(device) for a in splits["val"])
    X_val = X_val.float()
    n_classes = int(y.max()) + 1
    architecture = {key: hparams[key] for key in ("hidden_size", "layers", "dropout") if key in hparams}
    sgd = q2.SGD(hparams["learning_rate"], hparams["momentum"], hparams["weight_decay"])

    def new_model():
        seed_everything(SEED)
        model = q2.build_model(model_name, X.shape[1], n_classes, **architecture).to(device)
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

    widths = [X.shape[1]] + [hparams.get("hidden_size")] * hparams.get("layers", 0) + [n_classes]
    products = q2_products(batch_size, widths, X.shape[0], X_val.shape[0])
    seconds = gemm_seconds([shape for _, shape in products], device)
    floor = sum(count * seconds[shape] for count, shape in products)
    flops = sum(count * 2 * m * k * n for count, (m, k, n) in products)
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
