"""Which reading of the model matches which statement of the paper's text.

The paper's equations were lost; what survives is its prose. Each entry of :data:`STATEMENTS`
quotes one sentence of that prose (a symbol the copy lost is restored in square brackets) and
names a test that decides, from the tables of one reading
(:func:`prunephase.rap.experiments.reading_tables`), whether the reading agrees with it. A test
returns the number it measured, as text, and a verdict: True (agrees), False (disagrees) or None
(the text allows both). Tests marked ``by construction`` read the reading's definition, not its
tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prunephase.rap.analysis import paired_difference

Verdict = tuple[str, bool | None]


@dataclass(frozen=True)
class Statement:
    """A sentence of the paper and the test of a reading against it."""

    key: str
    quote: str
    test: str
    evaluate: Callable[[dict[str, pd.DataFrame], dict], Verdict]


def _overlap(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Overlap coefficient sum_d min(p_a(d), p_b(d)) of two degree distributions."""
    pa = a.groupby("degree")["count"].sum() / a["count"].sum()
    pb = b.groupby("degree")["count"].sum() / b["count"].sum()
    both = pd.concat([pa, pb], axis=1).fillna(0.0)
    return float(both.min(axis=1).sum())


def three_peaks(tables, context) -> Verdict:
    """Every pair of populations overlaps in less than half of its degree distribution."""
    degrees = tables["degrees"]
    groups = {p: g for p, g in degrees.groupby("population")}
    pairs = [(1, 2), (1, 3), (2, 3)]
    overlaps = {pair: _overlap(groups[pair[0]], groups[pair[1]]) for pair in pairs}
    worst = max(overlaps, key=overlaps.get)
    text = f"largest overlap W{worst[0]}/W{worst[1]} = {overlaps[worst]:.2f}"
    return text, overlaps[worst] < 0.5


def wide_degrees(tables, context) -> Verdict:
    """The median degrees of the populations span more than a factor 10."""
    degrees = tables["degrees"]
    medians = []
    for _, group in degrees.groupby("population"):
        expanded = np.repeat(group["degree"].to_numpy(), group["count"].to_numpy())
        medians.append(float(np.median(expanded)))
    ratio = max(medians) / min(medians)
    return f"median degrees {', '.join(f'{m:g}' for m in medians)} (ratio {ratio:.0f})", ratio > 10


def shared_signs(tables, context) -> Verdict:
    """By construction: the paths of one input carry its sign."""
    shared = context["xi"] == "input"
    return ("by construction: " + ("the input's sign" if shared else "a sign per path")), shared


def independent_paths(tables, context) -> Verdict:
    """By construction: each path is drawn on its own."""
    own = context["construction"] in ("independent", "iid")
    text = {
        "network": "paths share units and connections",
        "independent": "paths survive on their own (units shared)",
        "iid": "every path on its own",
    }[context["construction"]]
    return f"by construction: {text}", own


def width_in_h(tables, context) -> Verdict:
    """By construction: N appears in H as a prefactor, or as the range of the sum over the N^3
    possible paths (the text allows both, so this statement decides nothing)."""
    if context["prefactor"] == "1":
        return "by construction: N as the range of the sum over the N^3 possible paths", None
    return f"by construction: prefactor {context['prefactor']}", None


def _with_transition(critical: pd.DataFrame) -> pd.DataFrame:
    """Points (n, p2, beta) where every instance is ordered at q_min (a transition inside)."""
    grouped = critical.groupby(["n", "p2", "beta"])
    ordered = grouped["ordered_at_q_min"].all()
    means = grouped[["q_c", "q_c_hi", "q_c_gauge_hi", "q_spinodal", "s_jump"]].mean()
    return means[ordered].reset_index()


def transition_exists(tables, context) -> Verdict:
    """At least half of the (N, p2, beta) points have the ordered branch winning at q_min."""
    critical = tables["critical"]
    points = critical.groupby(["n", "p2", "beta"])["ordered_at_q_min"].all()
    return f"{int(points.sum())} of {points.size} points", points.mean() >= 0.5


