"""Question 3's algebra: a one-hidden-layer net with g(z) = z(1 - z) is linear in fixed features.

The network is h = g(Wx + b), y = v^T h + v0 with W (K, D), b (K,), v (K,) and a
scalar v0. Because g is quadratic, every hidden unit is a quadratic polynomial
of x, so h = A_theta phi(x) and y = c_theta^T phi(x) with the fixed features

    phi(x) = (1, x_1..x_D, x_1^2..x_D^2, x_d x_e for d < e in lexicographic order)

of dimension (D+1)(D+2)/2. This module computes phi, A_theta and c_theta exactly
as the report writes them, builds parameters that realise a given c (the
report's construction with K >= dim phi, and an explicit one with only K = D
units), and gives the closed-form least-squares optimum. Everything is float64
numpy; the gradient-based fits are in ``optimise``.
"""

from __future__ import annotations

import numpy as np

from homework1.q3 import feature_dim

# ----------------------------------------------------------------------------
# features, A_theta, c_theta, forward pass


def feature_dim_inverse(dim_phi: int) -> int:
    """D such that (D+1)(D+2)/2 == dim_phi."""
    D = int(round((np.sqrt(8 * dim_phi + 1) - 3) / 2))
    if D < 1 or feature_dim(D) != dim_phi:
        raise ValueError(f"{dim_phi} is not (D+1)(D+2)/2 for any D >= 1")
    return D


