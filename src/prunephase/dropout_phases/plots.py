"""The figures of the dropout-phase study (paper A): schematics, phase maps, scaling panels."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.figure
import matplotlib.ticker
import numpy as np
import pandas as pd

from prunephase.dropout_phases.phases import BOUNDARY, LABELS, PHASES

PHASE_COLOURS = {"eumentia": "#4c9f70", "dementia": "#c8553d", "amentia": "#8d99ae",
                 BOUNDARY: "#e9c46a"}  # fmt: skip
#: how the two estimates of the critical point are drawn
MARK_STYLES = {"crossing": dict(color="k", ls=":", lw=1.2),
               "collapse": dict(color="C3", ls="--", lw=1.2)}  # fmt: skip


def draw_network(
    ax, depth: int, nodes: int = 6, dropped: dict[int, list[int]] | None = None, title: str = ""
) -> None:
    """Schematic of a fully-connected network: input, ``depth`` hidden layers, 10 outputs.

    ``dropped`` maps a hidden layer (1..depth) to the indices of its removed neurons: they are
    drawn hollow and crossed, and their outgoing connections are left out.
    """
    dropped = dropped or {}
    layers = [nodes + 2, *([nodes] * depth), 4]
    labels = ["input\n784", *[f"hidden {i}\n$n_h$" for i in range(1, depth + 1)], "output\n10"]
    coords = [np.linspace(-1, 1, n) * (n / max(layers)) for n in layers]
    for layer in range(len(layers) - 1):
        for i, y0 in enumerate(coords[layer]):
            if i in dropped.get(layer, []):
                continue
            for j, y1 in enumerate(coords[layer + 1]):
                if j in dropped.get(layer + 1, []):
                    continue
                ax.plot([layer, layer + 1], [y0, y1], color="0.75", lw=0.5, zorder=1)
    for layer, ys in enumerate(coords):
        for i, y in enumerate(ys):
            off = i in dropped.get(layer, [])
            ax.scatter(
                layer,
                y,
                s=120,
                zorder=2,
                edgecolor="k",
                facecolor="white" if off else ("#5b8def" if 0 < layer <= depth else "0.3"),
            )
            if off:
                ax.scatter(layer, y, s=60, marker="x", color="#c8553d", zorder=3)
        ax.text(layer, -1.35, labels[layer], ha="center", va="top", fontsize=8)
    ax.set_xlim(-0.5, len(layers) - 0.5)
    ax.set_ylim(-1.9, 1.2)
    ax.set_title(title, fontsize=10)
    ax.axis("off")


def _tick_label(value: float, _position=None) -> str:
    """A plain number: 1000 rather than 1e+03, 0.25 rather than 2.5e-01."""
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def log_ticks(ax, axis: str = "y") -> None:
    """Readable ticks on a log axis whatever its range: labelled ticks at 1, 2, 5 (or more
    mantissas) times powers of ten, or, on an axis shorter than that, evenly spaced values.

    Call it once the axis limits are final (after plotting)."""
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    low, high = min(low, high), max(low, high)
    exponents = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    for subs in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7)):
        ticks = [s * 10.0**e for e in exponents for s in subs if low <= s * 10.0**e <= high]
        if len(ticks) >= 3:
            break
    else:  # less than a few mantissa steps: round values in between
        ticks = [v for v in matplotlib.ticker.MaxNLocator(4).tick_values(low, high)
                 if low <= v <= high]  # fmt: skip
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    target.set_major_formatter(matplotlib.ticker.FuncFormatter(_tick_label))
    target.set_minor_locator(matplotlib.ticker.LogLocator(subs="all"))
    target.set_minor_formatter(matplotlib.ticker.NullFormatter())


def grid(
    table: pd.DataFrame, value: str, rows: str = "p_eval", cols: str = "p_train"
) -> pd.DataFrame:
    """A (rows x cols) pivot of one value column; raises if a point is listed twice."""
    return table.pivot(index=rows, columns=cols, values=value).sort_index()


def _edges(centres: np.ndarray) -> np.ndarray:
    centres = np.asarray(centres, dtype=float)
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def heatmap(ax, pivot: pd.DataFrame, cmap="viridis", norm=None, label: str = ""):
    """pcolormesh of a pivot table with p_train on x and p_eval on y; returns the mappable."""
    mesh = ax.pcolormesh(
        _edges(pivot.columns),
        _edges(pivot.index),
        pivot.to_numpy(),
        cmap=cmap,
        norm=norm,
        shading="flat",
    )
    ax.set_xlabel(r"$p_{\mathrm{train}}$")
    ax.set_ylabel(r"$p_{\mathrm{eval}}$")
    if label:
        ax.figure.colorbar(mesh, ax=ax, label=label)
    return mesh


def phase_diagram(ax, alpha: pd.DataFrame) -> None:
    """The label of every (p_train, p_eval) from an alpha_CE table of one architecture and
    snapshot: the three phases and the boundary band (learnt, no significant N dependence)."""
    codes = grid(alpha.assign(code=alpha["phase"].map(LABELS.index)), "code")
    cmap = mcolors.ListedColormap([PHASE_COLOURS[p] for p in LABELS])
    bounds = np.arange(len(LABELS) + 1) - 0.5
    heatmap(ax, codes, cmap=cmap, norm=mcolors.BoundaryNorm(bounds, len(LABELS)))
    present = [p for p in LABELS if (alpha["phase"] == p).any()]
    handles = [ax.scatter([], [], marker="s", color=PHASE_COLOURS[p], label=p) for p in present]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.8)


def alpha_norm(*tables: pd.DataFrame, columns: Sequence[str] = ("alpha_ce",)):
    """A diverging colour scale centred on 0 that covers every given column of every table."""
    bound = max(np.nanmax(np.abs(t[c].to_numpy(float))) for t in tables for c in columns)
    return mcolors.TwoSlopeNorm(0.0, -bound, bound)


def alpha_map(ax, alpha: pd.DataFrame, column: str = "alpha_ce", norm=None, label=None) -> None:
    """alpha_CE (or its local version ``alpha_local``) over (p_train, p_eval), diverging colours
    centred on 0."""
    values = grid(alpha, column)
    heatmap(ax, values, cmap="RdBu_r", norm=norm or alpha_norm(alpha, columns=[column]),
            label=label or r"$\alpha_{\mathrm{CE}}$")  # fmt: skip


def phase_boundaries(p: np.ndarray, phases: np.ndarray) -> list[float]:
    """Midpoints between neighbouring grid values of ``p`` whose phases differ."""
    return [float((p[i] + p[i + 1]) / 2) for i in range(len(p) - 1) if phases[i] != phases[i + 1]]


def size_colours(sizes) -> dict:
    """One colour per training-set size, light (small N) to dark (large N)."""
    cmap = matplotlib.colormaps["viridis_r"]
    return {n: cmap(0.1 + 0.8 * i / max(1, len(sizes) - 1)) for i, n in enumerate(sorted(sizes))}


def loss_linecut(ax, summary: pd.DataFrame, alpha: pd.DataFrame, p_eval: float) -> None:
    """<L_CE> vs p_train at fixed p_eval, one curve per N, phase boundaries dashed."""
    cut = summary[np.isclose(summary["p_eval"], p_eval)]
    sizes = sorted(cut["N"].unique())
    colours = size_colours(sizes)
    for n in sizes:
        c = cut[cut["N"] == n].sort_values("p_train")
        ax.errorbar(c["p_train"], c["ce_mean"], c["ce_sem"], marker="o", ms=3, color=colours[n],
                    label=f"N={n}")  # fmt: skip
    a = alpha[np.isclose(alpha["p_eval"], p_eval)].sort_values("p_train")
    for boundary in phase_boundaries(a["p_train"].to_numpy(), a["phase"].to_numpy()):
        ax.axvline(boundary, ls="--", color="k", lw=1)
    for p_train, phase in zip(a["p_train"], a["phase"], strict=True):
        ax.axvspan(p_train - 0.05, p_train + 0.05, color=PHASE_COLOURS[phase], alpha=0.15, lw=0)
    ax.set_yscale("log")
    log_ticks(ax, "y")
    ax.set_xlabel(r"$p_{\mathrm{train}}$")
    ax.set_ylabel(r"$\langle L_{\mathrm{CE}} \rangle$ (nats)")
    ax.legend(fontsize=7)


def phase_examples(
    alpha: pd.DataFrame, p_eval: float, per_phase: int = 3
) -> dict[str, pd.DataFrame]:
    """At fixed p_eval, up to ``per_phase`` points of each phase along p_train, spread over the
    phase's range (its first, last and middle points). Phases that do not occur are absent."""
    cut = alpha[np.isclose(alpha["p_eval"], p_eval)].sort_values("p_train")
    picks = {}
    for phase in PHASES:
        rows = cut[cut["phase"] == phase]
        if rows.empty:
            continue
        index = np.unique(np.round(np.linspace(0, len(rows) - 1, min(per_phase, len(rows)))))
        picks[phase] = rows.iloc[index.astype(int)]
    return picks