def _phase_by_q(dilution: pd.DataFrame) -> pd.DataFrame:
    return dilution.groupby(["layer", "q"])["eq_ordered"].mean().unstack("layer")


def paramagnet_at_large_q(tables, context) -> Verdict:
    """Both sweeps: ordered at the smallest q, paramagnetic at the largest, and the energy (exact,
    else Monte Carlo) rises with q at every step."""
    dilution = tables["dilution"]
    ordered = _phase_by_q(dilution)
    # each sweep's own ends (a sweep has no row where no path is left)
    ends = all(
        column.dropna().iloc[0] == 1 and column.dropna().iloc[-1] == 0
        for _, column in ordered.items()
    )
    energy = dilution["exact_e"].where(dilution["exact_e"].notna(), dilution["mc_e"])
    mean_e = energy.groupby([dilution["layer"], dilution["q"]]).mean().unstack("layer")
    rises = (np.diff(mean_e.to_numpy(), axis=0) > 0).mean()
    text = f"ordered to paramagnetic: {'yes' if ends else 'no'}; "
    text += f"energy rises in {rises:.0%} of steps"
    return text, ends and rises >= 0.75


def first_order(tables, context) -> Verdict:
    """At half of the transitions or more the ordered fixed point survives past q_c (a metastable
    window), counting it without its gauge copies (with them in brackets)."""
    points = _with_transition(tables["critical"])
    if points.empty:
        return "no transition", False
    plain = (points["q_spinodal"] > points["q_c_hi"]).mean()
    gauge = (points["q_spinodal"] > points["q_c_gauge_hi"]).mean()
    return f"metastable window at {plain:.0%} ({gauge:.0%} with gauge copies)", plain >= 0.5


def _nearest(values: pd.Series, target: float) -> float:
    return values.iloc[np.argmin(np.abs(values.to_numpy() - target))]


def _near_beta(critical: pd.DataFrame, p2: float, beta: float) -> pd.DataFrame:
    """The rows of the grid point nearest to (p2, beta): the p2 of the sweeps need not be on the
    grid of q_c."""
    rows = critical[critical["p2"] == _nearest(critical["p2"], p2)]
    return rows[rows["beta"] == _nearest(rows["beta"], beta)]


def entropy_jump(tables, context) -> Verdict:
    """The entropy jumps up into the paramagnet at q_c (first width, the p2 and beta of the grid
    nearest the sweeps' p2 and the reading's beta)."""
    rows = _near_beta(tables["critical"], context["p2"], context["beta"])
    rows = rows[(rows["n"] == rows["n"].min()) & rows["ordered_at_q_min"]]
    if rows.empty:
        return "no transition", False
    jump = rows["s_jump"].mean()
    text = f"s jump {jump:.3f} = {jump / np.log(2):.2f} ln 2 at beta = {rows['beta'].iloc[0]:g}"
    text += f", p2 = {rows['p2'].iloc[0]:g}"
    return text, bool(jump > 0)


def _pairs(points: pd.DataFrame, along: str, within: list[str]) -> list[tuple[float, float]]:
    """(q_c at the smallest, q_c at the largest ``along``) within each group of ``within``."""
    out = []
    for _, group in points.groupby(within):
        if len(group) >= 2:
            group = group.sort_values(along)
            out.append((group["q_c"].iloc[0], group["q_c"].iloc[-1]))
    return out


def falls_with_p2(tables, context) -> Verdict:
    """Where two p2 values both have a transition, q_c is lower at the lower p2, in three of four
    (N, beta) points or more."""
    pairs = _pairs(_with_transition(tables["critical"]), "p2", ["n", "beta"])
    if not pairs:
        return "no two p2 with a transition", False
    lower = np.mean([lo < hi for lo, hi in pairs])
    return f"lower q_c at lower p2 in {lower:.0%} of {len(pairs)} points", lower >= 0.75


