"""Whole epochs at the homework's true scale: the course's loops against the project's, and the whole study.

Run from the repository root, in the environment of requirements.txt:

    python scripts/benchmark.py               # every model family of the configured study, 3 rounds (about 4 minutes)
    python scripts/benchmark.py --quick       # 1 round: under 3 minutes on 2 cores
    python scripts/benchmark.py --cores 8 --configfile my_config.yaml   # the estimate for your study
    python scripts/benchmark.py --families q2 --device cuda             # Q2 on a GPU

Data: random pixels with exactly the Intel landscapes shapes (12630 / 1404 / 3000
images of 48x48x3 = 6912 features, 6 classes). Timing depends on shapes, not
content: it says nothing about accuracy.

Each family of runs in the configured study (Q1: perceptron, logistic
regression plain / L2 / L1, MLP; Q2: each model and batch size) is timed as a
WHOLE EPOCH, as a run does it, every side in this process with the same threads
(one by default, as the workflow's jobs run), in rounds of one epoch of each
side (so that the machine's drifts hit them alike; the median is reported):
- course: the course's starter-code loops, written out below. Q1: re-order the
  training arrays (X = X[perm]), a Python loop over the examples, train and
  validation accuracy. Q2: a Dataset + DataLoader(shuffle=True) training loop
  with loss.item() per batch, then validation loss and accuracy.
- project: q1.fit and q2.train themselves, the epoch times they record, with
  `implementation: reference` (the plain numpy classes, torch autograd) and
  `implementation: fast` (the workflow's default: compiled Q1 kernels, the fused
  Q2 step on a CPU).
Same result: Q1 compares the weights after one epoch from the same seed
(perceptron: bit-identical); Q2 runs the course's loop once more, fed the
project's batch order and dropout draws, and compares the first epoch's
validation loss and accuracy.
Floor (Q2): the epoch's matrix products (training and validation), each timed
alone at its exact shape with torch's matmul; the project's matrix work runs at
floor / project time of that rate. Q1's per-example SGD is matrix-vector work,
bound by memory rather than by the matmul rate: its rate is printed beside the
machine's float64 matmul rate for scale.
The study estimate: every configured run's epochs times its family's epoch,
plus each job's start (interpreter, imports, loading the data set), slowed by
what jobs side by side cost each other (caches, memory bandwidth: measured by
running that many training processes at once), scheduled longest first onto
--cores; plus building the data set.

Writes results/benchmarks/benchmark.csv and benchmark.md. A benchmark prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys

# BLAS libraries read their thread count when numpy and torch load, so it is set before the imports.
_threads = argparse.ArgumentParser(add_help=False)
_threads.add_argument("--threads", type=int, default=1)
THREADS = _threads.parse_known_args()[0].threads
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(THREADS)

import heapq  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import yaml  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))  # this checkout's package, as the workflow's jobs use it

from homework1 import q1, q2  # noqa: E402
from homework1.data import load_splits  # noqa: E402
from homework1.sources import make_synthetic_intel  # noqa: E402
from homework1.study import expand_runs  # noqa: E402
from homework1.tables import to_markdown  # noqa: E402

SEED = 42


# ----------------------------------------------------------------------------- the course's loops

class CourseLinearModel:
    def __init__(self, n_classes, n_features):
        self.W = np.zeros((n_classes, n_features))

    def train_epoch(self, X, y, **kwargs):
        for x_i, y_i in zip(X, y):
            self.update_weight(x_i, y_i, **kwargs)

    def predict(self, X):
        return np.dot(self.W, X.T).argmax(axis=0)

    def evaluate(self, X, y):
        return (self.predict(X) == y).mean()


class CoursePerceptron(CourseLinearModel):
    def update_weight(self, x_i, y_i, **kwargs):
        y_hat = np.argmax(self.W.dot(x_i))
        if y_hat != y_i:
            self.W[y_i, :] += x_i
            self.W[y_hat, :] -= x_i


class CourseLogisticRegression(CourseLinearModel):
    def update_weight(self, x_i, y_i, learning_rate=0.001, l2_penalty=0.0, l1_penalty=0.0):
        scores = self.W.dot(x_i)
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        one_hot = np.zeros(self.W.shape[0])
        one_hot[y_i] = 1
        self.W = (1 - learning_rate * l2_penalty) * self.W - np.outer(probabilities - one_hot, x_i) * learning_rate
        if l1_penalty:
            self.W = np.sign(self.W) * np.maximum(np.abs(self.W) - learning_rate * l1_penalty, 0.0)


class CourseMLP:
    def __init__(self, n_classes, n_features, hidden_size):
        self.W1 = np.random.normal(0.1, 0.1, (hidden_size, n_features))
        self.b1 = np.zeros(hidden_size)
        self.W2 = np.random.normal(0.1, 0.1, (n_classes, hidden_size))
        self.b2 = np.zeros(n_classes)

    def predict(self, X):
        hidden = np.maximum(X.dot(self.W1.T) + self.b1, 0)
        return (hidden.dot(self.W2.T) + self.b2).argmax(axis=1)

    def evaluate(self, X, y):
        return (self.predict(X) == y).mean()

    def train_epoch(self, X, y, learning_rate=0.001):
        total_loss = 0.0
        for x_i, y_i in zip(X, y):
            z1 = self.W1.dot(x_i) + self.b1
            h1 = np.maximum(z1, 0)
            z2 = self.W2.dot(h1) + self.b2
            probabilities = np.exp(z2 - z2.max())
            probabilities /= probabilities.sum()
            total_loss -= np.log(probabilities[y_i])
            dz2 = probabilities
            dz2[y_i] -= 1
            dz1 = self.W2.T.dot(dz2) * (z1 > 0)
            self.W2 -= learning_rate * np.outer(dz2, h1)
            self.b2 -= learning_rate * dz2
            self.W1 -= learning_rate * np.outer(dz1, x_i)
            self.b1 -= learning_rate * dz1
        return total_loss / len(y)


def course_q1(model_name, splits, settings, epochs):
    """The course's main loop for Q1: seconds per epoch and the trained model."""
    q1.configure_seed(SEED)
    (X, y), (X_val, y_val) = splits["train"], splits["val"]
    n_classes = np.unique(y).size
    if model_name == "perceptron":
        model, options = CoursePerceptron(n_classes, X.shape[1]), {}
    elif model_name == "logreg":
        model = CourseLogisticRegression(n_classes, X.shape[1])
        options = {key: settings[key] for key in ("learning_rate", "l2_penalty", "l1_penalty")}
    else:
        model = CourseMLP(n_classes, X.shape[1], settings["hidden_size"])
        options = {"learning_rate": settings["learning_rate"]}
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = np.random.permutation(X.shape[0])
        X, y = X[order], y[order]
        with np.errstate(divide="ignore"):  # the course's MLP loss is log(0) where a softmax underflows
            model.train_epoch(X, y, **options)
        model.evaluate(X, y), model.evaluate(X_val, y_val)
        times.append(time.perf_counter() - start)
    return times, model


