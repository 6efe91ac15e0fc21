"""The figures of the dropout-phase study (paper A): schematics, phase maps, scaling panels."""

from __future__ import annotations

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.figure
import matplotlib.ticker
import numpy as np
import pandas as pd

from prunephase.dropout_phases.phases import PHASES

PHASE_COLOURS = {"eumentia": "#4c9f70", "dementia": "#c8553d", "amentia": "#8d99ae"}


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


def grid(
    table: pd.DataFrame, value: str, rows: str = "p_eval", cols: str = "p_train"
) -> pd.DataFrame:
    """A (rows x cols) pivot of one value column; raises if a point is listed twice."""
    return table.pivot(index=rows, columns=cols, values=value).sort_index()


def _edges(centres: np.ndarray) -> np.ndarray:
    centres = np.asarray(centres, dtype=float)
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
    """Phases over (p_train, p_eval) from an alpha_CE table of one architecture and snapshot."""
    codes = grid(alpha.assign(code=alpha["phase"].map(PHASES.index)), "code")
    cmap = mcolors.ListedColormap([PHASE_COLOURS[p] for p in PHASES])
    heatmap(ax, codes, cmap=cmap, norm=mcolors.BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3))
    handles = [ax.scatter([], [], marker="s", color=PHASE_COLOURS[p], label=p) for p in PHASES]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.8)


def alpha_map(ax, alpha: pd.DataFrame) -> None:
    """alpha_CE over (p_train, p_eval), diverging colours centred on 0."""
    values = grid(alpha, "alpha_ce")
    bound = np.nanmax(np.abs(values.to_numpy()))
    heatmap(
        ax,
        values,
        cmap="RdBu_r",
        norm=mcolors.TwoSlopeNorm(0.0, -bound, bound),
        label=r"$\alpha_{\mathrm{CE}}$",
    )


def phase_boundaries(p: np.ndarray, phases: np.ndarray) -> list[float]:
    """Midpoints between neighbouring grid values of ``p`` whose phases differ."""
    return [float((p[i] + p[i + 1]) / 2) for i in range(len(p) - 1) if phases[i] != phases[i + 1]]


