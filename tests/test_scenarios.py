"""Every scenario smoke-runs, is deterministic under a seed, and fails clearly on bad parameters."""

import numpy as np
import pandas as pd
import pytest

from popsim.errors import PopsimError
from popsim.model import PopulationModel
from popsim.reporting.runs import execute, load_run
from popsim.scenario import BUILTIN, load_scenario


def model(scenario, seed=1, **kw):
    return PopulationModel(n_agents=kw.pop("n_agents", 8), strategy=kw.pop("strategy", "h_even"), backend="scripted",
                           scenario=scenario, rng=seed, **kw)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_each_builtin_runs_and_is_seeded(name):
    opts = {"per_dimension": 2} if name == "persona_statements" else {"rounds": 3} if name == "public_goods" else {}
    a = model(name, scenario_options=opts).run().answers_frame()
    b = model(name, scenario_options=opts).run().answers_frame()
    pd.testing.assert_frame_equal(a, b)
    c = model(name, seed=2, scenario_options=opts).run().answers_frame()
    assert not a["answer"].equals(c["answer"])
    assert a["answer"].notna().all() and len(a) > 0


def test_public_goods_rounds_history_and_payoffs():
    m = model("public_goods", network="small_world", scenario_options={"rounds": 4}, n_agents=12).run()
    df = m.answers_frame()
    assert sorted(df["round"].unique()) == [0, 1, 2, 3]
    a = m.ordered_agents[0]
    assert len(a.history) == 4
    h = a.history[-1]
    assert h["payoff"] == pytest.approx(10 - h["own"] + 0.4 * (h["own"] + sum(h["others"])))
    assert len(h["others"]) == m.graph.degree(a.index)  # the group is the agent's neighbours
    out = m.datacollector.get_model_vars_dataframe()
    assert list(out["round"]) == [1, 2, 3, 4] and out["mean_share"].between(0, 1).all()
    # round 2's prompt tells the agent what happened in round 1
    q = m.scenario._item(m, a, 1).text_male
    assert "the previous round" in q and f"you put {int(a.history[0]['own'])} tokens" in q
    choices = m.datacollector.get_table_dataframe("choices")
    assert len(choices) == 12 * 4


def test_public_goods_fixed_groups_without_network():
    m = model("public_goods", scenario_options={"rounds": 1, "group_size": 4}, n_agents=12).run()
    sizes = {len(v) for v in m.scenario.groups(m).values()}
    assert sizes == {3}


def test_games_report_reference_and_signs(tmp_path):
    res = execute(tmp_path / "d", scenario="dictator", backend="scripted", n_agents=20, strategy="uniform", rng=3,
                  progress=False)
    g = res.metrics.game
    assert g.human_reference["mean_share"] == pytest.approx(0.2835)
    assert g.signs_tested == 4 and 0 <= g.signs_as_expected <= 4
    assert (tmp_path / "d" / "figures" / "rounds.png").exists()
    text = (tmp_path / "d" / "report.md").read_text()
    assert "28.35%" in text and "expected_sign" in text


def test_ess_attitudes_measures_values_and_behaviour_together(tmp_path):
    res = execute(tmp_path / "a", scenario="ess_attitudes", policy="reference", n_agents=300, rng=1, progress=False)
    b = res.metrics.behaviour
    # the synthetic twins carry the human value-behaviour structure (DE_ESS9)
    assert b.value_behaviour_summary.pearson_r > 0.8
    assert b.items_summary.mean_jensen_shannon < 0.15


def test_reference_policy_refuses_games():
    with pytest.raises(PopsimError, match="no human data for item 'give'"):
        PopulationModel(n_agents=3, policy="reference", scenario="dictator", rng=1).run()


def test_user_scenario_file_and_bad_files(tmp_path):
    sc = load_scenario("scenarios/TEMPLATE.py")
    assert sc.name == "trust_question"
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(PopsimError, match="raised RuntimeError when loaded: boom"):
        load_scenario(str(bad))
    syn = tmp_path / "syn.py"
    syn.write_text("def f(:\n")
    with pytest.raises(PopsimError, match="syntax error at line 1"):
        load_scenario(str(syn))
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(PopsimError, match="no Scenario subclass"):
        load_scenario(str(empty))
    with pytest.raises(PopsimError, match="does not take these options"):
        load_scenario("dictator", rounds=3)


def test_repeated_game_report(tmp_path):
    res = execute(tmp_path / "pg", scenario="public_goods", backend="scripted", n_agents=12, strategy="uniform",
                  network="small_world", scenario_options={"rounds": 3}, rng=2, progress=False)
    g = res.metrics.game
    assert g.rounds == 3 and len(g.per_round) == 3 and g.slope_per_round is not None
    assert g.human_reference["mean_share"] == pytest.approx(0.377)
    assert (tmp_path / "pg" / "figures" / "network.png").exists()
    assert "Zelmer 2003" in (tmp_path / "pg" / "report.md").read_text()
