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


# ------------------------------------------------------------------------------------------ real respondents


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """A test-made ESS-layout file (tests/microdata.py; no real microdata) imported as DEX, and respondents runs of
    it: the reference policy (each agent answers as its person) and the scripted double (answers unrelated to the
    person)."""
    import microdata
    from popsim import samples

    root = tmp_path_factory.mktemp("people")
    data = root / "popsim_data"
    path = microdata.write(microdata.ess_frame(1200, seed=21), root / "dex.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POPSIM_DATA", str(data))
        samples.import_sample(path, "DEX")
        common = dict(scenario="ess_attitudes", population="DEX", strategy="respondents", n_agents=300, rng=4,
                      progress=False, figures=False, cache_path=root / "c.sqlite")
        ref = execute(root / "ref", policy="reference", **common)
        hashed = execute(root / "hashed", backend="scripted", ppi_labelled=60, **common)
    return data, ref.path, hashed.path


@pytest.fixture
def data_env(people, monkeypatch):
    monkeypatch.setenv("POPSIM_DATA", str(people[0]))


def test_respondents_card_split_half_individual_and_ppi(people, data_env):
    _, ref_path, hashed_path = people
    ref, hashed = Metrics.load(ref_path), Metrics.load(hashed_path)
    scale = ref.card.marginal.scale.frame().set_index("metric")
    assert scale["ceiling_method"].eq("split-half").all()  # the imported respondents, not the stand-in
    assert ref.card.marginal.n_items == 35 and 0.8 < ref.headline.simbench_normalised < 1.2
    # the agents answer as their persons: accuracy 1 against the persons, above both baselines
    assert ref.card.individual.summary.frame().set_index("predictor").loc["agent", "accuracy"] == 1.0
    assert ref.card.individual.accuracy_gain > 0.3 and ref.headline.individual_accuracy_gain > 0.3
    p = ref.card.ppi
    assert p.n_labelled == max(30, p.n_respondents // 5) and p.n_unlabelled_agents > 150
    t = p.items.frame()
    # perfect predictions: lam = var(Y) / ((1 + n/N) var(Yhat)) near 1 / (1 + n/N), the simulation fully used
    assert len(t) == 35 and (t["lam"] > 0.5).all()
    assert p.median_effective_n > 3 * p.n_labelled and p.ppi_coverage >= 0.85
    # answers unrelated to the person (the scripted double): PPI++ ignores them, worth about the labelled alone
    h = hashed.card.ppi
    assert h.n_labelled == 60 and h.mean_lam < 0.15 and 0.9 < h.median_gain < 1.25
    assert hashed.headline.ppi_gain == h.median_gain
    text = (hashed_path / "report.md").read_text()
    assert "### Prediction-powered inference" in text and "### Individual" in text and "split-half" in text


def test_ppi_requests_that_cannot_be_met(people, data_env, runs, tmp_path, capsys):
    from cli_run import run_cli

    _, ref_path, _ = people
    before = (ref_path / "metrics.json").read_text()
    bad = [(["report", ref_path, "--ppi-labelled", "10"], "--ppi-labelled must be a whole number of at least 30"),
           (["report", ref_path, "--ppi-labelled", "299"], "leaves no simulated population"),
           (["report", runs[0].path, "--ppi-labelled", "40"], "needs agents that are real respondents"),
           (["run", "ess21", "--population", "DEX", "--strategy", "empirical", "--ppi-labelled", "40", "--out",
             tmp_path / "x"], "add --strategy respondents"),
           (["run", "ess21", "--population", "DEX", "--strategy", "respondents", "--agents", "40", "--ppi-labelled",
             "40", "--out", tmp_path / "x"], "leaves no simulated population among --agents 40"),
           (["run", "ess21", "--population", "DE_ESS9", "--strategy", "respondents", "--agents", "100",
             "--ppi-labelled", "40", "--out", tmp_path / "x"], "needs a sample with respondent-level data, and DE_ESS9 "
                                                               "is shipped with aggregates only")]
    for argv, message in bad:
        code, out, err = run_cli(argv, capsys)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("popsim: error:") and message in err, (argv, err)
    assert (ref_path / "metrics.json").read_text() == before and not (tmp_path / "x").exists()
    code, out, err = run_cli(["report", ref_path, "--ppi-labelled", "45"], capsys)
    assert code == 0 and Metrics.load(ref_path).card.ppi.n_labelled == 45, err