def course_q2_epoch(model, optimizer, loader, X_val, y_val, device):
    """The course's Q2 epoch: DataLoader batches moved to the device, one .item() per batch."""
    model.train()
    losses = []
    for X_batch, y_batch in loader:
        X_batch, y_batch = X_batch.to(device), y_batch.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits = model(X_val)
        val_loss = F.cross_entropy(logits, y_val).item()
        val_acc = (logits.argmax(dim=1) == y_val).float().mean().item()
    return sum(losses) / len(losses), val_loss, val_acc


# ----------------------------------------------------------------------------- the families

def speed_family(question, hparams):
    """What sets a run's epoch time: the model and the sizes of its work."""
    if question == "q1":
        return ("q1", hparams["model"], bool(hparams.get("l2_penalty")), bool(hparams.get("l1_penalty")),
                hparams.get("hidden_size"))
    return ("q2", hparams["model"], hparams["batch_size"],
            hparams.get("hidden_size") if hparams["model"] == "ffn" else None,
            hparams.get("layers") if hparams["model"] == "ffn" else None)


def family_name(family):
    if family[0] == "q1":
        _, model, l2, l1, hidden = family
        suffix = " L2" if l2 else " L1" if l1 else ""
        return f"Q1 {model}{suffix}" + (f" h{hidden}" if model == "mlp" else "")
    _, model, batch, hidden, layers = family
    return f"Q2 {model}" + (f" {layers}x{hidden}" if model == "ffn" else "") + f" batch {batch}"


