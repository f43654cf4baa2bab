"""Transforms of the value distribution (population/transforms.py), checked on drawn reference twins.

Expected numbers come from the human reference pack: centered means, SDs and correlations of DE_ESS9
(value_stats.csv, value_correlations.csv), the value-attitude correlations (value_behavior_correlations.csv)
and the attitude answer shares (behavior_distributions.csv, for each question's SD).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from popsim import datasets
from popsim.errors import PopsimError
from popsim.population import (RespondentSampler, centered_profiles, check_honoured, draw_population,
                               parse_assignment, parse_transforms, transformed_sampler)
from popsim.values import CODES10

N = 20_000
Z95 = 1.959964
HUMAN = datasets.value_stats("DE_ESS9").set_index("value")


def _twins(transforms, seed, n=N, sample="DE_ESS9"):
    """The reference twins of an empirical population (their answers, their centered values)."""
    pop = draw_population(n, sample=sample, rng=seed, transforms=transforms)
    return pop.responses.drop(columns="agent"), pop.agents.set_index("agent")[list(CODES10)], pop.record


def _item_sd(item):
    d = datasets.behavior_distributions()
    d = d[d["item"] == item]
    p = d["share"] / d["share"].sum()
    m = float((p * d["code"]).sum())
    return float(np.sqrt((p * d["code"] ** 2).sum() - m * m))


def test_no_transform_draws_exactly_as_before():
    plain = RespondentSampler("DE_ESS9").draw(500, np.random.default_rng(7))
    assert type(transformed_sampler("DE_ESS9", {})) is RespondentSampler
    pd.testing.assert_frame_equal(transformed_sampler("DE_ESS9", None).draw(500, np.random.default_rng(7)), plain)
    a = draw_population(200, rng=3)
    b = draw_population(200, rng=3, transforms={})
    pd.testing.assert_frame_equal(a.responses, b.responses)
    assert a.record == b.record and "transform" not in a.record


def test_shift_raises_the_value_by_one_human_sd():
    """shift.UN = +1: the measured centered UN mean is the untransformed one plus one human SD (95% CI of
    the difference of two independent populations of 20,000 twins)."""
    _, base, _ = _twins(None, 11)
    _, moved, rec = _twins({"shift.UN": 1.0}, 12)
    diff = moved["UN"].mean() - base["UN"].mean()
    se = np.sqrt(moved["UN"].var() / N + base["UN"].var() / N)
    assert abs(diff - HUMAN.loc["UN", "centered_sd"]) < Z95 * se
    assert rec["transform"]["transforms"] == {"shift.UN": 1.0}
    assert rec["transform"]["realised"]["value_mean_shift_sd"]["UN"] == pytest.approx(1.0, abs=0.05)


def test_shift_moves_other_values_and_attitudes_by_their_regression():
    """With the same random numbers (common random numbers), +1 SD of universalism moves each other value by
    r(UN, V) SD(V) and each attitude question by r(UN, item) SD(item), within 25% (plus 0.01 SD for
    near-zero relations)."""
    ans0, cen0, _ = _twins(None, 5)
    ans1, cen1, _ = _twins({"shift.UN": 1.0}, 5)
    r = datasets.value_correlation_matrix("DE_ESS9", "centered").loc["UN"]
    for v in CODES10:
        want = r[v] * HUMAN.loc[v, "centered_sd"]
        got = cen1[v].mean() - cen0[v].mean()
        assert abs(got - want) <= 0.25 * abs(want) + 0.01 * HUMAN.loc[v, "centered_sd"], v
    vb = datasets.value_behavior_correlations()
    vb = vb[vb["value"] == "UN"].set_index("item")["r"]
    checked = 0
    for item in RespondentSampler("DE_ESS9").behavior_items:
        sd = _item_sd(item)
        want = vb[item] * sd
        got = ans1[item].mean() - ans0[item].mean()
        assert abs(got - want) <= 0.25 * max(abs(want), 0.04 * sd), item
        checked += abs(vb[item]) >= 0.1
    assert checked >= 4  # immigration, cultural enrichment, EU, left-right ... carry real weight


def test_joint_shifts_set_each_value_mean():
    """shift.UN = +1 with shift.SE = -1: the Gaussian conditional mean given both values, so UN rises by one
    human SD and SE falls by one (not by one plus the other's regression on it)."""
    _, cen0, _ = _twins(None, 6, n=5000)
    _, cen1, _ = _twins({"shift.UN": 1.0, "shift.SE": -1.0}, 6, n=5000)
    for v, d in (("UN", 1.0), ("SE", -1.0)):
        assert (cen1[v].mean() - cen0[v].mean()) / HUMAN.loc[v, "centered_sd"] == pytest.approx(d, abs=0.03)


def test_shift_only_moves_the_value_alone():
    """shift_only.UN = +1: UN rises by one human SD; the attitudes and the other values' raw items of the
    twins are exactly where they were (same random numbers); other centered values fall only by the MRAT
    change, 3/18 of UN's rise (UN has 3 of the 21 items)."""
    ans0, cen0, _ = _twins(None, 8)
    ans1, cen1, _ = _twins({"shift_only.UN": 1.0}, 8)
    s = RespondentSampler("DE_ESS9")
    un_items = ["ipeqopt", "ipudrst", "impenv"]
    others = [it for it in s.variables if it not in un_items]
    pd.testing.assert_frame_equal(ans0[others], ans1[others])
    rise = cen1["UN"].mean() - cen0["UN"].mean()
    se = (cen1["UN"] - cen0["UN"]).std() / np.sqrt(N)
    assert abs(rise - HUMAN.loc["UN", "centered_sd"]) < Z95 * se + 0.01
    for v in CODES10[:-1]:
        assert cen1[v].mean() - cen0[v].mean() == pytest.approx(-rise * 3 / 18, abs=0.01)


def test_spread_halves_each_centered_sd():
    """spread = 0.5: each centered value's SD is half the untransformed one (95% CI of the SD ratio from the
    asymptotic variance of an SD, kurtosis included; Bonferroni over the 10 values)."""
    _, base, _ = _twins(None, 21)
    _, half, rec = _twins({"spread": 0.5}, 22)
    z = 2.807  # two-sided 0.05 / 10
    for v in CODES10:
        ratio = half[v].std() / base[v].std()
        # Var(log s) ~ (kurtosis - 1) / (4 n) for each sample
        var_log = sum((x.kurt() + 3 - 1) / (4 * len(x)) for x in (half[v], base[v]))
        assert abs(np.log(ratio / 0.5)) < z * np.sqrt(var_log), v
        assert half[v].mean() == pytest.approx(base[v].mean(), abs=0.03)  # the means stay
    assert rec["transform"]["realised"]["value_sd_ratio"]["UN"] == pytest.approx(0.5, abs=0.02)


def test_coupling_zero_removes_the_structure():
    """coupling = 0: items independent (every item correlation within 0.03 of 0 at n = 20,000), and the
    structure r against the untransformed sample falls from about 0.98 to the floor left by the ipsative
    centering (0.25 exactly in expectation: centered values still share the person's mean)."""
    ans, _, rec = _twins({"coupling": 0.0}, 31)
    r = np.corrcoef(ans.to_numpy(float).T)
    assert np.abs(r[np.triu_indices(len(r), 1)]).max() < 0.03
    assert rec["transform"]["realised"]["structure_r"] < 0.35
    _, _, full = _twins({"coupling": 1.0}, 31)
    assert full["transform"]["realised"]["structure_r"] > 0.95


def test_mixture_of_samples():
    """mix: value means are the weighted mean of the samples' human centered means; only the variables all
    samples share (no attitude questions from SE_ESS1-8)."""
    ans, cen, rec = _twins({"mix.DE_ESS9": 0.5, "mix.SE_ESS1-8": 0.5}, 41)
    assert list(ans.columns) == list(RespondentSampler("SE_ESS1-8").value_items)
    se = datasets.value_stats("SE_ESS1-8").set_index("value")
    for v in CODES10:
        want = 0.5 * HUMAN.loc[v, "centered_mean"] + 0.5 * se.loc[v, "centered_mean"]
        # mixture variance includes the between-sample part; 4 SE covers the label draw and copula error
        assert abs(cen[v].mean() - want) < 4 * cen[v].std() / np.sqrt(N) + 0.01, v


def test_shift_on_a_country_and_with_dominant_strategies():
    """An ESS11 country takes shifts on top of its own; a dominant-value strategy draws its weights from the
    transformed distribution (more universalists) and keeps twins whose top value is their prime."""
    _, fr0, _ = _twins(None, 51, n=10_000, sample="ESS11:FR")
    _, fr1, _ = _twins({"shift.UN": -1.0}, 52, n=10_000, sample="ESS11:FR")
    assert fr1["UN"].mean() - fr0["UN"].mean() == pytest.approx(-HUMAN.loc["UN", "centered_sd"], abs=0.03)
    plain = draw_population(300, strategy="h_norm", rng=1).record["weights"]["UN"]
    pop = draw_population(300, strategy="h_norm", rng=1, transforms={"shift.UN": 1.0})
    assert pop.record["weights"]["UN"] > plain + 0.1
    assert (pop.agents["prime"] == pop.agents["top"]).all()


def test_parse_transforms_normalises_plain_data():
    assert parse_transforms(["spread=0.8", "shift.UN=0.5"]) == {"shift.UN": 0.5, "spread": 0.8}
    assert parse_transforms({"coupling": 1}) == {"coupling": 1.0}
    assert parse_assignment("shift_only.SE = -1") == ("shift_only.SE", -1.0)
    assert parse_transforms(None) == {} and parse_transforms({}) == {}


@pytest.mark.parametrize("spec, match", [
    ({"shift.XX": 1}, r"transform shift.XX: unknown value code 'XX'"),
    ({"shift.un": 1}, r"did you mean shift.UN\?"),
    ({"shfit.UN": 1}, r"unknown transform 'shfit.UN' \(did you mean shift\?\)"),
    ({"shift": 1}, r"needs a value: write shift.UN"),
    ({"shift.UN": 3.5}, r"shift.UN = 3.5 is outside -3..3 human SDs"),
    ({"shift_only.BE": -4}, r"outside -3..3"),
    ({"spread": 0}, r"spread = 0: .* must be in \(0, 3\]"),
    ({"spread.UN": -1}, r"spread.UN = -1"),
    ({"coupling": 1.5}, r"coupling = 1.5 is outside \[0, 1\]"),
    ({"coupling.UN": 0.5}, r"coupling applies to all items"),
    ({"mix.DE_ESS9": 0.5, "mix.SE_ESS1-8": 0.4}, r"sum to 0.9; make them sum to 1"),
    ({"mix.FR_ESS9": 1.0}, r"transform mix.FR_ESS9: unknown population"),
    ({"shift.UN": "lots"}, r"shift.UN = 'lots' is not a number"),
    ({"shift.UN": float("nan")}, r"not a finite number"),
    ({"female_share": 0.6}, r"female_share is a population setting.*--female-share"),
    ({"shift.UN": 1, "shift_only.UN": 1}, r"keep one"),
    ({f"shift.{v}": 0.1 for v in CODES10}, r"drop one shift"),
    (["shift.UN"], r"not KEY=NUMBER"),
    (["shift.UN=1", "shift.UN=2"], r"given twice"),
])
def test_bad_transforms_are_one_line_errors(spec, match):
    with pytest.raises(PopsimError, match=match) as exc:
        parse_transforms(spec)
    assert "\n" not in str(exc.value)


def test_transforms_the_answers_cannot_show_are_refused():
    with pytest.raises(PopsimError, match=r"shift.UN = 3: UN's items saturate .* use a smaller shift"):
        transformed_sampler("DE_ESS9", {"shift.UN": 3.0})
    with pytest.raises(PopsimError, match=r"spread = 3: the 6-point answers .* use a spread nearer 1"):
        transformed_sampler("DE_ESS9", {"spread": 3.0})


@pytest.mark.parametrize("kwargs, match", [
    (dict(strategy="custom"), r"custom strategy takes its agents from a profiles file"),
    (dict(prompt_style="none"), r"style 'none' states no values"),
    (dict(strategy="uniform", prompt_style="value_prompt"), r"primes are fixed by design"),
    (dict(policy="reference", items=("imdfetn",), transforms={"mix.DE_ESS9": 0.5, "mix.SE_ESS1-8": 0.5}),
     r"mix.DE_ESS9: not every sample of the mixture has the attitude question 'imdfetn'"),
])
def test_transforms_a_run_cannot_honour_are_refused(kwargs, match):
    transforms = kwargs.pop("transforms", {"shift.UN": 1.0})
    with pytest.raises(PopsimError, match=match):
        check_honoured(transforms, **kwargs)
    check_honoured(transforms, strategy="empirical", policy="llm", prompt_style="profile")  # fine
    with pytest.raises(PopsimError, match="custom strategy"):
        draw_population(5, strategy="custom", transforms={"spread": 0.8})


def test_mesa_batch_run_drives_transforms():
    """`mesa.batch_run` builds PopulationModel from plain keyword arguments, transforms included: a scenario file
    declaring the twins' mean UN and their mean answer on 'immigrants enrich culture' as outcomes; with the same
    seed, +-1 SD of universalism moves them by about 2 human SDs of UN and 2 x r(UN, imueclt) x SD(imueclt)."""
    import mesa

    from popsim import PopulationModel

    path = Path(__file__).parent / "scenario_un_culture.py"
    rows = pd.DataFrame(mesa.batch_run(PopulationModel, parameters={
        "scenario": str(path), "policy": "reference", "n_agents": 1500, "rng": 4,
        "transforms": [{"shift.UN": -1.0}, {"shift.UN": 1.0}]}, number_processes=1, display_progress=False))
    assert len(rows) == 2
    rows["d"] = [t["shift.UN"] for t in rows["transforms"]]
    lo, hi = rows.set_index("d").loc[-1.0], rows.set_index("d").loc[1.0]
    assert hi["un_mean"] - lo["un_mean"] == pytest.approx(2 * HUMAN.loc["UN", "centered_sd"], rel=0.05)
    vb = datasets.value_behavior_correlations()
    r = float(vb[(vb["value"] == "UN") & (vb["item"] == "imueclt")]["r"].iloc[0])
    assert hi["imueclt_mean"] - lo["imueclt_mean"] == pytest.approx(2 * r * _item_sd("imueclt"), rel=0.25)
