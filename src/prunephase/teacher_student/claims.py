"""The paper's claims as numbers: paired comparisons of pruning methods at matched parameter counts,
with errors over students and masks.

A comparison of method ``a`` against method ``b`` is paired: at every number of kept units ``k``
both prune the same students, and the difference ``d_r = eps_g(a) - eps_g(b)`` of student ``r``
is the difference of its two mask averages. Over ``S >= 2`` students the claim is judged on the
mean difference ``D`` and its standard error ``std(d_r) / sqrt(S)``: the spread of the per-student
differences holds both the differences between students and the mask noise of each (masks are
drawn independently for every student), so this is the standard error of ``D`` for a new draw of
students and masks. ``a`` is significantly better when ``D`` lies below ``-t`` standard errors,
``t`` the two-sided 95% quantile of Student's t with ``S - 1`` degrees of freedom (worse when above
``+t``); with one student (the ideal specialised one) the standard error is that of its masks and
``t`` the normal quantile 1.96. A difference without any spread (deterministic methods on
identical students) counts by its sign. Each student is also judged on its own masks (its
difference beyond 1.96 of its mask standard errors, or by sign), and the tables count the students
that agree.

Curves: the error of a method at a budget is the mean over students of their mask averages, with
the same standard error over students (the mask standard error for one student).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: the comparisons of the paper: (claim, method a, method b); "a beats b" is the claim
CLAIMS = (
    ("dpp_beats_random_node", "dpp_node", "random_node"),
    ("dpp_beats_importance_node", "dpp_node", "importance_node"),
    ("random_edge_beats_dpp_node", "random_edge", "dpp_node"),
    ("random_edge_beats_random_node", "random_edge", "random_node"),
    ("importance_edge_beats_importance_node", "importance_edge", "importance_node"),
)
#: two-sided level of every test
LEVEL = 0.95
#: differences this small are ties whatever their standard error (rounding)
TOLERANCE = 1e-12

GROUP = ["student", "K", "M", "sigma", "reweight"]
COMPARISON_COLUMNS = [
    *GROUP, "claim", "kept_units", "params_fraction", "eps_a", "eps_b", "difference", "se",
    "students", "students_better", "students_worse", "verdict",
]  # fmt: skip
SUMMARY_COLUMNS = [
    *GROUP, "claim", "points", "better", "worse", "tied", "students", "unanimous",
    "better_fractions", "max_gain",
]  # fmt: skip
PRUNING_SUMMARY_COLUMNS = [
    "K", "M", "sigma", "student", "method", "reweight", "kept_fraction", "eps_g_mean",
    "eps_g_sem", "n_students",
]  # fmt: skip


def critical_value(students: int) -> float:
    """The multiple of the standard error a difference must exceed (:data:`LEVEL`, two-sided):
    Student's t with ``students - 1`` degrees of freedom, the normal quantile for one student."""
    q = 0.5 + LEVEL / 2
    return float(stats.norm.ppf(q) if students < 2 else stats.t.ppf(q, students - 1))


