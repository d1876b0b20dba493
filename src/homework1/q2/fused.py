"""Question 2's training step written out by hand: the fast path on the CPU.

For Linear layers with ReLU and dropout between them on flat features (``FusedSGD.unsupported``
says why another model cannot be trained here): forward, cross-entropy, backward and SGD with each
weight update fused into the matrix product that computes its gradient
(``W.addmm_(dZᵀ, A, beta=1 - lr·wd, alpha=-lr)``), so the first layer's weights are read and written
once per step and its gradient never stored; the batch gathered into a buffer made once per run; the
dropout masks drawn exactly as ``nn.Dropout`` draws them on the CPU. A run follows
``reference.train_epoch`` to float32 rounding, and the momentum buffers are kept as torch's SGD
keeps them, so either step resumes the other's checkpoint. No torch.optim here: the first torch
optimizer loads torch._dynamo, a second of every job's start.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from homework1.q2.batches import EpochStats, batch_indices
from homework1.q2.sgd import SGD
from homework1.plan.specs import FUSED


def linear_layers(model: nn.Module) -> list[tuple[nn.Linear, float | None]]:
    """[(linear, p)] of a ``models.build_model`` model: p is the dropout after the
    layer's ReLU, None for the output layer (which has neither)."""
    if not isinstance(model, (nn.Linear, nn.Sequential)):
        raise ValueError(f"expected a Linear or a Sequential of Linear, ReLU, Dropout blocks, got "
                         f"{type(model).__name__}")
    modules = [model] if isinstance(model, nn.Linear) else list(model)
    layers = []
    for start in range(0, len(modules) - 1, 3):
        linear, relu, dropout = modules[start:start + 3]
        if not (isinstance(linear, nn.Linear) and isinstance(relu, nn.ReLU) and isinstance(dropout, nn.Dropout)):
            raise ValueError(f"expected Linear, ReLU, Dropout at {start}..{start + 2} of {model}")
        layers.append((linear, dropout.p))
    if not isinstance(modules[-1], nn.Linear) or len(modules) % 3 != 1:
        raise ValueError(f"expected hidden blocks of Linear, ReLU, Dropout and a final Linear: {model}")
    return layers + [(modules[-1], None)]


class FusedSGD:
    """Trains ``model`` on (X, y) with SGD (without dampening or Nesterov), one epoch at a time."""

    name = FUSED

    @staticmethod
    def unsupported(model: nn.Module, X: torch.Tensor) -> str | None:
        """Why this step cannot train ``model`` on ``X`` (None if it can)."""
        if X.dim() != 2:
            return f"it takes flat features, not examples of shape {tuple(X.shape[1:])}"
        try:
            linear_layers(model)
        except ValueError as err:
            return str(err)
        return None

    def __init__(self, model: nn.Module, sgd: SGD, X: torch.Tensor, y: torch.Tensor, batch_size: int,
                 momentum_buffers: list[torch.Tensor | None] | None = None):
        self.model = model
        self.layers = linear_layers(model)
        self.learning_rate, self.momentum, self.weight_decay = sgd
        # parameter -> its momentum buffer, made at its first step as torch's SGD makes it
        self.buffers = {param: buffer.to(param.device).clone()
                        for param, buffer in zip(model.parameters(), momentum_buffers or []) if buffer is not None}
        self.X, self.y, self.batch_size = X, y, batch_size
        self.batch = torch.empty(min(batch_size, X.shape[0]), X.shape[1], dtype=X.dtype, device=X.device)

    def momentum_buffers(self) -> list[torch.Tensor | None]:
        return [self.buffers.get(param) for param in self.model.parameters()]

    def _sgd(self, param: torch.Tensor, accumulate) -> None:
        """torch.optim.SGD's update of ``param``; ``accumulate(target, beta, alpha)`` must do
        target <- beta * target + alpha * gradient in place (for a weight: one addmm_)."""
        lr, momentum, weight_decay = self.learning_rate, self.momentum, self.weight_decay
        if momentum == 0:
            accumulate(param, 1 - lr * weight_decay, -lr)  # (1 - lr wd) W - lr G
            return
        buffer = self.buffers.get(param)
        if buffer is None:  # the first step: the buffer is the gradient itself
            buffer = self.buffers[param] = torch.zeros_like(param)
            accumulate(buffer, 0.0, 1.0)
        else:
            accumulate(buffer, momentum, 1.0)
        if weight_decay:
            buffer.add_(param, alpha=weight_decay)
        param.add_(buffer, alpha=-lr)

    def _update(self, linear: nn.Linear, grad_output: torch.Tensor, layer_input: torch.Tensor) -> None:
        self._sgd(linear.weight, lambda target, beta, alpha: target.addmm_(
            grad_output.t(), layer_input, beta=beta, alpha=alpha))
        grad_bias = grad_output.sum(0)
        self._sgd(linear.bias, lambda target, beta, alpha: target.mul_(beta).add_(grad_bias, alpha=alpha))

    @torch.no_grad()
    def step(self, X_batch: torch.Tensor, y_batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One SGD step on the batch; (its mean loss, its number of correct predictions).
        A non-finite loss leaves the parameters as they were."""
        inputs, hidden, masks = [], [], []  # what the backward pass needs, per layer
        activation = X_batch
        for linear, p in self.layers[:-1]:
            inputs.append(activation)
            h = torch.addmm(linear.bias, activation, linear.weight.t()).clamp_(min=0)
            mask = None
            if p > 0:  # nn.Dropout's own draw: bernoulli(1 - p) / (1 - p); p = 0 draws nothing
                mask = torch.empty_like(h).bernoulli_(1 - p).div_(1 - p)
            hidden.append(h)
            masks.append(mask)
            activation = h if mask is None else h * mask
        output = self.layers[-1][0]
        inputs.append(activation)
        logits = torch.addmm(output.bias, activation, output.weight.t())
        loss = F.cross_entropy(logits, y_batch)
        correct = (logits.argmax(dim=1) == y_batch).sum()
        if not math.isfinite(loss.item()):
            return loss, correct

        # d(mean cross-entropy)/d logits = (softmax - onehot) / batch size
        grad = torch.softmax(logits, dim=1)
        grad[torch.arange(len(y_batch), device=grad.device), y_batch] -= 1
        grad.div_(len(y_batch))
        for k in reversed(range(len(self.layers))):
            linear = self.layers[k][0]
            grad_input = grad @ linear.weight if k > 0 else None  # with the weights before their update
            self._update(linear, grad, inputs[k])
            if k > 0:  # back through the dropout, then the ReLU of the layer below
                if masks[k - 1] is not None:
                    grad_input.mul_(masks[k - 1])
                grad = grad_input.mul_(hidden[k - 1] > 0)
        return loss, correct

    def train_epoch(self, generator: torch.Generator) -> EpochStats:
        """One pass of mini-batch SGD in the order drawn from ``generator`` (as reference.train_epoch)."""
        X, y = self.X, self.y
        loss_sum, correct = 0.0, 0
        for i, idx in enumerate(batch_indices(X.shape[0], self.batch_size, generator, X.device)):
            X_batch = torch.index_select(X, 0, idx, out=self.batch[:len(idx)])
            loss, n_correct = self.step(X_batch, y.index_select(0, idx))
            loss = loss.item()
            if not math.isfinite(loss):
                return EpochStats(math.nan, math.nan, i + 1)
            loss_sum += loss * len(idx)
            correct += int(n_correct)
        return EpochStats(loss_sum / X.shape[0], correct / X.shape[0], None)
