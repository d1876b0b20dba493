"""Question 3: features, A_theta, c_theta, constructions of Theta, closed form vs gradient descent."""

import numpy as np
import pytest

from homework1.q3 import optimise, theory


# ---------------------------------------------------------------- features and A_theta by hand

def test_phi_d1_by_hand():
    np.testing.assert_array_equal(theory.phi(np.array([[3.0], [-2.0]])), [[1, 3, 9], [1, -2, 4]])


def test_phi_d2_and_d3_by_hand():
    np.testing.assert_array_equal(theory.phi(np.array([[2.0, 3.0]])), [[1, 2, 3, 4, 9, 6]])
    # cross terms in lexicographic order: x1x2, x1x3, x2x3
    np.testing.assert_array_equal(theory.phi(np.array([[2.0, 3.0, 5.0]])),
                                  [[1, 2, 3, 5, 4, 9, 25, 6, 10, 15]])


def test_A_theta_d1_by_hand():
    # w = 2, b = 0.5: [b - b^2, w (1 - 2b), -w^2] = [0.25, 0, -4]
    np.testing.assert_allclose(theory.A_theta(np.array([[2.0]]), np.array([0.5])), [[0.25, 0.0, -4.0]])


def test_A_theta_d2_by_hand_matches_unit_output():
    W, b, x = np.array([[1.0, 2.0]]), np.array([1.0]), np.array([[2.0, 3.0]])
    # [b - b^2, w1 (1-2b), w2 (1-2b), -w1^2, -w2^2, -2 w1 w2]
    A = theory.A_theta(W, b)
    np.testing.assert_allclose(A, [[0, -1, -2, -1, -4, -4]])
    # z = 1*2 + 2*3 + 1 = 9, g(9) = 9 * (1 - 9) = -72
    h, _ = theory.forward(x, W, b, np.ones(1), 0.0)
    assert h[0, 0] == -72
    np.testing.assert_allclose(theory.phi(x) @ A.T, [[-72.0]])


@pytest.mark.parametrize("D", [1, 2, 3, 7, 10])
def test_dimension_formula(D):
    assert theory.feature_dim(D) == 1 + 2 * D + D * (D - 1) // 2 == (D + 1) * (D + 2) // 2
    assert theory.phi(np.zeros((1, D))).shape == (1, theory.feature_dim(D))
    assert theory.feature_dim_inverse(theory.feature_dim(D)) == D


def test_feature_dim_inverse_rejects_non_triangular_sizes():
    with pytest.raises(ValueError):
        theory.feature_dim_inverse(7)


# ---------------------------------------------------------------- identities

@pytest.mark.parametrize("D,K", [(1, 1), (2, 3), (5, 20), (10, 100)])
def test_identities_to_machine_precision(D, K):
    r = theory.identity_errors(D, K, 50, np.random.default_rng(D * 100 + K))
    assert r["h_relative_error"] < 1e-12
    assert r["y_relative_error"] < 1e-12


def test_c_theta_is_A_transpose_v_plus_v0_e1_and_gives_the_output():
    rng = np.random.default_rng(0)
    theta = theory.random_theta(6, 3, rng)
    c = theory.c_theta(**theta)
    expected = theory.A_theta(theta["W"], theta["b"]).T @ theta["v"]
    expected[0] += theta["v0"]
    np.testing.assert_allclose(c, expected, rtol=0, atol=1e-14)
    X = rng.normal(size=(30, 3))
    np.testing.assert_allclose(theory.phi(X) @ c, theory.forward(X, **theta)[1], rtol=1e-12)


def test_torch_c_theta_matches_numpy():
    import torch

    theta = theory.random_theta(5, 4, np.random.default_rng(1))
    c_torch = optimise.c_theta_torch(*(torch.as_tensor(np.asarray(theta[k])) for k in ("W", "b", "v", "v0")))
    np.testing.assert_allclose(c_torch.numpy(), theory.c_theta(**theta), rtol=1e-13)