def falls_with_temperature(tables, context) -> Verdict:
    """Where two betas both have a transition, q_c is lower at the smallest beta (the highest
    temperature), in three of four (N, p2) points or more."""
    pairs = _pairs(_with_transition(tables["critical"]), "beta", ["n", "p2"])
    if not pairs:
        return "no two betas with a transition", False
    lower = np.mean([lo < hi for lo, hi in pairs])
    return f"lower q_c at higher temperature in {lower:.0%} of {len(pairs)} points", lower >= 0.75


def layer_dependence(tables, context) -> Verdict:
    """The last q at which most instances are ordered differs between diluting W1 and W2."""
    ordered = _phase_by_q(tables["dilution"])
    last = {}
    for layer in ordered.columns:
        column = ordered[layer]
        last[layer] = column[column >= 0.5].index.max() if (column >= 0.5).any() else np.nan
    text = ", ".join(f"W{layer}: {q:g}" for layer, q in last.items())
    values = list(last.values())
    if np.isnan(values).any():
        # a sweep never ordered has no last ordered q to compare
        return f"last ordered q {text}", False
    return f"last ordered q {text}", bool(values[0] != values[-1])


def bp_matches_mc(tables, context) -> Verdict:
    """Away from the transition (every instance in one BP phase), the selected BP energy agrees
    with Monte Carlo within 3 Monte Carlo errors at three of four points or more."""
    dilution = tables["dilution"]
    results = []
    for _, frame in dilution.groupby("layer"):
        diff = paired_difference(frame, "mc_e", "eq_e", se="mc_e_se")
        ordered = frame.groupby("q")["eq_ordered"].mean().to_numpy()
        pure = (ordered == 0) | (ordered == 1)
        results.extend(diff["agree"].to_numpy()[pure])
    if not results:
        return "no point away from the transition", False
    share = float(np.mean(results))
    return f"agree at {int(np.sum(results))} of {len(results)} points", share >= 0.75


def bp_converges(tables, context) -> Verdict:
    """At least 95% of the BP runs of the sweeps converge."""
    dilution = tables["dilution"]
    runs = pd.concat([dilution["ord_converged"], dilution["rnd_converged"]])
    share = float(runs.mean())
    return f"{share:.0%} of {runs.size} runs converged", share >= 0.95


STATEMENTS = (
    Statement(
        "three peaks",
        "The degree distribution of weights in a typical example is shown in Fig. 3 (a), which "
        "suggests that there exists three peaks corresponding to weights drawn from three "
        "different weight populations.",
        "every pair of populations shares less than half of its degree distribution",
        three_peaks,
    ),
    Statement(
        "wide degrees",
        "the degree can vary in a wide range of values",
        "the populations' median degrees span more than a factor 10",
        wide_degrees,
    ),
    Statement(
        "shared inputs",
        "During the random construction, some constraints may share the same value of [xi], i.e., "
        "the corresponding paths share a common input unit.",
        "by construction",
        shared_signs,
    ),
    Statement(
        "independent paths",
        "we construct randomly and independently each active path from the input at the bottom "
        "layer to the output at the top layer",
        "by construction",
        independent_paths,
    ),
    Statement(
        "N in H",
        "where [N] denotes the layer width (the same for all layers except the last one)",
        "by construction (said of Eq. (3), the Hamiltonian)",
        width_in_h,
    ),
    Statement(
        "a transition",
        "A critical value of the perturbation is observed to separate a spin glass regime from a "
        "paramagnetic regime",
        "ordered at q_min at half of the (N, p2, beta) points or more",
        transition_exists,
    ),
    Statement(
        "paramagnet at large q",
        "the RAP model has a paramagnetic phase when [q] is larger than [q_c], and the energy "
        "keeps decreasing as [q] decreases",
        "both sweeps go from ordered to paramagnetic; the energy rises with q at 3 of 4 steps",
        paramagnet_at_large_q,
    ),
    Statement(
        "first order",
        "the transition is of the first-order (Fig. 3 (c)), because there exists metastability "
        "of states",
        "the ordered fixed point outlives q_c at half of the transitions or more",
        first_order,
    ),
    Statement(
        "entropy jump",
        "The entropy curve also displays a slight jump",
        "the entropy jumps up at q_c",
        entropy_jump,
    ),
    Statement(
        "q_c falls with p2",
        "When the activation probability decreases, the critical dilution probability decreases "
        "as well.",
        "lower q_c at the lower p2 at 3 of 4 points or more",
        falls_with_p2,
    ),
    Statement(
        "q_c falls with temperature",
        "A high temperature also expands the paramagnetic phase",
        "lower q_c at the highest temperature at 3 of 4 points or more",
        falls_with_temperature,
    ),
    Statement(
        "W1 and W2 differ",
        "Because of layer-dependent activation probability, the quantitative behavior depends on "
        "which weight population is diluted.",
        "the last ordered q of the W1 and W2 sweeps differ",
        layer_dependence,
    ),
    Statement(
        "BP matches MC",
        "The theoretical prediction of the cavity method is in agreement with the simple "
        "Monte-Carlo simulations of the model, despite deviations around the transition point.",
        "BP and MC agree within 3 MC errors at 3 of 4 points away from the transition",
        bp_matches_mc,
    ),
    Statement(
        "BP converges",
        "within the temperature range we explore in Fig. 3 and Fig. 4, the iteration is stable, "
        "leading to a converged value for the order parameter",
        "95% of the BP runs of the sweeps converge",
        bp_converges,
    ),
)


