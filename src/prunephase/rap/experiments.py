"""The experiments behind the figures: disorder averages of BP, Monte Carlo and exact results.

Every function returns a table (pandas DataFrame) with one row per (parameter point, instance);
:func:`disorder_average` turns it into means and standard errors over instances. Instance ``k``
is built from the stream ``(INSTANCES, k)`` of the root seed (:mod:`prunephase.core.seeds`)
whatever the parameters, so all points of a sweep (any q, p2, diluted layer) use nested
thresholdings of the same random networks; BP starts and Monte Carlo chains get their own streams.

Settings come from the config through :mod:`prunephase.rap.settings`; the functions that take
several config values take them as keywords, and none has a default for one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from prunephase.core.seeds import generator, seed_sequence
from prunephase.rap.bp import initial_messages, paramagnetic, run_bp, thermodynamics
from prunephase.rap.exact import block_thermodynamics
from prunephase.rap.instance import RAPInstance, build_instance, dilution
from prunephase.rap.instance import degrees as weight_degrees
from prunephase.rap.mc import anneal, quench
from prunephase.rap.settings import BP, MC, Annealing, Critical, Degrees, LowTemperature

log = logging.getLogger("prunephase")

# streams of the root seed (see prunephase.core.seeds)
INSTANCES, BP_RANDOM, MC_QUENCH, MC_ANNEAL = 1, 2, 3, 4
#: the first key element of the BP and MC streams of the temperature scan (the dilution sweep
#: uses the diluted layer, 1 to 3, there)
SCAN = 100


def make_instance(
    *, n: int, p1: float, p2: float, layer: int, q: float, root_seed: int, index: int
) -> RAPInstance:
    """Instance number ``index`` with population ``layer`` diluted by ``q``."""
    return build_instance(n, p1, p2, dilution(layer, q), seed_sequence(root_seed, INSTANCES, index))


def make_instances(
    *, n: int, p1: float, p2: float, layer: int, q: float, count: int, root_seed: int
) -> list[tuple[int, RAPInstance]]:
    """Instances 0 .. count - 1 (:func:`make_instance`), each with its number."""
    return [
        (k, make_instance(n=n, p1=p1, p2=p2, layer=layer, q=q, root_seed=root_seed, index=k))
        for k in range(count)
    ]


def bp_fixed_points(
    instance: RAPInstance, beta: float, options: BP, rng: np.random.Generator
) -> dict[str, float]:
    """BP from the polarised and from a random start, and the paramagnetic closed forms.

    Returns
    -------
    dict
        For ``branch`` in (``ord``, ``rnd``): ``{branch}_f``, ``_e``, ``_s``, ``_q``, ``_q_w1``,
        ``_q_w2``, ``_q_w3``, ``_converged``, ``_iterations``; ``ord_exists`` (the polarised start
        converged to an ordered fixed point, q > order_threshold); ``para_f``, ``para_e``,
        ``para_s`` (closed forms at alpha of the instance); ``eq_f``, ``eq_e``, ``eq_s``, ``eq_q``,
        ``eq_ordered`` (the branch of lower Bethe free energy: ordered if it exists and wins).
    """
    out: dict[str, float] = {}
    for branch, start in (("ord", "polarised"), ("rnd", "random")):
        result = run_bp(
            instance,
            beta,
            initial_messages(instance, start, rng=rng, polarisation=options.polarisation),
            damping=options.damping,
            tol=options.tol,
            max_iter=options.max_iter,
        )
        if not result.converged:
            log.warning(
                "BP (%s start, beta=%g, M=%d) did not converge in %d iterations (residual %.2e)",
                start,
                beta,
                instance.n_paths,
                result.iterations,
                result.residual,
            )
        thermo = thermodynamics(instance, result.m, beta)
        for key in ("f", "e", "s", "q", "q_w1", "q_w2", "q_w3"):
            out[f"{branch}_{key}"] = thermo[key]
        out[f"{branch}_converged"] = result.converged
        out[f"{branch}_iterations"] = result.iterations
    para = paramagnetic(instance.alpha, beta)
    for key in ("f", "e", "s"):
        out[f"para_{key}"] = float(para[key])
    out["ord_exists"] = bool(out["ord_converged"] and out["ord_q"] > options.order_threshold)
    ordered_wins = out["ord_exists"] and out["ord_f"] < out["para_f"]
    for key in ("f", "e", "s"):
        out[f"eq_{key}"] = out[f"ord_{key}"] if ordered_wins else out[f"para_{key}"]
    out["eq_q"] = out["ord_q"] if ordered_wins else 0.0
    out["eq_ordered"] = ordered_wins
    return out


def _instance_columns(instance: RAPInstance) -> dict[str, float]:
    return {"n_paths": instance.n_paths, "n_weights": instance.n_weights, "alpha": instance.alpha}


def _quench_columns(
    instance: RAPInstance, beta: float, mc: MC, rng: np.random.Generator
) -> dict[str, float]:
    chain = quench(instance, beta, mc.relax_sweeps, mc.sample_sweeps, rng, mc.batches)
    return {"mc_e": chain["e"], "mc_e_se": chain["e_se"], "mc_q": chain["q"]}


def dilution_sweep(
    *,
    n: int,
    p1: float,
    p2: float,
    layer: int,
    q_values: Sequence[float],
    beta: float,
    n_instances: int,
    root_seed: int,
    bp: BP,
    mc: MC,
) -> pd.DataFrame:
    """BP, exact and Monte Carlo results against the dilution of one population (Fig. 3).

    Returns
    -------
    DataFrame
        One row per (q, instance). Columns: ``layer``, ``q``, ``instance``, ``beta``, ``n``,
        ``p1``, ``p2``, ``n_paths`` (M), ``n_weights`` (n_w), ``alpha`` (M / n_w); the BP columns
        of :func:`bp_fixed_points` (per-weight free energy ``*_f``, energy ``*_e``, entropy
        ``*_s``, order parameters ``*_q*``); ``exact_f``, ``exact_e``, ``exact_s`` (exact, block
        decomposition); ``mc_e``, ``mc_e_se`` (quench: mean energy per weight and its batch-means
        error), ``mc_q`` (Edwards-Anderson order parameter of the chain). Points whose instance has
        no active path are left out.
    """
    rows = []
    for qi, q in enumerate(q_values):
        for k in range(n_instances):
            instance = make_instance(
                n=n, p1=p1, p2=p2, layer=layer, q=q, root_seed=root_seed, index=k
            )
            if instance.n_paths == 0:
                log.warning("layer %d, q=%g, instance %d: no active path, skipped", layer, q, k)
                continue
            row = {"layer": layer, "q": float(q), "instance": k, "beta": beta, "n": n}
            row |= {"p1": p1, "p2": p2} | _instance_columns(instance)
            row |= bp_fixed_points(
                instance, beta, bp, generator(root_seed, BP_RANDOM, layer, qi, k)
            )
            row |= {f"exact_{k_}": v for k_, v in block_thermodynamics(instance, beta).items()}
            mc_rng = generator(root_seed, MC_QUENCH, layer, qi, k)
            row |= _quench_columns(instance, beta, mc, mc_rng)
            rows.append(row)
        log.info("layer %d: q=%g done (%d/%d)", layer, q, qi + 1, len(q_values))
    return pd.DataFrame(rows)


def degree_histogram(
    *, n: int, p1: float, p2: float, layer: int, degrees: Degrees, root_seed: int
) -> pd.DataFrame:
    """Histogram of weight degrees, by population, pooled over instances (Fig. 3a).

    Instances 0 .. ``degrees.instances`` - 1 with population ``layer`` diluted by
    ``degrees.q``.

    Returns
    -------
    DataFrame
        Columns ``population`` (1, 2, 3 for W1, W2, W3), ``degree`` (number of active paths
        through a weight), ``count`` (weights of that population and degree, summed over
        instances), ``fraction`` (count over all weights of all instances).
    """
    frames = []
    for _, instance in make_instances(
        n=n,
        p1=p1,
        p2=p2,
        layer=layer,
        q=degrees.q,
        count=degrees.instances,
        root_seed=root_seed,
    ):
        population = instance.population + 1
        frames.append(pd.DataFrame({"population": population, "degree": weight_degrees(instance)}))
    pooled = pd.concat(frames, ignore_index=True)
    table = pooled.value_counts(["population", "degree"]).rename("count").reset_index()
    table = table.sort_values(["population", "degree"], ignore_index=True)
    table["fraction"] = table["count"] / table["count"].sum()
    return table


def _log_bisect(predicate, q_min: float, q_max: float, steps: int) -> tuple[float, float]:
    """Bracket [lo, hi] of the q where ``predicate`` turns false, bisecting in ln(1 - q).

    ``predicate(q_min)`` is assumed true and ``predicate(q_max)`` false; the transitions sit near
    q = 1, where a bisection in ln(1 - q) keeps a constant relative resolution in 1 - q.
    """
    lo, hi = np.log1p(-q_min), np.log1p(-q_max)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if predicate(-np.expm1(mid)):
            lo = mid
        else:
            hi = mid
    return float(-np.expm1(lo)), float(-np.expm1(hi))


def critical_dilution(
    *,
    n: int,
    p1: float,
    layer: int,
    n_instances: int,
    root_seed: int,
    critical: Critical,
    bp: BP,
) -> pd.DataFrame:
    """The transition q_c and the spinodal of the ordered fixed point, per instance (Fig. 4).

    q_c is where the Bethe free energy of the ordered fixed point (polarised start) rises above
    the paramagnetic one, q_spinodal where the ordered fixed point disappears; both found by
    ``critical.bisection_steps`` bisection steps in ln(1 - q) between ``critical.q_min`` and
    ``critical.q_max`` on the nested instances of one seed, at every (p2, beta) of ``critical``.
    The paramagnetic fixed point exists and is locally stable at every q (u = t m m is quadratic
    in m), so it has no spinodal.

    Returns
    -------
    DataFrame
        One row per (p2, beta, instance). Columns ``layer``, ``p2``, ``beta``, ``instance``,
        ``n``, ``p1``; ``q_c`` (midpoint of the final bracket), ``q_c_lo``, ``q_c_hi``;
        ``q_spinodal``; at q_c_lo (ordered branch still winning) ``alpha_c``, ``ord_s``,
        ``para_s``, ``s_jump`` (para_s - ord_s: the entropy jump across the transition),
        ``ord_e``, ``para_e``, ``e_jump``, ``ord_q``; ``ordered_at_q_min`` (False flags a point
        that is paramagnetic already at q_min, where q_c = q_min is only a bound);
        ``not_converged`` (BP runs of the bisection that hit max_iter).
    """
    rows = []
    bracket = (critical.q_min, critical.q_max, critical.bisection_steps)
    for p2 in critical.p2:
        for beta in critical.betas:
            for k in range(n_instances):
                point = (n, p1, p2, layer, root_seed, k, beta, bp)
                row = {"layer": layer, "p2": p2, "beta": beta, "instance": k, "n": n, "p1": p1}
                row |= _critical_point(point, *bracket)
                rows.append(row)
            log.info("p2=%g beta=%g done", p2, beta)
    return pd.DataFrame(rows)


def _ordered_branch(point: tuple, q: float) -> tuple[RAPInstance, dict | None, bool]:
    """Instance at q, the ordered fixed point (None if BP falls to the paramagnet), convergence."""
    n, p1, p2, layer, root_seed, k, beta, bp = point
    instance = make_instance(n=n, p1=p1, p2=p2, layer=layer, q=q, root_seed=root_seed, index=k)
    if instance.n_paths == 0:
        return instance, None, True
    m0 = initial_messages(instance, "polarised", polarisation=bp.polarisation)
    result = run_bp(instance, beta, m0, damping=bp.damping, tol=bp.tol, max_iter=bp.max_iter)
    thermo = thermodynamics(instance, result.m, beta)
    ordered = result.converged and thermo["q"] > bp.order_threshold
    return instance, (thermo if ordered else None), result.converged


def _critical_point(point: tuple, q_min: float, q_max: float, steps: int) -> dict[str, float]:
    beta = point[6]
    failures = 0

    def ordered_wins(q: float) -> bool:
        nonlocal failures
        instance, ordered, converged = _ordered_branch(point, q)
        failures += not converged
        return ordered is not None and ordered["f"] < paramagnetic(instance.alpha, beta)["f"]

    def ordered_exists(q: float) -> bool:
        nonlocal failures
        _, ordered, converged = _ordered_branch(point, q)
        failures += not converged
        return ordered is not None

    row: dict[str, float] = {"ordered_at_q_min": ordered_wins(q_min)}
    if row["ordered_at_q_min"]:
        lo, hi = _log_bisect(ordered_wins, q_min, q_max, steps)
        spinodal = float(np.mean(_log_bisect(ordered_exists, q_min, q_max, steps)))
    else:
        lo = hi = spinodal = q_min
    row |= {"q_c": 0.5 * (lo + hi), "q_c_lo": lo, "q_c_hi": hi, "q_spinodal": spinodal}
    instance, ordered, _ = _ordered_branch(point, lo)
    para = paramagnetic(instance.alpha, beta)
    row |= {"alpha_c": instance.alpha, "para_s": float(para["s"]), "para_e": float(para["e"])}
    if ordered is not None:
        row |= {"ord_s": ordered["s"], "ord_e": ordered["e"], "ord_q": ordered["q"]}
    else:
        row |= {"ord_s": np.nan, "ord_e": np.nan, "ord_q": 0.0}
    row["s_jump"] = row["para_s"] - row["ord_s"]
    row["e_jump"] = row["para_e"] - row["ord_e"]
    row["not_converged"] = failures
    return row


def annealing_runs(
    instances: Iterable[tuple[int, RAPInstance]],
    *,
    betas: np.ndarray,
    sweeps_per_temperature: Sequence[int],
    root_seed: int,
) -> pd.DataFrame:
    """Simulated annealing at several cooling rates (Fig. 5a).

    Returns
    -------
    DataFrame
        One row per (instance, sweeps per temperature, temperature step). Columns ``instance``,
        ``sweeps_per_temperature``, ``step``, ``beta``, ``e`` (energy per weight at the end of
        that step), ``ground_e`` (-alpha: every path satisfied), ``alpha``, ``exact_e`` (exact
        equilibrium energy per weight at that beta, block solution).
    """
    rows = []
    for k, instance in instances:
        exact = [block_thermodynamics(instance, float(beta))["e"] for beta in betas]
        for rate in sweeps_per_temperature:
            energies = anneal(instance, betas, rate, generator(root_seed, MC_ANNEAL, k, rate))
            for step, (beta, e) in enumerate(zip(betas, energies, strict=True)):
                rows.append(
                    {
                        "instance": k,
                        "sweeps_per_temperature": rate,
                        "step": step,
                        "beta": float(beta),
                        "e": float(e),
                        "ground_e": -instance.alpha,
                        "alpha": instance.alpha,
                        "exact_e": exact[step],
                    }
                )
        log.info("annealing: instance %d done", k)
    return pd.DataFrame(rows)


def annealing_experiment(
    *, n: int, p1: float, p2: float, layer: int, annealing: Annealing, root_seed: int
) -> pd.DataFrame:
    """:func:`annealing_runs` of ``annealing.instances`` instances (population ``layer`` diluted
    by ``annealing.q``) along :func:`beta_ladder` at every rate of ``annealing``."""
    instances = make_instances(
        n=n,
        p1=p1,
        p2=p2,
        layer=layer,
        q=annealing.q,
        count=annealing.instances,
        root_seed=root_seed,
    )
    return annealing_runs(
        instances,
        betas=beta_ladder(annealing),
        sweeps_per_temperature=annealing.sweeps_per_temperature,
        root_seed=root_seed,
    )


def temperature_scan(
    instances: Iterable[tuple[int, RAPInstance]],
    *,
    betas: Sequence[float],
    root_seed: int,
    bp: BP,
    mc: MC,
) -> pd.DataFrame:
    """BP, exact and Monte Carlo results against the inverse temperature (Fig. 5b).

    Returns
    -------
    DataFrame
        One row per (instance, beta): ``instance``, ``beta``, instance columns, the columns of
        :func:`bp_fixed_points`, ``exact_f``, ``exact_e``, ``exact_s``, ``mc_e``, ``mc_e_se``,
        ``mc_q``.
    """
    rows = []
    for k, instance in instances:
        for bi, beta in enumerate(betas):
            row = {"instance": k, "beta": float(beta)} | _instance_columns(instance)
            bp_rng = generator(root_seed, BP_RANDOM, SCAN, bi, k)
            row |= bp_fixed_points(instance, float(beta), bp, bp_rng)
            row |= {f"exact_{k_}": v for k_, v in block_thermodynamics(instance, beta).items()}
            row |= _quench_columns(instance, beta, mc, generator(root_seed, MC_QUENCH, SCAN, bi, k))
            rows.append(row)
        log.info("temperature scan: instance %d done", k)
    return pd.DataFrame(rows)


def low_temperature_experiment(
    *,
    n: int,
    p1: float,
    p2: float,
    layer: int,
    q: float,
    low_temperature: LowTemperature,
    root_seed: int,
    bp: BP,
    mc: MC,
) -> pd.DataFrame:
    """:func:`temperature_scan` of ``low_temperature.instances`` instances with population
    ``layer`` diluted by ``q`` (the annealed instances of Fig. 5a) at ``low_temperature.betas``."""
    instances = make_instances(
        n=n, p1=p1, p2=p2, layer=layer, q=q, count=low_temperature.instances, root_seed=root_seed
    )
    return temperature_scan(
        instances, betas=low_temperature.betas, root_seed=root_seed, bp=bp, mc=mc
    )


def disorder_average(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean and standard error over instances of every numeric column, grouped by ``by``.

    Returns
    -------
    DataFrame
        Columns ``by``, then for each numeric column c (other than ``by`` and ``instance``):
        ``c`` (mean over instances) and ``c_sem`` (standard error of that mean; NaN for a single
        instance), and ``instances`` (number of instances in the group).
    """
    value_cols = [
        c
        for c in frame.columns
        if c not in (*by, "instance") and pd.api.types.is_numeric_dtype(frame[c])
    ]
    values = frame[list(by) + value_cols].astype({c: float for c in value_cols})
    grouped = values.groupby(list(by), sort=True)
    mean = grouped.mean()
    sem = grouped.sem().add_suffix("_sem")
    out = pd.concat([mean, sem], axis=1).reset_index()
    out["instances"] = grouped.size().to_numpy()
    return out


def beta_ladder(annealing: Annealing) -> np.ndarray:
    """The annealing ladder: ``annealing.temperatures`` equally spaced inverse temperatures from
    ``beta_start`` to ``beta_end`` (their order is checked with the config), shape (T,)."""
    return np.linspace(annealing.beta_start, annealing.beta_end, annealing.temperatures)