def study_runs(config):
    """[(family, hyper-parameters, epochs)] of every configured run, seeds included."""
    runs = []
    for question, experiments in expand_runs(config).items():
        for variants in experiments.values():
            for hparams in variants.values():
                runs += [(speed_family(question, hparams), hparams, hparams["epochs"])] * len(config["seeds"])
    return runs


# ----------------------------------------------------------------------------- timing the project against the course

def timed(fn, device=None):
    start = time.perf_counter()
    result = fn()
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, result


def relative_difference(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def q1_flops(model_name, hidden_size, n_train, n_val, n_features, n_classes):
    """Useful float operations of one epoch: per-example products (forward and, but for the
    perceptron, the update) plus the train and validation evaluation."""
    width = hidden_size if model_name == "mlp" else n_classes
    per_example = 2 * width * n_features * (1 if model_name == "perceptron" else 2)
    return per_example * n_train + 2 * width * n_features * (n_train + n_val)


IMPLEMENTATIONS = ("reference", "fast")


def bench_q1(family, hparams, splits, rounds):
    _, model_name, *_ = family
    settings = {key: hparams[key] for key in ("learning_rate", "l2_penalty", "l1_penalty", "hidden_size")
                if key in hparams}
    n_classes = int(splits["train"][1].max()) + 1
    q1.fit(model_name, {name: (X[:8], y[:8]) for name, (X, y) in splits.items()},  # compile outside the timing
           epochs=1, n_classes=n_classes, log=lambda line: None, **settings)
    times = {"course": [], **{implementation: [] for implementation in IMPLEMENTATIONS}}
    for _ in range(rounds):  # an epoch of each side per round: the machine's drifts hit all alike
        course_seconds, course_model = course_q1(model_name, splits, settings, epochs=1)
        times["course"] += course_seconds
        for implementation in IMPLEMENTATIONS:
            project_model, result = q1.fit(model_name, splits, epochs=1, seed=SEED, implementation=implementation,
                                           log=lambda line: None, **settings)
            times[implementation].append(result.history[0]["epoch_time_s"])
    differences = [relative_difference(project, course)  # the fast path's against the course's, after one epoch
                   for project, course in zip(project_model.parameters().values(),
                                              (vars(course_model)[name] for name in project_model.parameters()))]
    worst = max(differences)
    same = ("bit-identical weights" if worst == 0 else f"weights within {worst:.1e} (relative)")
    X, y = splits["train"]
    flops = q1_flops(model_name, settings.get("hidden_size"), X.shape[0], splits["val"][0].shape[0],
                     X.shape[1], np.unique(y).size)
    return times, same, flops, result.status


def gemm_seconds(shapes, device, repeats=5):
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


def q2_products(batch_size, widths, n_train, n_val):
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


def bench_q2(family, hparams, splits, rounds, device):
    _, model_name, batch_size, hidden, layers = family
    settings = dict(batch_size=batch_size, learning_rate=hparams["learning_rate"],
                    weight_decay=hparams["weight_decay"], momentum=hparams["momentum"])
    if model_name == "ffn":
        settings |= dict(dropout=hparams["dropout"], hidden_size=hidden, layers=layers)
    X, y = (torch.as_tensor(a) for a in splits["train"])
    X = X.float()
    X_val, y_val = (torch.as_tensor(a).to(device) for a in splits["val"])
    X_val = X_val.float()
    n_classes = int(y.max()) + 1

    def new_model():
        q2.seed_everything(SEED)
        model = q2.build_model(model_name, X.shape[1], n_classes, hidden_size=settings.get("hidden_size", 200),
                               layers=settings.get("layers", 2), dropout=settings.get("dropout", 0.0)).to(device)
        return model, q2.make_optimizer(model, settings["learning_rate"], settings["momentum"],
                                        settings["weight_decay"])

    # The same result: the course's loop fed the project's batch order (and, seeded alike, its dropout draws).
    model, optimizer = new_model()
    order = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(SEED))
    same_order = DataLoader(TensorDataset(X, y), batch_size=batch_size, sampler=order.tolist(),
                            generator=torch.Generator())  # a loader draws a seed: not from dropout's generator
    course_check = course_q2_epoch(model, optimizer, same_order, X_val, y_val, device)

    # The course's loop as it is (shuffle=True), after that first epoch; the project's second epochs.
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    times = {"course": [], **{implementation: [] for implementation in IMPLEMENTATIONS}}
    for _ in range(rounds):  # an epoch of each side per round: the machine's drifts hit all alike
        times["course"].append(timed(lambda: course_q2_epoch(model, optimizer, loader, X_val, y_val, device),
                                     device)[0])
        for implementation in IMPLEMENTATIONS:
            result = q2.train(model_name, splits, epochs=2, seed=SEED, device=str(device), threads=THREADS,
                              implementation=implementation, log=lambda line: None, **settings)
            times[implementation].append(result.history[1]["epoch_time_s"])
    first = result.history[0]  # the fast path's
    n_val = X_val.shape[0]  # accuracies compared as counts: the course's is a float32 mean
    same = (f"val loss {abs(first['val_loss'] - course_check[1]) / course_check[1]:.1e} (relative), val acc "
            + ("equal" if round(first["val_acc"] * n_val) == round(course_check[2] * n_val) else
               f"{abs(round(first['val_acc'] * n_val) - round(course_check[2] * n_val))} of {n_val} apart"))

    if device.type == "cuda":  # the other way to replay a step: let torch.compile capture it
        times["torch.compile"] = [torch_compile_epoch_seconds(new_model, X, y, batch_size, device)]

    widths = [X.shape[1]] + [hidden] * (layers if model_name == "ffn" else 0) + [n_classes]
    products = q2_products(batch_size, widths, X.shape[0], X_val.shape[0])
    seconds = gemm_seconds([shape for _, shape in products], device)
    floor = sum(count * seconds[shape] for count, shape in products)
    flops = sum(count * 2 * m * k * n for count, (m, k, n) in products)
    return times, same, flops, floor, result.extra["training_step"]


