"""Question 2: logistic regression and a feed-forward net in PyTorch, trained by mini-batch SGD.

``train`` is the run; ``reference`` (autograd), ``fused`` (CPU) and ``graph`` (CUDA graph) are the
training steps; ``batches``, ``sgd``, ``devices`` and ``checkpoints`` what they share; ``models``
one module per model with its spec, loaded by the run that trains it (not imported here, so that
editing one model reruns its runs only).
"""

from homework1.q2.batches import EpochStats, batch_indices, evaluate, to_tensors
from homework1.q2.checkpoints import Checkpointing
from homework1.q2.devices import resolve_device
from homework1.q2.reference import train_epoch
from homework1.q2.sgd import SGD, make_optimizer
from homework1.q2.train import IMPLEMENTATION_STEPS, build_model, make_step, train, training_step_for

__all__ = ["IMPLEMENTATION_STEPS", "SGD", "Checkpointing", "EpochStats", "batch_indices", "build_model", "evaluate",
           "make_optimizer", "make_step", "resolve_device", "to_tensors", "train", "train_epoch",
           "training_step_for"]