def power_law_panel(ax, summary: pd.DataFrame, rows: pd.DataFrame) -> None:
    """log-log <L_CE> vs N at several (p_train, p_eval), each with its fitted power law."""
    cmap = matplotlib.colormaps["plasma"]
    for i, (_, row) in enumerate(rows.iterrows()):
        colour = cmap(0.1 + 0.7 * i / max(1, len(rows) - 1))
        sel = summary[
            np.isclose(summary["p_train"], row["p_train"])
            & np.isclose(summary["p_eval"], row["p_eval"])
        ].sort_values("N")
        ax.errorbar(sel["N"], sel["ce_mean"], sel["ce_sem"], marker="o", ls="none", ms=4,
                    color=colour)  # fmt: skip
        n = np.geomspace(sel["N"].min(), sel["N"].max(), 50)
        label = (
            rf"$p_{{\mathrm{{train}}}} = {row['p_train']:g}$: $\alpha_{{\mathrm{{CE}}}} = "
            rf"{row['alpha_ce']:+.3f} \pm {row['alpha_ce_err']:.3f}$"
        )
        fitted = np.exp(row["log_prefactor"]) * n ** (-row["alpha_ce"])
        ax.plot(n, fitted, color=colour, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_ticks(ax, "x")
    log_ticks(ax, "y")
    ax.set_xlabel("N")
    ax.set_ylabel(r"$\langle L_{\mathrm{CE}} \rangle$ (nats)")
    ax.legend(fontsize=7)


def mark_critical_points(ax, marks: Mapping[str, tuple[float, float]]) -> None:
    """Vertical lines at the critical point's estimates (``{"crossing": (p, err), "collapse":
    (p, err)}``), each with a band of its error."""
    for name, (value, err) in marks.items():
        if value is None or not np.isfinite(value):
            continue
        style = MARK_STYLES[name]
        ax.axvline(value, **style, label=f"$p_c$ ({name}) = {value:.3f}")
        if err is not None and np.isfinite(err):
            ax.axvspan(value - err, value + err, color=style["color"], alpha=0.08, lw=0)


def loss_vs_p_eval(ax, summary: pd.DataFrame, value: str = "ce",
                   marks: Mapping[str, tuple[float, float]] | None = None) -> None:  # fmt: skip
    """<L_CE> (``value="ce"``, log axis) or <A> (``"acc"``) vs p_eval, one curve per N; the
    critical point's estimates marked."""
    colours = size_colours(summary["N"].unique())
    for n, rows in summary.sort_values("p_eval").groupby("N"):
        ax.errorbar(rows["p_eval"], rows[f"{value}_mean"], rows[f"{value}_sem"], marker="o",
                    ms=3, color=colours[n], label=f"N={n}")  # fmt: skip
    mark_critical_points(ax, marks or {})
    ax.set_xlabel(r"$p_{\mathrm{eval}}$")
    if value == "ce":
        ax.set_yscale("log")
        log_ticks(ax, "y")
        ax.set_ylabel(r"$\langle L_{\mathrm{CE}} \rangle$ (nats)")
    else:
        ax.set_ylabel(r"$\langle A \rangle$")
    ax.legend(fontsize=7)


def collapse_panel(ax, scaled: pd.DataFrame, xlabel: str) -> None:
    """Collapsed points of :func:`prunephase.scaling.scaled_points`, one colour per N, log y."""
    colours = size_colours(scaled["N"].unique())
    for n, rows in scaled.groupby("N"):
        ax.errorbar(rows["x"], rows["y_scaled"], rows["dy_scaled"], marker="o", ms=2, ls="none",
                    color=colours[n], label=f"N={int(n)}")  # fmt: skip
    ax.set_yscale("log")
    log_ticks(ax, "y")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(r"$N^{-\Delta} \langle L_{\mathrm{CE}} \rangle$", fontsize=8)
    ax.tick_params(labelsize=7, which="both")


def chi2_map_panel(ax, chi2: pd.DataFrame, p_c: float, sigma: float) -> None:
    """log10 chi2_nu over (p_c, sigma), the minimum marked, the error region outlined."""
    pivot = chi2.pivot(index="sigma", columns="p_c", values="chi2_nu").sort_index()
    inside = chi2.pivot(index="sigma", columns="p_c", values="inside").sort_index()
    mesh = ax.pcolormesh(pivot.columns, pivot.index, np.log10(pivot.to_numpy()), shading="auto",
                         cmap="viridis_r")  # fmt: skip
    ax.figure.colorbar(mesh, ax=ax, label=r"$\log_{10} \chi^2_\nu$")
    if inside.to_numpy(bool).any():
        ax.contour(pivot.columns, pivot.index, inside.to_numpy(float), levels=[0.5], colors="w",
                   linewidths=1.2)  # fmt: skip
    ax.plot(p_c, sigma, marker="x", color="r", ms=10, mew=2)
    ax.set_xlabel(r"$p_{\mathrm{eval},c}$")
    ax.set_ylabel(r"$\sigma$")


def exponent_vs_p_train(ax, fits: pd.DataFrame) -> None:
    """sigma of the BKT fits (left axis, contour errors; hollow where the error region reaches a
    bound, the error then a lower limit) and chi2_nu of both ansatzes (right axis) vs p_train."""
    bkt = fits[fits["ansatz"] == "bkt"].sort_values("p_train")
    power = fits[fits["ansatz"] == "power_law"].sort_values("p_train")
    bound = (bkt["exponent_at_bound"] | bkt["p_c_at_bound"]).to_numpy(bool)
    ax.errorbar(bkt["p_train"], bkt["sigma_or_nu"], bkt["err"], color="C0", ls="-", marker="")
    ax.plot(bkt["p_train"][~bound], bkt["sigma_or_nu"][~bound], "o", color="C0",
            label=r"$\sigma$ (BKT)")  # fmt: skip
    if bound.any():
        ax.plot(bkt["p_train"][bound], bkt["sigma_or_nu"][bound], "o", mfc="white", color="C0",
                label=r"$\sigma$: region at a bound")  # fmt: skip
    ax.set_xlabel(r"$p_{\mathrm{train}}$")
    ax.set_ylabel(r"$\sigma$", color="C0")
    right = ax.twinx()
    right.plot(bkt["p_train"], bkt["chi2_nu"], marker="s", color="C3", ls="--",
               label=r"$\chi^2_\nu$ BKT")  # fmt: skip
    right.plot(power["p_train"], power["chi2_nu"], marker="^", color="C2", ls=":",
               label=r"$\chi^2_\nu$ power law")  # fmt: skip
    right.set_yscale("log")
    log_ticks(right, "y")
    right.set_ylabel(r"$\chi^2_\nu$")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=7, loc="best")


def binder_panel(
    ax, binder: pd.DataFrame, marks: Mapping[str, tuple[float, float]] | None = None
) -> None:
    """Binder cumulant of the accuracy vs p_eval, one curve per N with its bootstrap error; 0 (a
    Gaussian spread) dashed; the critical point's estimates marked."""
    colours = size_colours(binder["N"].unique())
    for n, rows in binder.dropna(subset=["binder"]).sort_values("p_eval").groupby("N"):
        ax.errorbar(rows["p_eval"], rows["binder"], rows["binder_err"], marker="o", ms=3,
                    color=colours[n], label=f"N={n}", capsize=2)  # fmt: skip
    ax.axhline(0, ls="--", color="0.4", lw=1)
    mark_critical_points(ax, marks or {})
    ax.set_xlabel(r"$p_{\mathrm{eval}}$")
    ax.set_ylabel(r"$U = 1 - \langle \delta A^4 \rangle / 3 \langle \delta A^2 \rangle^2$")
    ax.legend(fontsize=7)
