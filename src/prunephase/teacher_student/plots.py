"""Figures of the teacher-student pruning study (paper C); each function returns a Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from prunephase.teacher_student.theory import random_edge_error_specialised

COLOURS = {
    "random_node": "tab:blue",
    "importance_node": "tab:orange",
    "dpp_node": "tab:green",
    "random_edge": "tab:red",
    "importance_edge": "tab:purple",
}
LABELS = {
    "random_node": "random node",
    "importance_node": "importance node",
    "dpp_node": "DPP node",
    "random_edge": "random edge",
    "importance_edge": "importance edge",
}
#: the four comparisons of the paper's figures
COMPARISONS = (
    ("random edge vs random node", ("random_edge", "random_node")),
    ("importance node vs importance edge", ("importance_node", "importance_edge")),
    ("DPP vs random and importance node", ("dpp_node", "random_node", "importance_node")),
    ("random edge vs DPP node", ("random_edge", "dpp_node")),
)


def plot_dynamics(dynamics: pd.DataFrame) -> plt.Figure:
    """eps_g(t) of the ODE (black) and of every SGD replica (colour); a panel per (K, M, sigma)."""
    groups = list(dynamics.groupby(["K", "M", "sigma"]))
    settings = sorted({(k, m) for (k, m, _), _ in groups})
    sigmas = sorted({s for (_, _, s), _ in groups})
    fig, axes = plt.subplots(
        len(settings), len(sigmas), figsize=(4.2 * len(sigmas), 3.3 * len(settings)), squeeze=False
    )
    for (K, M, sigma), frame in groups:
        ax = axes[settings.index((K, M)), sigmas.index(sigma)]
        for r, rep in frame[frame.source == "sgd"].groupby("replica"):
            ax.plot(rep.t[rep.t > 0], rep.eps_g[rep.t > 0], lw=1, alpha=0.7, label=f"SGD {r}")
        ode = frame[(frame.source == "ode") & (frame.t > 0)]
        ax.plot(ode.t, ode.eps_g, "k--", lw=1.5, label="ODE")
        ax.set(xscale="log", yscale="log", xlabel="t (steps / N)", ylabel=r"$\epsilon_g$")
        ax.set_title(f"K={K}, M={M}, $\\sigma$={sigma:g}")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _aggregate(pruning: pd.DataFrame) -> pd.DataFrame:
    """Mean over replicas of the mask-averaged error, with the mask standard error."""
    return pruning.groupby(
        ["student", "K", "M", "sigma", "reweight", "method", "kept_units"], as_index=False
    ).agg(
        params_fraction=("params_fraction", "mean"),
        eps=("eps_g_mean", "mean"),
        se=("eps_g_se", lambda s: np.sqrt((s**2).sum()) / len(s)),
        unpruned=("eps_g_unpruned", "mean"),
    )


def plot_comparisons(pruning: pd.DataFrame, reweight: bool) -> plt.Figure:
    """eps_g vs fraction of first-layer parameters kept: one row per (student, K, sigma), one
    column per comparison of :data:`COMPARISONS`; the dotted line is the unpruned error."""
    agg = _aggregate(pruning[pruning.reweight == reweight])
    rows = list(agg.groupby(["student", "K", "M", "sigma"], sort=True))
    fig, axes = plt.subplots(
        len(rows), len(COMPARISONS), figsize=(4 * len(COMPARISONS), 2.8 * len(rows)), squeeze=False
    )
    for i, ((student, K, M, sigma), frame) in enumerate(rows):
        for j, (title, methods) in enumerate(COMPARISONS):
            ax = axes[i, j]
            for method in methods:
                m = frame[frame.method == method].sort_values("kept_units")
                ax.errorbar(
                    m.params_fraction, m.eps, yerr=m.se, marker="o", ms=3, lw=1,
                    color=COLOURS[method], label=LABELS[method],
                )  # fmt: skip
            ax.axhline(frame.unpruned.mean(), color="k", ls=":", lw=1, label="unpruned")
            ax.set_yscale("symlog", linthresh=1e-2)
            ax.set_ylim(bottom=0)
            who = "ideal specialised" if student == "specialised" else f"SGD, $\\sigma$={sigma:g}"
            ax.set_title(f"{title}\nK={K}, M={M}, {who}", fontsize=8)
            ax.set_xlabel("fraction of parameters kept", fontsize=8)
            ax.set_ylabel(r"$\epsilon_g$", fontsize=8)
            if i == 0:
                ax.legend(fontsize=6)
    fig.suptitle("with reweighting" if reweight else "without reweighting")
    fig.tight_layout()
    return fig


def plot_random_edge_theory(specialised: pd.DataFrame, N: int, v_star: float) -> plt.Figure:
    """Closed form of random edge pruning of the ideal specialised student (line) against the
    error averaged over sampled masks at N (points, with standard errors), one panel per (K, M)."""
    edge = specialised[(specialised.method == "random_edge") & ~specialised.reweight]
    groups = list(edge.groupby(["K", "M"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3.5), squeeze=False)
    c = np.linspace(0, 1, 201)
    for ax, ((K, M), frame) in zip(axes[0], groups, strict=True):
        ax.plot(c, random_edge_error_specialised(c, M, K // M, v_star), "k-", label="closed form")
        ax.errorbar(
            frame.edges_per_unit / N, frame.eps_g_mean, yerr=frame.eps_g_se, fmt="o", ms=4,
            color=COLOURS["random_edge"], label=f"sampled masks, N={N}",
        )  # fmt: skip
        ax.set(xlabel="keep probability c", ylabel=r"$\epsilon_g$", title=f"K={K}, M={M}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_heatmaps(heatmaps: pd.DataFrame, columns: list[tuple[str, str]]) -> plt.Figure:
    """Mask-averaged pruned Q and R, one row per method; ``columns`` lists (student, matrix)."""
    methods = list(COLOURS)
    fig, axes = plt.subplots(
        len(methods), len(columns), figsize=(2.6 * len(columns), 2.3 * len(methods)), squeeze=False
    )
    for i, method in enumerate(methods):
        for j, (student, matrix) in enumerate(columns):
            frame = heatmaps[
                (heatmaps.method == method)
                & (heatmaps.student == student)
                & (heatmaps.matrix == matrix)
            ]
            mat = frame.pivot(index="row", columns="col", values="value").to_numpy()
            ax = axes[i, j]
            bound = np.abs(mat).max() or 1.0
            im = ax.imshow(mat, cmap="RdBu_r", vmin=-bound, vmax=bound)
            fig.colorbar(im, ax=ax, fraction=0.046)
            ax.set_xticks([])
            ax.set_yticks([])
            who = "ideal" if student == "specialised" else "SGD"
            k = frame.kept_units.iloc[0]
            ax.set_title(f"{LABELS[method]}: E[{matrix}] ({who}, k={k})", fontsize=7)
    fig.tight_layout()
    return fig


def plot_mnist(ranking: pd.DataFrame) -> plt.Figure:
    """MNIST test error vs % of first-layer parameters kept, without and with reweighting."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, reweight in zip(axes, (False, True), strict=True):
        frame = ranking[ranking.reweight == reweight]
        for method, m in frame.groupby("method"):
            m = m.sort_values("params_fraction")
            ax.errorbar(
                100 * m.params_fraction, 100 * m.test_error, yerr=100 * m.se, marker="o", ms=3,
                color=COLOURS[method], label=LABELS[method],
            )  # fmt: skip
        ax.axhline(100 * frame.test_error_unpruned.mean(), color="k", ls=":", label="unpruned")
        ax.set(xlabel="% of first-layer parameters kept", yscale="log")
        ax.set_title("with reweighting" if reweight else "without reweighting")
    axes[0].set_ylabel("test error (%)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
