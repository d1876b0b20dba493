"""Question 3 by optimisation, in torch: how well gradient-based fits reach a given c as the
number of units shrinks, and gradient descent on the network against the closed-form optimum."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch

from homework1.q3 import feature_dim
from homework1.q3.theory import c_theta, cross_pairs, feature_dim_inverse, rank_lower_bound, split_c, theta_from_c_eigen


@contextmanager
def single_thread():
    """Run torch on one thread, then restore: these tensors are tiny, and extra
    threads only add synchronisation (tens of times slower on a busy machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def c_theta_torch(W: torch.Tensor, b: torch.Tensor, v: torch.Tensor, v0: torch.Tensor) -> torch.Tensor:
    d, e = cross_pairs(W.shape[1])
    A = torch.cat([(b - b * b)[:, None], W * (1 - 2 * b)[:, None], -W * W, -2 * W[:, d] * W[:, e]], dim=1)
    return A.T @ v + v0 * torch.eye(A.shape[1], dtype=A.dtype)[0]


def _torch_theta(K: int, D: int, generator: torch.Generator, scale: float) -> list[torch.Tensor]:
    """W ~ N(0, scale^2 / D), b ~ N(0, scale^2), v ~ N(0, scale^2 / K), v0 = 0; leaves needing grad."""
    def draw(*shape, std):
        return (std * torch.randn(*shape, dtype=torch.float64, generator=generator)).requires_grad_()
    return [draw(K, D, std=scale / np.sqrt(D)), draw(K, std=scale), draw(K, std=scale / np.sqrt(K)),
            torch.zeros((), dtype=torch.float64, requires_grad=True)]


def fit_theta_to_c(c: np.ndarray, K: int, n_starts: int, seed: int, tolerance: float,
                   max_iter: int = 300) -> dict:
    """min over Theta of ||c_theta - c|| with K units: L-BFGS from several random starts.

    Stops at the first start that gets below tolerance (the answer to "is c
    reachable with K units" is then known). Returns the best error and all starts' errors.
    """
    target = torch.as_tensor(np.asarray(c, dtype=np.float64))
    D = feature_dim_inverse(target.numel())
    generator = torch.Generator().manual_seed(seed)
    errors = []
    with single_thread():
        for _ in range(n_starts):
            params = _torch_theta(K, D, generator, scale=1.0)
            opt = torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, history_size=50, tolerance_grad=1e-14,
                                    tolerance_change=1e-20, line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                loss = ((c_theta_torch(*params) - target) ** 2).sum()
                loss.backward()
                return loss

            opt.step(closure)
            with torch.no_grad():
                errors.append(float((c_theta_torch(*params) - target).norm()))
            if errors[-1] < tolerance:
                break
    return {"best_error": min(errors), "errors": errors}


def k_sweep(D: int, units: list[int], n_targets: int, n_starts: int, tolerance: float,
            seed: int, max_iter: int = 300) -> pd.DataFrame:
    """Best reachable ||c_theta - c|| with K units, for random targets c ~ N(0, I).

    One row per (K, target): the optimiser's best error, the rank lower bound and,
    for K >= D, the error of the explicit eigen construction (NaN below D).
    """
    rng = np.random.default_rng(seed)
    targets = rng.normal(size=(n_targets, feature_dim(D)))
    rows = []
    for K in units:
        for t, c in enumerate(targets):
            fit = fit_theta_to_c(c, K, n_starts, seed + 1000 * K + t, tolerance, max_iter)
            construction = (np.linalg.norm(c_theta(**theta_from_c_eigen(c, K)) - c) if K >= D else np.nan)
            rows.append({"K": K, "target": t, "best_error": fit["best_error"], "starts_run": len(fit["errors"]),
                         "lower_bound": rank_lower_bound(c, K), "construction_error": float(construction),
                         "min_abs_eigenvalue": float(np.abs(np.linalg.eigvalsh(split_c(c)[2])).min()),
                         "D": D, "dim_phi": feature_dim(D)})
    return pd.DataFrame(rows)


def summarise_k_sweep(sweep: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """One row per K: best_error is the worst target's best error, so K reaches every target iff it is < tolerance."""
    grouped = sweep.groupby("K")
    return pd.DataFrame({
        "best_error": grouped["best_error"].max(),
        "median_error": grouped["best_error"].median(),
        "lower_bound": grouped["lower_bound"].max(),
        "construction_error": grouped["construction_error"].max(),
        "targets_reached": grouped["best_error"].apply(lambda e: int((e < tolerance).sum())),
        "n_targets": grouped.size(),
        "D": grouped["D"].first(),
        "dim_phi": grouped["dim_phi"].first(),
    }).reset_index()


def train_network(X: np.ndarray, y: np.ndarray, K: int, steps: int, lr: float, seed: int,
                  init_scale: float = 0.5) -> dict:
    """Full-batch gradient descent on Theta for the loss (1/2N) sum (y_hat - y)^2, with backtracking.

    The loss is a degree-6 polynomial in Theta, so a fixed step overshoots from some starts: a step
    that would raise the loss (or make it non-finite) is undone and the step size halved for the
    rest of the run. Returns the loss before every step, the final Theta (numpy), the final step
    size, and status "ok" or "diverged" (the step size underflowed).
    """
    generator = torch.Generator().manual_seed(seed)
    W, b, v, v0 = params = _torch_theta(K, X.shape[1], generator, init_scale)
    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)

    def loss_of() -> torch.Tensor:
        z = Xt @ W.T + b
        return 0.5 * ((z * (1 - z)) @ v + v0 - yt).pow(2).mean()

    losses, status = [], "ok"
    with single_thread():
        loss = loss_of()
        while len(losses) < steps:
            if not torch.isfinite(loss) or lr < 1e-30:
                status = "diverged"
                break
            losses.append(loss.item())
            gradients = torch.autograd.grad(loss, params)
            before = [p.detach().clone() for p in params]
            while True:
                with torch.no_grad():
                    for p, g in zip(params, gradients):
                        p -= lr * g
                loss = loss_of()  # with its graph: the next step's gradient comes from it
                if torch.isfinite(loss) and loss.item() <= losses[-1] or lr < 1e-30:
                    break
                with torch.no_grad():
                    for p, old in zip(params, before):
                        p.copy_(old)
                lr /= 2
    theta = {"W": W.detach().numpy().copy(), "b": b.detach().numpy().copy(),
             "v": v.detach().numpy().copy(), "v0": float(v0.detach())}
    return {"losses": np.array(losses), "theta": theta, "status": status, "final_lr": lr}
