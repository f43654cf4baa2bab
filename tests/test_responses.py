"""Response slopes and figures of study results (studies/responses.py)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from popsim.studies.responses import heat_map, response_figure, response_slopes


def _grid(noise: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{"a": a, "b": b, "seed": s, "policy": p, "metric": "y",
             "value": 2 + 0.5 * a - 1.0 * b + (0.3 if p == "llm" else 0) + noise * rng.standard_normal()}
            for a in (-1, -0.5, 0, 0.5, 1) for b in (-1, 0, 1) for s in (1, 2, 3) for p in ("reference", "llm")]
    return pd.DataFrame(rows)


def test_slopes_of_an_exact_linear_response():
    s = response_slopes(_grid(0.0), ["a", "b"], by="policy").set_index(["group", "parameter"])
    assert s.loc[("reference", "a"), "slope"] == pytest.approx(0.5) and s.loc[("llm", "b"), "slope"] == pytest.approx(-1)
    assert s["se"].max() < 1e-9 and (s["n_runs"] == 45).all()


def test_slope_intervals_are_the_ols_t_intervals():
    """With noise, the interval is beta +- t(0.975, n - 3) se, se from the OLS residual variance (checked against
    scipy.stats.linregress for one parameter, where both reduce to the same formula)."""
    t = _grid(0.2, seed=1)
    one = t[(t["policy"] == "reference") & (t["b"] == 0)]
    s = response_slopes(one, ["a"]).iloc[0]
    lr = stats.linregress(one["a"], one["value"])
    assert s["slope"] == pytest.approx(lr.slope) and s["se"] == pytest.approx(lr.stderr)
    assert s["high"] - s["slope"] == pytest.approx(stats.t.ppf(0.975, len(one) - 2) * lr.stderr)
    assert s["low"] < 0.5 < s["high"]


def test_figures_are_drawn_for_grids_and_continuous_designs(tmp_path):
    t = _grid(0.2)
    response_figure(t, ["a", "b"], ["y"], tmp_path / "g.png", by="policy")
    rng = np.random.default_rng(2)
    c = pd.DataFrame({"a": rng.uniform(-1, 1, 80), "b": rng.uniform(-1, 1, 80), "seed": 1, "metric": "y"})
    c["value"] = c["a"] - c["b"]
    response_figure(c, ["a", "b"], ["y"], tmp_path / "c.png")
    heat_map(c, "a", "b", "y", tmp_path / "h.png")
    assert all((tmp_path / f).stat().st_size > 5000 for f in ("g.png", "c.png", "h.png"))
