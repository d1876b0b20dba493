"""Question 1: perceptron, logistic regression and a one-hidden-layer MLP in plain numpy.

``models`` holds one module per model (the readable reference, each with its spec), ``kernels``
the same epochs compiled with numba (the fast path), ``train`` the course's sequence of epochs.
The model modules are not imported here: a job loads the one it trains
(``homework1.plan.specs.load_model``), so that editing one model reruns its runs only.
"""

from homework1.q1.train import (IMPLEMENTATION_STEPS, build_model, fit, train, training_step_for, uses_bias,
                                weights_are_finite)

__all__ = ["IMPLEMENTATION_STEPS", "build_model", "fit", "train", "training_step_for", "uses_bias",
           "weights_are_finite"]
