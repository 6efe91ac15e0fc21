"""Figures of the RAP study (paper B). Each function draws on axes it is given or creates."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from prunephase.rap.instance import RAPInstance

LAYER_COLOURS = {1: "tab:blue", 2: "tab:orange", 3: "tab:green"}
POPULATION_LABELS = {
    1: "$W^1$ (input-hidden 1)",
    2: "$W^2$ (hidden 1-hidden 2)",
    3: "$W^3$ (output)",
}


def model_schematic(instance: RAPInstance) -> Figure:
    """Fig. 1: the active paths of a small network and the factor graph they define."""
    fig, (ax_net, ax_fg) = plt.subplots(1, 2, figsize=(10, 4.2))
    n = instance.n
    ys = np.linspace(1, 0, n)
    layer_x = [0, 1, 2, 3]
    units = {(0, u): (0, ys[u]) for u in range(n)}
    units |= {(1, u): (1, ys[u]) for u in range(n)} | {(2, u): (2, ys[u]) for u in range(n)}
    units[(3, 0)] = (3, 0.5)
    for a in range(n):
        for b in range(n):
            for lx in (0, 1):
                (x0, y0), (x1, y1) = units[(lx, a)], units[(lx + 1, b)]
                ax_net.plot([x0, x1], [y0, y1], color="0.88", lw=0.8, zorder=1)
        (x0, y0), (x1, y1) = units[(2, a)], units[(3, 0)]
        ax_net.plot([x0, x1], [y0, y1], color="0.88", lw=0.8, zorder=1)
    coords, pop = instance.coords, instance.population
    colours = plt.get_cmap("tab10")
    for a, path in enumerate(instance.paths):
        i, j = coords[path[0]]
        k = coords[path[2], 0]
        chain = [units[(0, i)], units[(1, j)], units[(2, k)], units[(3, 0)]]
        offset = 0.012 * (a - len(instance.paths) / 2)
        ax_net.plot(
            [c[0] for c in chain], [c[1] + offset for c in chain], color=colours(a % 10), lw=1.6
        )
    on_path = {(0, c[0]) for c in coords[pop == 0]} | {(1, c[1]) for c in coords[pop == 0]}
    on_path |= {(2, c[0]) for c in coords[pop == 2]}
    for key, (x, y) in units.items():
        filled = key in on_path or key[0] == 3
        ax_net.scatter(x, y, s=140, zorder=3, edgecolor="k", color="k" if filled else "w")
    for u in range(n):
        sign = "+" if instance.x[u] > 0 else "−"
        ax_net.annotate(
            f"$x_{u + 1}={sign}1$",
            (0, ys[u]),
            xytext=(-52, -4),
            textcoords="offset points",
            fontsize=8,
        )
    ax_net.set_xticks(layer_x, ["input", "hidden 1", "hidden 2", "output"])
    ax_net.set_yticks([])
    ax_net.set_xlim(-0.45, 3.2)
    for side in ("left", "right", "top"):
        ax_net.spines[side].set_visible(False)
    ax_net.set_title(f"(a) {instance.n_paths} active paths (black: units on a path)")

    # factor graph: weights stacked by population on the left, paths (constraints) on the right
    n_w = instance.n_weights
    weight_y = 1 - (np.arange(n_w) + 0.5) / n_w
    path_y = 1 - (np.arange(instance.n_paths) + 0.5) / instance.n_paths
    for a, path in enumerate(instance.paths):
        for w in path:
            ax_fg.plot([0, 1], [weight_y[w], path_y[a]], color=colours(a % 10), lw=1.0, zorder=1)
        sign = "+" if instance.xi[a] > 0 else "−"
        ax_fg.scatter(1, path_y[a], marker="s", s=150, color=colours(a % 10), zorder=3)
        ax_fg.annotate(sign, (1, path_y[a]), ha="center", va="center", color="w", zorder=4)
    for level in range(3):
        members = np.flatnonzero(pop == level)
        ax_fg.scatter(
            np.zeros(members.size),
            weight_y[members],
            s=110,
            zorder=3,
            color=LAYER_COLOURS[level + 1],
            edgecolor="k",
            label=f"$w^{level + 1}$",
        )
        for w in members:
            a_, b_ = coords[w] + 1
            name = (
                f"$w^1_{{{a_}{b_}}}$"
                if level == 0
                else (f"$w^2_{{{a_}{b_}}}$" if level == 1 else f"$w^3_{{{a_}}}$")
            )
            ax_fg.annotate(
                name, (0, weight_y[w]), xytext=(-30, -3), textcoords="offset points", fontsize=8
            )
    ax_fg.set_xlim(-0.3, 1.2)
    ax_fg.set_xticks([0, 1], ["weights", "active paths"])
    ax_fg.set_yticks([])
    for side in ("left", "right", "top"):
        ax_fg.spines[side].set_visible(False)
    ax_fg.legend(fontsize=8, loc="lower center", ncol=3, bbox_to_anchor=(0.4, -0.25))
    ax_fg.set_title(r"(b) factor graph (square: path $a$, sign $\xi_a$)")
    fig.tight_layout()
    return fig


def activation_figure(table: pd.DataFrame) -> Figure:
    """Fig. 2: activation probability of each hidden layer after training, and during training."""
    fig, (ax_trial, ax_epoch) = plt.subplots(1, 2, figsize=(10, 3.8))
    final = table[table["epoch"] == table["epoch"].max()]
    for col, label, marker in (
        ("p_layer1", "hidden layer 1", "o"),
        ("p_layer2", "hidden layer 2", "s"),
    ):
        ax_trial.plot(final["trial"] + 1, final[col], marker=marker, ls="-", label=label)
        stats = table.groupby("epoch")[col].agg(["mean", "std"])
        ax_epoch.plot(stats.index, stats["mean"], label=label)
        ax_epoch.fill_between(
            stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"], alpha=0.25
        )
    ax_trial.set_xlabel("trial")
    ax_trial.set_ylabel("activation probability after training")
    ax_trial.set_title("(a) per trial")
    ax_trial.legend()
    ax_epoch.set_xlabel("epoch")
    ax_epoch.set_ylabel("activation probability (mean ± sd over trials)")
    ax_epoch.set_title("(b) during training")
    fig.tight_layout()
    return fig


def q_axis(ax: Axes, axis: str = "x") -> None:
    """Logit scale for a dilution axis (the transitions sit at 1 - q of order 1/N), plain labels."""
    ticks = [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999]
    getattr(ax, f"set_{axis}scale")("logit")
    lo, hi = getattr(ax, f"get_{axis}lim")()
    shown = [t for t in ticks if lo <= t <= hi]
    getattr(ax, f"set_{axis}ticks")(shown, [f"{t:g}" for t in shown])
    getattr(ax, f"set_{axis}ticks")([], minor=True)


def degree_histogram_plot(ax: Axes, table: pd.DataFrame) -> None:
    """Fig. 3a: fraction of weights against degree, one colour per population (log degree)."""
    edges = np.unique(np.round(np.logspace(0, np.log10(table["degree"].max() + 1), 40)))
    for population, group in table.groupby("population"):
        ax.hist(
            group["degree"],
            bins=edges,
            weights=group["fraction"],
            alpha=0.75,
            color=LAYER_COLOURS[population],
            label=POPULATION_LABELS[population],
        )
    ax.set_xscale("log")
    ax.set_xlabel("degree (active paths through a weight)")
    ax.set_ylabel("fraction of weights")
    ax.legend(fontsize=8)


def transition_interval(avg: pd.DataFrame) -> tuple[float, float]:
    """Grid interval of q where the majority of instances turns from ordered to paramagnetic."""
    ordered = avg.sort_values("q")
    below = ordered[ordered["eq_ordered"] >= 0.5]["q"]
    above = ordered[ordered["eq_ordered"] < 0.5]["q"]
    return (
        float(below.max()) if len(below) else np.nan,
        float(above.min()) if len(above) else np.nan,
    )


def dilution_energy(
    ax: Axes, avg: pd.DataFrame, layer: int, beta: float, q_min: float = 0.0
) -> Axes:
    """Fig. 3b/c: energy per weight against q >= q_min (BP, exact, MC); inset: entropy.

    Returns the inset.
    """
    avg = avg[avg["q"] >= q_min]
    q = avg["q"]
    ax.plot(q, avg["eq_e"], "k-", lw=1.8, label="BP (lower Bethe $f$)")
    exists = avg["ord_exists"] > 0
    ax.plot(q[exists], avg["ord_e"][exists], "C0--", lw=1, label="BP ordered branch")
    ax.plot(q, avg["para_e"], "C3:", lw=1.2, label=r"BP paramagnet $-\alpha\tanh\beta$")
    ax.plot(q, avg["exact_e"], color="0.5", lw=4, alpha=0.4, label="exact (block solution)")
    ax.errorbar(
        q,
        avg["mc_e"],
        yerr=avg["mc_e_sem"],
        fmt="o",
        ms=4,
        color="C2",
        capsize=2,
        label="Monte Carlo (± s.e. over instances)",
    )
    lo, hi = transition_interval(avg)
    if np.isfinite(lo) and np.isfinite(hi):
        ax.axvspan(lo, hi, color="0.85", zorder=0)
    q_axis(ax)
    ax.set_xlabel(f"dilution $q_{layer}$ of $W^{layer}$")
    ax.set_ylabel("energy per weight $e$")
    ax.set_title(f"diluting $W^{layer}$, β = {beta:g}")
    inset = ax.inset_axes([0.58, 0.1, 0.38, 0.33])
    inset.plot(q, avg["eq_s"], "k-", lw=1.2)
    inset.plot(q, avg["exact_s"], color="0.5", lw=3, alpha=0.4)
    q_axis(inset)
    inset.set_ylabel("$s$", fontsize=8)
    inset.tick_params(labelsize=6)
    return inset


def free_energy_gap(ax: Axes, frame: pd.DataFrame, q_min: float = 0.0) -> None:
    """f_ordered - f_paramagnetic against q, one line per instance, where the ordered branch exists.

    Below zero the ordered branch wins; it crosses zero at q_c and ends at its spinodal.
    """
    frame = frame[(frame["q"] >= q_min) & frame["ord_exists"].astype(bool)]
    for k, one in frame.groupby("instance"):
        one = one.sort_values("q")
        ax.plot(one["q"], one["ord_f"] - one["para_f"], "o-", ms=3, lw=1, label=f"instance {k}")
    ax.axhline(0, color="k", lw=0.8)
    q_axis(ax)
    ax.set_xlabel("dilution q")
    ax.set_ylabel(r"$f_{\rm ordered} - f_{\rm para}$ (Bethe)")


def critical_figure(summary: pd.DataFrame) -> Figure:
    """Fig. 4: q_c (and the spinodal of the ordered branch) against beta, one curve per p2."""
    fig, (ax, ax_jump) = plt.subplots(1, 2, figsize=(10, 4))
    for ci, (p2, group) in enumerate(summary.groupby("p2")):
        colour = f"C{ci}"
        ax.errorbar(
            group["beta"],
            group["q_c"],
            yerr=group["q_c_se"],
            fmt="o-",
            color=colour,
            capsize=2,
            label=f"$q_c$, $p_2$ = {p2:g}",
        )
        ax.plot(group["beta"], group["q_spinodal"], "--", color=colour, lw=1)
        ax_jump.errorbar(
            group["beta"],
            group["s_jump"],
            yerr=group["s_jump_se"],
            fmt="o-",
            color=colour,
            capsize=2,
            label=f"$p_2$ = {p2:g}",
        )
    ax.plot([], [], "k--", lw=1, label="spinodal of the ordered branch")
    q_axis(ax, "y")
    ax.set_xlabel(r"inverse temperature $\beta$")
    ax.set_ylabel("critical dilution $q_c$")
    ax.legend(fontsize=8)
    ax.set_title("(a) transition: ordered and paramagnetic $f$ cross")
    ax_jump.set_xlabel(r"inverse temperature $\beta$")
    ax_jump.set_ylabel(r"entropy jump $s_{para} - s_{ord}$ at $q_c$")
    ax_jump.set_title("(b) first order: entropy jump")
    ax_jump.legend(fontsize=8)
    fig.tight_layout()
    return fig


def annealing_plot(ax: Axes, table: pd.DataFrame) -> None:
    """Fig. 5a: final energy above the ground state against sweeps per temperature.

    The excess e + alpha (per weight) is taken instance by instance, which removes the spread of
    alpha between instances; the exact equilibrium excess at the last beta is the reference.
    """
    final = table[table["step"] == table["step"].max()]
    excess = (final["e"] - final["ground_e"]).groupby(final["sweeps_per_temperature"])
    stats = excess.agg(["mean", "sem"])
    ax.errorbar(
        stats.index,
        stats["mean"],
        yerr=stats["sem"],
        fmt="o-",
        capsize=3,
        label="simulated annealing, final state",
    )
    reference = (final["exact_e"] - final["ground_e"]).groupby(final["instance"]).first().mean()
    beta_end = final["beta"].iloc[0]
    ax.axhline(reference, color="C3", ls="--", label=f"exact equilibrium at β = {beta_end:g}")
    ax.axhline(0, color="k", ls=":", label=r"ground state ($e = -\alpha$)")
    ax.set_xscale("log")
    ax.set_xlabel("sweeps per temperature (slower cooling →)")
    ax.set_ylabel(r"energy above the ground state, $e + \alpha$")
    ax.legend(fontsize=8)


def low_temperature_plot(ax_s: Axes, ax_e: Axes, avg: pd.DataFrame, diffs: dict) -> None:
    """Fig. 5b/c: entropy of the BP fixed points against beta; paired energy differences.

    ``diffs`` maps a label to a :func:`~prunephase.rap.analysis.paired_difference` table by beta.
    """
    ax_s.plot(avg["beta"], avg["eq_s"], "k-o", ms=4, label="BP (lower Bethe $f$)")
    exists = avg["ord_exists"] > 0
    ax_s.plot(avg["beta"][exists], avg["ord_s"][exists], "C0--s", ms=3, label="BP ordered branch")
    ax_s.plot(avg["beta"], avg["para_s"], "C3:", label="BP paramagnet (closed form)")
    ax_s.plot(avg["beta"], avg["exact_s"], color="0.5", lw=4, alpha=0.4, label="exact")
    ax_s.axhline(0, color="k", lw=0.6)
    ax_s.set_xlabel(r"inverse temperature $\beta$")
    ax_s.set_ylabel("entropy per weight $s$")
    ax_s.legend(fontsize=8)
    for (label, d), fmt in zip(diffs.items(), ("o-", "s--"), strict=False):
        ax_e.errorbar(
            d["beta"], d["diff"], yerr=d["diff_se"], fmt=fmt, ms=4, capsize=2, label=label
        )
    ax_e.axhline(0, color="k", lw=0.6)
    ax_e.set_xlabel(r"inverse temperature $\beta$")
    ax_e.set_ylabel("difference of energy per weight")
    ax_e.legend(fontsize=8)


def redundancy_panel(ax, curve: pd.DataFrame) -> None:
    """Test error vs fraction of removed connections, per method: mean over runs and draws, with
    the standard error over runs."""
    per_run = curve.groupby(["method", "fraction_removed", "run"])["test_error"].mean()
    stats = per_run.groupby(["method", "fraction_removed"]).agg(["mean", "sem"]).reset_index()
    for method, rows in stats.groupby("method"):
        ax.errorbar(rows["fraction_removed"], rows["mean"], rows["sem"].fillna(0), marker="o",
                    ms=3, label=f"{method} removal")  # fmt: skip
    ax.axhline(0.9, ls="--", color="0.5", lw=1, label="chance (0.9)")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of connections removed")
    ax.set_ylabel("test error")
    ax.legend(fontsize=8)
