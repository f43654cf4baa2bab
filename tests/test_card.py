"""The fidelity card of a run (popsim.reporting.card): a human-like population is placed near 1, a uniform-answer
population near 0, the export scores as the card does, and runs without scored items say why."""

import json

import pandas as pd
import pytest

from popsim.reporting.record import Metrics
from popsim.reporting.runs import execute

from test_export import simbench_scorer


def uniform(ask):
    """A scripted backend's responder: the same probability on every option (a uniform-answer simulator)."""
    return [1.0] * len(ask.options)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    ref = execute(root / "ref", scenario="ess_attitudes", policy="reference", n_agents=200, rng=3, progress=False,
                  figures=False)
    uni = execute(root / "uni", scenario="ess21", backend="scripted", backend_options={"responder": uniform},
                  n_agents=200, rng=3, progress=False, figures=False, cache_path=root / "c.sqlite")
    return ref, uni


def test_reference_run_is_near_1_and_uniform_run_near_0(runs):
    ref, uni = (Metrics.load(r.path) for r in runs)
    for m in (ref, uni):
        assert m.card is not None and m.headline.simbench_score is not None
    # reference twins answer like humans: as good as a perfect simulator of 200 agents
    for key in ("simbench_normalised", "w1_normalised"):
        assert 0.85 < getattr(ref.headline, key) < 1.15, (key, getattr(ref.headline, key))
    # uniform answers: where the uniform baseline is (SimBench's anchor 0)
    assert abs(uni.headline.simbench_normalised) < 0.1
    assert abs(uni.headline.w1_normalised) < 0.1
    assert abs(uni.headline.simbench_score) < 8
    scale = uni.card.marginal.scale.frame().set_index("metric")
    assert scale.loc["simbench", "best_naive"] == "uniform" and scale.loc["simbench", "uniform"] == pytest.approx(0)
    # the uniform population is over-dispersed on items whose humans agree; the twins are not
    assert uni.headline.dispersion_ratio > 1.2 and 0.9 < ref.headline.dispersion_ratio < 1.1
    assert 0.85 < ref.headline.profile_spread_ratio < 1.15


def test_reference_card_sections(runs):
    m = Metrics.load(runs[0].path)
    c = m.card
    assert c.marginal.n_items == 35 and c.marginal.datasets == ["ess21", "ess_attitudes"]
    assert set(c.marginal.simbench_by_dataset) == {"ess21", "ess_attitudes"}
    items = c.marginal.items.frame()
    assert len(items) == 35 and {"simbench", "w1_score", "ratio", "low", "high"} <= set(items.columns)
    assert c.marginal.scale.frame()["ceiling_method"].eq("multinomial n/2").all()
    st = c.structural.table.frame().set_index("metric")
    assert st.loc["pearson_r", "human_min"] == pytest.approx(0.935, abs=1e-3)
    assert st.loc["pearson_r", "run"] == pytest.approx(m.values.agreement.pearson_r)
    # twins' value x attitude correlations at 200 agents: most keep the human sign
    sg = c.behavioural.signs
    assert sg.n_pairs == 140 and sg.share_keep_sign > 0.7 and sg.share_flipped < 0.2
    assert m.headline.value_outcome_keep_sign == sg.share_keep_sign
    text = (runs[0].path / "report.md").read_text()
    for heading in ("## Fidelity card", "### Marginal", "### Structural", "### Behavioural"):
        assert heading in text
    assert "normalised" in text and "Answer distributions: SimBench score" in text


def test_the_simbench_export_scores_as_the_card(runs, tmp_path):
    from popsim.reporting.export import export_run

    for r in runs:
        path = export_run(r.path, tmp_path / f"{r.path.name}.pkl")
        frame = pd.read_pickle(path)
        theirs = simbench_scorer([path])
        assert list(theirs.index) == [frame["Model"].iloc[0]]
        assert theirs.iloc[0] == pytest.approx(Metrics.load(r.path).headline.simbench_score, abs=1e-5)
    assert set(pd.read_pickle(tmp_path / "ref.pkl")["dataset_name"]) == {"ess21", "ess_attitudes"}
    assert pd.read_pickle(tmp_path / "uni.pkl")["Model"].iloc[0] == "popsim/uniform/value_prompt"


def test_a_game_has_no_distribution_scores_but_a_game_line(tmp_path):
    r = execute(tmp_path / "game", scenario="dictator", backend="scripted", n_agents=20, rng=1, progress=False, figures=False,
                cache_path=tmp_path / "c.sqlite")
    m = Metrics.load(r.path)
    assert "no item with human answer shares" in m.card.marginal.error
    assert m.card.behavioural.game.mean_share == m.game.mean_share
    assert m.headline.simbench_score is None
    text = (r.path / "report.md").read_text()
    assert "### Marginal" in text and "Not computed: the run answered no item" in text and "Game: mean share" in text
    # the record round-trips: the card is typed and written back as it was read
    assert m.to_dict()["card"] == json.loads((r.path / "metrics.json").read_text())["card"]
