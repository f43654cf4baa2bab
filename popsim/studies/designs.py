"""Study designs over continuous ranges (grid, Latin hypercube, Sobol/Saltelli, Morris) and their sensitivity
indices, with SALib for sampling and analysis.

A design turns `[ranges]` (parameter -> [low, high]) and `samples` into a table of points (`design_points`:
one row per point, a column per parameter, in SALib's order). After the runs, `sensitivity_indices` takes a
tidy outcome table (one row per point x seed x metric: `point`, `metric`, `value`) and returns, per metric
and parameter, Sobol first- and total-order indices with their 95% bootstrap confidence intervals, or
Morris mu* (with its CI), mu and sigma. Outcomes are averaged over seeds at each point first.

- `grid`: `samples` evenly spaced levels per range, every combination (samples ** k points);
- `lhs`: a Latin hypercube of `samples` points (SALib `latin`); no indices (use the response curves);
- `sobol`: Saltelli's scheme on a scrambled Sobol' sequence (SALib `sobol`, first and total order):
  `samples` (a power of 2, at least 8) x (k + 2) points;
- `morris`: `samples` elementary-effect trajectories (at least 2) on a 4-level grid, (k + 1) points each.

Parameters are transform keys (`shift.UN`, `spread`, `coupling`, ...) or the numeric settings below.
Every design is seeded: the same seed gives the same points.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from ..errors import PopsimError, unknown
from ..population.transforms import parse_transforms

DESIGNS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")
#: numeric PopulationModel settings a range may cover besides the transforms, with their allowed bounds
NUMERIC_SETTINGS: dict[str, tuple[float, float]] = {"temperature": (0.0, 2.0), "female_share": (0.0, 1.0),
                                                    "no_dominant_share": (0.0, 0.999)}
MORRIS_LEVELS = 4
INDEX_COLUMNS = ["metric", "parameter", "index", "value", "conf", "low", "high", "n_points"]


def check_design(name: str) -> str:
    if name not in DESIGNS:
        raise unknown("design", name, DESIGNS, hint="grid lists values; lhs, sobol and morris need [ranges].")
    return name


def check_ranges(ranges: dict, where: str = "the study") -> dict[str, tuple[float, float]]:
    """Validate `[ranges]`: each a [low, high] pair of numbers with low < high, a transform key (both ends
    valid transforms) or a numeric setting within its bounds."""
    if not isinstance(ranges, dict) or not ranges:
        raise PopsimError(f"{where}: [ranges] is empty; give each parameter as [low, high], e.g. \"shift.UN\" = [-1, 1]")
    out: dict[str, tuple[float, float]] = {}
    for key, span in ranges.items():
        if (not isinstance(span, (list, tuple)) or len(span) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in span)):
            raise PopsimError(f"{where}: [ranges] {key} = {span!r} is not [low, high]; write e.g. {key} = [-1, 1]")
        lo, hi = float(span[0]), float(span[1])
        if lo > hi:
            raise PopsimError(f"{where}: [ranges] {key} = [{lo:g}, {hi:g}] is reversed; write {key} = [{hi:g}, {lo:g}]")
        if lo == hi:
            raise PopsimError(f"{where}: [ranges] {key} = [{lo:g}, {hi:g}] is empty; put a fixed value in [fixed] "
                              "or give a wider range")
        if key in NUMERIC_SETTINGS:
            a, b = NUMERIC_SETTINGS[key]
            if lo < a or hi > b:
                raise PopsimError(f"{where}: [ranges] {key} = [{lo:g}, {hi:g}] leaves [{a:g}, {b:g}]; narrow it")
        elif key.startswith("mix."):
            raise PopsimError(f"{where}: [ranges] {key}: mixture weights must sum to 1, so they cannot vary alone; "
                              "list whole mixtures in [grid] instead")
        else:
            try:
                parse_transforms({key: lo})
                parse_transforms({key: hi})
            except PopsimError as exc:
                raise PopsimError(f"{where}: [ranges] {exc}") from None
        out[str(key)] = (lo, hi)
    return out


def n_points(design: str, k: int, samples: int) -> int:
    """The number of design points (before seeds) of a design over k ranges."""
    return {"grid": samples ** k, "lhs": samples, "sobol": samples * (k + 2), "morris": samples * (k + 1)}[design]


def check_samples(design: str, samples, k: int, where: str = "the study") -> int:
    """`samples`: levels per range (grid), points (lhs), base samples N (sobol), trajectories (morris)."""
    if not isinstance(samples, int) or isinstance(samples, bool):
        raise PopsimError(f"{where}: samples = {samples!r} must be a whole number, e.g. samples = 16")
    need = {"grid": 2, "lhs": 2, "sobol": 8, "morris": 2}[design]
    what = {"grid": "levels per range", "lhs": "points", "sobol": "base samples (Saltelli N)",
            "morris": "trajectories"}[design]
    if samples < need:
        raise PopsimError(f"{where}: samples = {samples} is too few for a {design} design ({what}); use at least "
                          f"{need}" + (" (indices need spread across trajectories)" if design == "morris" else ""))
    if design == "sobol" and samples & (samples - 1):
        up = 1 << (samples - 1).bit_length()
        raise PopsimError(f"{where}: samples = {samples} for a sobol design must be a power of 2 (the Sobol' sequence "
                          f"is balanced only then); use {up // 2 if up // 2 >= 8 else up} or {up}")
    if design == "grid" and samples ** k > 100_000:
        raise PopsimError(f"{where}: a grid of {samples} levels over {k} ranges has {samples ** k:,} points; use fewer "
                          "levels or design = \"lhs\"")
    return samples


def _problem(ranges: dict[str, tuple[float, float]]) -> dict:
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(b) for b in ranges.values()]}


def design_points(design: str, ranges: dict, samples: int, seed: int = 0) -> pd.DataFrame:
    """One row per design point (index `point` 0..n-1, in SALib's order), one column per parameter."""
    check_design(design)
    ranges = check_ranges(ranges)
    check_samples(design, samples, len(ranges))
    problem = _problem(ranges)
    if design == "grid":
        levels = [np.linspace(lo, hi, samples) for lo, hi in ranges.values()]
        X = np.array(list(itertools.product(*levels)), float)
    elif design == "lhs":
        from SALib.sample import latin

        X = latin.sample(problem, samples, seed=seed)
    elif design == "sobol":
        from SALib.sample import sobol

        X = sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
    else:
        from SALib.sample import morris

        X = morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    df = pd.DataFrame(np.round(X, 10), columns=list(ranges))
    df.index.name = "point"
    return df


def sensitivity_indices(design: str, ranges: dict, points: pd.DataFrame, outcomes: pd.DataFrame,
                        seed: int = 0) -> pd.DataFrame:
    """Indices per metric and parameter (columns `INDEX_COLUMNS`: metric, parameter, index, value, conf = half
    width of the 95% CI, low, high, n_points).

    `points`: `design_points(...)`; `outcomes`: tidy, columns `point`, `metric`, `value` (any further columns,
    e.g. seed, are averaged over). Sobol: `S1`, `ST`; Morris: `mu_star` (with CI), `mu`, `sigma`. A metric
    missing at some point (a failed run) or constant gets no indices for that design (it is left out)."""
    check_design(design)
    ranges = check_ranges(ranges)
    if design not in ("sobol", "morris"):
        raise PopsimError(f"a {design} design has no sensitivity indices; use design = \"sobol\" or \"morris\"")
    missing = {"point", "metric", "value"} - set(outcomes.columns)
    if missing:
        raise PopsimError(f"outcome table lacks column(s) {', '.join(sorted(missing))}; give point, metric, value")
    problem = _problem(ranges)
    X = points[list(ranges)].to_numpy(float)
    outcomes = outcomes[["point", "metric", "value"]].reset_index(drop=True)
    y_all = outcomes.groupby(["metric", "point"])["value"].mean().unstack("point").reindex(columns=points.index)
    rows = []
    for metric, y in y_all.iterrows():
        Y = y.to_numpy(float)
        if not np.isfinite(Y).all() or np.std(Y) == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if design == "sobol":
                from SALib.analyze import sobol

                # a Generator, not the int: SALib's sobol.analyze takes seed 0 for "unseeded" (`if seed:`)
                res = sobol.analyze(problem, Y, calc_second_order=False, num_resamples=500,
                                    seed=np.random.default_rng(seed))
                for j, name in enumerate(ranges):
                    for idx in ("S1", "ST"):
                        rows.append(_row(metric, name, idx, res[idx][j], res[f"{idx}_conf"][j], len(Y)))
            else:
                from SALib.analyze import morris

                res = morris.analyze(problem, X, Y, num_resamples=500, num_levels=MORRIS_LEVELS, seed=seed)
                for j, name in enumerate(ranges):
                    rows.append(_row(metric, name, "mu_star", res["mu_star"][j], res["mu_star_conf"][j], len(Y)))
                    rows.append(_row(metric, name, "mu", res["mu"][j], np.nan, len(Y)))
                    rows.append(_row(metric, name, "sigma", res["sigma"][j], np.nan, len(Y)))
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)


