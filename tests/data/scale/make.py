"""Writes the answers the at-scale determinism tests compare against (`tests/test_model.py`, issue 15 part 5).

Made once with the code before the agents' answers were computed in blocks (h15, before part 5); rerunning it on
later code must reproduce them exactly: every column of `answers_frame()` (sampled and expected answers, the
option distribution in scale order, the order shown, validity, prompt hash, method, error), the games' choices
and the outcomes per round.

    python tests/data/scale/make.py
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name -> PopulationModel keywords (the scripted backend and the reference policy need no model)
RUNS = {
    "dominant_ess21": dict(scenario="ess21", n_agents=1500, strategy="h_np", prompt_style="value_prompt",
                           backend="scripted", rng=21),
    "dominant_random_order_t05": dict(scenario="ess21", n_agents=150, strategy="uniform", prompt_style="value_prompt",
                                      option_order="random", temperature=0.5, backend="scripted", rng=4),
    "empirical_attitudes_t0": dict(scenario="ess_attitudes", n_agents=300, strategy="empirical", temperature=0.0,
                                   prompt_style="value_prompt", backend="scripted", rng=8),
    "dominant_descending_female": dict(scenario="ess21", n_agents=300, strategy="h_norm", option_order="descending",
                                       female_share=0.7, backend="scripted", rng=13),
    "public_goods_network": dict(scenario="public_goods", n_agents=30, network="small_world", strategy="h_np",
                                 scenario_options={"rounds": 3}, backend="scripted", rng=5),
    "dictator_none_style": dict(scenario="dictator", n_agents=50, prompt_style="none", backend="scripted", rng=6),
    "reference_ess21": dict(scenario="ess21", n_agents=500, policy="reference", rng=9),
    "profile_style": dict(scenario="ess21", n_agents=20, prompt_style="profile", backend="scripted", rng=2),
}


def tables(kwargs: dict) -> dict:
    """The run's answers, choices and outcomes as data frames."""
    from popsim.model import PopulationModel

    m = PopulationModel(progress=False, **kwargs).run()
    out = {"answers": m.answers_frame(), "outcomes": m.datacollector.get_model_vars_dataframe().reset_index(drop=True)}
    choices = m.datacollector.get_table_dataframe("choices")
    if len(choices):
        out["choices"] = choices
    return out


#: runs whose whole metrics.json (every number of the report) is kept too
METRICS = ("dominant_ess21", "reference_ess21", "public_goods_network")


def metrics(kwargs: dict, folder: Path) -> dict:
    """The run's metrics.json as `popsim run` writes it (without the run time, which varies)."""
    import json

    from popsim.reporting.runs import execute

    kw = dict(kwargs)
    execute(folder, scenario=kw.pop("scenario"), progress=False, figures=False, **kw)
    m = json.loads((folder / "metrics.json").read_text())
    m["run"].pop("seconds", None)
    return m


def main() -> None:
    import json
    import tempfile

    for name, kwargs in RUNS.items():
        for table, frame in tables(kwargs).items():
            frame.to_parquet(HERE / f"{name}.{table}.parquet", index=False)
        if name in METRICS:
            with tempfile.TemporaryDirectory() as tmp:
                m = metrics(kwargs, Path(tmp) / "run")
            (HERE / f"{name}.metrics.json").write_text(json.dumps(m, indent=1, sort_keys=True), encoding="utf-8")
        print("wrote", name)


if __name__ == "__main__":
    main()
