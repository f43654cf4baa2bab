"""Writes the golden answers the determinism tests compare against (`tests/test_seeds.py`).

Made once, before seed streams were named (issue 11, item 7), with the code of that revision; rerunning this
script on later code must reproduce them byte for byte (that is what the test checks, run by run):

    python tests/data/golden/make.py
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ["agent", "round", "item", "answer", "expected", "order", "prompt_hash"]

#: name -> PopulationModel keywords (the scripted backend and the reference policy need no model)
RUNS = {
    "scripted_ess21_random_order": dict(scenario="ess21", n_agents=20, strategy="h_np", prompt_style="value_prompt",
                                        option_order="random", backend="scripted", rng=7),
    "scripted_public_goods_small_world": dict(scenario="public_goods", n_agents=12, network="small_world",
                                              scenario_options={"rounds": 3}, backend="scripted", rng=3),
    "reference_ess_attitudes": dict(scenario="ess_attitudes", n_agents=30, policy="reference", rng=5),
    "scripted_profile_female": dict(scenario="ess21", n_agents=8, prompt_style="profile", female_share=1.0,
                                    backend="scripted", rng=11),
}


def answers(kwargs: dict):
    from popsim.model import PopulationModel

    m = PopulationModel(progress=False, **kwargs).run()
    return m.answers_frame()[COLUMNS]


def main() -> None:
    for name, kwargs in RUNS.items():
        answers(kwargs).to_parquet(HERE / f"{name}.parquet", index=False)
        print("wrote", name)


if __name__ == "__main__":
    main()
