"""The paper's claims as numbers: paired comparisons of pruning methods at matched parameter counts.

A comparison of method ``a`` against method ``b`` is paired: at every number of kept units ``k``
both prune the same trained student, so the difference ``eps_g(a) - eps_g(b)`` is taken per
replica, then averaged over replicas; its standard error comes from the masks (the students are
the fixed population being pruned). ``a`` is significantly better at ``k`` when the mean difference
is below ``-z`` standard errors (worse when above ``+z``); deterministic pairs (se 0) count by sign
alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the comparisons of the paper: (claim, method a, method b); "a beats b" is the claim
CLAIMS = (
    ("dpp_beats_random_node", "dpp_node", "random_node"),
    ("dpp_beats_importance_node", "dpp_node", "importance_node"),
    ("random_edge_beats_dpp_node", "random_edge", "dpp_node"),
    ("random_edge_beats_random_node", "random_edge", "random_node"),
    ("importance_edge_beats_importance_node", "importance_edge", "importance_node"),
)

GROUP = ["student", "K", "M", "sigma", "reweight"]
COMPARISON_COLUMNS = [
    *GROUP, "claim", "kept_units", "params_fraction", "eps_a", "eps_b", "difference", "se",
    "verdict",
]  # fmt: skip
SUMMARY_COLUMNS = [
    *GROUP, "claim", "points", "better", "worse", "tied", "better_fractions", "max_gain",
]  # fmt: skip


def paired_comparisons(pruning: pd.DataFrame, z: float = 2.0) -> pd.DataFrame:
    """Every claim of :data:`CLAIMS` at every ``kept_units < K`` of every group.

    Parameters
    ----------
    pruning
        Rows of :func:`prunephase.teacher_student.experiments.prune` (any number of groups).
    z
        Standard errors a difference must exceed to count.

    Returns
    -------
    pd.DataFrame
        Columns ``student, K, M, sigma, reweight, claim, kept_units, params_fraction`` (of the node
        budget, ``k / K`` up to the bias), ``eps_a``, ``eps_b`` (replica means), ``difference``
        (mean of ``eps_a - eps_b``), ``se``, ``verdict`` ("better", "worse" or "tied", for ``a``).
    """
    frames = []
    keys = [*GROUP, "kept_units", "replica"]
    for claim, a, b in CLAIMS:
        A = pruning[pruning.method == a].set_index(keys)
        B = pruning[pruning.method == b].set_index(keys)
        joined = A[["eps_g_mean", "eps_g_se", "params_fraction"]].join(
            B[["eps_g_mean", "eps_g_se"]], lsuffix="_a", rsuffix="_b", how="inner"
        )
        joined = joined.reset_index()
        joined = joined[joined.kept_units < joined.K]
        joined["difference"] = joined.eps_g_mean_a - joined.eps_g_mean_b
        joined["var"] = joined.eps_g_se_a**2 + joined.eps_g_se_b**2
        agg = joined.groupby([*GROUP, "kept_units"], as_index=False).agg(
            params_fraction=("params_fraction", "mean"),
            eps_a=("eps_g_mean_a", "mean"),
            eps_b=("eps_g_mean_b", "mean"),
            difference=("difference", "mean"),
            var=("var", "sum"),
            replicas=("replica", "nunique"),
        )
        agg["se"] = np.sqrt(agg["var"]) / agg["replicas"]
        agg["claim"] = claim
        frames.append(agg.drop(columns=["var", "replicas"]))
    out = pd.concat(frames, ignore_index=True)
    threshold = z * out.se
    out["verdict"] = np.where(
        out.difference < -threshold - 1e-12,
        "better",
        np.where(out.difference > threshold + 1e-12, "worse", "tied"),
    )
    return out[COMPARISON_COLUMNS]


def summarise(comparisons: pd.DataFrame) -> pd.DataFrame:
    """One row per group and claim: how many budgets ``a`` wins, loses, ties, where it wins.

    Returns
    -------
    pd.DataFrame
        Columns ``student, K, M, sigma, reweight, claim, points`` (budgets compared), ``better``,
        ``worse``, ``tied`` (counts), ``better_fractions`` (the parameter fractions where ``a`` is
        significantly better, as text) and ``max_gain`` (largest ``eps_b - eps_a``).
    """
    rows = []
    for key, group in comparisons.groupby([*GROUP, "claim"], sort=False):
        wins = group[group.verdict == "better"]
        rows.append(
            (
                *key, len(group), len(wins), int((group.verdict == "worse").sum()),
                int((group.verdict == "tied").sum()),
                ", ".join(f"{f:.2f}" for f in wins.params_fraction),
                float((-group.difference).max()),
            )
        )  # fmt: skip
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def mnist_ranking(pruning: pd.DataFrame) -> pd.DataFrame:
    """Mean test error of every MNIST method at every budget, and its rank (1 = best).

    Returns
    -------
    pd.DataFrame
        Columns ``reweight, kept_units, params_fraction, method, test_error`` (mean over networks
        and draws), ``se`` (standard error over networks of the per-network means; 0 for one
        network), ``rank`` (within the budget and reweighting), ``test_error_unpruned``.
    """
    per_network = pruning.groupby(
        ["reweight", "kept_units", "method", "network"], as_index=False
    ).agg(
        test_error=("test_error", "mean"),
        params_fraction=("params_fraction", "mean"),
        test_error_unpruned=("test_error_unpruned", "first"),
    )
    out = per_network.groupby(["reweight", "kept_units", "method"], as_index=False).agg(
        params_fraction=("params_fraction", "mean"),
        test_error=("test_error", "mean"),
        se=("test_error", lambda s: s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else 0.0),
        test_error_unpruned=("test_error_unpruned", "mean"),
    )
    out["rank"] = out.groupby(["reweight", "kept_units"]).test_error.rank(method="min").astype(int)
    return out[
        ["reweight", "kept_units", "params_fraction", "method", "test_error", "se", "rank",
         "test_error_unpruned"]
    ]  # fmt: skip


def describe(summary: pd.DataFrame) -> list[str]:
    """One sentence per row of :func:`summarise`, e.g. for the notebooks' conclusions."""
    sentences = []
    for row in summary.itertuples(index=False):
        who = (
            "ideal specialised student"
            if row.student == "specialised"
            else (f"SGD students, sigma={row.sigma:g}")
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
        sentences.append(
            f"K={row.K}, M={row.M}, {who}, {rw} reweighting: '{a} beats {b}' {verdict}; "
            f"{a} is worse at {row.worse}, tied at {row.tied}; largest gain {row.max_gain:.3g}."
        )
    return sentences


def ode_sgd_agreement(dynamics: pd.DataFrame) -> pd.DataFrame:
    """How far the ODE lies from the SGD replicas, per (K, M, sigma), over the times t > 0.

    Returns
    -------
    pd.DataFrame
        Columns ``K, M, sigma, replicas``, ``max_z`` (largest ``|ODE - SGD mean|`` over the
        replicas' standard deviation at that time), ``worst_t`` (where), ``median_z``, ``max_rel``
        (largest ``|ODE - SGD mean| / ODE``), ``within`` (fraction of the times at which the ODE
        lies within 3 standard deviations plus 2% of the replica mean, the criterion of the tests),
        ``eps_ode_final``, ``eps_sgd_final``, ``eps_sgd_final_std``.
    """
    rows = []
    for (K, M, sigma), frame in dynamics.groupby(["K", "M", "sigma"]):
        sgd = frame[frame.source == "sgd"].pivot(index="t", columns="replica", values="eps_g")
        ode = frame[frame.source == "ode"].set_index("t").eps_g.reindex(sgd.index)
        keep = sgd.index > 0
        mean, std = sgd.mean(axis=1)[keep], sgd.std(axis=1, ddof=1)[keep]
        gap = (ode[keep] - mean).abs()
        z = gap / std
        within = float((gap < 3 * std + 0.02 * ode[keep]).mean())
        rows.append(
            (K, M, sigma, sgd.shape[1], float(z.max()), float(z.idxmax()), float(z.median()),
             float((gap / ode[keep]).max()), within, float(ode.iloc[-1]), float(mean.iloc[-1]),
             float(std.iloc[-1]))
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["K", "M", "sigma", "replicas", "max_z", "worst_t", "median_z", "max_rel", "within",
                 "eps_ode_final", "eps_sgd_final", "eps_sgd_final_std"],
    )  # fmt: skip
