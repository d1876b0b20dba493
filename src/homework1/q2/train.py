"""Question 2's run: seed, build, train epoch after epoch with one of the steps, evaluate, resume.

The data set lives on the training device as one float32 tensor per split, and batches are sliced
from a per-run permutation (no Dataset + DataLoader, whose per-example work dominates at the
homework's scale). ``implementation``: "reference" is the autograd loop; "fast" the ``fused`` step on
a CPU, the ``graph`` step on an NVIDIA GPU, the reference on MPS; a model the fast step cannot train
(``unsupported``) falls back to the reference, saying so in its log. Per epoch a run records what the
course records plus ``train_acc_running``; ``full_train_accuracy`` adds ``train_acc``, a second
forward pass over the training set.
"""

from __future__ import annotations

import os
import time
from typing import Callable

import torch
from torch import nn

from homework1.q2.batches import evaluate, to_tensors
from homework1.q2.checkpoints import Checkpointing, append_history, differences, remove, resumable, save_checkpoint
from homework1.q2.devices import device_unusable, resolve_device, restore_rng_states, rng_states
from homework1.q2.fused import FusedSGD
from homework1.q2.graph import GraphedTrainStep
from homework1.q2.graph_check import checked_graph_step
from homework1.q2.reference import AutogradStep
from homework1.q2.sgd import SGD
from homework1.core.runs import STATUS_DIVERGED, STATUS_OK, TrainResult
from homework1.core.seeding import seed_everything
from homework1.plan.specs import load_model, model_spec
from homework1.core.stopping import StopRequested
from homework1.plan.study import check_hparams

# Each implementation with the step it trains with on each kind of device (autograd where none is named).
IMPLEMENTATION_STEPS = {"fast": {"cpu": FusedSGD, "cuda": GraphedTrainStep}, "reference": {}}
STEP_CLASSES = {cls.name: cls for cls in (FusedSGD, GraphedTrainStep, AutogradStep)}


def build_model(model_name: str, input_shape, n_classes: int, **architecture) -> nn.Module:
    """A fresh model from its module's ``build``; ``input_shape`` is one example's (an int: flat features)."""
    input_shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    return load_model("q2", model_name).build(input_shape, n_classes, **architecture)


def training_step_for(implementation: str, device: torch.device, model_name: str | None = None,
                      model: nn.Module | None = None, X: torch.Tensor | None = None,
                      log: Callable[[str], None] = print) -> str:
    """The name of the step a run uses: the implementation's step for the device, where the
    model's spec lists it and the step can train this model on this data; else autograd,
    which the log is told."""
    if implementation not in IMPLEMENTATION_STEPS:
        raise ValueError(f"unknown implementation {implementation!r}; "
                         f"expected one of {', '.join(IMPLEMENTATION_STEPS)}")
    step = IMPLEMENTATION_STEPS[implementation].get(device.type, AutogradStep)
    if model_name is None or step is AutogradStep:
        return step.name
    problem = (None if model_spec("q2", model_name).trains_with(step.name) else
               f"its spec lists no {step.name} step")
    if problem is None and model is not None and X is not None:
        problem = step.unsupported(model, X)
    if problem is None:
        return step.name
    log(f"{model_name}: the {step.name} step cannot train it ({problem}); training with the autograd step")
    return AutogradStep.name


def make_step(name: str, model: nn.Module, sgd: SGD, X: torch.Tensor, y: torch.Tensor, batch_size: int,
              momentum_buffers: list | None = None, log: Callable[[str], None] = print):
    """The step called ``name`` (one of ``specs.STEP_NAMES["q2"]``), ready to train epochs.
    A fast step that cannot be made (a CUDA graph that cannot be captured, a model the
    step does not know) falls back to autograd, and says so."""
    step = STEP_CLASSES[name]
    try:
        return step(model, sgd, X, y, batch_size, momentum_buffers)
    except Exception as err:  # noqa: BLE001 - the fast path never crashes a run the reference can train
        if step is AutogradStep:
            raise
        why = f"{type(err).__name__}: {' '.join(str(err).split())}"  # one line, whatever the error holds
        if problem := device_unusable(X.device):
            raise RuntimeError(f"the {X.device} device is unusable after the {name} step failed to start "
                               f"({why}): {problem}; this job stops so that a retry starts clean") from err
        log(f"WARNING: the {name} step could not be made ({why}); training with the autograd step")
        return AutogradStep(model, sgd, X, y, batch_size, momentum_buffers)


