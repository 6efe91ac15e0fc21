"""The teacher-student experiments of the workflow: training (ODE and SGD) and pruning tables.

Seeds: the teacher and the initial student of a setting derive from ``(seed, STUDY, K, M)``, so the
noiseless and the noisy runs start from the same networks; the SGD input streams from
``(seed, STUDY, K, M, sigma_key, 0)``; the pruning masks of replica ``r``, method ``m`` and ``k``
kept units from ``(seed, STUDY, K, M, sigma_key, 1, r, m, k)``, with
``sigma_key = round(1e6 sigma)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prunephase.core.io import atomic_path
from prunephase.teacher_student.ode import integrate_ode
from prunephase.teacher_student.order_parameters import (
    OrderParameters,
    generalisation_error,
    order_parameters,
)
from prunephase.teacher_student.pruning import (
    EDGE_METHODS,
    METHODS,
    NODE_METHODS,
    dpp_kernel,
    importance_edge_mask,
    matched_edges_per_unit,
    node_parameter_count,
    node_subsets,
    random_edge_mask,
)
from prunephase.teacher_student.simulation import simulate_online_sgd
from prunephase.teacher_student.theory import edge_pruned, node_pruned

#: identifies this study in the seed sequences (paper C)
STUDY = 3

DYNAMICS_COLUMNS = ["K", "M", "sigma", "source", "replica", "t", "eps_g"]
PRUNING_COLUMNS = [
    "K", "M", "sigma", "student", "replica", "method", "reweight", "kept_units", "edges_per_unit",
    "params_kept", "params_fraction", "eps_g_mean", "eps_g_se", "masks", "eps_g_unpruned",
]  # fmt: skip
HEATMAP_COLUMNS = [
    "K",
    "M",
    "sigma",
    "student",
    "method",
    "kept_units",
    "matrix",
    "row",
    "col",
    "value",
]


@dataclass(frozen=True)
class Setting:
    """One teacher-student configuration (values of the ``teacher_student`` config section)."""

    K: int
    M: int
    sigma: float
    t_max: float
    N: int = 500
    eta: float = 0.5
    v_star: float = 4.0
    w_init_std: float = 1.0
    v_init_std: float = 1.0
    replicas: int = 4
    record_points: int = 40
    ode_rtol: float = 1e-6
    dpp_jitter: float = 1e-6

    @property
    def sigma_key(self) -> int:
        return round(1e6 * self.sigma)

    @classmethod
    def from_config(cls, section: dict, K: int, M: int, t_max: float, sigma: float) -> Setting:
        """The setting ``(K, M, t_max)`` at noise ``sigma`` of the ``teacher_student`` section."""
        if K % M:
            raise ValueError(
                f"teacher_student.settings: K = {K} is not a multiple of M = {M}; the specialised "
                "student has K / M copies of each teacher unit"
            )
        return cls(
            K=K, M=M, sigma=sigma, t_max=t_max, N=section["N"], eta=section["eta"],
            v_star=section["v_star"], w_init_std=section["w_init_std"],
            v_init_std=section["v_init_std"], replicas=section["replicas"],
            record_points=section["record_points"], ode_rtol=section["ode_rtol"],
            dpp_jitter=section["pruning"]["dpp_jitter"],
        )  # fmt: skip


def time_grid(t_max: float, points: int, N: int) -> np.ndarray:
    """0 and ``points`` log-spaced times up to ``t_max`` (units of N steps), on the 1/N lattice."""
    t = np.geomspace(min(1.0, t_max), t_max, points)
    steps = np.unique(np.round(np.concatenate([[0.0], t]) * N).astype(np.int64))
    return steps / N


def initial_networks(
    setting: Setting, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Teacher ``(W*, v*)`` and initial student ``(W0, v0)``: ``W* ~ N(0, 1)``, ``v* = v_star``,
    ``W0 ~ N(0, w_init_std^2)``, ``v0 ~ N(0, v_init_std^2)``, elementwise."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, STUDY, setting.K, setting.M]))
    W_star = rng.standard_normal((setting.M, setting.N))
    v_star = np.full(setting.M, setting.v_star)
    W0 = setting.w_init_std * rng.standard_normal((setting.K, setting.N))
    v0 = setting.v_init_std * rng.standard_normal(setting.K)
    return W_star, v_star, W0, v0


def train(setting: Setting, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Train ``setting.replicas`` students by online SGD and integrate the ODE from the same start.

    Returns
    -------
    dynamics
        Table with columns ``K, M, sigma`` (the setting), ``source`` ("ode" or "sgd"), ``replica``
        (-1 for the ODE), ``t`` (time in units of N steps), ``eps_g`` (generalisation error).
    students
        Arrays ``W`` (replicas, K, N), ``v`` (replicas, K), ``W_star`` (M, N), ``v_star`` (M,) of
        the trained students and their teacher, and ``ode_Q``, ``ode_R``, ``ode_v``: the ODE's final
        order parameters.
    """
    W_star, v_star, W0, v0 = initial_networks(setting, seed)
    times = time_grid(setting.t_max, setting.record_points, setting.N)
    rng = np.random.default_rng(
        np.random.SeedSequence([seed, STUDY, setting.K, setting.M, setting.sigma_key, 0])
    )
    trajectories, W, v = simulate_online_sgd(
        W0, v0, W_star, v_star, setting.eta, setting.sigma, times, setting.replicas, rng
    )
    ode = integrate_ode(
        order_parameters(W0, v0, W_star, v_star),
        setting.eta,
        setting.sigma,
        times,
        setting.ode_rtol,
    )
    frames = [_dynamics_frame(setting, "ode", -1, ode.t, ode.eps_g)]
    frames += [
        _dynamics_frame(setting, "sgd", r, tr.t, tr.eps_g) for r, tr in enumerate(trajectories)
    ]
    students = {
        "W": W, "v": v, "W_star": W_star, "v_star": v_star,
        "ode_Q": ode.Q[-1], "ode_R": ode.R[-1], "ode_v": ode.v[-1],
    }  # fmt: skip
    return pd.concat(frames, ignore_index=True), students


