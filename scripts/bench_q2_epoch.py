"""Time one training epoch of Q2's feed-forward net: the project's loop against the course's.

Run from the repository root (with the package installed):

    python scripts/bench_q2_epoch.py                    # batch sizes 64, 512, 1024
    python scripts/bench_q2_epoch.py --threads 2 --repeats 5 --batch-sizes 64 512
    python scripts/bench_q2_epoch.py --device cuda        # on a GPU

Data: a SYNTHETIC stand-in with the Intel landscapes shapes (12630 training
images of 48x48x3 = 6912 features, 6 classes; random pixels / 256 as float32).
Timing depends on shapes, not content, so it says nothing about accuracy.

Model: 2 hidden layers of 200 ReLU units, dropout 0.3, SGD lr 0.002,
cross-entropy (the homework's 2.2 settings), the same module for both loops.

(a) project: homework1.q2.train_epoch, the very function train() runs: data as
    one tensor, batches cut from a seeded permutation with index_select.
(b) reference: the course's starter-code loop: a per-example Dataset
    (TensorDataset) + DataLoader(batch_size, shuffle=True) over the data in
    host memory, then per batch: move it to the device, zero_grad, forward,
    loss, backward, step, and loss.item() to record it.

On a GPU (--device cuda) the project's loop keeps the data on the GPU, as
train() does; every timed region ends with the device's queue drained.

Both run in this process with the same torch threads; after a warm-up epoch each
loop runs --repeats epochs (interleaved, so load changes hit both alike) and the
median is reported. Two more columns time each loop's data path alone (the
batches without the model): the model's work is the same in both loops, so
these show how much of an epoch the loops can differ by at all.
This is a benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from homework1.q2 import batch_indices, build_model, make_optimizer, resolve_device, train_epoch

# The Intel landscapes training split's shapes (only shapes matter for timing).
N_TRAIN, N_FEATURES, N_CLASSES = 12630, 48 * 48 * 3, 6


def synthetic_intel_train(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(0, 256, (N_TRAIN, N_FEATURES), generator=g, dtype=torch.uint8).float() / 256
    y = torch.randint(0, N_CLASSES, (N_TRAIN,), generator=g)
    return X, y


def new_model_and_optimizer(args, device):
    torch.manual_seed(args.seed)
    model = build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=200, layers=2, dropout=0.3).to(device)
    return model, make_optimizer(model, learning_rate=0.002)


def reference_epoch(model, optimizer, loader, device) -> float:
    """The course's starter code: per-example Dataset + DataLoader, one .item() per batch."""
    model.train()
    losses = []
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def project_batches_only(X, y, batch_size, generator) -> None:
    """The project's data path alone: what train_epoch does besides the model."""
    for idx in batch_indices(X.shape[0], batch_size, generator, X.device):
        X.index_select(0, idx), y.index_select(0, idx)


def reference_batches_only(loader, device) -> None:
    for xb, yb in loader:
        xb.to(device), yb.to(device)


def timed(fn, device: torch.device) -> float:
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 512, 1024])
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per loop (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (as in the config)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    host_X, host_y = synthetic_intel_train(args.seed)
    X, y = host_X.to(device), host_y.to(device)
    print(f"data: SYNTHETIC stand-in with Intel shapes, train {tuple(X.shape)} float32, "
          f"{N_CLASSES} classes (random pixels; timing only)")
    print(f"model: ffn 2x200, dropout 0.3, SGD lr 0.002; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    print(f"one epoch = {N_TRAIN} examples; warm-up 1 epoch, median of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other work skews timings)\n")

    rows = []
    for batch_size in args.batch_sizes:
        project_model, project_opt = new_model_and_optimizer(args, device)
        reference_model, reference_opt = new_model_and_optimizer(args, device)
        shuffle = torch.Generator().manual_seed(args.seed)
        loader = DataLoader(TensorDataset(host_X, host_y), batch_size=batch_size, shuffle=True)
        loops = {
            "project": lambda: train_epoch(project_model, project_opt, X, y, batch_size, shuffle),
            "reference": lambda: reference_epoch(reference_model, reference_opt, loader, device),
            # the data paths alone: the only work in which the two loops differ
            "project data": lambda: project_batches_only(X, y, batch_size, shuffle),
            "reference data": lambda: reference_batches_only(loader, device),
        }
        for loop in loops.values():  # warm-up: allocator, thread pool, first-call costs
            timed(loop, device)
        times = {name: [] for name in loops}
        for _ in range(args.repeats):  # interleaved, so load changes hit every loop alike
            for name, loop in loops.items():
                times[name].append(timed(loop, device))
        rows.append((batch_size, {name: statistics.median(t) for name, t in times.items()}))
        print(f"  batch {batch_size}: " + "; ".join(
            f"{name} {[round(t, 3) for t in t_list]}" for name, t_list in times.items()), flush=True)

    print(f"\n{'batch':>6} {'project s':>10} {'reference s':>12} {'ref/project':>12}"
          f" {'project data s':>15} {'reference data s':>17}")
    for batch_size, m in rows:
        print(f"{batch_size:>6} {m['project']:>10.3f} {m['reference']:>12.3f}"
              f" {m['reference'] / m['project']:>11.2f}x"
              f" {m['project data']:>15.3f} {m['reference data']:>17.3f}")
    print(f"\n(median s per epoch of {N_TRAIN} examples; the data columns time the batching "
          f"alone; load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