class Run:
    """One run's state between epochs: the model, its step, the shuffling generator, the
    history, and what a checkpoint must agree with to be resumed."""

    def __init__(self, model_name: str, splits: dict, *, seed: int, device: str, implementation: str,
                 full_train_accuracy: bool, log: Callable[[str], None], hparams: dict,
                 checkpoint: Checkpointing | None = None):
        self.model_name, self.hparams, self.implementation, self.log = model_name, hparams, implementation, log
        self.epochs = hparams["epochs"]
        self.device = dev = resolve_device(device)
        self.checkpoint = checkpoint
        seed_everything(seed)
        self.data = to_tensors(splits, dev)
        X_train = self.data["train"][0]
        n_classes = int(max(int(y.max()) for _, y in self.data.values())) + 1
        spec = model_spec("q2", model_name)
        self.model = build_model(model_name, X_train.shape[1:], n_classes,
                                 **{key: hparams[key] for key in spec.architecture}).to(dev)
        self.sgd = SGD(hparams["learning_rate"], hparams["momentum"], hparams["weight_decay"])
        self.shuffle = torch.Generator().manual_seed(seed)
        # What a checkpoint must have been written for to be resumed: every setting of this run (its
        # epochs may grow between runs), and its data and code (checkpoint.origin).
        self.config = dict(model_name=model_name, seed=seed, n_features=X_train[0].numel(), n_classes=n_classes,
                           implementation=implementation, full_train_accuracy=full_train_accuracy,
                           **{key: value for key, value in hparams.items() if key != "epochs"},
                           **(checkpoint.origin if checkpoint is not None else {}))
        self.history: list[dict] = []
        self.start_epoch, self.previous_wall, self.momentum_buffers = 0, 0.0, None
        self.previous_cpu = 0.0  # None: resumed from a checkpoint that kept no CPU time
        self.resumed_from = None
        self.history_saved, self.history_bytes = 0, 0  # the rows in the history file, and its size
        self.step = None
        self.started, self.cpu_started = time.perf_counter(), time.process_time()

    def problem(self, state: dict) -> str | None:
        """Why a checkpoint cannot resume this run (None if it can). One written for other data,
        code or settings is left by an earlier run (the workflow reruns a job when any changes):
        resuming it would mix two runs."""
        if state.get("config") != self.config:
            return f"it was written for another run: {differences(state.get('config') or {}, self.config)}"
        if state.get("epoch", self.epochs + 1) > self.epochs:
            return f"it is at epoch {state.get('epoch')}, past this run's {self.epochs}"
        return None

    def resume(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.momentum_buffers = state["momentum_buffers"]
        self.shuffle.set_state(state["shuffle_rng"])
        restore_rng_states(state["rng"], self.device)
        self.history, self.start_epoch, self.previous_wall = state["history"], state["epoch"], state["wall_time_s"]
        self.previous_cpu = state.get("cpu_time_s")
        self.history_saved, self.history_bytes = len(self.history), state["history_bytes"]
        self.resumed_from = str(self.checkpoint.path)

    def start(self, batch_size: int) -> None:
        """Resume from the checkpoint where there is one this run can resume, then make the step
        (with the momentum buffers the checkpoint kept)."""
        checkpoint = self.checkpoint
        state = resumable(checkpoint, self.problem, self.log) if checkpoint is not None else None
        if state is not None:
            self.resume(state)
        X_train, y_train = self.data["train"]
        name = training_step_for(self.implementation, self.device, self.model_name, self.model, X_train, self.log)
        self.step = make_step(name, self.model, self.sgd, X_train, y_train, batch_size, self.momentum_buffers,
                              self.log)
        self.graph_check = f"skipped: trained with the {self.step.name} step"
        if isinstance(self.step, GraphedTrainStep):
            self.step, self.graph_check = checked_graph_step(self.step, self.sgd, self.shuffle, batch_size,
                                                             self.momentum_buffers, self.log)
        if state is not None:
            # Another device or step continues the run as well as a rerun on them would start it.
            written_with = (state["device"], state["training_step"])
            moved = (f" (written on {written_with[0]} with the {written_with[1]} step, continuing on {self.device} "
                     f"with the {self.step.name} step)" if written_with != (str(self.device), self.step.name) else "")
            self.log(f"{self.model_name}: resumed from checkpoint {checkpoint.path} at epoch "
                     f"{self.start_epoch}/{self.epochs}{moved}")

    def save_checkpoint(self, epoch: int) -> None:
        """The history's new rows appended to its file, then the checkpoint written (atomically), which
        records how much of that file is this state's. A failure (a full disk) leaves both as they were."""
        history = self.checkpoint.history
        if self.history_saved == 0:
            history.unlink(missing_ok=True)  # one left by an earlier run is not this run's
        size = append_history(history, self.history[self.history_saved:])
        try:
            save_checkpoint(self.checkpoint.path, dict(
                config=self.config, epoch=epoch, device=str(self.device), training_step=self.step.name,
                history_bytes=size, model=self.model.state_dict(), momentum_buffers=self.step.momentum_buffers(),
                shuffle_rng=self.shuffle.get_state(), rng=rng_states(self.device), wall_time_s=self.wall_time(),
                cpu_time_s=self.cpu_time()))
        except BaseException:
            os.truncate(history, self.history_bytes)
            raise
        self.history_saved, self.history_bytes = len(self.history), size

    def wall_time(self) -> float:
        return self.previous_wall + time.perf_counter() - self.started

    def cpu_time(self) -> float | None:
        """The process CPU time of the training loop, over every attempt (None where one's is unknown)."""
        return None if self.previous_cpu is None else self.previous_cpu + time.process_time() - self.cpu_started

    def facts(self) -> dict:
        return {"resumed_from_epoch": self.start_epoch, "resumed_from_checkpoint": self.resumed_from,
                "implementation": self.implementation, "training_step": self.step.name,
                "graph_check": self.graph_check}

    def train_epoch(self, epoch: int, full_train_accuracy: bool) -> dict | str:
        """One epoch trained and evaluated: its history row, or why it diverged."""
        epoch_start = time.perf_counter()
        stats = self.step.train_epoch(self.shuffle)
        if stats.diverged_batch is not None:
            return f"loss became non-finite at epoch {epoch}, batch {stats.diverged_batch}"
        val_loss, val_acc = evaluate(self.model, *self.data["val"])
        row = dict(epoch=epoch, train_loss=stats.train_loss, train_acc_running=stats.train_acc_running,
                   val_loss=val_loss, val_acc=val_acc)
        if full_train_accuracy:
            _, row["train_acc"] = evaluate(self.model, *self.data["train"])
        row["epoch_time_s"] = time.perf_counter() - epoch_start
        return row

    def train_epochs(self, full_train_accuracy: bool, stop: Callable[[], str | None] | None) -> TrainResult:
        """The epochs left, checkpointed every ``checkpoint.every``; then the test accuracy."""
        name, epochs, checkpoint = self.model_name, self.epochs, self.checkpoint

        def finish() -> None:
            if checkpoint is not None and not checkpoint.keep:
                remove(checkpoint.path)

        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        for epoch in range(self.start_epoch + 1, epochs + 1):
            row = self.train_epoch(epoch, full_train_accuracy)
            if isinstance(row, str):
                self.log(f"{name}: diverged: {row}")
                finish()
                return TrainResult(history=self.history, test_acc=None, status=STATUS_DIVERGED,
                                   device=str(self.device), wall_time_s=self.wall_time(),
                                   cpu_time_s=self.cpu_time(), message=row,
                                   extra=self.facts())
            self.history.append(row)
            if checkpoint is not None and epoch % checkpoint.every == 0 and epoch < epochs:
                self.save_checkpoint(epoch)
            self.log(f"{name} epoch {epoch}/{epochs}: train loss {row['train_loss']:.4f}, "
                     f"val loss {row['val_loss']:.4f}, val acc {row['val_acc']:.4f}, {row['epoch_time_s']:.2f}s")
            if stop is not None and (cause := stop()) and epoch < epochs:
                if checkpoint is None:
                    raise StopRequested(cause, epoch, epochs, "no checkpoint is kept, a rerun starts afresh")
                self.save_checkpoint(epoch)
                raise StopRequested(cause, epoch, epochs, f"checkpoint {checkpoint.path} written, a rerun "
                                    f"resumes from it")
        wall_time, cpu_time = self.wall_time(), self.cpu_time()
        _, test_acc = evaluate(self.model, *self.data["test"])
        if checkpoint is not None and checkpoint.keep:
            # The kept checkpoint holds the final state, so a longer rerun continues from here.
            self.save_checkpoint(epochs)
        finish()
        self.log(f"{name}: test acc {test_acc:.4f}, training loop {wall_time:.1f}s on {self.device}")
        return TrainResult(history=self.history, test_acc=test_acc, status=STATUS_OK, device=str(self.device),
                           wall_time_s=wall_time, cpu_time_s=cpu_time,
                           extra={"n_parameters": sum(p.numel() for p in self.model.parameters()), **self.facts()})


def train(model_name: str, splits: dict, *, seed: int, device: str, implementation: str,
          full_train_accuracy: bool, threads: int | None = None, checkpoint: Checkpointing | None = None,
          stop: Callable[[], str | None] | None = None, log: Callable[[str], None] = print,
          **hparams) -> TrainResult:
    """Train `model_name` (a module of ``q2/models``) on `splits` = {split: (X float (N, ...), y int (N,))}.

    ``hparams`` are exactly the model's hyper-parameters (defaults in the config schema). History
    rows: epoch, train_loss, train_acc_running, val_loss, val_acc, train_acc (only with
    `full_train_accuracy`), epoch_time_s. A non-finite batch loss ends the run "diverged" with
    test_acc None. With ``checkpoint``, state is saved every ``checkpoint.every`` epochs and resumed;
    when ``stop()`` names a signal after an epoch, the state is saved and ``StopRequested`` raised.
    """
    check_hparams("q2", model_name, hparams)
    epochs, batch_size = hparams["epochs"], hparams["batch_size"]
    if batch_size < 1 or epochs < 0:
        raise ValueError(f"need batch_size >= 1 and epochs >= 0; got {batch_size}, {epochs}")
    if threads:
        torch.set_num_threads(threads)
    run = Run(model_name, splits, seed=seed, device=device, implementation=implementation,
              full_train_accuracy=full_train_accuracy, log=log, hparams=hparams, checkpoint=checkpoint)
    run.start(batch_size)
    return run.train_epochs(full_train_accuracy, stop)