def specialised_students(setting: Setting, seed: int) -> dict[str, np.ndarray]:
    """The ideal specialised student as weights: ``z = K / M`` exact copies of each teacher unit,
    ``v = v* / z``, with teacher rows orthogonal and of squared norm N (so ``T = I`` exactly).

    Returns arrays in the layout of :func:`train`'s students (one replica).
    """
    if setting.K % setting.M:
        raise ValueError(f"K = {setting.K} is not a multiple of M = {setting.M}")
    copies = setting.K // setting.M
    rng = np.random.default_rng(np.random.SeedSequence([seed, STUDY, setting.K, setting.M, 2]))
    basis, _ = np.linalg.qr(rng.standard_normal((setting.N, setting.M)))
    W_star = np.sqrt(setting.N) * basis.T
    W = np.repeat(W_star, copies, axis=0)
    v = np.full(setting.K, setting.v_star / copies)
    return {
        "W": W[None],
        "v": v[None],
        "W_star": W_star,
        "v_star": np.full(setting.M, setting.v_star),
    }


def save_students(students: dict[str, np.ndarray], path) -> None:
    """Write the arrays of :func:`train` to an ``.npz`` file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **students)


def load_students(path) -> dict[str, np.ndarray]:
    """Read the arrays written by :func:`save_students`."""
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


def _dynamics_frame(setting: Setting, source: str, replica: int, t, eps) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "K": setting.K,
            "M": setting.M,
            "sigma": setting.sigma,
            "source": source,
            "replica": replica,
            "t": np.asarray(t, float),
            "eps_g": np.asarray(eps, float),
        }  # fmt: skip
    )


def _mask_rng(
    setting: Setting, seed: int, replica: int, method: str, k: int
) -> np.random.Generator:
    key = [
        seed,
        STUDY,
        setting.K,
        setting.M,
        setting.sigma_key,
        1,
        replica,
        METHODS.index(method),
        k,
    ]
    return np.random.default_rng(np.random.SeedSequence(key))


def pruned_students(
    method: str,
    W: np.ndarray,
    v: np.ndarray,
    W_star: np.ndarray,
    v_star: np.ndarray,
    kept_units: int,
    masks: int,
    reweight: bool,
    rng: np.random.Generator,
    dpp_jitter: float = 1e-6,
) -> list[OrderParameters]:
    """Order parameters of the pruned students: one per mask for random and DPP methods, one for
    importance methods. Edge methods keep the matched number of weights (see
    :func:`~prunephase.teacher_student.pruning.matched_edges_per_unit`).
    """
    K, N = W.shape
    op = order_parameters(W, v, W_star, v_star)
    if method in NODE_METHODS:
        return [
            node_pruned(op, s, reweight)
            for s in node_subsets(
                method, dpp_kernel(op.Q, dpp_jitter), np.abs(v), kept_units, masks, rng
            )
        ]
    e = matched_edges_per_unit(kept_units, K, N)
    if method == "random_edge":
        edge_masks = [random_edge_mask(W.shape, e / N, rng) for _ in range(masks)]
    elif method == "importance_edge":
        edge_masks = [importance_edge_mask(W, e)]
    else:
        raise ValueError(f"unknown pruning method {method!r}; known: {METHODS}")
    # reweighting of edges is the identity for isotropic inputs (see theory.edge_pruned)
    return [edge_pruned(W, v, W_star, v_star, m) for m in edge_masks]


def prune(
    setting: Setting,
    students: dict[str, np.ndarray],
    seed: int,
    masks: int,
    heatmap_fraction: float,
    student: str = "sgd",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every pruning method, with and without reweighting, at every matched parameter count.

    Returns
    -------
    pruning
        One row per (replica, method, reweight, kept_units): ``kept_units`` (k, the node budget;
        edge methods use the matched budget), ``edges_per_unit`` (e; N for node methods),
        ``params_kept`` (first-layer parameters kept, ``kN + k`` for nodes, ``Ke + K`` for edges),
        ``params_fraction`` (over ``KN + K``), ``eps_g_mean`` and ``eps_g_se`` (mean and standard
        error over ``masks`` masks; se 0 for the deterministic importance methods),
        ``masks``, ``eps_g_unpruned`` (the replica's error before pruning), with ``K, M, sigma``
        and ``student`` ("sgd" for trained students, "specialised" for the ideal one).
    heatmaps
        Long table of the mask-averaged pruned ``Q`` (K, K) and ``R`` (K, M) of replica 0 at
        ``kept_units = round(heatmap_fraction K)``, without reweighting, with removed units as
        zero rows: columns ``K, M, sigma, student, method, kept_units, matrix`` ("Q" or "R"),
        ``row``, ``col``, ``value``; units are ordered by the teacher unit they overlap most.
    """
    W, v, W_star, v_star = students["W"], students["v"], students["W_star"], students["v_star"]
    replicas, K, N = W.shape
    total = node_parameter_count(K, N)
    rows = []
    for r in range(replicas):
        eps0 = generalisation_error(order_parameters(W[r], v[r], W_star, v_star))
        for method in METHODS:
            for k in range(1, K + 1):
                e = N if method in NODE_METHODS else matched_edges_per_unit(k, K, N)
                params = node_parameter_count(k, N) if method in NODE_METHODS else K * e + K
                for reweight in (False, True):
                    rng = _mask_rng(setting, seed, r, method, k)
                    ops = pruned_students(
                        method, W[r], v[r], W_star, v_star, k, masks, reweight, rng,
                        setting.dpp_jitter,
                    )  # fmt: skip
                    errs = np.array([generalisation_error(o) for o in ops])
                    se = errs.std(ddof=1) / np.sqrt(len(errs)) if len(errs) > 1 else 0.0
                    rows.append(
                        (K, setting.M, setting.sigma, student, r, method, reweight, k, e, params,
                         params / total, errs.mean(), se, len(errs), eps0)
                    )  # fmt: skip
    pruning = pd.DataFrame(rows, columns=PRUNING_COLUMNS)
    heatmaps = _heatmaps(setting, W[0], v[0], W_star, v_star, seed, masks, heatmap_fraction)
    heatmaps.insert(3, "student", student)
    return pruning, heatmaps


