"""The teacher-student experiments of the workflow: training (ODE and SGD) and pruning tables.

Seeds: every random stream is a :mod:`prunephase.core.seeds` stream under the root seed, named by
``(STUDY, K, M, ...)``:

``(STUDY, K, M)``
    the teacher and the initial student, so the noiseless and the noisy runs start from the same
    networks;
``(STUDY, K, M, INPUTS, sigma)``
    the inputs and label noise of the SGD replicas at noise level sigma;
``(STUDY, K, M, MASKS, sigma, r, m, k)``
    the pruning masks of trained replica ``r``, method ``m`` (its index in
    :data:`~prunephase.teacher_student.pruning.METHODS`) and ``k`` kept units;
``(STUDY, K, M, IDEAL_TEACHER)``
    the orthogonal teacher of the ideal specialised student;
``(STUDY, K, M, IDEAL_MASKS, r, m, k)``
    the pruning masks of the ideal specialised student (``r = 0``).

sigma enters as a float (the core encodes it as ``round(1e6 sigma)``). The streams of the ideal
student are their own, so its masks are not those of the noiseless trained replica 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prunephase.core.io import atomic_path
from prunephase.core.seeds import generator
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
from prunephase.teacher_student.settings import Dynamics, Pruning, Run, SpecialisedPruning
from prunephase.teacher_student.simulation import simulate_online_sgd
from prunephase.teacher_student.theory import edge_pruned, node_pruned

#: identifies this study in the seed keys (paper C)
STUDY = 3
#: what a stream of a setting is for: the key element after ``(STUDY, K, M)``
INPUTS, MASKS, IDEAL_TEACHER, IDEAL_MASKS = 0, 1, 2, 3
#: the kinds of pruned student (the ``student`` column)
STUDENTS = ("sgd", "specialised")

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


def time_grid(t_max: float, points: int, N: int) -> np.ndarray:
    """0 and ``points`` log-spaced times up to ``t_max`` (units of N steps), on the 1/N lattice."""
    t = np.geomspace(min(1.0, t_max), t_max, points)
    steps = np.unique(np.round(np.concatenate([[0.0], t]) * N).astype(np.int64))
    return steps / N


def initial_networks(
    run: Run, dynamics: Dynamics, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Teacher ``(W*, v*)`` and initial student ``(W0, v0)``: ``W* ~ N(0, 1)``, ``v* = v_star``,
    ``W0 ~ N(0, w_init_std^2)``, ``v0 ~ N(0, v_init_std^2)``, elementwise.

    Returns
    -------
    W_star, v_star, W0, v0
        Shapes (M, N), (M,), (K, N), (K,).
    """
    rng = generator(seed, STUDY, run.K, run.M)
    W_star = rng.standard_normal((run.M, dynamics.N))
    v_star = np.full(run.M, dynamics.v_star)
    W0 = dynamics.w_init_std * rng.standard_normal((run.K, dynamics.N))
    v0 = dynamics.v_init_std * rng.standard_normal(run.K)
    return W_star, v_star, W0, v0