# ---------------------------------------------------------------- reaching a given c

@pytest.mark.parametrize("D,multiple", [(1, 1), (2, 1), (4, 2), (6, 1)])
def test_report_construction_reaches_c(D, multiple):
    rng = np.random.default_rng(D)
    c = rng.normal(size=theory.feature_dim(D))
    theta, info = theory.theta_from_c(c, multiple * c.size, rng)
    assert theta["v0"] == c[0]
    assert info["error"] < 1e-8
    assert np.linalg.norm(theory.c_theta(**theta) - c) == pytest.approx(info["error"])
    assert np.isfinite(info["condition"])


def test_report_construction_needs_enough_units():
    with pytest.raises(ValueError):
        theory.theta_from_c(np.ones(6), 5, np.random.default_rng(0))


def test_split_c_rebuilds_the_polynomial():
    rng = np.random.default_rng(2)
    c, x = rng.normal(size=theory.feature_dim(3)), rng.normal(size=3)
    const, linear, Q = theory.split_c(c)
    np.testing.assert_allclose(Q, Q.T)
    assert const + linear @ x + x @ Q @ x == pytest.approx(theory.phi(x[None])[0] @ c)


@pytest.mark.parametrize("D", [1, 3, 6])
def test_eigen_construction_with_D_units_reaches_c(D):
    c = np.random.default_rng(10 + D).normal(size=theory.feature_dim(D))
    theta = theory.theta_from_c_eigen(c, D)
    assert theta["W"].shape == (D, D)
    assert np.linalg.norm(theory.c_theta(**theta) - c) < 1e-10
    padded = theory.theta_from_c_eigen(c, D + 3)  # extra units switched off
    assert padded["W"].shape == (D + 3, D)
    assert np.linalg.norm(theory.c_theta(**padded) - c) < 1e-10


def test_eigen_construction_reaches_singular_Q_only_within_epsilon():
    c = np.array([1.0, 2.0, 0.0])  # D = 1: y = 1 + 2x, no curvature
    theta = theory.theta_from_c_eigen(c, 1, epsilon=1e-6)
    error = np.linalg.norm(theory.c_theta(**theta) - c)
    assert 0 < error < 1e-6


def test_eigen_construction_needs_D_units():
    with pytest.raises(ValueError):
        theory.theta_from_c_eigen(np.ones(theory.feature_dim(3)), 2)


def test_rank_lower_bound_is_the_smallest_eigenvalues():
    # Q = diag(3, -1): x1^2 coefficient 3, x2^2 coefficient -1, no cross term
    c = np.array([0.0, 0.0, 0.0, 3.0, -1.0, 0.0])
    assert theory.rank_lower_bound(c, 0) == pytest.approx(np.sqrt(10))
    assert theory.rank_lower_bound(c, 1) == pytest.approx(1.0)
    assert theory.rank_lower_bound(c, 2) == 0.0


def test_optimisation_below_D_respects_bound_and_above_D_reaches_c():
    c = np.random.default_rng(3).normal(size=theory.feature_dim(2))
    one_unit = optimise.fit_theta_to_c(c, 1, n_starts=2, seed=0, tolerance=1e-6, max_iter=200)
    assert one_unit["best_error"] >= theory.rank_lower_bound(c, 1) - 1e-12
    assert one_unit["best_error"] > 1e-6
    three_units = optimise.fit_theta_to_c(c, 3, n_starts=3, seed=0, tolerance=1e-6, max_iter=300)
    assert three_units["best_error"] < 1e-6


def test_k_sweep_tables():
    sweep = optimise.k_sweep(2, [1, 3], n_targets=2, n_starts=2, tolerance=1e-6, seed=0, max_iter=200)
    assert len(sweep) == 4
    assert sweep.loc[sweep["K"] == 1, "construction_error"].isna().all()
    assert (sweep.loc[sweep["K"] == 3, "construction_error"] < 1e-10).all()
    summary = optimise.summarise_k_sweep(sweep, 1e-6)
    assert list(summary["K"]) == [1, 3]
    assert list(summary["targets_reached"]) == [0, 2]
    assert (summary["dim_phi"] == 6).all()


