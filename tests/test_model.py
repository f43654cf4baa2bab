"""`PopulationModel` under Mesa's own batch runner (`mesa.batch_run`): plain keyword arguments in, the
DataCollector's model reporters out, the same rows for the same parameters."""

from pathlib import Path

import mesa
import pandas as pd
import pytest

from popsim import PopulationModel

#: a small grid: two strategies x two seeds of a two-round public goods game on the scripted double (a dict
#: value such as scenario_options goes in a list: batch_run iterates over every other value it is given)
GAME = {"n_agents": 12, "scenario": "public_goods", "scenario_options": [{"rounds": 2}], "backend": "scripted",
        "strategy": ["uniform", "h_np"], "rng": [1, 2]}


def batch(parameters, **kw) -> pd.DataFrame:
    rows = mesa.batch_run(PopulationModel, parameters=parameters, number_processes=1, display_progress=False, **kw)
    return pd.DataFrame(rows)


def test_batch_run_collects_every_round_of_every_setting():
    df = batch(GAME, data_collection_period=1)
    assert len(df) == 2 * 2 * 2  # settings x rounds
    assert {"RunId", "iteration", "Step", "strategy", "rng", "round", "answered", "mean_share", "r_SD"} <= set(df)
    assert sorted(map(tuple, df[["strategy", "rng"]].drop_duplicates().to_numpy())) == [
        ("h_np", 1), ("h_np", 2), ("uniform", 1), ("uniform", 2)]
    for _, run in df.groupby("RunId"):
        assert list(run["round"]) == [1, 2] and list(run["answered"]) == [12, 24]  # one decision per agent a round
    assert df["mean_share"].between(0, 1).all()
    assert df.groupby(["strategy", "round"])["mean_share"].nunique().eq(2).all()  # the seed matters


def test_batch_run_gives_the_same_rows_for_the_same_parameters():
    a, b = batch(GAME), batch(GAME)
    assert len(a) == 4 and list(a["round"].unique()) == [2]  # by default the last round of each run
    pd.testing.assert_frame_equal(a.drop(columns="scenario_options"), b.drop(columns="scenario_options"))


def test_batch_rows_are_what_the_model_collects_on_its_own():
    row = batch({**GAME, "strategy": "h_np", "rng": 2}).iloc[0]
    alone = PopulationModel(**{**GAME, "strategy": "h_np", "rng": 2, "scenario_options": {"rounds": 2}}).run()
    last = alone.datacollector.get_model_vars_dataframe().iloc[-1]
    assert row[list(last.index)].astype(float).tolist() == pytest.approx(last.astype(float).tolist(), abs=0)


def test_batch_run_with_the_reference_policy():
    """A questionnaire answered by the agents' synthetic human twins (no model loaded)."""
    df = batch({"n_agents": 10, "scenario": "ess21", "policy": "reference", "strategy": ["h_np", "empirical"],
                "rng": [5, 6]})
    assert len(df) == 4 and (df["answered"] == 10 * 21).all() and (df["round"] == 1).all()


# ------------------------------------------------------------------------------------------ answers at scale
# issue 15 part 5: the agents' answers are computed in blocks now; every table and metric is the one written
# before that change (tests/data/scale/make.py, run on the code before it)

SCALE = Path(__file__).parent / "data" / "scale"


def _load(path: Path):
    """The make.py that wrote a golden set, as a module (`RUNS`, `tables`, `metrics`)."""
    import runpy
    from types import SimpleNamespace

    return SimpleNamespace(**runpy.run_path(str(path)))


SCALE_MAKE = _load(SCALE / "make.py")


@pytest.mark.parametrize("name", sorted(SCALE_MAKE.RUNS))
def test_answers_choices_and_outcomes_equal_those_written_before_blocks(name):
    got = SCALE_MAKE.tables(SCALE_MAKE.RUNS[name])
    written = sorted(p.name.split(".")[1] for p in SCALE.glob(f"{name}.*.parquet"))
    assert sorted(got) == written
    for table, frame in got.items():
        want = pd.read_parquet(SCALE / f"{name}.{table}.parquet")
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), want, check_dtype=False)


@pytest.mark.parametrize("name", SCALE_MAKE.METRICS)
def test_every_metric_equals_the_one_written_before_blocks(name, tmp_path):
    import json

    want = json.loads((SCALE / f"{name}.metrics.json").read_text())
    got = json.loads(json.dumps(SCALE_MAKE.metrics(SCALE_MAKE.RUNS[name], tmp_path / "run"), sort_keys=True))
    # metrics added since (the fidelity card of issue 14, its headline entries and interval notes) are new
    # keys; every number that was written then must be there now, unchanged
    assert _changed(want, got) == []


def _changed(want, got, path="") -> list[str]:
    """The paths under which `got` lacks or differs from something in `want` (dicts compared key by key)."""
    if isinstance(want, dict) and isinstance(got, dict):
        return [p for k in want for p in (_changed(want[k], got[k], f"{path}.{k}") if k in got
                                          else [f"{path}.{k} (missing)"])]
    return [] if want == got else [f"{path}: {want!r} -> {got!r}"]


def test_the_metric_comparison_finds_missing_and_changed_numbers():
    assert _changed({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 1, "c": [1, 2], "new": 3}, "card": {}}) == []
    assert _changed({"a": {"b": 1, "c": 2}}, {"a": {"b": 1.5}}) == [".a.b: 1 -> 1.5", ".a.c (missing)"]