def _heatmaps(setting, W, v, W_star, v_star, seed, masks, fraction) -> pd.DataFrame:
    K, N = W.shape
    k = int(min(K, max(1, round(fraction * K))))
    op = order_parameters(W, v, W_star, v_star)
    order = np.lexsort((-np.abs(op.R).max(axis=1), np.abs(op.R).argmax(axis=1)))
    rows = []
    for method in METHODS:
        rng = _mask_rng(setting, seed, 0, method, k)
        Q_sum, R_sum, count = np.zeros((K, K)), np.zeros((K, setting.M)), 0
        if method in NODE_METHODS:
            kernel = dpp_kernel(op.Q, setting.dpp_jitter)
            for kept in node_subsets(method, kernel, np.abs(v), k, masks, rng):
                Q_sum[np.ix_(kept, kept)] += op.Q[np.ix_(kept, kept)]
                R_sum[kept] += op.R[kept]
                count += 1
        else:
            for o in pruned_students(
                method, W, v, W_star, v_star, k, masks, False, rng, setting.dpp_jitter
            ):
                Q_sum += o.Q
                R_sum += o.R
                count += 1
        for name, mat in (("Q", Q_sum / count), ("R", R_sum / count)):
            mat = mat[order]
            if name == "Q":
                mat = mat[:, order]
            for (i, j), value in np.ndenumerate(mat):
                rows.append((K, setting.M, setting.sigma, method, k, name, i, j, value))
    return pd.DataFrame(rows, columns=[c for c in HEATMAP_COLUMNS if c != "student"])


__all__ = [
    "DYNAMICS_COLUMNS", "EDGE_METHODS", "HEATMAP_COLUMNS", "PRUNING_COLUMNS", "Setting",
    "initial_networks", "load_students", "prune", "save_students",
    "specialised_students", "pruned_students", "time_grid", "train",
]  # fmt: skip