# ---------------------------------------------------------------- closed form vs gradient descent

def tiny_task(n=40, D=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D))
    y = theory.phi(X) @ rng.normal(size=theory.feature_dim(D)) + 0.3 * rng.normal(size=n)
    return X, y


def test_least_squares_equals_numpy_lstsq_and_normal_equations():
    X, y = tiny_task()
    Phi = theory.phi(X)
    ls = theory.least_squares(Phi, y)
    np.testing.assert_allclose(ls["c"], np.linalg.lstsq(Phi, y, rcond=None)[0], rtol=1e-12)
    np.testing.assert_allclose(theory.normal_equations(Phi, y)["c"], ls["c"], rtol=1e-8)
    assert ls["rank"] == Phi.shape[1]
    assert ls["loss"] == pytest.approx(0.5 * np.mean((Phi @ ls["c"] - y) ** 2))


def test_gradient_descent_reaches_the_closed_form_floor_but_not_below():
    X, y = tiny_task()
    floor = theory.least_squares(theory.phi(X), y)["loss"]
    run = optimise.train_network(X, y, K=8, steps=1500, lr=0.05, seed=0)
    assert run["status"] == "ok"
    assert len(run["losses"]) == 1500
    assert run["losses"].min() >= floor * (1 - 1e-12)
    assert (run["losses"][-1] - floor) / floor < 1e-4
    # the trained network's c_theta gives the same loss as the closed form
    c = theory.c_theta(**run["theta"])
    assert theory.squared_loss(theory.phi(X), c, y) == pytest.approx(run["losses"][-1], rel=1e-3)


def test_gradient_descent_backtracks_instead_of_diverging():
    X, y = tiny_task()
    run = optimise.train_network(X, y, K=8, steps=200, lr=50.0, seed=0)
    assert run["status"] == "ok" and len(run["losses"]) == 200
    assert np.all(np.diff(run["losses"]) <= 0)  # a step that raises the loss is never taken
    assert run["final_lr"] < 50.0
    floor = theory.least_squares(theory.phi(X), y)["loss"]
    assert run["losses"][-1] >= floor - 1e-12


def test_rank_deficient_duplicated_feature():
    X, y = tiny_task(n=60)
    r = theory.rank_deficiency(np.hstack([X, X[:, :1]]), y)
    assert r["dim_phi"] == 10 and r["rank"] == 6 and r["nullity"] == 4  # 6 distinct monomials of x1, x2
    assert r["normal_equations_error"] or r["gram_condition"] > 1e12
    full_loss = theory.least_squares(theory.phi(X), y)["loss"]
    assert r["lstsq_loss"] == pytest.approx(full_loss, rel=1e-10)
    assert r["shifted_loss"] == pytest.approx(r["lstsq_loss"], rel=1e-10)  # another minimiser
    assert r["shift_distance"] > 0.5
    assert r["shifted_norm"] > r["lstsq_norm"]  # lstsq gives the minimum-norm one


def test_rank_deficient_too_few_samples():
    X, y = tiny_task(n=4, D=3)  # dim phi = 10 > N
    r = theory.rank_deficiency(X, y)
    assert r["rank"] == 4
    assert r["lstsq_loss"] < 1e-25  # interpolation
    assert r["shifted_loss"] < 1e-25


def test_regression_task_is_standardised_diabetes():
    X, y = theory.regression_task(["bmi", "bp"])
    assert X.shape == (442, 2) and y.shape == (442,)
    np.testing.assert_allclose(X.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(0), 1)
    assert y.std() == pytest.approx(1)
    with pytest.raises(ValueError, match="unknown"):
        theory.regression_task(["bmi", "height"])


# ---------------------------------------------------------------- helpers

def test_single_thread_restores_the_thread_count():
    import torch

    before = torch.get_num_threads()
    with optimise.single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
