"""The teacher-student experiments of the workflow: training (ODE and SGD) and pruning tables.

Every student ``r`` of a setting has a teacher and an initial student of its own, trained by its
own stream of inputs; the ODE is integrated from each student's initial order parameters.

Seeds: every random stream is a :mod:`prunephase.core.seeds` stream under the root seed, named by
``(STUDY, K, M, ...)``:

``(STUDY, K, M, NETWORKS, r)``
    the teacher and the initial student of student ``r``, so the noiseless and the noisy runs
    start from the same networks;
``(STUDY, K, M, INPUTS, sigma, r)``
    the inputs and label noise of student ``r`` at noise level sigma (a torch generator seeded
    with the stream's first integer);
``(STUDY, K, M, MASKS, sigma, r, m, k)``
    the pruning masks of trained student ``r``, method ``m`` (its index in
    :data:`~prunephase.teacher_student.pruning.METHODS`) and ``k`` kept units;
``(STUDY, K, M, IDEAL_TEACHER)``
    the orthogonal teacher of the ideal specialised student;
``(STUDY, K, M, IDEAL_MASKS, r, m, k)``
    the pruning masks of the ideal specialised student (``r = 0``).

sigma enters as a float (the core encodes it as ``round(1e6 sigma)``). A student's numbers do not
depend on how many students a run has. The streams of the ideal student are their own, so its
masks are not those of the noiseless trained student 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from prunephase.core.io import atomic_path
from prunephase.core.seeds import generator, seed_integers
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
    node_importance,
    node_parameter_count,
    node_subsets,
    normalise_rows,
    random_edge_mask,
)
from prunephase.teacher_student.settings import Dynamics, Pruning, Run, SpecialisedPruning
from prunephase.teacher_student.simulation import simulate_online_sgd
from prunephase.teacher_student.theory import edge_pruned, node_pruned

#: identifies this study in the seed keys (paper C)
STUDY = 3
#: what a stream of a setting is for: the key element after ``(STUDY, K, M)``
INPUTS, MASKS, IDEAL_TEACHER, IDEAL_MASKS, NETWORKS = 0, 1, 2, 3, 4
#: the kinds of pruned student (the ``student`` column): trained by SGD, or the ideal specialised
STUDENTS = ("sgd", "ideal")

DYNAMICS_COLUMNS = ["K", "M", "sigma", "source", "replica", "t", "eps_g"]
PRUNING_COLUMNS = [
    "K", "M", "sigma", "student", "replica", "method", "reweight", "kept_units", "edges_per_unit",
    "params_kept", "params_fraction", "eps_g_mean", "eps_g_se", "masks", "eps_g_unpruned",
    "eps_g_trained",
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
    run: Run, dynamics: Dynamics, seed: int, student: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Teacher ``(W*, v*)`` and initial student ``(W0, v0)`` of student number ``student``:
    ``W* ~ N(0, 1)``, ``v* = v_star``, ``W0 ~ N(0, w_init_std^2)``, ``v0 ~ N(0, v_init_std^2)``,
    elementwise.

    Returns
    -------
    W_star, v_star, W0, v0
        Shapes (M, N), (M,), (K, N), (K,).
    """
    rng = generator(seed, STUDY, run.K, run.M, NETWORKS, student)
    W_star = rng.standard_normal((run.M, dynamics.N))
    v_star = np.full(run.M, dynamics.v_star)
    W0 = dynamics.w_init_std * rng.standard_normal((run.K, dynamics.N))
    v0 = dynamics.v_init_std * rng.standard_normal(run.K)
    return W_star, v_star, W0, v0


def input_generator(run: Run, seed: int, student: int) -> torch.Generator:
    """The torch generator of student ``student``'s inputs and label noise at ``run.sigma``."""
    key = (STUDY, run.K, run.M, INPUTS, float(run.sigma), student)
    return torch.Generator().manual_seed(seed_integers(seed, *key)[0])


