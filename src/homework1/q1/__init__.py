"""Question 1: perceptron, logistic regression and a one-hidden-layer MLP in plain numpy.

- ``models``: the readable reference, the models as a student writes them
  (hand-written gradients, per-example SGD);
- ``kernels``: the same epochs compiled with numba, the fast path;
- ``train``: the course's starter-code sequence of epochs, with either.

Example::

    from homework1 import q1
    from homework1.data import load_splits
    splits = load_splits("data.npz", add_bias=q1.uses_bias("logreg"))
    result = q1.train("logreg", splits, seed=42, implementation="fast", epochs=100,
                      learning_rate=0.001, l2_penalty=0.01, l1_penalty=0.0)
"""

from homework1.q1.models import MLP, MODELS, LogisticRegression, Perceptron, build_model, uses_bias
from homework1.q1.train import TRAINING_STEPS, fit, train, weights_are_finite

__all__ = ["MLP", "MODELS", "LogisticRegression", "Perceptron", "TRAINING_STEPS", "build_model", "fit", "train",
           "uses_bias", "weights_are_finite"]
