"""Question 2: logistic regression and a feed-forward net in PyTorch, trained by mini-batch SGD.

The whole data set lives on the training device as one float32 tensor per split;
each epoch draws a permutation from a per-run generator and slices batches out
of it with index_select. That avoids the per-example Python work of a
Dataset + DataLoader, which dominates the time at the homework's scale.

Two implementations of the training step, chosen by ``implementation``:
"reference" is the loop below as a student writes it (autograd, then
``optimizer.step()``); "fast" runs the step of ``q2_fused`` on the CPU (the same
arithmetic written out by hand, the weight updates fused into the matrix
products), replays it from a CUDA graph (``q2_graph``) on an NVIDIA GPU, and
runs the reference loop on Apple MPS.

Per epoch a run records the training loss and the accuracy on the training
batches as they were trained (``train_acc_running``: train mode, dropout on,
free), validation loss and accuracy, as the course does; with
``full_train_accuracy`` also the eval-mode accuracy on the whole training set
(``train_acc``), which costs a second forward pass over it (a third more work).

A run can be checkpointed (model, optimizer, shuffling generator, torch's global
RNG that dropout draws from, history) and resumed; on CPU a resumed run ends
with exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import io
import math
import os
import random
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from homework1.data import atomic_write
from homework1.runs import STATUS_DIVERGED, STATUS_OK, TrainResult

MODEL_NAMES = ("logreg", "ffn")
IMPLEMENTATIONS = ("fast", "reference")
EVAL_CHUNK = 8192  # rows per forward pass when evaluating: large, but bounded in memory


# ----------------------------------------------------------------------------- device

def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then CPU; an explicit device must exist."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"unknown device {name!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {name!r} was requested but this torch sees no CUDA device "
                               f"(torch {torch.__version__}); use device 'auto' or 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(f"device {name!r} was requested but only "
                               f"{torch.cuda.device_count()} CUDA device(s) exist")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise RuntimeError(f"device {name!r} was requested but Apple MPS is not available; "
                               f"use device 'auto' or 'cpu'")
    elif device.type != "cpu":
        raise ValueError(f"unsupported device {name!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    return device


# ----------------------------------------------------------------------------- models

def build_model(model_name: str, n_features: int, n_classes: int, *,
                hidden_size: int = 200, layers: int = 2, dropout: float = 0.3) -> nn.Module:
    """'logreg': one linear layer. 'ffn': `layers` x (Linear, ReLU, Dropout), then a Linear."""
    if model_name == "logreg":
        return nn.Linear(n_features, n_classes)
    if model_name == "ffn":
        if layers < 1:
            raise ValueError(f"ffn needs at least one hidden layer, got layers={layers}")
        blocks, width = [], n_features
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_size
        return nn.Sequential(*blocks, nn.Linear(width, n_classes))
    raise ValueError(f"unknown model {model_name!r}; expected one of {', '.join(MODEL_NAMES)}")


def make_optimizer(model: nn.Module, learning_rate: float, momentum: float = 0.0,
                   weight_decay: float = 0.0) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum,
                           weight_decay=weight_decay)


# ----------------------------------------------------------------------------- data

def to_tensors(splits: dict, device: torch.device) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """numpy features / int labels -> float32 / int64 tensors on `device`, once (float32 input: no copy on a CPU)."""
    return {split: (torch.as_tensor(X, dtype=torch.float32).to(device).contiguous(),
                    torch.as_tensor(y, dtype=torch.int64).to(device))
            for split, (X, y) in splits.items()}


def batch_indices(n: int, batch_size: int, generator: torch.Generator,
                  device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
    """One epoch's batches: a permutation of range(n) drawn from `generator`, cut in order.

    The generator stays on the CPU so that its state (and a checkpoint of it)
    does not depend on the training device; the permutation is moved over once.
    """
    order = torch.randperm(n, generator=generator)
    return order.to(device).split(batch_size)


# ----------------------------------------------------------------------------- one epoch, evaluation

class EpochStats(NamedTuple):
    train_loss: float              # mean of batch losses weighted by batch size
    train_acc_running: float       # correct predictions on the training batches, as trained
    diverged_batch: int | None     # 1-based number of the first non-finite batch, else None


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor,
                batch_size: int, generator: torch.Generator,
                check_each_batch: bool | None = None) -> EpochStats:
    """One pass of mini-batch SGD over (X, y) in the order drawn from `generator`.

    On CPU (check_each_batch None -> True) a finiteness check per batch costs
    nothing, so a diverged run stops at once; on an accelerator it would stall
    the queue every batch, so the losses are checked once at the end of the
    epoch instead (same first bad batch, same history: that epoch is dropped).
    """
    model.train()
    batches = batch_indices(X.shape[0], batch_size, generator, X.device)
    losses = torch.empty(len(batches), device=X.device)
    correct = torch.zeros((), dtype=torch.int64, device=X.device)
    if check_each_batch is None:
        check_each_batch = X.device.type == "cpu"
    for i, idx in enumerate(batches):
        labels = y.index_select(0, idx)
        logits = model(X.index_select(0, idx))
        loss = F.cross_entropy(logits, labels)
        if check_each_batch and not torch.isfinite(loss):
            return EpochStats(math.nan, math.nan, i + 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses[i] = loss.detach()
        correct += (logits.detach().argmax(dim=1) == labels).sum()
    return epoch_stats(losses, [len(idx) for idx in batches], correct)


def epoch_stats(losses: torch.Tensor, batch_sizes: list[int], correct: torch.Tensor) -> EpochStats:
    """An epoch's numbers from its per-batch losses and correct count, read from the device at once."""
    finite = torch.isfinite(losses)
    if not bool(finite.all()):
        return EpochStats(math.nan, math.nan, int((~finite).nonzero()[0]) + 1)
    sizes = torch.tensor(batch_sizes, device=losses.device, dtype=torch.float64)
    n = sum(batch_sizes)
    return EpochStats(float((losses.double() * sizes).sum() / n), int(correct) / n, None)


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, chunk: int = EVAL_CHUNK) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode (no dropout), in large chunks."""
    model.eval()
    loss_sum = torch.zeros((), device=X.device, dtype=torch.float64)
    correct = torch.zeros((), device=X.device, dtype=torch.int64)
    for start in range(0, X.shape[0], chunk):
        logits = model(X[start:start + chunk])
        labels = y[start:start + chunk]
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").double()
        correct += (logits.argmax(dim=1) == labels).sum()
    n = X.shape[0]
    return float(loss_sum) / n, int(correct) / n


def training_step_for(implementation: str, device: torch.device) -> str:
    """The training step a run uses: the fast path where the device has one, else autograd."""
    if implementation == "fast" and device.type in FAST_STEPS:
        return FAST_STEPS[device.type]
    return "autograd"


FAST_STEPS = {"cpu": "fused", "cuda": "cuda_graph"}  # MPS trains with autograd either way


def epoch_runner(step: str, model: nn.Module, optimizer: torch.optim.Optimizer, X: torch.Tensor,
                 y: torch.Tensor, batch_size: int, generator: torch.Generator,
                 log: Callable[[str], None] = print) -> tuple[Callable[[], EpochStats], str]:
    """(a function that trains one epoch with `step`, the step it uses): "fused", "cuda_graph"
    or "autograd". A CUDA graph that cannot be captured falls back to autograd, and says so."""
    if step == "fused":
        from homework1.q2_fused import FusedSGD

        fused = FusedSGD(model, optimizer, X, y, batch_size)
        return (lambda: fused.train_epoch(generator)), step
    if step == "cuda_graph":
        from homework1.q2_graph import GraphedTrainStep

        try:
            graphed = GraphedTrainStep(model, optimizer, X, y, batch_size)
            return (lambda: graphed.train_epoch(generator)), step
        except RuntimeError as err:
            log(f"WARNING: the CUDA graph could not be captured ({err}); training with the autograd step")
    return (lambda: train_epoch(model, optimizer, X, y, batch_size, generator)), "autograd"


# ----------------------------------------------------------------------------- checkpoints

def _rng_states(device: torch.device) -> dict:
    states = {"torch_cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["torch_cuda"] = torch.cuda.get_rng_state(device)
    elif device.type == "mps":
        states["torch_mps"] = torch.mps.get_rng_state()
    return states


def _restore_rng_states(states: dict, device: torch.device) -> None:
    torch.set_rng_state(states["torch_cpu"])
    if device.type == "cuda" and "torch_cuda" in states:
        torch.cuda.set_rng_state(states["torch_cuda"], device)
    elif device.type == "mps" and "torch_mps" in states:
        torch.mps.set_rng_state(states["torch_mps"])


def save_checkpoint(path: Path, state: dict) -> None:
    """Write atomically: a kill or a full disk mid-write leaves the previous checkpoint intact.

    Serialised in memory first, so that a failing write is a plain OSError naming
    the file, not an error from inside torch's zip writer.
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buffer.getbuffer()))