def evidence(tables: dict[str, pd.DataFrame], readings: pd.DataFrame, p2: float) -> pd.DataFrame:
    """Every statement tested against every reading.

    Parameters
    ----------
    tables
        ``degrees``, ``dilution``, ``critical``: the concatenated tables of all readings (column
        ``reading``).
    readings
        One row per reading: ``name``, ``construction``, ``prefactor``, ``xi``, ``beta``.
    p2
        The p2 of the sweeps (config ``rap.p2``).

    Returns
    -------
    DataFrame
        One row per (statement, reading): ``statement`` (its key), ``quote``, ``test``,
        ``reading``, ``measured`` (text), ``verdict`` (True, False or None).
    """
    rows = []
    for reading in readings.itertuples():
        own = {name: table[table["reading"] == reading.name] for name, table in tables.items()}
        context = reading._asdict() | {"p2": p2}
        for statement in STATEMENTS:
            measured, verdict = statement.evaluate(own, context)
            verdict = None if verdict is None else bool(verdict)
            rows.append(
                {
                    "statement": statement.key,
                    "quote": statement.quote,
                    "test": statement.test,
                    "reading": reading.name,
                    "measured": measured,
                    "verdict": verdict,
                }
            )
    return pd.DataFrame(rows)


def n_drift(critical: pd.DataFrame) -> pd.DataFrame:
    """How 1 - q_c changes from the smallest to the largest width, per reading.

    Returns
    -------
    DataFrame
        One row per reading: ``reading``, ``points`` (the (p2, beta) with a transition at both
        widths), ``n_small``, ``n_large``, ``ratio`` (median over points of (1 - q_c) at the
        smallest width over (1 - q_c) at the largest: about n_large / n_small when 1 - q_c ~ 1/N,
        1 when q_c stays put).
    """
    rows = []
    for name, group in critical.groupby("reading", sort=False):
        points = _with_transition(group)
        small, large = points["n"].min(), points["n"].max()
        if small == large or np.isnan(small):
            rows.append(
                {"reading": name, "points": 0, "n_small": small, "n_large": large, "ratio": np.nan}
            )
            continue
        merged = points[points["n"] == small].merge(
            points[points["n"] == large], on=["p2", "beta"], suffixes=("_s", "_l")
        )
        ratio = (1 - merged["q_c_s"]) / (1 - merged["q_c_l"])
        rows.append(
            {
                "reading": name,
                "points": len(merged),
                "n_small": small,
                "n_large": large,
                "ratio": float(ratio.median()) if len(merged) else np.nan,
            }
        )
    return pd.DataFrame(rows)