def _verdict(difference: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    return np.where(
        difference < -threshold - TOLERANCE,
        "better",
        np.where(difference > threshold + TOLERANCE, "worse", "tied"),
    )


def _student_mean(group: pd.Series) -> float:
    return float(group.mean())


def _student_sem(means: pd.Series, mask_se: pd.Series) -> float:
    """Standard error of the mean over students; the mask standard error for one student."""
    if len(means) > 1:
        return float(means.std(ddof=1) / np.sqrt(len(means)))
    return float(mask_se.iloc[0])


def paired_comparisons(pruning: pd.DataFrame) -> pd.DataFrame:
    """Every claim of :data:`CLAIMS` at every ``kept_units < K`` of every group.

    Parameters
    ----------
    pruning
        Rows of :func:`prunephase.teacher_student.experiments.prune` (any number of groups).

    Returns
    -------
    pd.DataFrame
        Columns ``student, K, M, sigma, reweight, claim, kept_units, params_fraction`` (of the node
        budget, ``k / K`` up to the bias), ``eps_a``, ``eps_b`` (means over students),
        ``difference`` (mean of ``eps_a - eps_b``), ``se`` (its standard error, see the module
        docstring), ``students``, ``students_better`` and ``students_worse`` (students whose own
        difference is significant on their masks), ``verdict`` ("better", "worse" or "tied", for
        ``a``).
    """
    frames = []
    keys = [*GROUP, "kept_units", "replica"]
    for claim, a, b in CLAIMS:
        A = pruning[pruning.method == a].set_index(keys)
        B = pruning[pruning.method == b].set_index(keys)
        joined = (
            A[["eps_g_mean", "eps_g_se", "params_fraction"]]
            .add_suffix("_a")
            .join(B[["eps_g_mean", "eps_g_se"]].add_suffix("_b"), how="inner")
            .rename(columns={"params_fraction_a": "params_fraction"})
        )
        joined = joined.reset_index()
        joined = joined[joined.kept_units < joined.K]
        joined["difference"] = joined.eps_g_mean_a - joined.eps_g_mean_b
        joined["mask_se"] = np.sqrt(joined.eps_g_se_a**2 + joined.eps_g_se_b**2)
        own = _verdict(
            joined.difference.to_numpy(), stats.norm.ppf(0.5 + LEVEL / 2) * joined.mask_se
        )
        joined["own_better"] = own == "better"
        joined["own_worse"] = own == "worse"
        rows = []
        for key, g in joined.groupby([*GROUP, "kept_units"], sort=True):
            rows.append(
                (*key, float(g.params_fraction.mean()), float(g.eps_g_mean_a.mean()),
                 float(g.eps_g_mean_b.mean()), float(g.difference.mean()),
                 _student_sem(g.difference, g.mask_se), len(g), int(g.own_better.sum()),
                 int(g.own_worse.sum()))
            )  # fmt: skip
        agg = pd.DataFrame(
            rows,
            columns=[*GROUP, "kept_units", "params_fraction", "eps_a", "eps_b", "difference", "se",
                     "students", "students_better", "students_worse"],
        )  # fmt: skip
        agg["claim"] = claim
        frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    threshold = out.se * out.students.map(critical_value)
    out["verdict"] = _verdict(out.difference.to_numpy(), threshold.to_numpy())
    return out[COMPARISON_COLUMNS]


def summarise(comparisons: pd.DataFrame) -> pd.DataFrame:
    """One row per group and claim: how many budgets ``a`` wins, loses, ties, where it wins.

    Returns
    -------
    pd.DataFrame
        Columns ``student, K, M, sigma, reweight, claim, points`` (budgets compared), ``better``,
        ``worse``, ``tied`` (counts of the verdicts over students), ``students``, ``unanimous``
        (budgets at which every student is significantly better on its own masks),
        ``better_fractions`` (the parameter fractions where ``a`` is significantly better, as
        text) and ``max_gain`` (largest ``eps_b - eps_a``).
    """
    rows = []
    for key, group in comparisons.groupby([*GROUP, "claim"], sort=False):
        wins = group[group.verdict == "better"]
        rows.append(
            (
                *key, len(group), len(wins), int((group.verdict == "worse").sum()),
                int((group.verdict == "tied").sum()), int(group.students.max()),
                int((group.students_better == group.students).sum()),
                ", ".join(f"{f:.2f}" for f in wins.params_fraction),
                float((-group.difference).max()),
            )
        )  # fmt: skip
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def pruning_summary(pruning: pd.DataFrame) -> pd.DataFrame:
    """One row per setting, noise level, student kind, method, reweighting and budget.

    Returns
    -------
    pd.DataFrame
        Columns ``K, M, sigma, student`` (``sgd`` or ``ideal``), ``method, reweight``,
        ``kept_fraction`` (fraction of first-layer parameters kept), ``eps_g_mean`` (mean over
        students of their mask averages), ``eps_g_sem`` (its standard error over students; for
        one student, over its masks), ``n_students``. A budget of the whole layer is the unpruned
        student.
    """
    rows = []
    keys = ["K", "M", "sigma", "student", "method", "reweight", "kept_units"]
    for key, g in pruning.groupby(keys, sort=True):
        rows.append(
            (*key[:-1], float(g.params_fraction.mean()), _student_mean(g.eps_g_mean),
             _student_sem(g.eps_g_mean, g.eps_g_se), g.replica.nunique())
        )  # fmt: skip
    return pd.DataFrame(rows, columns=PRUNING_SUMMARY_COLUMNS)


def mnist_ranking(pruning: pd.DataFrame) -> pd.DataFrame:
    """Mean test error of every MNIST method at every budget, and its rank (1 = best).

    Returns
    -------
    pd.DataFrame
        Columns ``reweight, kept_percent, kept_units, edges_per_unit, params_fraction, method,
        test_error`` (mean over networks and draws), ``se`` (standard error over networks of the
        per-network means; 0 for one network), ``networks``, ``rank`` (within the budget and
        reweighting), ``test_error_unpruned`` (mean over networks).
    """
    per_network = pruning.groupby(
        ["reweight", "kept_percent", "method", "network"], as_index=False
    ).agg(
        test_error=("test_error", "mean"),
        kept_units=("kept_units", "first"),
        edges_per_unit=("edges_per_unit", "first"),
        params_fraction=("params_fraction", "mean"),
        test_error_unpruned=("test_error_unpruned", "first"),
    )
    out = per_network.groupby(["reweight", "kept_percent", "method"], as_index=False).agg(
        kept_units=("kept_units", "first"),
        edges_per_unit=("edges_per_unit", "first"),
        params_fraction=("params_fraction", "mean"),
        test_error=("test_error", "mean"),
        se=("test_error", lambda s: s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else 0.0),
        networks=("network", "nunique"),
        test_error_unpruned=("test_error_unpruned", "mean"),
    )
    out["rank"] = (
        out.groupby(["reweight", "kept_percent"]).test_error.rank(method="min").astype(int)
    )
    return out[
        ["reweight", "kept_percent", "kept_units", "edges_per_unit", "params_fraction", "method",
         "test_error", "se", "networks", "rank", "test_error_unpruned"]
    ]  # fmt: skip


def describe(summary: pd.DataFrame) -> list[str]:
    """One sentence per row of :func:`summarise`, e.g. for the notebooks' conclusions."""
    sentences = []
    for row in summary.itertuples(index=False):
        who = (
            "ideal specialised student"
            if row.student == "ideal"
            else f"{row.students} SGD students, sigma={row.sigma:g}"
        )
        rw = "with" if row.reweight else "without"
        a, b = row.claim.replace("_", " ").split(" beats ")
        if row.better == row.points:
            verdict = "holds at every budget"
        elif row.better == 0:
            verdict = "does not hold at any budget"
        else:
            verdict = (
                f"holds at {row.better} of {row.points} budgets (fractions {row.better_fractions})"
            )
        agree = (
            f"; every student agrees on its own at {row.unanimous} budgets"
            if row.students > 1
            else ""
        )
        sentences.append(
            f"K={row.K}, M={row.M}, {who}, {rw} reweighting: '{a} beats {b}' {verdict}; "
            f"{a} is worse at {row.worse}, tied at {row.tied}{agree}; largest gain "
            f"{row.max_gain:.3g}."
        )
    return sentences


def ode_sgd_agreement(dynamics: pd.DataFrame) -> pd.DataFrame:
    """How far each student's SGD run lies from the ODE started at its initial state, per (K, M,
    sigma, student), over the times t > 0.

    Returns
    -------
    pd.DataFrame
        Columns ``K, M, sigma, replica``, ``median_rel`` and ``max_rel`` (median and largest
        ``|SGD - ODE| / ODE``), ``worst_t`` (where the largest is), ``eps_ode_final``,
        ``eps_sgd_final``.
    """
    rows = []
    for (K, M, sigma, replica), frame in dynamics.groupby(["K", "M", "sigma", "replica"]):
        sgd = frame[(frame.source == "sgd") & (frame.t > 0)].set_index("t").eps_g
        ode = frame[(frame.source == "ode") & (frame.t > 0)].set_index("t").eps_g.reindex(sgd.index)
        rel = (sgd - ode).abs() / ode
        rows.append(
            (K, M, sigma, replica, float(rel.median()), float(rel.max()), float(rel.idxmax()),
             float(ode.iloc[-1]), float(sgd.iloc[-1]))
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["K", "M", "sigma", "replica", "median_rel", "max_rel", "worst_t", "eps_ode_final",
                 "eps_sgd_final"],
    )  # fmt: skip
