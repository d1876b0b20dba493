"""The course's starter code for Questions 1 and 2, the way the course writes it.

The project's yardstick, run by nothing in the workflow: the tests check that
``homework1.q1`` follows its Question 1 sequence (the same accuracies, the
weights to rounding), and the benchmark times its loops against the project's.

Question 1: the models' ``train_epoch`` loops over the examples in Python,
``predict`` scores a whole split at once, and the main loop re-orders the
(already shuffled) training arrays with a fresh permutation every epoch.
Question 2: a Dataset + DataLoader epoch, one ``loss.item()`` per batch.
"""

from __future__ import annotations

import time

import numpy as np

from homework1.core.seeding import seed_everything


class LinearModel:
    def __init__(self, n_classes, n_features):
        self.W = np.zeros((n_classes, n_features))

    def train_epoch(self, X, y, **kwargs):
        for x_i, y_i in zip(X, y):
            self.update_weight(x_i, y_i, **kwargs)

    def predict(self, X):
        return np.dot(self.W, X.T).argmax(axis=0)

    def evaluate(self, X, y):
        return (self.predict(X) == y).mean()


class Perceptron(LinearModel):
    def update_weight(self, x_i, y_i, **kwargs):
        y_hat = np.argmax(self.W.dot(x_i))
        if y_hat != y_i:
            self.W[y_i, :] += x_i
            self.W[y_hat, :] -= x_i


class LogisticRegression(LinearModel):
    def train_epoch(self, X, y, **kwargs):
        losses = [self.update_weight(x_i, y_i, **kwargs) for x_i, y_i in zip(X, y)]
        return np.mean(losses)

    def update_weight(self, x_i, y_i, learning_rate, l2_penalty, l1_penalty):
        scores = self.W.dot(x_i)
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        one_hot = np.zeros(self.W.shape[0])
        one_hot[y_i] = 1
        self.W = (1 - learning_rate * l2_penalty) * self.W - np.outer(probabilities - one_hot, x_i) * learning_rate
        if l1_penalty:  # the report's 1.2d, which the course leaves to words: a soft threshold
            self.W = np.sign(self.W) * np.maximum(np.abs(self.W) - learning_rate * l1_penalty, 0.0)
        return -np.log(probabilities[y_i])


class MLP:
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

    def train_epoch(self, X, y, learning_rate):
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


# The models the course's Question 1 has, by the name the workflow's config gives them.
Q1_MODELS = {"perceptron": Perceptron, "logreg": LogisticRegression, "mlp": MLP}


def q1_main_loop(model_name: str, splits: dict, *, epochs: int, seed: int, compound_shuffles: bool = True,
                 **hparams):
    """The course's main loop for Question 1: (the trained model, one row per epoch with
    train_acc, val_acc, train_loss (None for the perceptron) and the epoch's seconds).

    ``compound_shuffles=False`` permutes the original order each epoch instead of the
    already shuffled one: not what the course does (the tests use it to show that the
    difference shows).
    """
    seed_everything(seed)
    (X, y), (X_val, y_val) = splits["train"], splits["val"]
    original_X, original_y = X, y
    n_classes = np.unique(y).size
    if model_name not in Q1_MODELS:
        raise ValueError(f"the course has no Question 1 model {model_name!r}; it has {', '.join(Q1_MODELS)}")
    sizes = {"hidden_size": hparams.pop("hidden_size")} if "hidden_size" in hparams else {}
    model = Q1_MODELS[model_name](n_classes, X.shape[1], **sizes)
    history = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = np.random.permutation(X.shape[0])
        X, y = (X[order], y[order]) if compound_shuffles else (original_X[order], original_y[order])
        with np.errstate(divide="ignore"):  # the course's loss is log(0) where a softmax underflows
            loss = model.train_epoch(X, y, **hparams)
        history.append({"train_acc": model.evaluate(X, y), "val_acc": model.evaluate(X_val, y_val),
                        "train_loss": loss, "seconds": time.perf_counter() - start})
    return model, history


def q2_epoch(model, optimizer, loader, X_val, y_val, device):
    """The course's Question 2 epoch: DataLoader batches moved to the device, one .item() per
    batch, then the validation loss and accuracy. (mean train loss, val loss, val acc)."""
    import torch
    import torch.nn.functional as F

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
