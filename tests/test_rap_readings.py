"""The statements of the paper tested against readings, and the finite-size fits."""

import numpy as np
import pandas as pd
import pytest

from prunephase.core.config import settings, validate_config
from prunephase.rap.analysis import gap_statistics, power_law, scaling_variable_drift
from prunephase.rap.experiments import reading_tables
from prunephase.rap.readings import (
    STATEMENTS,
    entropy_jump,
    evidence,
    layer_dependence,
    n_drift,
    three_peaks,
)
from prunephase.rap.settings import BP, MC, Degrees, Reading, Readings

BP_DEFAULT = settings(BP, validate_config({})["rap"]["bp"])


def degree_table(peaks):
    """A degree table with one narrow peak per population at the given degrees."""
    rows = [
        {"population": p, "degree": d + s, "count": 10}
        for p, d in enumerate(peaks, 1)
        for s in (-1, 0, 1)
    ]
    return pd.DataFrame(rows)


def test_three_peaks_needs_three_separate_populations():
    assert three_peaks({"degrees": degree_table([5, 20, 300])}, {})[1] is True
    assert three_peaks({"degrees": degree_table([5, 5, 300])}, {})[1] is False


def sweeps(last_ordered):
    """A dilution table of two sweeps, ordered up to the given q of each layer (None: never)."""
    rows = [
        {"layer": layer, "q": q, "eq_ordered": last is not None and q <= last}
        for layer, last in zip((1, 2), last_ordered, strict=True)
        for q in (0.0, 0.5, 0.9)
    ]
    return {"dilution": pd.DataFrame(rows)}


def test_layer_dependence_needs_two_ordered_sweeps():
    assert layer_dependence(sweeps((0.5, 0.9)), {})[1] is True
    assert layer_dependence(sweeps((0.5, 0.5)), {})[1] is False
    # sweeps that are never ordered have no transition to compare
    assert layer_dependence(sweeps((None, None)), {})[1] is False


@pytest.fixture(scope="module")
def small_readings():
    models = (
        Reading(name="network", construction="network", prefactor="1", xi="input", beta=0.5),
        Reading(name="iid", construction="iid", prefactor="1", xi="input", beta=0.5),
    )
    readings = Readings(
        models=models,
        n=(10, 14),
        instances=2,
        q=(0.0, 0.8, 0.95),
        p2=(0.2, 0.4),
        betas=(0.5, 1.0),
        bisection_steps=4,
        max_iter=200,
    )
    parts = [
        reading_tables(
            index=k,
            p1=0.5,
            p2=0.4,
            degrees=Degrees(q=0.5, instances=2),
            readings=readings,
            q_min=0.0,
            q_max=0.9999,
            root_seed=2,
            bp=BP_DEFAULT,
            mc=MC(chains=2, relax_sweeps=10, sample_sweeps=20),
        )
        for k in range(len(models))
    ]
    tables = {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}
    listed = pd.DataFrame([vars(m) for m in models])
    return tables, listed


def test_every_statement_is_tested_against_every_reading(small_readings):
    tables, listed = small_readings
    table = evidence(tables, listed, 0.4)
    assert len(table) == len(STATEMENTS) * 2
    assert set(table["verdict"].map(type)) <= {bool, type(None)}
    verdicts = table.set_index(["statement", "reading"])["verdict"]
    # what tells the constructions apart: i.i.d. paths merge the W1 and W2 degree peaks, and
    # only they (and the independent construction) draw every path on its own
    assert verdicts["three peaks", "network"] and not verdicts["three peaks", "iid"]
    assert verdicts["independent paths", "iid"] and not verdicts["independent paths", "network"]
    assert verdicts["shared inputs", "network"] and verdicts["N in H", "network"] is None
    assert table["quote"].str.len().min() > 20


def test_n_drift_reads_how_one_minus_q_c_shrinks():
    rows = []
    for reading, exponent in (("moves", 1.0), ("stays", 0.0)):
        for n in (20, 40):
            for p2 in (0.2, 0.4):
                rows.append(
                    {
                        "reading": reading,
                        "n": n,
                        "p2": p2,
                        "beta": 0.5,
                        "instance": 0,
                        "q_c": 1 - 0.5 * (20 / n) ** exponent,
                        "q_c_hi": 0.0,
                        "q_c_gauge_hi": 0.0,
                        "q_spinodal": 1.0,
                        "s_jump": 0.1,
                        "ordered_at_q_min": True,
                    }
                )
    drift = n_drift(pd.DataFrame(rows)).set_index("reading")
    assert drift.loc["moves", "ratio"] == pytest.approx(2.0)
    assert drift.loc["stays", "ratio"] == pytest.approx(1.0)


def test_power_law_and_the_scaling_variable_recover_a_known_exponent():
    rng = np.random.default_rng(0)
    n = np.repeat([30, 60, 120, 240], 50)
    q_c = 1 - 12.0 * n**-1.7 * np.exp(rng.normal(0, 0.1, n.size))
    table = pd.DataFrame({"n": n, "q_c": q_c})
    gap = (1 - table["q_c"]).groupby(table["n"]).agg(["mean", "sem"])
    fit = power_law(gap.index.to_numpy(), gap["mean"], gap["sem"])
    assert fit["nu"] == pytest.approx(1.7, abs=3 * fit["nu_se"]) and fit["nu_se"] < 0.05
    drift = scaling_variable_drift(table, [1.0, 1.7, 2.0]).set_index("exponent")
    assert abs(drift.loc[1.7, "slope"]) < 3 * drift.loc[1.7, "slope_se"]
    assert drift.loc[1.0, "slope"] < -10 * drift.loc[1.0, "slope_se"]
    with pytest.raises(ValueError, match="at least two widths"):
        power_law(np.array([30]), np.array([0.1]), np.array([0.01]))


def test_gap_statistics_count_the_bisection_resolution():
    # two instances ending in the same bracket: no spread, but the bracket's width remains
    table = pd.DataFrame(
        {"n": [10, 10], "q_c": [0.95, 0.95], "q_c_lo": [0.94, 0.94], "q_c_hi": [0.96, 0.96]}
    )
    stats = gap_statistics(table, "q_c", 1.0).loc[10]
    assert stats["mean"] == pytest.approx(0.5)
    assert stats["se"] == pytest.approx(10 * 0.02 / np.sqrt(12))
    spread = gap_statistics(table.drop(columns=["q_c_lo", "q_c_hi"]).assign(q_c=[0.9, 0.95]))
    assert spread.loc[10, "se"] == pytest.approx(0.025)


def test_entropy_jump_reads_the_grid_point_nearest_the_sweeps():
    critical = pd.DataFrame(
        {
            "n": 10,
            "p2": [0.2, 0.2, 0.4, 0.4],
            "beta": [0.5, 1.0, 0.5, 1.0],
            "ordered_at_q_min": True,
            "s_jump": [0.1, 0.2, 0.3, -0.4],
        }
    )
    text, verdict = entropy_jump({"critical": critical}, {"p2": 0.3001, "beta": 0.9})
    assert verdict is False and "p2 = 0.4" in text and "beta = 1" in text
    assert entropy_jump({"critical": critical}, {"p2": 0.25, "beta": 0.6})[1] is True