def cross_pairs(D: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (d, e), d < e, in lexicographic order: (0,1), (0,2), ..., (D-2,D-1)."""
    return np.triu_indices(D, k=1)


def phi(X: np.ndarray) -> np.ndarray:
    """Features of each row of X (N, D) -> (N, (D+1)(D+2)/2) in the report's order."""
    X = np.asarray(X, dtype=np.float64)
    d, e = cross_pairs(X.shape[1])
    return np.hstack([np.ones((X.shape[0], 1)), X, X**2, X[:, d] * X[:, e]])


def A_theta(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(K, dim phi) matrix with rows [b_j - b_j^2, w_jd (1 - 2 b_j), -w_jd^2, -2 w_jd w_je]."""
    W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
    d, e = cross_pairs(W.shape[1])
    return np.hstack([(b - b**2)[:, None], W * (1 - 2 * b)[:, None], -W**2, -2 * W[:, d] * W[:, e]])


def c_theta(W: np.ndarray, b: np.ndarray, v: np.ndarray, v0: float) -> np.ndarray:
    """c_theta = A_theta^T v + v0 e_1, so that y = c_theta^T phi(x)."""
    c = A_theta(W, b).T @ np.asarray(v, dtype=np.float64)
    c[0] += v0
    return c


def forward(X: np.ndarray, W: np.ndarray, b: np.ndarray, v: np.ndarray, v0: float) -> tuple[np.ndarray, np.ndarray]:
    """The network itself: (h (N, K), y (N,))."""
    z = np.asarray(X, dtype=np.float64) @ W.T + b
    h = z * (1 - z)
    return h, h @ v + v0


def random_theta(K: int, D: int, rng: np.random.Generator, scale: float = 1.0) -> dict:
    """Theta with every entry ~ N(0, scale^2)."""
    return {"W": scale * rng.normal(size=(K, D)), "b": scale * rng.normal(size=K),
            "v": scale * rng.normal(size=K), "v0": float(scale * rng.normal())}


def identity_errors(D: int, K: int, n_samples: int, rng: np.random.Generator) -> dict:
    """Forward pass vs h = A_theta phi(x) and y = c_theta^T phi(x) for random Theta and x."""
    theta = random_theta(K, D, rng)
    X = rng.normal(size=(n_samples, D))
    h, y = forward(X, **theta)
    features = phi(X)
    h_err = np.abs(features @ A_theta(theta["W"], theta["b"]).T - h).max()
    y_err = np.abs(features @ c_theta(**theta) - y).max()
    return {"D": D, "K": K, "dim_phi": feature_dim(D),
            "h_max_abs_error": float(h_err), "h_relative_error": float(h_err / np.abs(h).max()),
            "y_max_abs_error": float(y_err), "y_relative_error": float(y_err / np.abs(y).max())}


# ----------------------------------------------------------------------------
# realising a given c


def theta_from_c(c: np.ndarray, K: int, rng: np.random.Generator) -> tuple[dict, dict]:
    """The report's construction for K >= dim phi: random (W, b), v0 = c_1, solve A^T v = c - c_1 e_1.

    The first equation of that system, sum_j v_j (b_j - b_j^2) = 0, is kept: the
    units' constants would otherwise add to v0. A random A_theta has full column
    rank, so the under-determined system is solved exactly; lstsq returns its
    minimum-norm solution, which is the report's v = Q (R^T)^-1 c~ for A = QR.
    Returns Theta and {condition number of A, ||c_theta - c||}.
    """
    c = np.asarray(c, dtype=np.float64)
    D = feature_dim_inverse(c.size)
    if K < c.size:
        raise ValueError(f"this construction needs K >= dim phi = {c.size}, got K = {K}")
    W, b = rng.normal(size=(K, D)), rng.normal(size=K)
    A = A_theta(W, b)
    rhs = c.copy()
    rhs[0] = 0.0  # c - v0 e_1 with v0 = c_1
    v = np.linalg.lstsq(A.T, rhs, rcond=None)[0]
    theta = {"W": W, "b": b, "v": v, "v0": float(c[0])}
    return theta, {"condition": float(np.linalg.cond(A)),
                   "error": float(np.linalg.norm(c_theta(**theta) - c))}


def split_c(c: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """c -> (constant, linear part (D,), symmetric Q (D, D)) with c^T phi(x) = const + l.x + x^T Q x.

    phi has one x_d x_e column per pair while x^T Q x counts it twice, so Q_de = c_de / 2.
    """
    c = np.asarray(c, dtype=np.float64)
    D = feature_dim_inverse(c.size)
    Q = np.diag(c[D + 1:2 * D + 1])
    d, e = cross_pairs(D)
    Q[d, e] = Q[e, d] = c[2 * D + 1:] / 2
    return float(c[0]), c[1:D + 1].copy(), Q


def theta_from_c_eigen(c: np.ndarray, K: int, epsilon: float = 1e-6) -> dict:
    """Explicit Theta with only K >= D units: one unit per eigenvector of Q.

    The quadratic part of c_theta is -sum_j v_j w_j w_j^T. With Q = sum_k lam_k u_k u_k^T,
    unit k takes w_k = sqrt|lam_k| u_k and v_k = -sign(lam_k), so it contributes
    lam_k u_k u_k^T. Its linear part v_k (1 - 2 b_k) w_k points along u_k, and b_k
    sets its size to alpha_k = u_k . l; v0 absorbs all the constants. An eigenvalue
    of size below delta = epsilon / (2 sqrt(D)) is moved to +-delta (a unit with no
    curvature carries no linear term), which keeps ||c_theta - c|| < epsilon: exact
    when every |lam_k| >= delta, within epsilon otherwise. Units beyond D are switched off.
    """
    const, linear, Q = split_c(c)
    D = linear.size
    if K < D:
        raise ValueError(f"this construction needs K >= D = {D}, got K = {K}")
    lam, U = np.linalg.eigh(Q)
    delta = epsilon / (2 * np.sqrt(D))
    sign = np.where(lam < 0, -1.0, 1.0)
    lam = np.where(np.abs(lam) < delta, sign * delta, lam)
    alpha = U.T @ linear
    W, b, v = np.zeros((K, D)), np.zeros(K), np.zeros(K)
    W[:D] = np.sqrt(np.abs(lam))[:, None] * U.T
    v[:D] = -sign
    b[:D] = (1 + sign * alpha / np.sqrt(np.abs(lam))) / 2
    v0 = const - float(v @ (b - b**2))
    return {"W": W, "b": b, "v": v, "v0": v0}


def rank_lower_bound(c: np.ndarray, K: int) -> float:
    """A lower bound on min_theta ||c_theta - c|| with K units.

    -sum_j v_j w_j w_j^T has rank <= K; the c-norm of a quadratic part is at least
    its Frobenius norm (off-diagonals count 4x in c, 2x in Frobenius), and by
    Eckart-Young the nearest rank-K matrix to Q is at Frobenius distance
    sqrt(sum of the D - K smallest lam^2). Zero once K >= D.
    """
    lam = np.linalg.eigvalsh(split_c(c)[2])
    smallest = np.sort(np.abs(lam))[: max(lam.size - K, 0)]
    return float(np.sqrt(np.sum(smallest**2)))


# ----------------------------------------------------------------------------
# the squared loss: closed form vs gradient descent on Theta


def squared_loss(Phi: np.ndarray, c: np.ndarray, y: np.ndarray) -> float:
    """(1 / 2N) ||Phi c - y||^2: the report's loss divided by N (same minimiser), the scale GD uses."""
    r = Phi @ c - y
    return float(0.5 * np.mean(r**2))


def least_squares(Phi: np.ndarray, y: np.ndarray) -> dict:
    """Closed-form minimiser by np.linalg.lstsq (SVD): minimum-norm when Phi is rank-deficient."""
    c, _, rank, singular_values = np.linalg.lstsq(Phi, y, rcond=None)
    return {"c": c, "loss": squared_loss(Phi, c, y), "rank": int(rank), "singular_values": singular_values}


def normal_equations(Phi: np.ndarray, y: np.ndarray) -> dict:
    """The report's c = (Phi^T Phi)^-1 Phi^T y, solved directly; c is None when numpy finds it singular."""
    gram = Phi.T @ Phi
    out = {"condition": float(np.linalg.cond(gram)), "c": None, "error": ""}
    try:
        out["c"] = np.linalg.solve(gram, Phi.T @ y)
    except np.linalg.LinAlgError as exc:
        out["error"] = str(exc)
    return out


def regression_task(feature_names: list[str], n_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A real regression problem with no download: scikit-learn's diabetes data,
    the named input features and the target, all standardised."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    names = list(data.feature_names)
    unknown = [n for n in feature_names if n not in names]
    if unknown:
        raise ValueError(f"unknown diabetes feature(s) {unknown}; available: {names}")
    X = data.data[:, [names.index(n) for n in feature_names]]
    y = data.target.astype(np.float64)
    X, y = X[:n_samples], y[:n_samples]
    return (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()


def rank_deficiency(X: np.ndarray, y: np.ndarray) -> dict:
    """What happens to the closed form when Phi loses full column rank.

    Normal equations: the Gram matrix is (numerically) singular, so the report's
    inverse either fails or returns an unreliable c. lstsq still returns the
    minimum-norm minimiser; adding any null-space direction of Phi changes c but
    not the loss, so the minimiser is not unique.
    """
    Phi = phi(X)
    ls = least_squares(Phi, y)
    ne = normal_equations(Phi, y)
    null_direction = np.linalg.svd(Phi)[2][-1]  # right singular vector of the smallest singular value
    shifted = ls["c"] + max(np.linalg.norm(ls["c"]), 1.0) * null_direction
    out = {"N": Phi.shape[0], "dim_phi": Phi.shape[1], "rank": ls["rank"], "nullity": Phi.shape[1] - ls["rank"],
           "gram_condition": ne["condition"], "normal_equations_error": ne["error"],
           "lstsq_loss": ls["loss"], "lstsq_norm": float(np.linalg.norm(ls["c"])),
           "shifted_loss": squared_loss(Phi, shifted, y), "shifted_norm": float(np.linalg.norm(shifted)),
           "shift_distance": float(np.linalg.norm(shifted - ls["c"]))}
    if ne["c"] is not None:
        out["normal_equations_loss"] = squared_loss(Phi, ne["c"], y)
        out["normal_equations_norm"] = float(np.linalg.norm(ne["c"]))
    return out
