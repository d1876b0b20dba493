"""Question 1: perceptron, logistic regression and a one-hidden-layer MLP in plain numpy.

- ``models``: one module per model, the readable reference as a student writes it
  (hand-written gradients, per-example SGD), each with its spec;
- ``kernels``: the same epochs compiled with numba, the fast path;
- ``train``: the course's starter-code sequence of epochs, with either.

The model modules are not imported here: a job loads the one it trains
(``homework1.plan.specs.load_model``), so that editing one model reruns its runs only.

Example::

    from homework1 import q1
    from homework1.core.data import load_splits
    splits = load_splits("data.npz", add_bias=q1.uses_bias("logreg"))
    result = q1.train("logreg", splits, seed=42, implementation="fast", epochs=100,
                      learning_rate=0.001, l2_penalty=0.01, l1_penalty=0.0)
"""

from homework1.q1.train import (IMPLEMENTATION_STEPS, build_model, fit, train, training_step_for, uses_bias,
                                weights_are_finite)

__all__ = ["IMPLEMENTATION_STEPS", "build_model", "fit", "train", "training_step_for", "uses_bias",
           "weights_are_finite"]