def torch_compile_epoch_seconds(new_model, X, y, batch_size, device):
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


def float64_matmul_rate(splits):
    """numpy's float64 matmul rate at the shape of Q1's evaluation (scale for Q1's rates)."""
    X = splits["train"][0][:4096]
    W = np.random.default_rng(0).normal(size=(100, X.shape[1]))
    np.dot(X, W.T)
    seconds = statistics.median(timed(lambda: np.dot(X, W.T))[0] for _ in range(5))
    return 2 * X.shape[0] * X.shape[1] * W.shape[0] / seconds / 1e9


# ----------------------------------------------------------------------------- the whole study

def job_start_seconds(npz_path):
    """A training job's cost before its first epoch: interpreter, imports, loading the data."""
    code = ("import time; t = time.perf_counter(); import homework1.q2, homework1.q1_kernels; "
            "from homework1.data import load_splits; load_splits(%r, add_bias=True); "
            "print(time.perf_counter() - t)" % str(npz_path))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    return time.perf_counter() - start


SIDE_BY_SIDE_PROBE = """
import sys, time, torch
sys.path.insert(0, {src!r})
from homework1 import q2
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
X = torch.randint(0, 256, (12630, 6912), generator=g, dtype=torch.uint8).float() / 256
y = torch.randint(0, 6, (12630,), generator=g)
model = q2.build_model("ffn", 6912, 6)
run_epoch, _ = q2.epoch_runner("fused", model, q2.make_optimizer(model, 0.002), X, y, 64, torch.Generator())
run_epoch()
start = time.perf_counter()
for _ in range(3):
    run_epoch()
print(time.perf_counter() - start)
"""