def load_checkpoint(path: Path) -> dict:
    # Everything in it is tensors and plain containers, so the safe loader suffices.
    return torch.load(path, map_location="cpu", weights_only=True)


# ----------------------------------------------------------------------------- the run

def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def train(model_name: str, splits: dict, *, epochs: int, batch_size: int, learning_rate: float,
          weight_decay: float = 0.0, momentum: float = 0.0, dropout: float = 0.3,
          hidden_size: int = 200, layers: int = 2, seed: int = 42, device: str = "auto",
          threads: int | None = None, implementation: str = "fast", full_train_accuracy: bool = False,
          checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int = 10,
          keep_checkpoint: bool = False, log: Callable[[str], None] = print) -> TrainResult:
    """Train `model_name` ("logreg" or "ffn") on `splits` = {split: (X float (N, F), y int (N,))}.

    History rows: epoch, train_loss (batch losses weighted by batch size),
    train_acc_running, val_loss, val_acc, train_acc (eval mode, whole train
    set; only with `full_train_accuracy`), epoch_time_s (training plus
    evaluation). A non-finite batch loss ends the run with
    status "diverged" and test_acc None instead of raising. With
    `checkpoint_path`, state is saved every `checkpoint_every` epochs and a run
    finding it resumes; it is removed at the end unless `keep_checkpoint`.
    """
    if model_name not in MODEL_NAMES:
        raise ValueError(f"unknown model {model_name!r}; expected one of {', '.join(MODEL_NAMES)}")
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation {implementation!r}; expected one of {', '.join(IMPLEMENTATIONS)}")
    if batch_size < 1 or epochs < 0 or checkpoint_every < 1:
        raise ValueError(f"need batch_size >= 1, epochs >= 0, checkpoint_every >= 1; got "
                         f"{batch_size}, {epochs}, {checkpoint_every}")
    if threads:
        torch.set_num_threads(threads)
    dev = resolve_device(device)
    seed_everything(seed)
    data = to_tensors(splits, dev)
    X_train, y_train = data["train"]
    n_classes = int(max(int(y.max()) for _, y in data.values())) + 1
    model = build_model(model_name, X_train.shape[1], n_classes,
                        hidden_size=hidden_size, layers=layers, dropout=dropout).to(dev)
    optimizer = make_optimizer(model, learning_rate, momentum, weight_decay)
    shuffle = torch.Generator().manual_seed(seed)
    training_step = training_step_for(implementation, dev)
    # What a checkpoint must agree with to be resumed (epochs may grow between runs).
    config = dict(model_name=model_name, batch_size=batch_size, learning_rate=learning_rate,
                  weight_decay=weight_decay, momentum=momentum, dropout=dropout,
                  hidden_size=hidden_size, layers=layers, seed=seed,
                  n_features=X_train.shape[1], n_classes=n_classes)

    history: list[dict] = []
    start_epoch, previous_wall = 0, 0.0
    checkpoint = Path(checkpoint_path) if checkpoint_path else None
    state = load_checkpoint(checkpoint) if checkpoint is not None and checkpoint.exists() else None
    if state is not None and (state["config"] != config or state["epoch"] > epochs):
        # Left by a run of other settings (the workflow reruns a job when its
        # hyper-parameters change): resuming it would mix two runs.
        log(f"{model_name}: ignoring checkpoint {checkpoint}: it was written by a run with other "
            f"settings ({state['config']}, epoch {state['epoch']}); starting afresh")
        state = None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        shuffle.set_state(state["shuffle_rng"])
        _restore_rng_states(state["rng"], dev)
        history, start_epoch, previous_wall = state["history"], state["epoch"], state["wall_time_s"]
        # Another device or step continues the run as well as a rerun on them would start it.
        written_with = (state.get("device", str(dev)), state.get("training_step", training_step))
        moved = (f" (written on {written_with[0]} with the {written_with[1]} step, continuing on {dev} "
                 f"with the {training_step} step)" if written_with != (str(dev), training_step) else "")
        log(f"{model_name}: resumed from checkpoint {checkpoint} at epoch {start_epoch}/{epochs}{moved}")

    def snapshot(epoch: int) -> dict:
        return dict(config=config, epoch=epoch, device=str(dev), training_step=training_step,
                    history=history, model=model.state_dict(),
                    optimizer=optimizer.state_dict(), shuffle_rng=shuffle.get_state(),
                    rng=_rng_states(dev), wall_time_s=previous_wall + time.perf_counter() - started)

    def finish() -> None:
        if checkpoint is not None and not keep_checkpoint:
            checkpoint.unlink(missing_ok=True)

    run_epoch, training_step = epoch_runner(training_step, model, optimizer, X_train, y_train, batch_size,
                                            shuffle, log)
    run_facts = {"resumed_from_epoch": start_epoch, "implementation": implementation,
                 "training_step": training_step}
    started = time.perf_counter()
    for epoch in range(start_epoch + 1, epochs + 1):
        epoch_start = time.perf_counter()
        stats = run_epoch()
        if stats.diverged_batch is not None:
            message = f"loss became non-finite at epoch {epoch}, batch {stats.diverged_batch}"
            log(f"{model_name}: diverged: {message}")
            finish()
            return TrainResult(history=history, test_acc=None, status=STATUS_DIVERGED, device=str(dev),
                               wall_time_s=previous_wall + time.perf_counter() - started,
                               message=message, extra=run_facts)
        val_loss, val_acc = evaluate(model, *data["val"])
        row = dict(epoch=epoch, train_loss=stats.train_loss, train_acc_running=stats.train_acc_running,
                   val_loss=val_loss, val_acc=val_acc)
        if full_train_accuracy:
            _, row["train_acc"] = evaluate(model, X_train, y_train)
        row["epoch_time_s"] = time.perf_counter() - epoch_start
        history.append(row)
        if checkpoint is not None and epoch % checkpoint_every == 0 and epoch < epochs:
            save_checkpoint(checkpoint, snapshot(epoch))
        log(f"{model_name} epoch {epoch}/{epochs}: train loss {stats.train_loss:.4f}, "
            f"val loss {val_loss:.4f}, val acc {val_acc:.4f}, {row['epoch_time_s']:.2f}s")
    wall_time = previous_wall + time.perf_counter() - started
    _, test_acc = evaluate(model, *data["test"])
    if checkpoint is not None and keep_checkpoint:
        # The kept checkpoint holds the final state, so a longer rerun continues from here.
        save_checkpoint(checkpoint, snapshot(epochs))
    finish()
    log(f"{model_name}: test acc {test_acc:.4f}, training loop {wall_time:.1f}s on {dev}")
    return TrainResult(history=history, test_acc=test_acc, status=STATUS_OK, device=str(dev),
                       wall_time_s=wall_time,
                       extra={"n_parameters": sum(p.numel() for p in model.parameters()), **run_facts})
