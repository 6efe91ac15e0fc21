"""Paper A's figure panels: every log axis carries readable tick labels, whatever its range."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from prunephase.dropout_phases import plots  # noqa: E402


def labels(ax, axis: str) -> list[float]:
    """The labelled tick values within the axis limits (after drawing)."""
    ax.figure.canvas.draw()
    low, high = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    values = ax.get_yticks() if axis == "y" else ax.get_xticks()
    return [v for v, t in zip(values, ticks, strict=True) if t.get_text() and low <= v <= high]


@pytest.mark.parametrize("limits", [(1.1, 2.13), (1.93, 2.08), (0.3, 0.45), (0.1, 5), (938, 60000)])
def test_log_axis_has_several_plain_labels(limits):
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    ax.set_ylim(*limits)
    plots.log_ticks(ax, "y")
    shown = labels(ax, "y")
    assert len(shown) >= 3, shown
    texts = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert not any("e+" in t or "e-" in t or "$" in t for t in texts), texts
    plt.close(fig)


def test_power_law_panel_labels_both_axes_and_draws_every_row():
    n = np.array([1000, 2000, 4000, 8000, 16000])
    rows, summary = [], []
    for p_train, alpha in [(0.0, -0.05), (0.1, -0.03), (0.2, -0.02)]:
        rows.append({"p_train": p_train, "p_eval": 0.7, "alpha_ce": alpha, "alpha_ce_err": 0.01,
                     "log_prefactor": np.log(2.0), "phase": "dementia"})  # fmt: skip
        for size in n:
            summary.append({"p_train": p_train, "p_eval": 0.7, "N": size,
                            "ce_mean": 2.0 * size**-alpha, "ce_sem": 0.01})  # fmt: skip
    fig, ax = plt.subplots()
    plots.power_law_panel(ax, pd.DataFrame(summary), pd.DataFrame(rows))
    assert len(labels(ax, "y")) >= 3 and len(labels(ax, "x")) >= 3
    assert len(ax.get_legend().get_texts()) == 3
    plt.close(fig)