def _row(metric, name, index, value, conf, n) -> dict:
    value, conf = float(value), float(conf)
    return {"metric": metric, "parameter": name, "index": index, "value": value, "conf": conf,
            "low": value - conf, "high": value + conf, "n_points": int(n)}


# ------------------------------------------------------------------------------------------ a study's points


def study_points(fixed: dict, grid: dict, *, design: str = "grid", ranges: dict | None = None,
                 samples: int | None = None, seed: int = 0, scenario: str = "ess21") -> list[dict]:
    """The runs of a study, one dict of `PopulationModel` keywords each (`seed`, `scenario` included; transform
    keys gathered into `transforms`). A grid crosses its lists (and `samples` levels of each range); the other
    designs cross each design point (its index in `design_point`) with the grid's lists (e.g. policy, seed)."""
    keys = list(grid)
    combos = [dict(zip(keys, c)) for c in itertools.product(*(grid[k] for k in keys))]
    table = design_points(design, ranges, samples, seed) if ranges else None
    levels = [{}] if table is None else [{k: float(v) for k, v in row.items()} for _, row in table.iterrows()]
    out = []
    for i, level in enumerate(levels):
        for combo in combos:
            p = _point({**fixed, **combo, **level}, scenario)
            if design != "grid":
                p["design_point"] = i
            out.append(p)
    return out


