"""Figures of the RAP study (paper B). Each function draws on axes it is given or creates."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from prunephase.rap.analysis import complete_mean, gap_statistics, instance_mean
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
    """Fig. 2: activation probability of each hidden layer after training and during training, and
    the test error during training."""
    fig, (ax_trial, ax_epoch, ax_error) = plt.subplots(1, 3, figsize=(14, 3.8))
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
    for _, rows in table.groupby("trial"):
        ax_error.plot(rows["epoch"], rows["test_error"], color="0.6", lw=0.8)
    mean_error = table.groupby("epoch")["test_error"].mean()
    ax_error.plot(mean_error.index, mean_error, "k-", lw=1.8, label="mean over trials")
    ax_error.set_yscale("log")
    ax_error.set_xlabel("epoch")
    ax_error.set_ylabel("test error")
    ax_error.set_title("(c) test error (grey: each trial)")
    ax_error.legend()
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


def mc_average(frame: pd.DataFrame, by: str = "q") -> pd.DataFrame:
    """Mean Monte Carlo energy over instances with two errors: ``mc_error``, the Monte Carlo error
    of that mean (the chains' errors propagated, sqrt(sum se^2) / K), and ``spread``, the standard
    error over instances (the disorder)."""
    grouped = frame.groupby(by)
    out = pd.DataFrame({"mc_e": grouped["mc_e"].mean(), "spread": grouped["mc_e"].sem()})
    out["mc_error"] = np.sqrt((frame["mc_e_se"] ** 2).groupby(frame[by]).sum()) / grouped.size()
    return out.reset_index()


#: how the BP branches are drawn: column prefix, label, style
BRANCH_STYLES = (
    ("eq", "BP, lowest Bethe $f$", dict(color="k", lw=1.8)),
    ("ord", "BP from the polarised start", dict(color="C0", ls="--", lw=1.2)),
    ("rnd", "BP from a random start", dict(color="C1", ls="-.", lw=1.2)),
    ("para", r"BP paramagnet (closed form)", dict(color="C3", ls=":", lw=1.2)),
)


def dilution_panels(
    ax_full: Axes, ax_zoom: Axes, ax_s: Axes, frame: pd.DataFrame, layer: int, q_zoom: float
) -> None:
    """Fig. 3: energy against q over the whole range (linear) and for q >= q_zoom (logit), and
    the entropy there.

    Curves are means over instances of what each BP start gives (the polarised and the random
    start, each as it ended, ordered or not), the paramagnetic closed form, the fixed point of
    lowest Bethe free energy and the exact solution; Monte Carlo points carry their Monte Carlo
    error (independent chains, propagated to the mean), the band their spread over instances.
    """
    avg = instance_mean(frame, ["q"])
    mc = mc_average(frame)
    for ax, zoom in ((ax_full, False), (ax_zoom, True)):
        rows = avg[avg["q"] >= q_zoom] if zoom else avg
        points = mc[mc["q"] >= q_zoom] if zoom else mc
        for prefix, label, style in BRANCH_STYLES:
            ax.plot(rows["q"], rows[f"{prefix}_e"], label=label, **style)
        ax.plot(rows["q"], rows["exact_e"], color="0.5", lw=4, alpha=0.4, label="exact")
        ax.fill_between(
            points["q"],
            points["mc_e"] - points["spread"],
            points["mc_e"] + points["spread"],
            color="C2",
            alpha=0.15,
            lw=0,
        )
        ax.errorbar(
            points["q"],
            points["mc_e"],
            yerr=points["mc_error"],
            fmt="o",
            ms=3.5,
            color="C2",
            capsize=2,
            label="Monte Carlo (± MC error; band: instances)",
        )
        lo, hi = transition_interval(rows)
        if np.isfinite(lo) and np.isfinite(hi):
            ax.axvspan(lo, hi, color="0.88", zorder=0)
        ax.set_ylabel("energy per weight $e$")
        ax.set_xlabel(f"dilution $q_{layer}$ of $W^{layer}$")
    ax_full.set_xlim(0, 1)
    q_axis(ax_zoom)
    rows = avg[avg["q"] >= q_zoom]
    ax_s.plot(rows["q"], rows["eq_s"], color="k", lw=1.8, label="BP, lowest $f$")
    ax_s.plot(
        rows["q"],
        rows["eq_gauge_s"],
        color="k",
        lw=1.2,
        ls="--",
        label="BP, lowest $f$ with gauge copies",
    )
    ax_s.plot(rows["q"], rows["ord_s"], color="C0", ls="--", lw=1.2, label="polarised start")
    ax_s.plot(
        rows["q"],
        rows["ord_s_gauge"],
        color="C0",
        ls=":",
        lw=1.2,
        label="polarised start + gauge entropy",
    )
    ax_s.plot(rows["q"], rows["para_s"], color="C3", ls=":", lw=1.2, label="paramagnet")
    ax_s.plot(rows["q"], rows["exact_s"], color="0.5", lw=4, alpha=0.4, label="exact")
    q_axis(ax_s)
    ax_s.set_xlabel(f"dilution $q_{layer}$ of $W^{layer}$")
    ax_s.set_ylabel("entropy per weight $s$")


def free_energy_gap(ax: Axes, frame: pd.DataFrame, q_min: float = 0.0) -> None:
    """f_ordered - f_paramagnetic against q, one line per instance, where the ordered branch exists
    (solid: the fixed point alone; dotted: with its gauge copies).

    Below zero the ordered branch wins; it crosses zero at q_c and ends at its spinodal.
    """
    frame = frame[(frame["q"] >= q_min) & frame["ord_exists"].astype(bool)]
    for k, one in frame.groupby("instance"):
        one = one.sort_values("q")
        (line,) = ax.plot(
            one["q"], one["ord_f"] - one["para_f"], "o-", ms=3, lw=1, label=f"instance {k}"
        )
        ax.plot(one["q"], one["ord_f_gauge"] - one["para_f"], ":", color=line.get_color(), lw=1)
    ax.axhline(0, color="k", lw=0.8)
    q_axis(ax)
    ax.set_xlabel("dilution q")
    ax.set_ylabel(r"$f_{\rm ordered} - f_{\rm para}$ (Bethe)")


def critical_figure(summary: pd.DataFrame) -> Figure:
    """Fig. 4: q_c (with and without the gauge copies) and the spinodal of the ordered branch
    against beta, one colour per p2; the entropy jump at q_c both ways."""
    fig, (ax, ax_jump) = plt.subplots(1, 2, figsize=(11, 4))
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
        ax.plot(group["beta"], group["q_c_gauge"], "s:", ms=3, color=colour, lw=1)
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
        ax_jump.errorbar(
            group["beta"],
            group["s_jump_gauge"],
            yerr=group["s_jump_gauge_se"],
            fmt="s:",
            ms=3,
            color=colour,
            capsize=2,
        )
    ax.plot([], [], "k:", marker="s", ms=3, lw=1, label="$q_c$ with gauge copies")
    ax.plot([], [], "k--", lw=1, label="spinodal of the ordered branch")
    q_axis(ax, "y")
    ax.set_xlabel(r"inverse temperature $\beta$")
    ax.set_ylabel("critical dilution $q_c$")
    ax.legend(fontsize=8)
    ax.set_title("(a) ordered and paramagnetic Bethe $f$ cross")
    ax_jump.plot([], [], "k:", marker="s", ms=3, lw=1, label="with gauge copies")
    ax_jump.axhline(0, color="k", lw=0.6)
    ax_jump.set_xlabel(r"inverse temperature $\beta$")
    ax_jump.set_ylabel(r"entropy jump $s_{para} - s_{ord}$ at $q_c$")
    ax_jump.set_title("(b) entropy jump")
    ax_jump.legend(fontsize=8)
    fig.tight_layout()
    return fig


def annealing_plot(ax: Axes, ax_final: Axes, table: pd.DataFrame) -> None:
    """Fig. 5a: energy per weight along the annealing ladder, averaged over the sweeps at each
    temperature and over instances, one line per cooling rate, with the exact equilibrium
    energy where every instance has it; and the final energy above the ground state against the
    cooling rate.

    The excess e + alpha is taken instance by instance (removing the spread of alpha).
    """
    table = table.assign(
        excess=table["e_mean"] - table["ground_e"],
        exact_excess=table["exact_e"] - table["ground_e"],
    )
    for ci, (rate, rows) in enumerate(table.groupby("sweeps_per_temperature")):
        stats = rows.groupby("beta")["excess"].agg(["mean", "sem"])
        ax.errorbar(
            stats.index,
            stats["mean"],
            yerr=stats["sem"],
            fmt="o-",
            ms=3,
            capsize=2,
            color=f"C{ci}",
            label=f"{rate} sweeps per temperature",
        )
    exact = complete_mean(table.groupby("beta")["exact_excess"])
    if exact.notna().any():  # drawn only where every instance has it
        ax.plot(exact.index, exact, color="0.3", lw=3, alpha=0.5, label="exact equilibrium")
    ax.set_yscale("log")
    ax.set_xlabel(r"inverse temperature $\beta$ (annealing ladder)")
    ax.set_ylabel(r"$\langle e \rangle + \alpha$ over the sweeps at each $\beta$")
    ax.legend(fontsize=8)
    final = table[table["step"] == table["step"].max()]
    stats = final.groupby("sweeps_per_temperature")["excess"].agg(["mean", "sem"])
    ax_final.errorbar(
        stats.index,
        stats["mean"],
        yerr=stats["sem"],
        fmt="o-",
        capsize=3,
        label="annealing, last temperature",
    )
    reference = final.groupby("instance")["exact_excess"].first()
    beta_end = final["beta"].iloc[0]
    if reference.notna().all():
        ax_final.axhline(
            reference.mean(), color="C3", ls="--", label=f"exact equilibrium at β = {beta_end:g}"
        )
    ax_final.set_xscale("log")
    ax_final.set_xlabel("sweeps per temperature (slower cooling →)")
    ax_final.set_ylabel(r"$\langle e \rangle + \alpha$ at the last temperature")
    ax_final.legend(fontsize=8)


def low_temperature_plot(ax_s: Axes, ax_e: Axes, avg: pd.DataFrame, diffs: dict) -> None:
    """Fig. 5: entropy of the BP fixed points against beta; paired energy differences.

    ``diffs`` maps a label to a :func:`~prunephase.rap.analysis.paired_difference` table by beta.
    """
    ax_s.plot(avg["beta"], avg["eq_s"], "k-o", ms=4, label="BP (lower Bethe $f$)")
    exists = avg["ord_exists"] > 0
    ax_s.plot(avg["beta"][exists], avg["ord_s"][exists], "C0--s", ms=3, label="BP ordered branch")
    ax_s.plot(
        avg["beta"][exists],
        avg["ord_s_gauge"][exists],
        "C0:",
        ms=3,
        label="BP ordered branch + gauge entropy",
    )
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


def schedule_plot(ax: Axes, table: pd.DataFrame, tol: float) -> None:
    """Fig. 5: the largest message change in the last BP iteration against beta, from the same
    random start with the sequential and the parallel schedule (one point per instance), and the
    tolerance: below it the run converged, far above it the run cycles."""
    for column, label, marker, colour in (
        ("rnd_residual", "sequential schedule", "o", "C0"),
        ("par_rnd_residual", "parallel schedule", "s", "C3"),
    ):
        values = table[column].clip(lower=tol * 1e-3)  # a converged run can stop at 0 change
        ax.semilogy(table["beta"], values, marker, color=colour, ms=4, alpha=0.7, label=label)
        median = values.groupby(table["beta"]).median()
        ax.semilogy(median.index, median, "-", color=colour, lw=1)
    ax.axhline(tol, color="k", ls="--", lw=0.8, label="tolerance")
    ax.set_xlabel(r"inverse temperature $\beta$")
    ax.set_ylabel("largest message change, last iteration")
    ax.legend(fontsize=8)


def finite_size_figure(
    transitions: pd.DataFrame,
    grid: pd.DataFrame,
    fits: dict[str, dict],
    x_star: float = float("nan"),
) -> Figure:
    """The finite-size study: the transition against N, and the entropy and the Bethe free energy
    against x = N (1 - q), the variable in which the blocks' sizes, hence the exact curves,
    collapse, with the mean x at q_c of each width; last row, BP on the gauged pairwise model
    (:mod:`prunephase.rap.gauged`) against x, with its tree threshold ``x_star`` where it has one.

    ``fits`` maps a column of ``transitions`` (``q_c``, ``q_c_gauge``, ``q_spinodal``) to its
    :func:`~prunephase.rap.analysis.power_law` fit of 1 - q against N.
    """
    fig, axes = plt.subplots(3, 3, figsize=(16, 13.5))
    by_n = transitions.groupby("n")
    n = np.array(sorted(transitions["n"].unique()), dtype=float)
    ax = axes[0, 0]
    for ci, (column, label) in enumerate(
        (("q_c", "$q_c$"), ("q_c_gauge", "$q_c$ with gauge copies"), ("q_spinodal", "spinodal"))
    ):
        gap = gap_statistics(transitions, column)
        fit = fits[column]
        ax.errorbar(
            gap.index,
            gap["mean"],
            yerr=gap["se"],
            fmt="os^"[ci],
            color=f"C{ci}",
            capsize=2,
            label=f"{label}: $\\nu$ = {fit['nu']:.2f} ± {fit['nu_se']:.2f}",
        )
        ax.plot(n, fit["amplitude"] * n ** -fit["nu"], color=f"C{ci}", lw=0.8)
    ax.plot(n, gap["mean"].iloc[0] * (n / n[0]) ** -1.0, "k:", lw=0.8, label=r"$\propto 1/N$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width $N$")
    ax.set_ylabel("$1 - q$ at the transition")
    ax.set_title(r"(a) $1 - q \propto N^{-\nu}$")
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    for column, label, fmt in (
        ("s_jump", "BP", "o-"),
        ("s_jump_gauge", "BP with gauge copies", "s--"),
    ):
        stats = transitions[column].groupby(transitions["n"]).agg(["mean", "sem"])
        ax.errorbar(
            stats.index,
            stats["mean"],
            yerr=stats["sem"],
            fmt=fmt,
            capsize=2,
            label=f"{label}, at its own $q_c$",
        )
    jump = (transitions["exact_s_hi"] - transitions["exact_s"]).groupby(transitions["n"])
    stats = pd.DataFrame({"mean": complete_mean(jump), "sem": jump.sem()})
    if stats["mean"].notna().any():
        ax.errorbar(
            stats.index,
            stats["mean"],
            yerr=stats["sem"],
            fmt="^:",
            color="0.4",
            capsize=2,
            label="exact, across the same step",
        )
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("width $N$")
    ax.set_ylabel("entropy jump per weight at $q_c$")
    ax.set_title("(b) entropy jump")
    ax.legend(fontsize=8)

    ax = axes[0, 2]
    for column, label, fmt in (
        ("n_w1", "$W^1$ connections on a path", "o-"),
        ("two_input_units", "hidden-1 units with $\\geq 2$ inputs", "s--"),
    ):
        stats = by_n[column].agg(["mean", "sem"])
        ax.errorbar(stats.index, stats["mean"], yerr=stats["sem"], fmt=fmt, capsize=2, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width $N$")
    ax.set_ylabel("count at $q_c$ (last ordered instance)")
    ax.set_title("(c) what is left at the transition")
    ax.legend(fontsize=8)

    widths = sorted(grid["n"].unique())
    colours = dict(
        zip(widths, plt.get_cmap("viridis")(np.linspace(0, 0.9, len(widths))), strict=True)
    )
    x_c = (transitions["n"] * (1 - transitions["q_c"])).groupby(transitions["n"]).mean()
    panels = (
        (axes[1, 0], lambda r: r["exact_s"], "entropy per weight", "(d) exact entropy"),
        (axes[1, 1], lambda r: r["eq_s"], "entropy per weight", "(e) BP entropy (lowest $f$)"),
        (axes[1, 2], lambda r: r["exact_f"] - r["eq_f"], "$f_{exact} - f_{BP}$ (lowest Bethe $f$)",
         "(f) the Bethe free energy against the exact one"),
        (axes[2, 0], lambda r: r["gauged_m"], "mean $|m_i|$ of $W^1$, $W^2$",
         "(g) gauged BP: magnetisation"),
        (axes[2, 1], lambda r: r["eq_f"] - r["gauged_f"], "$f_{BP} - f_{gauged}$",
         "(h) 3-body BP (lowest $f$) against gauged BP"),
        (axes[2, 2], lambda r: r["gauged_s"], "entropy per weight", "(i) gauged BP entropy"),
    )  # fmt: skip
    for ax, value, ylabel, title in panels:
        for width in widths:
            rows = grid[grid["n"] == width]
            values = value(rows)
            if values.isna().all():
                continue
            mean = complete_mean(values.groupby(rows["x"]))
            ax.plot(mean.index, mean, "o-", ms=3, color=colours[width], label=f"N = {width}")
            if width in x_c.index:
                ax.axvline(x_c[width], color=colours[width], ls=":", lw=1)
        if np.isfinite(x_star) and ax in axes[2]:
            ax.axvline(
                x_star, color="C3", ls="--", lw=1, label=f"tree threshold $x^*$ = {x_star:.2f}"
            )
        ax.set_xscale("log")
        ax.set_xlabel("$N (1 - q)$ (dotted: mean $N (1 - q_c)$ of each width)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def readings_figure(
    degrees: pd.DataFrame, dilution: pd.DataFrame, critical: pd.DataFrame, names: list[str]
) -> Figure:
    """The readings side by side: degree distribution, energy against the dilution of W1 (BP,
    Monte Carlo, exact) and q_c against beta for each p2, one column per reading."""
    fig, axes = plt.subplots(3, len(names), figsize=(3.4 * len(names), 9.5), squeeze=False)
    for col, name in enumerate(names):
        ax = axes[0, col]
        degree_histogram_plot(ax, degrees[degrees["reading"] == name])
        ax.set_title(name)
        if col:
            ax.get_legend().remove()
        ax = axes[1, col]
        frame = dilution[(dilution["reading"] == name) & (dilution["layer"] == 1)]
        avg = instance_mean(frame, ["q"])
        mc = mc_average(frame)
        ax.plot(avg["q"], avg["eq_e"], "k-", lw=1.5, label="BP, lowest $f$")
        ax.plot(avg["q"], avg["ord_e"], "C0--", lw=1, label="BP polarised start")
        ax.plot(avg["q"], avg["exact_e"], color="0.5", lw=4, alpha=0.4, label="exact")
        ax.errorbar(
            mc["q"],
            mc["mc_e"],
            yerr=mc["mc_error"],
            fmt="o",
            ms=3,
            color="C2",
            capsize=2,
            label="Monte Carlo",
        )
        ax.set_xlabel("dilution $q_1$")
        ax.set_ylabel(f"e per weight, β = {frame['beta'].iloc[0]:g}" if len(frame) else "")
        if not col:
            ax.legend(fontsize=7)
        ax = axes[2, col]
        rows = critical[critical["reading"] == name]
        for ci, ((width, p2), group) in enumerate(rows.groupby(["n", "p2"])):
            stats = group.groupby("beta")["q_c"].agg(["mean", "sem"])
            ax.errorbar(
                stats.index,
                stats["mean"],
                yerr=stats["sem"],
                fmt="o-" if ci % 2 else "s--",
                ms=3,
                capsize=2,
                label=f"N={width}, p2={p2:g}",
            )
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"$\beta$")
        ax.set_ylabel("$q_c$ ($W^1$ diluted)")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


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