def train(run: Run, dynamics: Dynamics, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Train ``dynamics.students`` students by online SGD, each on its own teacher, and integrate
    the ODE from each student's initial order parameters.

    Returns
    -------
    dynamics
        Table with columns ``K, M, sigma`` (the run), ``source`` ("ode" or "sgd"), ``replica``
        (the student), ``t`` (time in units of N steps), ``eps_g`` (generalisation error).
    students
        Arrays ``W`` (S, K, N), ``v`` (S, K), ``W_star`` (S, M, N), ``v_star`` (S, M) of the
        trained students and their teachers, and ``ode_Q`` (S, K, K), ``ode_R`` (S, K, M),
        ``ode_v`` (S, K): the ODE's final order parameters.
    """
    S = dynamics.students
    W_star, v_star, W0, v0 = (
        np.stack(a) for a in zip(*(initial_networks(run, dynamics, seed, r) for r in range(S)))
    )
    times = time_grid(run.t_max, dynamics.record_points, dynamics.N)
    rngs = [input_generator(run, seed, r) for r in range(S)]
    trajectories, W, v = simulate_online_sgd(
        W0, v0, W_star, v_star, dynamics.eta, run.sigma, times, rngs
    )
    odes = [
        integrate_ode(
            order_parameters(W0[r], v0[r], W_star[r], v_star[r]), dynamics.eta, run.sigma, times,
            dynamics.ode_rtol,
        )
        for r in range(S)
    ]  # fmt: skip
    frames = [_dynamics_frame(run, "ode", r, o.t, o.eps_g) for r, o in enumerate(odes)]
    frames += [_dynamics_frame(run, "sgd", r, tr.t, tr.eps_g) for r, tr in enumerate(trajectories)]
    students = {
        "W": W, "v": v, "W_star": W_star, "v_star": v_star,
        "ode_Q": np.stack([o.Q[-1] for o in odes]), "ode_R": np.stack([o.R[-1] for o in odes]),
        "ode_v": np.stack([o.v[-1] for o in odes]),
    }  # fmt: skip
    return pd.concat(frames, ignore_index=True), students


def specialised_students(run: Run, N: int, v_star: float, seed: int) -> dict[str, np.ndarray]:
    """The ideal specialised student as weights: ``z = K / M`` exact copies of each teacher unit,
    ``v = v* / z``, with teacher rows orthogonal and of squared norm N (so ``T = I`` exactly).

    ``K`` is a multiple of ``M`` (the schema checks it before any job).

    Returns
    -------
    dict
        Arrays in the layout of :func:`train`'s students, one student: ``W`` (1, K, N), ``v``
        (1, K), ``W_star`` (1, M, N), ``v_star`` (1, M).
    """
    copies = run.K // run.M
    rng = generator(seed, STUDY, run.K, run.M, IDEAL_TEACHER)
    basis, _ = np.linalg.qr(rng.standard_normal((N, run.M)))
    W_star = np.sqrt(N) * basis.T
    W = np.repeat(W_star, copies, axis=0)
    v = np.full(run.K, v_star / copies)
    return {"W": W[None], "v": v[None], "W_star": W_star[None],
            "v_star": np.full((1, run.M), v_star)}  # fmt: skip


def prune_specialised(
    run: Run, ideal: SpecialisedPruning, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`prune` of the ideal specialised student (:func:`specialised_students`) of ``run``."""
    students = specialised_students(run, ideal.N, ideal.v_star, seed)
    return prune(run, students, ideal.pruning, seed, "ideal")


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
    if student == "ideal":
        return generator(seed, STUDY, run.K, run.M, IDEAL_MASKS, replica, *where)
    return generator(seed, STUDY, run.K, run.M, MASKS, float(run.sigma), replica, *where)


def pruned_students(
    method: str,
    W: np.ndarray,
    v: np.ndarray,
    W_star: np.ndarray,
    v_star: np.ndarray,
    kept_units: int,
    reweight: bool,
    rng: np.random.Generator,
    pruning: Pruning,
) -> list[OrderParameters]:
    """Order parameters of the pruned students: one per mask for random and DPP methods, one for
    importance methods (or one per mask where importances tie). Edge methods keep the matched
    number of weights (:func:`~prunephase.teacher_student.pruning.matched_edges_per_unit` with
    ``pruning.edge_rounding``).

    Parameters
    ----------
    W, v
        The student as it is pruned (already row-normalised where ``pruning.normalise_rows``),
        shapes (K, N) and (K,).
    W_star, v_star
        Its teacher, shapes (M, N) and (M,).
    pruning
        Masks for random and DPP methods, the DPP kernel's jitter, the importance of a unit
        (``signed`` v or ``absolute`` |v|), the rounding of the edge budget.
    """
    K, N = W.shape
    op = order_parameters(W, v, W_star, v_star)
    if method in NODE_METHODS:
        subsets = node_subsets(
            method, dpp_kernel(op.Q, pruning.dpp_jitter), node_importance(v, pruning.importance),
            kept_units, pruning.masks, rng,
        )  # fmt: skip
        return [node_pruned(op, s, reweight) for s in subsets]
    e = matched_edges_per_unit(kept_units, K, N, pruning.edge_rounding)
    if method == "random_edge":
        edge_masks = [random_edge_mask(W.shape, e / N, rng) for _ in range(pruning.masks)]
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

    With ``pruning.normalise_rows`` every row of a student's ``W`` is first rescaled to norm
    ``sqrt(N)`` (:func:`~prunephase.teacher_student.pruning.normalise_rows`), and the normalised
    student is pruned and evaluated.

    Parameters
    ----------
    run
        The setting and noise level the students belong to.
    students
        Arrays of :func:`train` (or :func:`specialised_students`): ``W`` (S, K, N), ``v``
        (S, K), ``W_star`` (S, M, N), ``v_star`` (S, M).
    pruning
        Masks per budget, DPP jitter, heat-map fraction, row normalisation, importance, edge
        rounding.
    student
        ``"sgd"`` for trained students, ``"ideal"`` for the ideal specialised one
        (:data:`STUDENTS`); it names the students in the tables and selects their mask streams.

    Returns
    -------
    pruning
        One row per (replica, method, reweight, kept_units), ``replica`` the student's number:
        ``kept_units`` (k, the node budget; edge methods use the matched budget),
        ``edges_per_unit`` (e; N for node methods), ``params_kept`` (first-layer parameters kept,
        ``kN + k`` for nodes, ``Ke + K`` for edges), ``params_fraction`` (over ``KN + K``),
        ``eps_g_mean`` and ``eps_g_se`` (mean and standard error over the masks; se 0 for a
        deterministic method), ``masks``, ``eps_g_unpruned`` (the error of the student as it is
        pruned, normalised or not), ``eps_g_trained`` (the error of the student as trained), with
        ``K, M, sigma`` and ``student``.
    heatmaps
        Long table of the mask-averaged pruned ``Q`` (K, K) and ``R`` (K, M) of student 0 at
        ``kept_units = round(heatmap_fraction K)``, without reweighting, with removed units as
        zero rows: columns ``K, M, sigma, student, method, kept_units, matrix`` ("Q" or "R"),
        ``row``, ``col``, ``value``; units are ordered by the teacher unit they overlap most.
    """
    if student not in STUDENTS:
        raise ValueError(f"unknown student {student!r}; known: {STUDENTS}")
    W_all, v_all = students["W"], students["v"]
    replicas, K, N = W_all.shape
    total = node_parameter_count(K, N)
    rows = []
    for r in range(replicas):
        W_star, v_star, v = students["W_star"][r], students["v_star"][r], v_all[r]
        trained = generalisation_error(order_parameters(W_all[r], v, W_star, v_star))
        W = normalise_rows(W_all[r]) if pruning.normalise_rows else W_all[r]
        eps0 = generalisation_error(order_parameters(W, v, W_star, v_star))
        for method in METHODS:
            for k in range(1, K + 1):
                if method in NODE_METHODS:
                    e, params = N, node_parameter_count(k, N)
                else:
                    e = matched_edges_per_unit(k, K, N, pruning.edge_rounding)
                    params = K * e + K
                for reweight in (False, True):
                    rng = _mask_rng(run, seed, student, r, method, k)
                    ops = pruned_students(method, W, v, W_star, v_star, k, reweight, rng, pruning)
                    errs = np.array([generalisation_error(o) for o in ops])
                    se = errs.std(ddof=1) / np.sqrt(len(errs)) if len(errs) > 1 else 0.0
                    rows.append(
                        (K, run.M, run.sigma, student, r, method, reweight, k, e, params,
                         params / total, errs.mean(), se, len(errs), eps0, trained)
                    )  # fmt: skip
    table = pd.DataFrame(rows, columns=PRUNING_COLUMNS)
    W0 = normalise_rows(W_all[0]) if pruning.normalise_rows else W_all[0]
    heatmaps = _heatmaps(
        run, W0, v_all[0], students["W_star"][0], students["v_star"][0], seed, pruning, student
    )
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
        # student 0's masks at this budget, as in the pruning table
        rng = _mask_rng(run, seed, student, 0, method, k)
        Q_sum, R_sum, count = np.zeros((K, K)), np.zeros((K, run.M)), 0
        if method in NODE_METHODS:
            kernel = dpp_kernel(op.Q, pruning.dpp_jitter)
            importance = node_importance(v, pruning.importance)
            for kept in node_subsets(method, kernel, importance, k, pruning.masks, rng):
                Q_sum[np.ix_(kept, kept)] += op.Q[np.ix_(kept, kept)]
                R_sum[kept] += op.R[kept]
                count += 1
        else:
            for o in pruned_students(method, W, v, W_star, v_star, k, False, rng, pruning):
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
    "initial_networks", "input_generator", "load_students", "prune", "prune_specialised",
    "pruned_students", "save_students", "specialised_students", "time_grid", "train",
]  # fmt: skip