def _point(flat: dict, scenario: str) -> dict:
    from ..population.transforms import is_transform_key

    t = {k: flat.pop(k) for k in list(flat) if is_transform_key(k)}
    if t:
        flat["transforms"] = t
    flat.setdefault("scenario", scenario)
    return flat


def model_kwargs(point: dict) -> dict:
    """A point's `PopulationModel` keywords (without its `design_point` index)."""
    return {k: v for k, v in point.items() if k != "design_point"}


def check_study_design(study: dict, where: str) -> None:
    """The design keys of a study: `design`, `[ranges]`, `samples`, `design_seed`, `outcomes` (metrics to draw)."""
    design = check_design(study.setdefault("design", "grid"))
    ranges = study.get("ranges")
    if design != "grid" and not ranges:
        raise PopsimError(f"{where}: design = \"{design}\" needs [ranges], e.g. \"shift.UN\" = [-1, 1]")
    if ranges is not None:
        study["ranges"] = {k: list(v) for k, v in check_ranges(ranges, where).items()}
        both = sorted(set(ranges) & (set(study["fixed"]) | set(study["grid"])))
        if both:
            raise PopsimError(f"{where}: {both[0]} is both in [ranges] and in [fixed] or [grid]; keep one")
        if "samples" not in study:
            what = "levels per range" if design == "grid" else f"the size of the {design} design"
            raise PopsimError(f"{where}: [ranges] need samples = N ({what}), e.g. samples = 16")
        check_samples(design, study["samples"], len(ranges), where)
    seed = study.setdefault("design_seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise PopsimError(f"{where}: design_seed = {seed!r} must be a whole number")
    plots = study.setdefault("outcomes", [])
    if not isinstance(plots, list) or not all(isinstance(x, str) for x in plots):
        raise PopsimError(f"{where}: outcomes = {plots!r} must be a list of metric names, e.g. "
                          "[\"item_mean.imueclt\", \"value_mean.UN\"]")


def check_study_transforms(study: dict, where: str) -> None:
    """Every transform a study will draw can be drawn and honoured, before anything runs: each distinct one of a
    grid, and the corners of the [ranges] box (a design's points lie inside it)."""
    from ..population.transforms import check_honoured, transformed_sampler
    from ..scenario import load_scenario

    pts = study_points(study["fixed"], study["grid"], scenario=study.get("scenario", "ess21"),
                       ranges=study.get("ranges"), samples=2 if study.get("ranges") else None)
    seen: set = set()
    for p in pts:
        t = p.get("transforms")
        if not t:
            continue
        key = (p.get("population", "DE_ESS9"), tuple(sorted(t.items())), p.get("strategy", "empirical"),
               p.get("policy", "llm"), p.get("prompt_style", "value_prompt"), str(p.get("scenario")))
        if key in seen:
            continue
        seen.add(key)
        shown = ", ".join(f"{k} = {v:g}" for k, v in t.items())
        try:
            transformed_sampler(key[0], t)
            items = ()
            if any(k.startswith("mix.") for k in t):
                items = tuple(load_scenario(key[5]).describe().get("behaviour_items") or ())
            check_honoured(t, strategy=key[2], policy=key[3], prompt_style=key[4], sample=key[0], items=items)
        except PopsimError as exc:
            raise PopsimError(f"{where}: at {shown}: {exc}") from None
