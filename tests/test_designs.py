"""Study designs and sensitivity indices (studies/designs.py, SALib)."""

import numpy as np
import pandas as pd
import pytest

from popsim import datasets
from popsim.errors import PopsimError
from popsim.population import centered_profiles, transformed_sampler
from popsim.population.transforms import base_moments
from popsim.studies.designs import DESIGNS, check_ranges, check_samples, design_points, n_points, sensitivity_indices
from popsim.values import CODES10

RANGES = {"shift.UN": [-1.0, 1.0], "shift.SE": [-1.0, 1.0]}


def test_sobol_indices_of_a_known_function_of_two_value_means():
    """Outcome y = u + s + u*s of the measured centered means of UN and SE (in human SDs from the untransformed
    means) of 400 reference twins per point, drawn with shift.UN and shift.SE uniform on [-1, 1]. A joint shift
    sets both means independently, so u, s ~ U(-1, 1) and (Saltelli 2008, ch. 4, variance decomposition):
    Var = 1/3 + 1/3 + 1/9, S1 = (1/3)/(7/9) = 3/7 and ST = (1/3 + 1/9)/(7/9) = 4/7 for each."""
    pts = design_points("sobol", RANGES, 64, seed=3)
    assert len(pts) == n_points("sobol", 2, 64) == 256
    sd = datasets.value_stats("DE_ESS9").set_index("value")["centered_sd"]
    base = dict(zip(CODES10, base_moments("DE_ESS9").value_means))
    twins = []
    for i, p in pts.iterrows():
        s = transformed_sampler("DE_ESS9", p.to_dict())
        twins.append(s.draw(400, np.random.default_rng([3, i]))[s.value_items].assign(point=i))
    twins = pd.concat(twins, ignore_index=True)
    cen = centered_profiles(twins.drop(columns="point")).groupby(twins["point"]).mean()
    u, v = ((cen[c] - base[c]) / sd[c] for c in ("UN", "SE"))
    rows = pd.DataFrame({"point": cen.index, "seed": 1, "metric": "y", "value": u + v + u * v})
    idx = sensitivity_indices("sobol", RANGES, pts, rows, seed=0).set_index(["parameter", "index"])
    for name in RANGES:
        for index, want in (("S1", 3 / 7), ("ST", 4 / 7)):
            r = idx.loc[(name, index)]
            assert r["low"] <= want <= r["high"], (name, index, r["value"], r["conf"])
            assert r["conf"] < 0.3  # the CI is narrow enough to tell 3/7 from 4/7 apart from 0 and 1


@pytest.mark.parametrize("design", ["sobol", "morris"])
@pytest.mark.parametrize("seed", [0, 5])
def test_indices_and_their_intervals_are_seeded(design, seed):
    """Every seed, 0 included (SALib's sobol.analyze reads seed 0 as "unseeded"), gives the same intervals
    whatever the global NumPy state: in the suite the conf of a Sobol index moved with the tests run before."""
    pts = design_points(design, RANGES, 16, seed=1)
    x = pts.to_numpy()
    rows = pd.DataFrame({"point": pts.index, "metric": "y", "value": x[:, 0] + 0.5 * x[:, 1] + x[:, 0] * x[:, 1]})
    runs = []
    for state in (1, 2):
        np.random.seed(state)
        runs.append(sensitivity_indices(design, RANGES, pts, rows, seed=seed))
    pd.testing.assert_frame_equal(runs[0], runs[1])
    assert runs[0]["conf"].notna().any()


def test_morris_indices_of_a_linear_function():
    """y = 1*x1 - 2*x2 on [-1, 1]^2: every elementary effect over the full range is the coefficient times the
    range width (2), so mu* = |mu| = 2 and 4, sigma = 0 (Morris 1991)."""
    pts = design_points("morris", RANGES, 6, seed=1)
    y = pts["shift.UN"] - 2 * pts["shift.SE"]
    idx = sensitivity_indices("morris", RANGES, pts, pd.DataFrame({"point": pts.index, "metric": "y", "value": y}))
    idx = idx.set_index(["parameter", "index"])["value"]
    assert idx[("shift.UN", "mu_star")] == pytest.approx(2.0) and idx[("shift.SE", "mu")] == pytest.approx(-4.0)
    assert idx[("shift.UN", "sigma")] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("design, samples", [("grid", 3), ("lhs", 7), ("sobol", 8), ("morris", 3)])
def test_designs_are_seeded_and_sized(design, samples):
    a = design_points(design, RANGES, samples, seed=5)
    assert len(a) == n_points(design, 2, samples)
    pd.testing.assert_frame_equal(a, design_points(design, RANGES, samples, seed=5))
    assert ((a >= -1) & (a <= 1)).all().all()
    if design != "grid":
        assert not a.equals(design_points(design, RANGES, samples, seed=6))


def test_outcomes_are_averaged_over_seeds_and_incomplete_metrics_left_out():
    pts = design_points("morris", RANGES, 4, seed=0)
    rows = [{"point": i, "seed": s, "metric": "y", "value": p["shift.UN"] + (0.5 if s else -0.5)}
            for i, p in pts.iterrows() for s in (0, 1)]
    rows += [{"point": 0, "seed": 0, "metric": "partial", "value": 1.0}]
    idx = sensitivity_indices("morris", RANGES, pts, pd.DataFrame(rows))
    assert set(idx["metric"]) == {"y"}
    assert idx.set_index(["parameter", "index"])["value"][("shift.UN", "mu_star")] == pytest.approx(2.0)


@pytest.mark.parametrize("call, match", [
    (lambda: design_points("latin", RANGES, 4), r"unknown design 'latin'"),
    (lambda: check_ranges({"shift.UN": [1, -1]}), r"shift.UN = \[1, -1\] is reversed; write shift.UN = \[-1, 1\]"),
    (lambda: check_ranges({"shift.UN": [0.5, 0.5]}), r"is empty"),
    (lambda: check_ranges({}), r"\[ranges\] is empty"),
    (lambda: check_ranges({"shift.UN": [-1]}), r"is not \[low, high\]"),
    (lambda: check_ranges({"shift.UN": [-4, 1]}), r"shift.UN = -4 is outside -3..3"),
    (lambda: check_ranges({"spread": [0, 1]}), r"spread = 0"),
    (lambda: check_ranges({"shift.XX": [0, 1]}), r"unknown value code 'XX'"),
    (lambda: check_ranges({"mix.DE_ESS9": [0, 1]}), r"mixture weights must sum to 1"),
    (lambda: check_ranges({"temperature": [0, 3]}), r"temperature = \[0, 3\] leaves \[0, 2\]"),
    (lambda: check_samples("sobol", 50, 2), r"must be a power of 2 .* use 32 or 64"),
    (lambda: check_samples("sobol", 4, 2), r"samples = 4 is too few for a sobol design .* at least 8"),
    (lambda: check_samples("morris", 1, 2), r"too few for a morris design"),
    (lambda: check_samples("lhs", 2.5, 2), r"must be a whole number"),
    (lambda: sensitivity_indices("lhs", RANGES, design_points("lhs", RANGES, 4), pd.DataFrame()),
     r"lhs design has no sensitivity indices"),
])
def test_bad_designs_are_one_line_errors(call, match):
    with pytest.raises(PopsimError, match=match) as exc:
        call()
    assert "\n" not in str(exc.value)


def test_every_design_is_known():
    assert DESIGNS == ("grid", "lhs", "sobol", "morris")