def side_by_side_slowdown(slots, device):
    """How much slower a training job (Q2's FFN, batch 64, on the CPU) runs beside slots - 1
    others than alone; None where this machine has fewer CPUs than slots, or jobs share a GPU."""
    if slots < 2 or slots > os.cpu_count() or device.type != "cpu":
        return None if slots > 1 else 1.0
    probe = SIDE_BY_SIDE_PROBE.format(src=str(REPO / "src"))
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def mean_seconds(processes):
        running = [subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True, env=env)
                   for _ in range(processes)]
        return statistics.mean(float(process.communicate()[0]) for process in running)

    return mean_seconds(slots) / mean_seconds(1)


def longest_first_makespan(durations, slots):
    """Wall time of jobs placed longest first, each on the slot that frees first."""
    free_at = [0.0] * max(slots, 1)
    for duration in sorted(durations, reverse=True):
        heapq.heappush(free_at, heapq.heappop(free_at) + duration)
    return max(free_at)


def read_config(configfiles):
    from snakemake.utils import validate

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for path in configfiles:
        override = yaml.safe_load(Path(path).read_text()) or {}
        for key, value in override.items():  # what Snakemake's --configfile does: merge by key
            config[key] = (config.get(key) or {}) | value if isinstance(value, dict) else value
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))  # fills the schema's defaults
    return config