def loss_linecut(ax, summary: pd.DataFrame, alpha: pd.DataFrame, p_eval: float) -> None:
    """<L_CE> vs p_train at fixed p_eval, one curve per N, phase boundaries dashed."""
    cut = summary[np.isclose(summary["p_eval"], p_eval)]
    sizes = sorted(cut["N"].unique())
    colours = size_colours(sizes)
    for n in sizes:
        c = cut[cut["N"] == n].sort_values("p_train")
        ax.errorbar(
            c["p_train"],
            c["ce_mean"],
            c["ce_sem"],
            marker="o",
            ms=3,
            color=colours[n],
            label=f"N={n}",
        )
    a = alpha[np.isclose(alpha["p_eval"], p_eval)].sort_values("p_train")
    for boundary in phase_boundaries(a["p_train"].to_numpy(), a["phase"].to_numpy()):
        ax.axvline(boundary, ls="--", color="k", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel(r"$p_{\mathrm{train}}$")
    ax.set_ylabel(r"$\langle L_{\mathrm{CE}} \rangle$")
    ax.set_title(rf"$p_{{\mathrm{{eval}}}} = {p_eval}$")
    ax.legend(fontsize=7)


def size_colours(sizes) -> dict:
    """One colour per training-set size, light (small N) to dark (large N)."""
    cmap = matplotlib.colormaps["viridis_r"]
    return {n: cmap(0.1 + 0.8 * i / max(1, len(sizes) - 1)) for i, n in enumerate(sorted(sizes))}


def power_law_panel(ax, summary: pd.DataFrame, alpha_row: pd.Series) -> None:
    """log-log <L_CE> vs N at one (p_train, p_eval), with the fitted power law."""
    sel = summary[
        np.isclose(summary["p_train"], alpha_row["p_train"])
        & np.isclose(summary["p_eval"], alpha_row["p_eval"])
    ].sort_values("N")
    colour = PHASE_COLOURS[alpha_row["phase"]]
    ax.errorbar(sel["N"], sel["ce_mean"], sel["ce_sem"], marker="o", ls="none", color=colour)
    n = np.geomspace(sel["N"].min(), sel["N"].max(), 50)
    ax.plot(
        n,
        np.exp(alpha_row["log_prefactor"]) * n ** (-alpha_row["alpha_ce"]),
        color=colour,
        label=rf"$\alpha_{{\mathrm{{CE}}}} = {alpha_row['alpha_ce']:+.3f} \pm "
        rf"{alpha_row['alpha_ce_err']:.3f}$",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    # label the decades only: minor labels of a short log axis run into each other
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("N")
    ax.set_ylabel(r"$\langle L_{\mathrm{CE}} \rangle$")
    ax.set_title(
        f"{alpha_row['phase']}: " + rf"$p_{{\mathrm{{train}}}} = {alpha_row['p_train']}$",
        fontsize=9,
    )
    ax.legend(fontsize=7)


def representative_points(alpha: pd.DataFrame, p_eval: float) -> dict[str, pd.Series]:
    """At fixed p_eval, the clearest example of each phase that occurs along p_train.

    Dementia: the most negative alpha_CE; eumentia: the most positive; amentia: the smallest
    |alpha_CE| among amentia points. Phases that do not occur are absent from the result.
    """
    cut = alpha[np.isclose(alpha["p_eval"], p_eval)]
    picks = {}
    for phase in PHASES:
        rows = cut[cut["phase"] == phase]
        if rows.empty:
            continue
        key = {
            "dementia": rows["alpha_ce"],
            "eumentia": -rows["alpha_ce"],
            "amentia": rows["alpha_ce"].abs(),
        }[phase]
        picks[phase] = rows.loc[key.idxmin()]
    return picks


def loss_vs_p_eval(ax, summary: pd.DataFrame, value: str = "ce", p_c: float | None = None) -> None:
    """<L_CE> (``value="ce"``) or <A> (``"acc"``) vs p_eval, one curve per N; p_c dashed."""
    colours = size_colours(summary["N"].unique())
    for n, rows in summary.sort_values("p_eval").groupby("N"):
        ax.errorbar(rows["p_eval"], rows[f"{value}_mean"], rows[f"{value}_sem"], marker="o",
                    ms=3, color=colours[n], label=f"N={n}")  # fmt: skip
    if p_c is not None:
        ax.axvline(p_c, ls="--", color="k", lw=1)
    ax.set_xlabel(r"$p_{\mathrm{eval}}$")
    ax.set_ylabel(r"$\langle L_{\mathrm{CE}} \rangle$" if value == "ce" else r"$\langle A \rangle$")
    ax.legend(fontsize=7)


def collapse_panel(ax, scaled: pd.DataFrame, xlabel: str) -> None:
    """Collapsed points of :func:`prunephase.scaling.scaled_points`, one colour per N."""
    colours = size_colours(scaled["N"].unique())
    for n, rows in scaled.groupby("N"):
        ax.errorbar(rows["x"], rows["y_scaled"], rows["dy_scaled"], marker="o", ms=2, ls="none",
                    color=colours[n], label=f"N={int(n)}")  # fmt: skip
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(r"$N^{-\Delta} \langle L_{\mathrm{CE}} \rangle$", fontsize=8)
    ax.tick_params(labelsize=7)


def chi2_map_panel(ax, chi2: pd.DataFrame, p_c: float, sigma: float, factor: float) -> None:
    """log10 chi2_nu over (p_c, sigma), the minimum marked, the factor x min contour drawn."""
    pivot = chi2.pivot(index="sigma", columns="p_c", values="chi2_nu").sort_index()
    minimum = np.nanmin(pivot.to_numpy())
    mesh = ax.pcolormesh(pivot.columns, pivot.index, np.log10(pivot.to_numpy()), shading="auto",
                         cmap="viridis_r")  # fmt: skip
    ax.figure.colorbar(mesh, ax=ax, label=r"$\log_{10} \chi^2_\nu$")
    ax.contour(pivot.columns, pivot.index, pivot.to_numpy(), levels=[factor * minimum],
               colors="w", linewidths=1.2)  # fmt: skip
    ax.plot(p_c, sigma, marker="x", color="r", ms=10, mew=2)
    ax.set_xlabel(r"$p_{\mathrm{eval},c}$")
    ax.set_ylabel(r"$\sigma$")


def exponent_vs_p_train(ax, fits: pd.DataFrame) -> None:
    """sigma (left axis, contour errors) and chi2_nu (right axis) of the BKT fits vs p_train."""
    bkt = fits[fits["ansatz"] == "bkt"].sort_values("p_train")
    ax.errorbar(bkt["p_train"], bkt["sigma_or_nu"], bkt["err"], marker="o", color="C0")
    ax.set_xlabel(r"$p_{\mathrm{train}}$")
    ax.set_ylabel(r"$\sigma$", color="C0")
    right = ax.twinx()
    right.plot(bkt["p_train"], bkt["chi2_nu"], marker="s", color="C3")
    right.set_yscale("log")
    right.set_ylabel(r"$\chi^2_\nu$", color="C3")


def binder_panel(ax, binder: pd.DataFrame, p_c: float | None = None) -> None:
    """Binder cumulant of the accuracy vs p_eval, one curve per N; 0 (Gaussian) dashed."""
    colours = size_colours(binder["N"].unique())
    for n, rows in binder.sort_values("p_eval").groupby("N"):
        ax.plot(rows["p_eval"], rows["binder"], marker="o", ms=3, color=colours[n], label=f"N={n}")
    ax.axhline(0, ls="--", color="k", lw=1)
    if p_c is not None:
        ax.axvline(p_c, ls="--", color="k", lw=1)
    ax.set_xlabel(r"$p_{\mathrm{eval}}$")
    ax.set_ylabel(r"$U = 1 - \langle \delta A^4 \rangle / 3 \langle \delta A^2 \rangle^2$")
    ax.legend(fontsize=7)
