"""Figures of the teacher-student pruning study (paper C); each function returns a Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

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
MARKERS = {
    "random_node": "o",
    "importance_node": "s",
    "dpp_node": "D",
    "random_edge": "^",
    "importance_edge": "v",
}
#: panel width and height (inches) and font sizes: legible at the figure's printed size
PANEL = (4.0, 3.2)
FONT = {"title": 11, "label": 11, "tick": 9, "legend": 9}


def _style(ax: plt.Axes) -> None:
    ax.tick_params(labelsize=FONT["tick"])
    ax.grid(True, which="major", alpha=0.3)


def plot_dynamics(dynamics: pd.DataFrame) -> plt.Figure:
    """eps_g(t) of every SGD student (solid) and of the ODE from its initial state (dashed, same
    colour); one panel per (K, M, sigma), panels of one setting sharing their axes."""
    groups = list(dynamics.groupby(["K", "M", "sigma"]))
    settings = sorted({(k, m) for (k, m, _), _ in groups})
    sigmas = sorted({s for (_, _, s), _ in groups})
    fig, axes = plt.subplots(
        len(settings), len(sigmas), figsize=(PANEL[0] * len(sigmas), PANEL[1] * len(settings)),
        squeeze=False, sharex=True, sharey="row",
    )  # fmt: skip
    for (K, M, sigma), frame in groups:
        ax = axes[settings.index((K, M)), sigmas.index(sigma)]
        frame = frame[frame.t > 0]
        for r, student in frame.groupby("replica"):
            colour = f"C{r % 10}"
            sgd, ode = student[student.source == "sgd"], student[student.source == "ode"]
            ax.plot(sgd.t, sgd.eps_g, color=colour, lw=1.2, label=f"student {r}: SGD")
            ax.plot(ode.t, ode.eps_g, color=colour, lw=1.2, ls="--", label=f"student {r}: ODE")
        ax.set(xscale="log", yscale="log")
        ax.set_title(rf"K = {K}, M = {M}, $\sigma$ = {sigma:g}", fontsize=FONT["title"])
        _style(ax)
    for ax in axes[-1]:
        ax.set_xlabel("t (steps / N)", fontsize=FONT["label"])
    for ax in axes[:, 0]:
        ax.set_ylabel(r"$\epsilon_g$", fontsize=FONT["label"])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    rows = -(-len(labels) // 6)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 * rows / fig.get_figheight()))
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 6),
               fontsize=FONT["legend"], bbox_to_anchor=(0.5, 1.0), frameon=False)  # fmt: skip
    return fig


def _log_limits(values: np.ndarray, margin: float = 1.5) -> tuple[float, float]:
    """Limits of a log axis that hold the positive values: from a factor ``margin`` below the
    smallest (at most three decades below the largest) to a factor above the largest."""
    positive = values[values > 0]
    top = float(positive.max())
    bottom = max(float(positive.min()), 1e-3 * top)
    return bottom / margin, top * margin


def plot_comparisons(summary: pd.DataFrame, reweight: bool) -> plt.Figure:
    """eps_g against the fraction of first-layer parameters kept, every method, one panel per
    setting (rows) and student (columns: SGD students at each noise level, then the ideal
    specialised student); mean over students with its standard error over students and masks
    (:func:`prunephase.teacher_student.claims.pruning_summary`). Dotted: the unpruned error.

    Panels of a row share their logarithmic y-axis, which starts where the data are; an error
    below a thousandth of the row's largest (the ideal student's exact zeros) is drawn at the
    axis' bottom edge with an open marker.
    """
    frame = summary[summary.reweight == reweight]
    settings = sorted({(k, m) for k, m in zip(frame.K, frame.M, strict=True)})
    columns = [("sgd", s) for s in sorted(frame[frame.student == "sgd"].sigma.unique())]
    columns += [("ideal", 0.0)] if (frame.student == "ideal").any() else []
    fig, axes = plt.subplots(
        len(settings), len(columns), figsize=(PANEL[0] * len(columns), PANEL[1] * len(settings)),
        squeeze=False, sharex=True, sharey="row",
    )  # fmt: skip
    for i, (K, M) in enumerate(settings):
        row = frame[(frame.K == K) & (frame.M == M)]
        bottom, top = _log_limits(row.eps_g_mean.to_numpy())
        for j, (student, sigma) in enumerate(columns):
            ax = axes[i, j]
            panel = row[(row.student == student) & np.isclose(row.sigma, sigma)]
            for method in [m for m in COLOURS if m in set(panel.method)]:
                m = panel[panel.method == method].sort_values("kept_fraction")
                y = m.eps_g_mean.to_numpy()
                low = y < bottom
                ax.errorbar(
                    m.kept_fraction[~low], y[~low], yerr=m.eps_g_sem[~low], marker=MARKERS[method],
                    ms=4, lw=1.2, capsize=2, color=COLOURS[method], label=LABELS[method],
                )  # fmt: skip
                ax.plot(m.kept_fraction[low], np.full(low.sum(), bottom * 1.05), ls="none",
                        marker=MARKERS[method], mfc="none", color=COLOURS[method])  # fmt: skip
            unpruned = panel[panel.kept_fraction >= 1 - 1e-9].eps_g_mean
            if len(unpruned) and unpruned.mean() > bottom:
                ax.axhline(unpruned.mean(), color="k", ls=":", lw=1, label="unpruned")
            ax.set_yscale("log")
            ax.set_ylim(bottom, top)
            n = int(panel.n_students.max())
            who = (
                "ideal specialised student"
                if student == "ideal"
                else f"SGD, $\\sigma$ = {sigma:g} ({n} students)"
            )
            ax.set_title(f"K = {K}, M = {M}: {who}", fontsize=FONT["title"])
            _style(ax)
    for ax in axes[-1]:
        ax.set_xlabel("fraction of first-layer parameters kept", fontsize=FONT["label"])
    for ax in axes[:, 0]:
        ax.set_ylabel(r"$\epsilon_g$", fontsize=FONT["label"])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    height = fig.get_figheight()
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / height))
    fig.suptitle("with reweighting" if reweight else "without reweighting",
                 fontsize=FONT["title"] + 1, y=1 - 0.02 / height, va="top")  # fmt: skip
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=FONT["legend"],
               bbox_to_anchor=(0.5, 1 - 0.28 / height), frameon=False)  # fmt: skip
    return fig


def plot_random_edge_theory(specialised: pd.DataFrame, N: int, v_star: float) -> plt.Figure:
    """Closed form of random edge pruning of the ideal specialised student (line) against the
    error averaged over sampled masks at N (points, with standard errors), one panel per (K, M)."""
    edge = specialised[(specialised.method == "random_edge") & ~specialised.reweight]
    groups = list(edge.groupby(["K", "M"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(PANEL[0] * len(groups), PANEL[1]),
                             squeeze=False, sharey=True)  # fmt: skip
    c = np.linspace(0, 1, 201)
    for ax, ((K, M), frame) in zip(axes[0], groups, strict=True):
        ax.plot(c, random_edge_error_specialised(c, M, K // M, v_star), "k-", label="closed form")
        ax.errorbar(
            frame.edges_per_unit / N, frame.eps_g_mean, yerr=frame.eps_g_se, fmt="o", ms=4,
            color=COLOURS["random_edge"], label=f"sampled masks, N = {N}",
        )  # fmt: skip
        ax.set_xlabel("keep probability c", fontsize=FONT["label"])
        ax.set_title(f"K = {K}, M = {M}", fontsize=FONT["title"])
        _style(ax)
        ax.legend(fontsize=FONT["legend"])
    axes[0, 0].set_ylabel(r"$\epsilon_g$", fontsize=FONT["label"])
    fig.tight_layout()
    return fig


def plot_heatmaps(heatmaps: pd.DataFrame, columns: list[tuple[str, str]]) -> plt.Figure:
    """Mask-averaged pruned Q and R, one row per method; ``columns`` lists (student, matrix)."""
    methods = list(COLOURS)
    fig, axes = plt.subplots(
        len(methods), len(columns), figsize=(2.8 * len(columns), 2.5 * len(methods)), squeeze=False
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
            who = "ideal" if student == "ideal" else "SGD"
            k = frame.kept_units.iloc[0]
            ax.set_title(f"{LABELS[method]}: E[{matrix}]\n({who}, k = {k})", fontsize=FONT["tick"])
    fig.tight_layout()
    return fig


def plot_mnist(ranking: pd.DataFrame, budget: str) -> plt.Figure:
    """MNIST test error against the budget (``kept_percent``), without and with reweighting,
    mean over networks with its standard error over networks; dotted: the unpruned error. The
    y-axes are logarithmic, each starting where its data are."""
    fig, axes = plt.subplots(1, 2, figsize=(2 * PANEL[0] + 1, PANEL[1] + 0.4), sharex=True)
    for ax, reweight in zip(axes, (False, True), strict=True):
        frame = ranking[ranking.reweight == reweight]
        for method in [m for m in COLOURS if m in set(frame.method)]:
            m = frame[frame.method == method].sort_values("kept_percent")
            ax.errorbar(
                m.kept_percent, 100 * m.test_error, yerr=100 * m.se, marker=MARKERS[method], ms=4,
                lw=1.2, capsize=2, color=COLOURS[method], label=LABELS[method],
            )  # fmt: skip
        unpruned = 100 * frame.test_error_unpruned.mean()
        ax.axhline(unpruned, color="k", ls=":", label="unpruned")
        bottom, top = _log_limits(100 * frame.test_error.to_numpy(), margin=1.1)
        ax.set(yscale="log", ylim=(min(bottom, unpruned / 1.1), top))
        # a log axis over less than a decade: plain numbers, not powers of ten
        for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis(FuncFormatter(lambda y, _: f"{y:g}"))
        ax.set_title("with reweighting" if reweight else "without reweighting",
                     fontsize=FONT["title"])  # fmt: skip
        _style(ax)
    xlabel = (
        "budget (%): share of each unit's input weights kept by edge pruning;\n"
        "node pruning keeps the units the same first- and second-layer weights buy"
        if budget == "joint"
        else "% of first-layer parameters kept"
    )
    fig.supxlabel(xlabel, fontsize=FONT["label"] - 1)
    axes[0].set_ylabel("test error (%)", fontsize=FONT["label"])
    axes[0].legend(fontsize=FONT["legend"])
    fig.tight_layout()
    return fig