# ----------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], parents=[_threads])
    parser.add_argument("--quick", action="store_true", help="one round (under 3 minutes)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of one timed epoch per side, interleaved (the median is reported)")
    parser.add_argument("--families", nargs="+", choices=["q1", "q2"], default=["q1", "q2"])
    parser.add_argument("--device", default="cpu", help="for Q2: cpu, cuda, mps or auto (as in the config)")
    parser.add_argument("--cores", type=int, default=os.cpu_count(), help="cores of the study estimate")
    parser.add_argument("--configfile", nargs="*", default=[], help="merged over config/config.yaml, as Snakemake does")
    parser.add_argument("--n-train", type=int, default=12630, help="training examples (fewer: a smoke test)")
    parser.add_argument("--out", default=str(REPO / "results/benchmarks"))
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    torch.set_num_threads(THREADS)
    device = q2.resolve_device(args.device)
    config = read_config(args.configfile)
    runs = study_runs(config)
    families = {}
    for family, hparams, _ in runs:
        if family[0] in args.families:
            families.setdefault(family, hparams)

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {THREADS} thread(s); "
          f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"Q2 on {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    print(f"{'quick: ' if args.quick else ''}{rounds} round(s) of one timed epoch per side; load average "
          f"{os.getloadavg()[0]:.2f} (other work skews timings)")

    with tempfile.TemporaryDirectory() as scratch:
        npz = Path(scratch) / "synthetic_intel.npz"
        dataset_seconds, _ = timed(lambda: make_synthetic_intel(npz, seed=config["synthetic_intel"]["seed"],
                                                                n_train=args.n_train))
        start_seconds = job_start_seconds(npz)
        splits = {bias: load_splits(npz, add_bias=bias) for bias in (True, False)}
    print(f"data: SYNTHETIC stand-in with the Intel shapes, train {splits[True]['train'][0].shape} float64 "
          f"(random pixels; timing only); building it took {dataset_seconds:.0f} s, a job's start "
          f"{start_seconds:.1f} s\n")
    matmul64 = float64_matmul_rate(splits[False])

    rows = []
    for family, hparams in families.items():
        name = family_name(family)
        if family[0] == "q1":
            times, same, flops, status = bench_q1(family, hparams, splits[q1.uses_bias(family[1])], rounds)
            floor, step, limit = None, "kernels" if status == "ok" else status, matmul64
        else:
            times, same, flops, floor, step = bench_q2(family, hparams, splits[False], rounds, device)
            limit = flops / floor / 1e9
        course_s, reference_s, fast_s = (statistics.median(times[side]) for side in ("course", *IMPLEMENTATIONS))
        compiled = {"torch_compile_s": times["torch.compile"][0]} if "torch.compile" in times else {}
        rows.append({
            "family": name, "course_s": course_s, "reference_s": reference_s, "fast_s": fast_s,
            "speedup": course_s / fast_s, "fast_over_reference": reference_s / fast_s,
            "same_result": same, "fast_path": step, "gflop_per_epoch": flops / 1e9,
            "fast_gflops": flops / fast_s / 1e9, "machine_matmul_gflops": limit,
            "floor_s": floor, "matrix_work_at": floor / fast_s if floor else None, **compiled,
        })
        print(f"{name:>26}: course {course_s:6.3f} s, reference {reference_s:6.3f} s, fast {fast_s:6.3f} s, "
              f"{course_s / fast_s:4.1f}x the course; "
              f"{flops / fast_s / 1e9:5.1f} GFLOP/s (matmul {limit:5.1f})"
              + (f", floor {floor:.3f} s, matrix work at {floor / fast_s:.0%} of the matmul rate" if floor else "")
              + (f", torch.compile {compiled['torch_compile_s']:.3f} s" if compiled else "")
              + f"; {same}", flush=True)
    table = pd.DataFrame(rows)

    # The whole study: every configured run's epochs at its family's measured epoch.
    epoch_seconds = {family_name(family): seconds for family, seconds in zip(families, table["fast_s"])}
    slots = max(args.cores // config["torch_threads"], 1)
    slowdown = side_by_side_slowdown(slots, device)
    jobs = [(start_seconds + epochs_of_run * epoch_seconds[family_name(family)]) * (slowdown or 1.0)
            for family, _, epochs_of_run in runs if family_name(family) in epoch_seconds]
    makespan = longest_first_makespan(jobs, slots)
    beside = (f"{slots} jobs side by side run {slowdown:.2f}x slower than alone" if slowdown else
              "jobs side by side not measured: they share the GPU" if device.type != "cpu" else
              f"side by side not measured: this machine has fewer than {slots} CPUs")
    study = (f"{len(jobs)} training jobs of the configured study ({', '.join(args.families)}) on "
             f"{args.cores} cores ({beside}): {sum(jobs) / 60:.1f} min of CPU; data set {dataset_seconds:.0f} s "
             f"+ training {makespan / 60:.1f} min = about {(dataset_seconds + makespan) / 60:.1f} min "
             f"(tables, figures and the Q3 checks add about a minute)")
    scale = "true scale" if args.n_train == 12630 else f"{args.n_train} training examples"
    study = f"at {scale}, " + study
    print("\nwhole study " + study)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "benchmark.csv", index=False)
    (out / "benchmark.md").write_text(
        f"Whole epochs at the Intel shapes ({args.n_train} training examples, SYNTHETIC data), {THREADS} thread(s), "
        f"{'quick, ' if args.quick else ''}median of {rounds} round(s); Q2 on {device}.\n\n"
        + to_markdown(table, floatfmt=".3g") + f"\nWhole study: {study}.\n")
    print(f"\nwrote {out / 'benchmark.csv'} and {out / 'benchmark.md'}")


if __name__ == "__main__":
    main()