def train(run: Run, dynamics: Dynamics, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Train ``dynamics.replicas`` students by online SGD and integrate the ODE from the same start.

    Returns
    -------
    dynamics
        Table with columns ``K, M, sigma`` (the run), ``source`` ("ode" or "sgd"), ``replica``
        (-1 for the ODE), ``t`` (time in units of N steps), ``eps_g`` (generalisation error).
    students
        Arrays ``W`` (replicas, K, N), ``v`` (replicas, K), ``W_star`` (M, N), ``v_star`` (M,) of
        the trained students and their teacher, and ``ode_Q``, ``ode_R``, ``ode_v``: the ODE's final
        order parameters.
    """
    W_star, v_star, W0, v0 = initial_networks(run, dynamics, seed)
    times = time_grid(run.t_max, dynamics.record_points, dynamics.N)
    rng = generator(seed, STUDY, run.K, run.M, INPUTS, float(run.sigma))
    trajectories, W, v = simulate_online_sgd(
        W0, v0, W_star, v_star, dynamics.eta, run.sigma, times, dynamics.replicas, rng
    )
    ode = integrate_ode(
        order_parameters(W0, v0, W_star, v_star), dynamics.eta, run.sigma, times, dynamics.ode_rtol
    )
    frames = [_dynamics_frame(run, "ode", -1, ode.t, ode.eps_g)]
    frames += [_dynamics_frame(run, "sgd", r, tr.t, tr.eps_g) for r, tr in enumerate(trajectories)]
    students = {
        "W": W, "v": v, "W_star": W_star, "v_star": v_star,
        "ode_Q": ode.Q[-1], "ode_R": ode.R[-1], "ode_v": ode.v[-1],
    }  # fmt: skip
    return pd.concat(frames, ignore_index=True), students


def specialised_students(run: Run, N: int, v_star: float, seed: int) -> dict[str, np.ndarray]:
    """The ideal specialised student as weights: ``z = K / M`` exact copies of each teacher unit,
    ``v = v* / z``, with teacher rows orthogonal and of squared norm N (so ``T = I`` exactly).

    ``K`` is a multiple of ``M`` (the schema checks it before any job).

    Returns
    -------
    dict
        Arrays in the layout of :func:`train`'s students, one replica: ``W`` (1, K, N), ``v``
        (1, K), ``W_star`` (M, N), ``v_star`` (M,).
    """
    copies = run.K // run.M
    rng = generator(seed, STUDY, run.K, run.M, IDEAL_TEACHER)
    basis, _ = np.linalg.qr(rng.standard_normal((N, run.M)))
    W_star = np.sqrt(N) * basis.T
    W = np.repeat(W_star, copies, axis=0)
    v = np.full(run.K, v_star / copies)
    return {"W": W[None], "v": v[None], "W_star": W_star, "v_star": np.full(run.M, v_star)}


def prune_specialised(
    run: Run, ideal: SpecialisedPruning, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`prune` of the ideal specialised student (:func:`specialised_students`) of ``run``."""
    students = specialised_students(run, ideal.N, ideal.v_star, seed)
    return prune(run, students, ideal.pruning, seed, "specialised")


def save_students(students: dict[str, np.ndarray], path) -> None:
    """Write the arrays of :func:`train` to an ``.npz`` file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **students)


def load_students(path) -> dict[str, np.ndarray]:
    """Read the arrays written by :func:`save_students`."""
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


def _dynamics_frame(run: Run, source: str, replica: int, t, eps) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "K": run.K,
            "M": run.M,
            "sigma": run.sigma,
            "source": source,
            "replica": replica,
            "t": np.asarray(t, float),
            "eps_g": np.asarray(eps, float),
        }  # fmt: skip
    )


def _mask_rng(
    run: Run, seed: int, student: str, replica: int, method: str, k: int
) -> np.random.Generator:
    """The stream of the masks of one student, method and number of kept units (see the module
    docstring); with and without reweighting a budget gets the same masks."""
    where = (METHODS.index(method), k)
    if student == "specialised":
        return generator(seed, STUDY, run.K, run.M, IDEAL_MASKS, replica, *where)
    return generator(seed, STUDY, run.K, run.M, MASKS, float(run.sigma), replica, *where)


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
    dpp_jitter: float,
) -> list[OrderParameters]:
    """Order parameters of the pruned students: one per mask for random and DPP methods, one for
    importance methods. Edge methods keep the matched number of weights (see
    :func:`~prunephase.teacher_student.pruning.matched_edges_per_unit`).

    Parameters
    ----------
    W, v
        The student, shapes (K, N) and (K,).
    W_star, v_star
        Its teacher, shapes (M, N) and (M,).
    masks
        Draws for random and DPP methods.
    dpp_jitter
        Relative jitter of the DPP kernel's diagonal (:func:`~.pruning.dpp_kernel`).
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
    run: Run,
    students: dict[str, np.ndarray],
    pruning: Pruning,
    seed: int,
    student: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every pruning method, with and without reweighting, at every matched parameter count.

    Parameters
    ----------
    run
        The setting and noise level the students belong to.
    students
        Arrays of :func:`train` (or :func:`specialised_students`): ``W`` (replicas, K, N), ``v``
        (replicas, K), ``W_star`` (M, N), ``v_star`` (M,).
    pruning
        Masks per budget, DPP jitter, heat-map fraction.
    student
        ``"sgd"`` for trained students, ``"specialised"`` for the ideal one (:data:`STUDENTS`);
        it names the students in the tables and selects their mask streams.

    Returns
    -------
    pruning
        One row per (replica, method, reweight, kept_units): ``kept_units`` (k, the node budget;
        edge methods use the matched budget), ``edges_per_unit`` (e; N for node methods),
        ``params_kept`` (first-layer parameters kept, ``kN + k`` for nodes, ``Ke + K`` for edges),
        ``params_fraction`` (over ``KN + K``), ``eps_g_mean`` and ``eps_g_se`` (mean and standard
        error over ``masks`` masks; se 0 for the deterministic importance methods),
        ``masks``, ``eps_g_unpruned`` (the replica's error before pruning), with ``K, M, sigma``
        and ``student``.
    heatmaps
        Long table of the mask-averaged pruned ``Q`` (K, K) and ``R`` (K, M) of replica 0 at
        ``kept_units = round(heatmap_fraction K)``, without reweighting, with removed units as
        zero rows: columns ``K, M, sigma, student, method, kept_units, matrix`` ("Q" or "R"),
        ``row``, ``col``, ``value``; units are ordered by the teacher unit they overlap most.
    """
    if student not in STUDENTS:
        raise ValueError(f"unknown student {student!r}; known: {STUDENTS}")
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
                    rng = _mask_rng(run, seed, student, r, method, k)
                    ops = pruned_students(
                        method, W[r], v[r], W_star, v_star, k, pruning.masks, reweight, rng,
                        pruning.dpp_jitter,
                    )  # fmt: skip
                    errs = np.array([generalisation_error(o) for o in ops])
                    se = errs.std(ddof=1) / np.sqrt(len(errs)) if len(errs) > 1 else 0.0
                    rows.append(
                        (K, run.M, run.sigma, student, r, method, reweight, k, e, params,
                         params / total, errs.mean(), se, len(errs), eps0)
                    )  # fmt: skip
    table = pd.DataFrame(rows, columns=PRUNING_COLUMNS)
    heatmaps = _heatmaps(run, W[0], v[0], W_star, v_star, seed, pruning, student)
    heatmaps.insert(3, "student", student)
    return table, heatmaps


def _heatmaps(
    run: Run, W, v, W_star, v_star, seed: int, pruning: Pruning, student: str
) -> pd.DataFrame:
    K, N = W.shape
    k = int(min(K, max(1, round(pruning.heatmap_fraction * K))))
    op = order_parameters(W, v, W_star, v_star)
    order = np.lexsort((-np.abs(op.R).max(axis=1), np.abs(op.R).argmax(axis=1)))
    rows = []
    for method in METHODS:
        # replica 0's masks at this budget, as in the pruning table
        rng = _mask_rng(run, seed, student, 0, method, k)
        Q_sum, R_sum, count = np.zeros((K, K)), np.zeros((K, run.M)), 0
        if method in NODE_METHODS:
            kernel = dpp_kernel(op.Q, pruning.dpp_jitter)
            for kept in node_subsets(method, kernel, np.abs(v), k, pruning.masks, rng):
                Q_sum[np.ix_(kept, kept)] += op.Q[np.ix_(kept, kept)]
                R_sum[kept] += op.R[kept]
                count += 1
        else:
            for o in pruned_students(
                method, W, v, W_star, v_star, k, pruning.masks, False, rng, pruning.dpp_jitter
            ):
                Q_sum += o.Q
                R_sum += o.R
                count += 1
        for name, mat in (("Q", Q_sum / count), ("R", R_sum / count)):
            mat = mat[order]
            if name == "Q":
                mat = mat[:, order]
            for (i, j), value in np.ndenumerate(mat):
                rows.append((K, run.M, run.sigma, method, k, name, i, j, value))
    return pd.DataFrame(rows, columns=[c for c in HEATMAP_COLUMNS if c != "student"])


__all__ = [
    "DYNAMICS_COLUMNS", "EDGE_METHODS", "HEATMAP_COLUMNS", "PRUNING_COLUMNS", "STUDENTS",
    "initial_networks", "load_students", "prune", "prune_specialised", "pruned_students",
    "save_students", "specialised_students", "time_grid", "train",
]  # fmt: skip
