"""Question 2's run: seed, build, train epoch after epoch with one of the steps, evaluate, resume.

The whole data set lives on the training device as one float32 tensor per split;
each epoch draws a permutation from a per-run generator and slices batches out
of it with index_select. That avoids the per-example Python work of a
Dataset + DataLoader, which dominates the time at the homework's scale.

The training step, chosen by ``implementation``: "reference" is the autograd
loop of ``reference`` as a student writes it; "fast" runs the step of
``fused`` on the CPU (the same arithmetic written out by hand, the weight
updates fused into the matrix products), replays it from a CUDA graph
(``graph``) on an NVIDIA GPU, and runs the reference loop on Apple MPS.

Per epoch a run records the training loss and the accuracy on the training
batches as they were trained (``train_acc_running``: train mode, dropout on,
free), validation loss and accuracy, as the course does; with
``full_train_accuracy`` also the eval-mode accuracy on the whole training set
(``train_acc``), which costs a second forward pass over it (a third more work).
"""

from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

from homework1.q2.batches import evaluate, to_tensors
from homework1.q2.checkpoints import Checkpointing, resumable, save_checkpoint
from homework1.q2.devices import resolve_device, restore_rng_states, rng_states
from homework1.q2.fused import FusedSGD
from homework1.q2.graph import GraphedTrainStep
from homework1.q2.models import SGD, build_model
from homework1.q2.reference import AutogradStep
from homework1.runs import STATUS_DIVERGED, STATUS_OK, TrainResult
from homework1.seeding import seed_everything
from homework1.stopping import StopRequested
from homework1.study import check_hparams

# implementation -> the step it trains with on each kind of device (autograd where none is named)
STEPS = {"fast": {"cpu": FusedSGD, "cuda": GraphedTrainStep}, "reference": {}}


def training_step_for(implementation: str, device: torch.device) -> str:
    """The name of the step a run uses: the fast path where the device has one, else autograd."""
    if implementation not in STEPS:
        raise ValueError(f"unknown implementation {implementation!r}; expected one of {', '.join(STEPS)}")
    return STEPS[implementation].get(device.type, AutogradStep).name


def make_step(name: str, model: nn.Module, sgd: SGD, X: torch.Tensor, y: torch.Tensor, batch_size: int,
              momentum_buffers: list | None = None, log: Callable[[str], None] = print):
    """The step called ``name`` ("fused", "cuda_graph" or "autograd"), ready to train epochs.
    A CUDA graph that cannot be captured falls back to autograd, and says so."""
    step = {cls.name: cls for cls in (FusedSGD, GraphedTrainStep, AutogradStep)}[name]
    try:
        return step(model, sgd, X, y, batch_size, momentum_buffers)
    except RuntimeError as err:
        if step is not GraphedTrainStep:
            raise
        log(f"WARNING: the CUDA graph could not be captured ({err}); training with the autograd step")
        return AutogradStep(model, sgd, X, y, batch_size, momentum_buffers)


