"""The experiments behind the figures: disorder averages of BP, Monte Carlo and exact results.

Every function returns a table (pandas DataFrame) with one row per (parameter point, instance);
:func:`disorder_average` turns it into means and standard errors over instances. Instance ``k``
is built from the stream ``(INSTANCES, k)`` of the root seed (:mod:`prunephase.core.seeds`)
whatever the parameters and the reading, so all points of a sweep (any q, p2, diluted layer) use
nested thresholdings of the same random networks; BP starts and Monte Carlo chains get their own
streams.

A reading of the model (:class:`~prunephase.rap.settings.Model`) fixes how the paths are drawn,
what sign they carry, and the prefactor J(N) of H. BP, Monte Carlo and the exact solution run at
beta J; every energy and free energy in the tables is in units of H (multiplied by J), so the
``beta`` column is the inverse temperature of the Boltzmann weight exp(-beta H).

Settings come from the config through :mod:`prunephase.rap.settings`; the functions that take
several config values take them as keywords, and none has a default for one.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from prunephase.core.seeds import generator, seed_sequence
from prunephase.rap.analysis import complete_mean
from prunephase.rap.bp import (
    initial_messages,
    magnetisations,
    paramagnetic,
    run_bp,
    thermodynamics,
)
from prunephase.rap.exact import blocks_thermodynamics, exact_thermodynamics
from prunephase.rap.gauged import gauged_bp
from prunephase.rap.instance import (
    RAPInstance,
    broken_gauges,
    build_instance,
    dilution,
    network_blocks,
)
from prunephase.rap.instance import degrees as weight_degrees
from prunephase.rap.mc import anneal, quench
from prunephase.rap.settings import (
    BP,
    MC,
    Annealing,
    Critical,
    Degrees,
    FiniteSize,
    LowTemperature,
    Model,
    Readings,
)

log = logging.getLogger("prunephase")

# streams of the root seed (see prunephase.core.seeds)
INSTANCES, BP_RANDOM, MC_QUENCH, MC_ANNEAL = 1, 2, 3, 4
#: the first key element of the BP and MC streams of the temperature scan (the dilution sweep
#: uses the diluted layer, 1 to 3, there), of the finite-size grid and of the readings
SCAN, FINITE_SIZE, READINGS = 100, 101, 102
#: the thermodynamic columns of a BP branch
BRANCH_KEYS = ("f", "e", "s", "q", "q_w1", "q_w2", "q_w3")
LN2 = math.log(2.0)


def make_instance(
    *,
    n: int,
    p1: float,
    p2: float,
    layer: int,
    q: float,
    root_seed: int,
    index: int,
    model: Model,
) -> RAPInstance:
    """Instance number ``index`` of the reading ``model``, population ``layer`` diluted by ``q``."""
    return build_instance(
        n,
        p1,
        p2,
        dilution(layer, q),
        seed_sequence(root_seed, INSTANCES, index),
        construction=model.construction,
        xi=model.xi,
    )


def make_instances(
    *, n: int, p1: float, p2: float, layer: int, q: float, count: int, root_seed: int, model: Model
) -> list[tuple[int, RAPInstance]]:
    """Instances 0 .. count - 1 (:func:`make_instance`), each with its number."""
    common = {"n": n, "p1": p1, "p2": p2, "layer": layer, "q": q, "root_seed": root_seed}
    return [(k, make_instance(**common, index=k, model=model)) for k in range(count)]


def scaled(thermo: dict[str, float], coupling: float) -> dict[str, float]:
    """Thermodynamics computed at beta J, in units of H: f and e times J (s unchanged)."""
    return {k: v * coupling if k in ("f", "e") else v for k, v in thermo.items()}


def bp_branch(
    instance: RAPInstance,
    beta: float,
    options: BP,
    m0: np.ndarray,
    *,
    coupling: float,
    schedule: str | None = None,
) -> dict[str, float]:
    """One BP run from ``m0`` and the thermodynamics of where it ends, in units of H.

    Returns
    -------
    dict
        ``f``, ``e``, ``s``, ``q``, ``q_w1``, ``q_w2``, ``q_w3`` (:func:`~prunephase.rap.bp.
        thermodynamics`); ``ordered`` (converged with q > order_threshold); ``gauge``, the hidden
        units whose gauge symmetry the fixed point breaks; ``f_gauge``, ``s_gauge``, the free
        energy and entropy of all its gauge copies, f - T ln 2 gauge / n_w and s + ln 2 gauge /
        n_w; ``converged``, ``iterations``, ``residual``. ``schedule`` overrides
        ``options.schedule``.
    """
    beta_eff = beta * coupling
    result = run_bp(
        instance,
        beta_eff,
        m0,
        damping=options.damping,
        tol=options.tol,
        max_iter=options.max_iter,
        schedule=options.schedule if schedule is None else schedule,
    )
    if not result.converged:
        log.warning(
            "BP (beta=%g, M=%d) did not converge in %d iterations (residual %.2e)",
            beta_eff,
            instance.n_paths,
            result.iterations,
            result.residual,
        )
    out = scaled(thermodynamics(instance, result.m, beta_eff), coupling)
    mag = magnetisations(instance, result.m, beta_eff)
    gauge = broken_gauges(instance, mag, options.order_threshold)
    out |= {
        "ordered": bool(result.converged and out["q"] > options.order_threshold),
        "gauge": gauge,
        "f_gauge": out["f"] - LN2 * gauge / (beta * instance.n_weights),
        "s_gauge": out["s"] + LN2 * gauge / instance.n_weights,
        "converged": result.converged,
        "iterations": result.iterations,
        "residual": result.residual,
    }
    return out


def bp_fixed_points(
    instance: RAPInstance, beta: float, options: BP, rng: np.random.Generator, *, coupling: float
) -> dict[str, float]:
    """BP from the polarised and from a random start, and the paramagnetic closed forms.

    Returns
    -------
    dict
        For ``branch`` in (``ord``, ``rnd``): ``{branch}_f``, ``_e``, ``_s``, ``_q``, ``_q_w1``,
        ``_q_w2``, ``_q_w3``, ``_gauge``, ``_f_gauge``, ``_s_gauge``, ``_converged``,
        ``_iterations``, ``_residual`` (:func:`bp_branch`); ``ord_exists`` and ``rnd_exists``
        (that start converged to an ordered fixed point); ``para_f``, ``para_e``, ``para_s``
        (closed forms at alpha of the instance); ``eq_f``, ``eq_e``, ``eq_s``, ``eq_q``,
        ``eq_ordered``, ``eq_branch`` (the fixed point of lowest Bethe free energy among the
        paramagnet and the ordered ones found: ``para``, ``ord`` or ``rnd``); ``eq_gauge_*`` the
        same where an ordered fixed point counts its gauge copies (``f_gauge``, ``s_gauge``).
    """
    out: dict[str, float] = {}
    for branch, start in (("ord", "polarised"), ("rnd", "random")):
        m0 = initial_messages(instance, start, rng=rng, polarisation=options.polarisation)
        found = bp_branch(instance, beta, options, m0, coupling=coupling)
        for key in (*BRANCH_KEYS, "gauge", "f_gauge", "s_gauge"):
            out[f"{branch}_{key}"] = found[key]
        for key in ("converged", "iterations", "residual"):
            out[f"{branch}_{key}"] = found[key]
        out[f"{branch}_exists"] = found["ordered"]
    para = scaled(paramagnetic(instance.alpha, beta * coupling), coupling)
    for key in ("f", "e", "s"):
        out[f"para_{key}"] = float(para[key])
    for prefix, f_key, s_key in (("eq", "f", "s"), ("eq_gauge", "f_gauge", "s_gauge")):
        chosen = "para"
        for branch in ("ord", "rnd"):
            best_f = out["para_f"] if chosen == "para" else out[f"{chosen}_{f_key}"]
            if out[f"{branch}_exists"] and out[f"{branch}_{f_key}"] < best_f:
                chosen = branch
        if chosen == "para":
            values = {"f": out["para_f"], "e": out["para_e"], "s": out["para_s"], "q": 0.0}
        else:
            values = {
                "f": out[f"{chosen}_{f_key}"],
                "e": out[f"{chosen}_e"],
                "s": out[f"{chosen}_{s_key}"],
                "q": out[f"{chosen}_q"],
            }
        out |= {f"{prefix}_{key}": value for key, value in values.items()}
        out[f"{prefix}_ordered"] = chosen != "para"
        out[f"{prefix}_branch"] = chosen
    return out


def _instance_columns(instance: RAPInstance) -> dict[str, float]:
    return {"n_paths": instance.n_paths, "n_weights": instance.n_weights, "alpha": instance.alpha}


def _exact_columns(instance: RAPInstance, beta: float, coupling: float) -> dict[str, float]:
    exact = scaled(exact_thermodynamics(instance, beta * coupling), coupling)
    return {f"exact_{key}": value for key, value in exact.items()}


def _gauged_columns(instance: RAPInstance, beta: float, bp: BP, coupling: float) -> dict:
    out = gauged_bp(instance, beta * coupling, damping=bp.damping, tol=bp.tol, max_iter=bp.max_iter)
    thermo = scaled({key: out[key] for key in ("f", "e", "s")}, coupling)
    return {f"gauged_{key}": value for key, value in (out | thermo).items()}


def _quench_columns(
    instance: RAPInstance, beta: float, mc: MC, rng: np.random.Generator, coupling: float
) -> dict[str, float]:
    chain = quench(instance, beta * coupling, mc.relax_sweeps, mc.sample_sweeps, rng, mc.chains)
    return {
        "mc_e": chain["e"] * coupling,
        "mc_e_se": chain["e_se"] * coupling,
        "mc_e_chain_sd": chain["e_chain_sd"] * coupling,
        "mc_q": chain["q"],
    }


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
    model: Model,
    stream: Sequence[int] = (),
) -> pd.DataFrame:
    """BP, exact and Monte Carlo results against the dilution of one population (Fig. 3).

    ``stream`` is prepended to the keys of the BP and MC streams (the readings use their own).

    Returns
    -------
    DataFrame
        One row per (q, instance). Columns: ``layer``, ``q``, ``instance``, ``beta``, ``n``,
        ``p1``, ``p2``, ``n_paths`` (M), ``n_weights`` (n_w), ``alpha`` (M / n_w); the BP columns
        of :func:`bp_fixed_points` (per-weight free energy ``*_f``, energy ``*_e``, entropy
        ``*_s``, order parameters ``*_q*``); ``exact_f``, ``exact_e``, ``exact_s`` (exact; NaN
        where the reading's instance is too large to solve, :mod:`prunephase.rap.exact`);
        ``mc_e``, ``mc_e_se`` (independent quenches: mean energy per weight and its error),
        ``mc_e_chain_sd``, ``mc_q`` (Edwards-Anderson order parameter). Points whose instance has
        no active path are left out.
    """
    rows = []
    coupling = model.coupling(n)
    for qi, q in enumerate(q_values):
        for k in range(n_instances):
            instance = make_instance(
                n=n, p1=p1, p2=p2, layer=layer, q=q, root_seed=root_seed, index=k, model=model
            )
            if instance.n_paths == 0:
                log.warning("layer %d, q=%g, instance %d: no active path, skipped", layer, q, k)
                continue
            row = {"layer": layer, "q": float(q), "instance": k, "beta": beta, "n": n}
            row |= {"p1": p1, "p2": p2} | _instance_columns(instance)
            bp_rng = generator(root_seed, *stream, BP_RANDOM, layer, qi, k)
            row |= bp_fixed_points(instance, beta, bp, bp_rng, coupling=coupling)
            row |= _exact_columns(instance, beta, coupling)
            mc_rng = generator(root_seed, *stream, MC_QUENCH, layer, qi, k)
            row |= _quench_columns(instance, beta, mc, mc_rng, coupling)
            rows.append(row)
        log.info("layer %d: q=%g done (%d/%d)", layer, q, qi + 1, len(q_values))
    return pd.DataFrame(rows)


def degree_histogram(
    *, n: int, p1: float, p2: float, layer: int, degrees: Degrees, root_seed: int, model: Model
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
        model=model,
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


def _hidden1_inputs(instance: RAPInstance) -> np.ndarray:
    """Number of W1 weights (inputs on a path) of every hidden-1 unit, shape (N,)."""
    w1 = instance.population == 0
    return np.bincount(instance.coords[w1, 1], minlength=instance.n)


def transition(
    make: Callable[[float], RAPInstance],
    *,
    beta: float,
    coupling: float,
    bp: BP,
    q_min: float,
    q_max: float,
    steps: int,
) -> dict[str, float]:
    """The transition of one instance family (nested in q) from the ordered BP branch.

    Three bisections in ln(1 - q) over [q_min, q_max], each of ``steps`` steps: ``q_c``, where
    the Bethe free energy of the ordered fixed point (polarised start) rises above the
    paramagnetic one; ``q_c_gauge``, the same when the ordered fixed point counts its gauge copies
    (:func:`bp_branch`); ``q_spinodal``, where the ordered fixed point disappears. The
    paramagnetic fixed point exists and is locally stable at every q (u = t m m is quadratic in
    m), so it has no spinodal.

    Parameters
    ----------
    make
        The instance at dilution q.

    Returns
    -------
    dict
        ``q_c`` (midpoint of the final bracket), ``q_c_lo``, ``q_c_hi``, the same for
        ``q_c_gauge`` and ``q_spinodal``; at q_c_lo (ordered branch still winning) ``alpha_c``,
        ``ord_f``, ``para_f``, ``ord_s``, ``para_s``, ``s_jump`` (para_s - ord_s, the entropy
        jump), ``ord_e``, ``para_e``, ``e_jump``, ``ord_q``, ``gauge`` (broken gauge symmetries),
        ``exact_f``, ``exact_s`` (the exact solution there; NaN where unavailable),
        ``exact_s_hi`` (just past q_c, at q_c_hi), ``n_weights``, ``n_w1`` (W1 weights on a
        path), ``two_input_units`` (hidden-1 units with at least two inputs: the blocks with
        loops); at q_c_gauge_lo ``s_jump_gauge`` (para_s - ord_s_gauge) and ``e_jump_gauge``;
        ``ordered_at_q_min`` (False flags a family paramagnetic already at q_min, where the
        q's are q_min, only bounds); ``not_converged`` (BP runs that hit max_iter).
    """
    cache: dict[float, tuple[RAPInstance, dict | None]] = {}
    failures = 0

    def evaluate(q: float) -> tuple[RAPInstance, dict | None]:
        nonlocal failures
        if q not in cache:
            instance = make(q)
            branch = None
            if instance.n_paths:
                m0 = initial_messages(instance, "polarised", polarisation=bp.polarisation)
                found = bp_branch(instance, beta, bp, m0, coupling=coupling)
                failures += not found["converged"]
                branch = found if found["ordered"] else None
            cache[q] = (instance, branch)
        return cache[q]

    def para(instance: RAPInstance) -> dict[str, float]:
        return scaled(paramagnetic(instance.alpha, beta * coupling), coupling)

    def wins(q: float, key: str = "f") -> bool:
        instance, branch = evaluate(q)
        return branch is not None and branch[key] < float(para(instance)["f"])

    row: dict[str, float] = {"ordered_at_q_min": wins(q_min)}
    searches = {
        "q_c": wins,
        "q_c_gauge": lambda q: wins(q, "f_gauge"),
        "q_spinodal": lambda q: evaluate(q)[1] is not None,
    }
    for name, predicate in searches.items():
        if row["ordered_at_q_min"]:
            lo, hi = _log_bisect(predicate, q_min, q_max, steps)
        else:
            lo = hi = q_min
        row |= {name: 0.5 * (lo + hi), f"{name}_lo": lo, f"{name}_hi": hi}
    nan = float("nan")
    for suffix, q in (("", row["q_c_lo"]), ("_gauge", row["q_c_gauge_lo"])):
        instance, branch = evaluate(q)
        closed = para(instance)
        ord_s = branch[f"s{suffix}"] if branch else nan
        ord_e = branch["e"] if branch else nan
        row[f"s_jump{suffix}"] = float(closed["s"]) - ord_s
        row[f"e_jump{suffix}"] = float(closed["e"]) - ord_e
        if suffix:
            continue
        exact = _exact_columns(instance, beta, coupling) if instance.n_paths else {}
        inputs = _hidden1_inputs(instance)
        row |= {
            "alpha_c": instance.alpha,
            "ord_f": branch["f"] if branch else nan,
            "para_f": float(closed["f"]),
            "ord_s": ord_s,
            "para_s": float(closed["s"]),
            "ord_e": ord_e,
            "para_e": float(closed["e"]),
            "ord_q": branch["q"] if branch else 0.0,
            "gauge": branch["gauge"] if branch else 0,
            "exact_f": exact.get("exact_f", nan),
            "exact_s": exact.get("exact_s", nan),
            "n_weights": instance.n_weights,
            "n_w1": int(inputs.sum()),
            "two_input_units": int(np.sum(inputs >= 2)),
        }
    past = make(row["q_c_hi"])
    row["exact_s_hi"] = (
        _exact_columns(past, beta, coupling)["exact_s"] if past.n_paths else float("nan")
    )
    row["not_converged"] = failures
    return row


def critical_dilution(
    *,
    n: int,
    p1: float,
    layer: int,
    n_instances: int,
    root_seed: int,
    critical: Critical,
    bp: BP,
    model: Model,
) -> pd.DataFrame:
    """The transition (:func:`transition`) per instance at every (p2, beta) of ``critical``, on
    the nested instances of one seed (Fig. 4).

    Returns
    -------
    DataFrame
        One row per (p2, beta, instance): ``layer``, ``p2``, ``beta``, ``instance``, ``n``,
        ``p1``, and the columns of :func:`transition`.
    """
    rows = []
    for p2 in critical.p2:
        for beta in critical.betas:
            for k in range(n_instances):

                def make(q, p2=p2, k=k):
                    return make_instance(
                        n=n,
                        p1=p1,
                        p2=p2,
                        layer=layer,
                        q=q,
                        root_seed=root_seed,
                        index=k,
                        model=model,
                    )

                row = {"layer": layer, "p2": p2, "beta": beta, "instance": k, "n": n, "p1": p1}
                row |= transition(
                    make,
                    beta=beta,
                    coupling=model.coupling(n),
                    bp=bp,
                    q_min=critical.q_min,
                    q_max=critical.q_max,
                    steps=critical.bisection_steps,
                )
                rows.append(row)
            log.info("p2=%g beta=%g done", p2, beta)
    return pd.DataFrame(rows)


def finite_size_transitions(
    *,
    p1: float,
    p2: float,
    layer: int,
    beta: float,
    root_seed: int,
    finite_size: FiniteSize,
    q_max: float,
    bp: BP,
    model: Model,
) -> pd.DataFrame:
    """The transition (:func:`transition`) of every instance at every width N of the study.

    Returns
    -------
    DataFrame
        One row per (N, instance): ``n``, ``instance``, ``beta``, ``p1``, ``p2``, ``layer``, and
        the columns of :func:`transition`.
    """
    rows = []
    for n in finite_size.n:
        for k in range(finite_size.instances):

            def make(q, n=n, k=k):
                return make_instance(
                    n=n, p1=p1, p2=p2, layer=layer, q=q, root_seed=root_seed, index=k, model=model
                )

            row = {"n": n, "instance": k, "beta": beta, "p1": p1, "p2": p2, "layer": layer}
            row |= transition(
                make,
                beta=beta,
                coupling=model.coupling(n),
                bp=bp,
                q_min=finite_size.q_min,
                q_max=q_max,
                steps=finite_size.bisection_steps,
            )
            rows.append(row)
        log.info("finite size: N=%d done", n)
    return pd.DataFrame(rows)


def finite_size_grid(
    *,
    p1: float,
    p2: float,
    layer: int,
    beta: float,
    root_seed: int,
    finite_size: FiniteSize,
    bp: BP,
    model: Model,
) -> pd.DataFrame:
    """BP and the exact solution on the grid q = 1 - x / N at every width (the finite-size
    curves), and the exact solution alone at the widths ``finite_size.exact_n``.

    Returns
    -------
    DataFrame
        One row per (N, x, instance): ``n``, ``x``, ``q``, ``instance``, ``beta``, instance
        columns, ``exact_f``, ``exact_e``, ``exact_s``, ``exact_only`` (True for the widths of
        ``exact_n``, whose BP columns are NaN: the exact solution there comes from the block sizes
        alone, :func:`~prunephase.rap.instance.network_blocks`), the columns of
        :func:`bp_fixed_points`, and ``gauged_f``, ``gauged_e``, ``gauged_s``, ``gauged_m``,
        ``gauged_converged``, ``gauged_iterations`` (BP on the gauged pairwise model from the
        planted state, :func:`~prunephase.rap.gauged.gauged_bp`). Grid points with q < 0 or
        without a path are left out.
    """
    rows = []
    for n in finite_size.n:
        coupling = model.coupling(n)
        for xi_, x in enumerate(finite_size.x):
            q = 1.0 - x / n
            for k in range(finite_size.instances):
                if q < 0:
                    continue
                instance = make_instance(
                    n=n, p1=p1, p2=p2, layer=layer, q=q, root_seed=root_seed, index=k, model=model
                )
                if instance.n_paths == 0:
                    continue
                row = {"n": n, "x": x, "q": q, "instance": k, "beta": beta, "exact_only": False}
                row |= _instance_columns(instance) | _exact_columns(instance, beta, coupling)
                bp_rng = generator(root_seed, FINITE_SIZE, BP_RANDOM, n, xi_, k)
                row |= bp_fixed_points(instance, beta, bp, bp_rng, coupling=coupling)
                row |= _gauged_columns(instance, beta, bp, coupling)
                rows.append(row)
        log.info("finite-size grid: N=%d done", n)
    if finite_size.exact_n and (model.construction, model.xi) != ("network", "input"):
        raise ValueError("the exact-only widths need the network construction with input signs")
    for n in finite_size.exact_n:
        coupling = model.coupling(n)
        qs = [1.0 - x / n for x in finite_size.x]
        for k in range(finite_size.instances):
            seed = seed_sequence(root_seed, INSTANCES, k)
            blocks = network_blocks(n, p1, p2, layer, qs, seed)
            for x, q, (a, b, n_w3) in zip(finite_size.x, qs, blocks, strict=True):
                if q < 0 or a.size == 0:
                    continue
                exact = scaled(blocks_thermodynamics(a, b, n_w3, beta * coupling), coupling)
                n_w = int(a.sum() + b.sum() + n_w3)
                rows.append(
                    {"n": n, "x": x, "q": q, "instance": k, "beta": beta, "exact_only": True}
                    | {"n_paths": int(np.dot(a, b)), "n_weights": n_w, "alpha": np.dot(a, b) / n_w}
                    | {f"exact_{key}": value for key, value in exact.items()}
                )
        log.info("finite-size grid: N=%d (exact only) done", n)
    return pd.DataFrame(rows)


def reading_tables(
    *,
    index: int,
    p1: float,
    p2: float,
    degrees: Degrees,
    readings: Readings,
    q_min: float,
    q_max: float,
    root_seed: int,
    bp: BP,
    mc: MC,
) -> dict[str, pd.DataFrame]:
    """Everything the readings compare, for reading number ``index`` of ``readings.models``.

    Returns
    -------
    dict of DataFrame
        ``degrees`` (:func:`degree_histogram`, W1 diluted at ``degrees.q``) and ``dilution``
        (:func:`dilution_sweep` of W1 and of W2 at the reading's beta), both at the first width
        of ``readings.n`` and at ``p2``; ``critical`` (:func:`critical_dilution`, W1 diluted, at
        every width, p2 and beta of ``readings``, bisecting over [q_min, q_max]). Each has
        the columns ``reading`` (the reading's name), ``construction``, ``prefactor`` and ``xi``.
        BP runs at most ``readings.max_iter`` iterations.
    """
    reading = readings.models[index]
    model = Model(construction=reading.construction, prefactor=reading.prefactor, xi=reading.xi)
    n = readings.n[0]
    bp = dataclasses.replace(bp, max_iter=readings.max_iter)
    sweeps = [
        dilution_sweep(
            n=n,
            p1=p1,
            p2=p2,
            layer=layer,
            q_values=readings.q,
            beta=reading.beta,
            n_instances=readings.instances,
            root_seed=root_seed,
            bp=bp,
            mc=mc,
            model=model,
            stream=(READINGS, index),
        )
        for layer in (1, 2)
    ]
    grid = Critical(
        p2=readings.p2,
        betas=readings.betas,
        q_min=q_min,
        q_max=q_max,
        bisection_steps=readings.bisection_steps,
    )
    transitions = [
        critical_dilution(
            n=width,
            p1=p1,
            layer=1,
            n_instances=readings.instances,
            root_seed=root_seed,
            critical=grid,
            bp=bp,
            model=model,
        )
        for width in readings.n
    ]
    tables = {
        "degrees": degree_histogram(
            n=n, p1=p1, p2=p2, layer=1, degrees=degrees, root_seed=root_seed, model=model
        ),
        "dilution": pd.concat(sweeps, ignore_index=True),
        "critical": pd.concat(transitions, ignore_index=True),
    }
    labels = {
        "reading": reading.name,
        "construction": reading.construction,
        "prefactor": reading.prefactor,
        "xi": reading.xi,
    }
    return {name: table.assign(**labels) for name, table in tables.items()}


def annealing_runs(
    instances: Iterable[tuple[int, RAPInstance]],
    *,
    betas: np.ndarray,
    sweeps_per_temperature: Sequence[int],
    root_seed: int,
    coupling: float,
) -> pd.DataFrame:
    """Simulated annealing at several cooling rates (Fig. 5a).

    Returns
    -------
    DataFrame
        One row per (instance, sweeps per temperature, temperature step). Columns ``instance``,
        ``sweeps_per_temperature``, ``step``, ``beta``, ``e_mean`` (energy per weight averaged
        over the sweeps at that temperature), ``e`` (after the last sweep there), ``ground_e``
        (the energy of the planted state, -alpha J: every path satisfied, the ground state with
        input signs), ``alpha``, ``exact_e`` (exact equilibrium energy per weight at that beta;
        NaN where unavailable).
    """
    rows = []
    for k, instance in instances:
        exact = [_exact_columns(instance, float(beta), coupling)["exact_e"] for beta in betas]
        for rate in sweeps_per_temperature:
            rng = generator(root_seed, MC_ANNEAL, k, rate)
            means, lasts = anneal(instance, np.asarray(betas) * coupling, rate, rng)
            for step, beta in enumerate(betas):
                rows.append(
                    {
                        "instance": k,
                        "sweeps_per_temperature": rate,
                        "step": step,
                        "beta": float(beta),
                        "e_mean": float(means[step]) * coupling,
                        "e": float(lasts[step]) * coupling,
                        "ground_e": -instance.alpha * coupling,
                        "alpha": instance.alpha,
                        "exact_e": exact[step],
                    }
                )
        log.info("annealing: instance %d done", k)
    return pd.DataFrame(rows)


def annealing_experiment(
    *,
    n: int,
    p1: float,
    p2: float,
    layer: int,
    annealing: Annealing,
    root_seed: int,
    model: Model,
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
        model=model,
    )
    return annealing_runs(
        instances,
        betas=beta_ladder(annealing),
        sweeps_per_temperature=annealing.sweeps_per_temperature,
        root_seed=root_seed,
        coupling=model.coupling(n),
    )


def temperature_scan(
    instances: Iterable[tuple[int, RAPInstance]],
    *,
    betas: Sequence[float],
    root_seed: int,
    bp: BP,
    mc: MC,
    coupling: float,
) -> pd.DataFrame:
    """BP, exact and Monte Carlo results against the inverse temperature (Fig. 5b).

    Besides the configured schedule, BP runs from the same random start with the fully parallel
    schedule, to show its stability.

    Returns
    -------
    DataFrame
        One row per (instance, beta): ``instance``, ``beta``, instance columns, the columns of
        :func:`bp_fixed_points`; ``par_rnd_converged``, ``par_rnd_iterations``,
        ``par_rnd_residual`` (BP from the random start with the parallel schedule: the largest
        message change in its last iteration; a period-2 cycle keeps it large); ``exact_f``,
        ``exact_e``, ``exact_s``, ``mc_e``, ``mc_e_se``, ``mc_e_chain_sd``, ``mc_q``.
    """
    rows = []
    for k, instance in instances:
        for bi, beta in enumerate(betas):
            row = {"instance": k, "beta": float(beta)} | _instance_columns(instance)
            row |= bp_fixed_points(
                instance,
                float(beta),
                bp,
                generator(root_seed, BP_RANDOM, SCAN, bi, k),
                coupling=coupling,
            )
            # the same random start as the sequential run above (same stream, first draw)
            m0 = initial_messages(
                instance, "random", rng=generator(root_seed, BP_RANDOM, SCAN, bi, k)
            )
            parallel = bp_branch(
                instance, float(beta), bp, m0, coupling=coupling, schedule="parallel"
            )
            for key in ("converged", "iterations", "residual"):
                row[f"par_rnd_{key}"] = parallel[key]
            row |= _exact_columns(instance, float(beta), coupling)
            mc_rng = generator(root_seed, MC_QUENCH, SCAN, bi, k)
            row |= _quench_columns(instance, float(beta), mc, mc_rng, coupling)
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
    model: Model,
) -> pd.DataFrame:
    """:func:`temperature_scan` of ``low_temperature.instances`` instances with population
    ``layer`` diluted by ``q`` (the annealed instances of Fig. 5a) at ``low_temperature.betas``."""
    instances = make_instances(
        n=n,
        p1=p1,
        p2=p2,
        layer=layer,
        q=q,
        count=low_temperature.instances,
        root_seed=root_seed,
        model=model,
    )
    return temperature_scan(
        instances,
        betas=low_temperature.betas,
        root_seed=root_seed,
        bp=bp,
        mc=mc,
        coupling=model.coupling(n),
    )


def disorder_average(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean and standard error over instances of every numeric column, grouped by ``by``.

    Returns
    -------
    DataFrame
        Columns ``by``, then for each numeric column c (other than ``by`` and ``instance``):
        ``c`` (mean over instances; NaN where an instance lacks the value) and ``c_sem``
        (standard error of that mean; NaN for a single instance), and ``instances`` (number of
        instances in the group).
    """
    value_cols = [
        c
        for c in frame.columns
        if c not in (*by, "instance") and pd.api.types.is_numeric_dtype(frame[c])
    ]
    values = frame[list(by) + value_cols].astype({c: float for c in value_cols})
    grouped = values.groupby(list(by), sort=True)
    mean = complete_mean(grouped)
    sem = grouped.sem().add_suffix("_sem")
    out = pd.concat([mean, sem, grouped.size().rename("instances")], axis=1).copy()
    return out.reset_index()


def beta_ladder(annealing: Annealing) -> np.ndarray:
    """The annealing ladder: ``annealing.temperatures`` equally spaced inverse temperatures from
    ``beta_start`` to ``beta_end`` (their order is checked with the config), shape (T,)."""
    return np.linspace(annealing.beta_start, annealing.beta_end, annealing.temperatures)