def train(model_name: str, splits: dict, *, seed: int, device: str, implementation: str,
          full_train_accuracy: bool, threads: int | None = None, checkpoint: Checkpointing | None = None,
          stop: Callable[[], str | None] | None = None, log: Callable[[str], None] = print,
          **hparams) -> TrainResult:
    """Train `model_name` ("logreg" or "ffn") on `splits` = {split: (X float (N, F), y int (N,))}.

    ``hparams`` are exactly the model's hyper-parameters (``study.MODEL_HPARAMS``);
    their defaults live in the workflow's config schema. History rows: epoch,
    train_loss (batch losses weighted by batch size), train_acc_running,
    val_loss, val_acc, train_acc (eval mode, whole train set; only with
    `full_train_accuracy`), epoch_time_s (training plus evaluation). A
    non-finite batch loss ends the run with status "diverged" and test_acc None
    instead of raising. With ``checkpoint``, state is saved every
    ``checkpoint.every`` epochs and a run finding it resumes (one it cannot resume
    is set aside); it is removed at the end unless ``checkpoint.keep``. When
    ``stop()`` names a signal after an epoch, the state is saved and
    ``StopRequested`` raised (``homework1.stopping``).
    """
    check_hparams("q2", model_name, hparams)
    epochs, batch_size = hparams["epochs"], hparams["batch_size"]
    if batch_size < 1 or epochs < 0:
        raise ValueError(f"need batch_size >= 1 and epochs >= 0; got {batch_size}, {epochs}")
    if threads:
        torch.set_num_threads(threads)
    dev = resolve_device(device)
    step_name = training_step_for(implementation, dev)
    seed_everything(seed)
    data = to_tensors(splits, dev)
    X_train, y_train = data["train"]
    n_classes = int(max(int(y.max()) for _, y in data.values())) + 1
    architecture = {key: hparams[key] for key in ("hidden_size", "layers", "dropout") if key in hparams}
    model = build_model(model_name, X_train.shape[1], n_classes, **architecture).to(dev)
    sgd = SGD(hparams["learning_rate"], hparams["momentum"], hparams["weight_decay"])
    shuffle = torch.Generator().manual_seed(seed)
    # What a checkpoint must agree with to be resumed (epochs may grow between runs).
    config = dict(model_name=model_name, seed=seed, n_features=X_train.shape[1], n_classes=n_classes,
                  **{key: value for key, value in hparams.items() if key != "epochs"})

    def problem(state: dict) -> str | None:
        """Why a checkpoint cannot resume this run (None if it can). One of other settings is
        left by an earlier run (the workflow reruns a job when its hyper-parameters change):
        resuming it would mix two runs."""
        if state.get("config") != config:
            return f"it was written by a run with other settings ({state.get('config')})"
        if state.get("epoch", epochs + 1) > epochs:
            return f"it is at epoch {state.get('epoch')}, past this run's {epochs}"
        return None

    history: list[dict] = []
    start_epoch, previous_wall, momentum_buffers = 0, 0.0, None
    path = checkpoint.path if checkpoint else None
    state = resumable(path, problem, log) if path is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        momentum_buffers = state["momentum_buffers"]
        shuffle.set_state(state["shuffle_rng"])
        restore_rng_states(state["rng"], dev)
        history, start_epoch, previous_wall = state["history"], state["epoch"], state["wall_time_s"]
        # Another device or step continues the run as well as a rerun on them would start it.
        written_with = (state["device"], state["training_step"])
        moved = (f" (written on {written_with[0]} with the {written_with[1]} step, continuing on {dev} "
                 f"with the {step_name} step)" if written_with != (str(dev), step_name) else "")
        log(f"{model_name}: resumed from checkpoint {path} at epoch {start_epoch}/{epochs}{moved}")

    step = make_step(step_name, model, sgd, X_train, y_train, batch_size, momentum_buffers, log)

    def snapshot(epoch: int) -> dict:
        return dict(config=config, epoch=epoch, device=str(dev), training_step=step.name,
                    history=history, model=model.state_dict(), momentum_buffers=step.momentum_buffers(),
                    shuffle_rng=shuffle.get_state(), rng=rng_states(dev),
                    wall_time_s=previous_wall + time.perf_counter() - started)

    def finish() -> None:
        if path is not None and not checkpoint.keep:
            path.unlink(missing_ok=True)

    run_facts = {"resumed_from_epoch": start_epoch, "implementation": implementation, "training_step": step.name}
    started = time.perf_counter()
    for epoch in range(start_epoch + 1, epochs + 1):
        epoch_start = time.perf_counter()
        stats = step.train_epoch(shuffle)
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
        if path is not None and epoch % checkpoint.every == 0 and epoch < epochs:
            save_checkpoint(path, snapshot(epoch))
        log(f"{model_name} epoch {epoch}/{epochs}: train loss {stats.train_loss:.4f}, "
            f"val loss {val_loss:.4f}, val acc {val_acc:.4f}, {row['epoch_time_s']:.2f}s")
        if stop is not None and (signal_name := stop()) and epoch < epochs:
            if path is None:
                raise StopRequested(signal_name, epoch, epochs, "no checkpoint is kept, a rerun starts afresh")
            save_checkpoint(path, snapshot(epoch))
            raise StopRequested(signal_name, epoch, epochs, f"checkpoint {path} written, a rerun resumes from it")
    wall_time = previous_wall + time.perf_counter() - started
    _, test_acc = evaluate(model, *data["test"])
    if path is not None and checkpoint.keep:
        # The kept checkpoint holds the final state, so a longer rerun continues from here.
        save_checkpoint(path, snapshot(epochs))
    finish()
    log(f"{model_name}: test acc {test_acc:.4f}, training loop {wall_time:.1f}s on {dev}")
    return TrainResult(history=history, test_acc=test_acc, status=STATUS_OK, device=str(dev),
                       wall_time_s=wall_time,
                       extra={"n_parameters": sum(p.numel() for p in model.parameters()), **run_facts})
