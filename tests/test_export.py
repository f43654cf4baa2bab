"""popsim.reporting.export: SimBench's results layout, scored by an independent implementation of the
formula of SimBench's `calculate_simbench_score.py` (tsor13/SimBench_release), on hand-made rows."""

import numpy as np
import pandas as pd
import pytest

from popsim.analysis.scores import distribution_scores, summarise_scores
from popsim.errors import PopsimError
from popsim.reporting.export import simbench_frame, write_simbench


def simbench_scorer(pickles: list) -> pd.Series:
    """SimBench's scoring, step by step as its script does it (independent of popsim's code):
    Human_Distribution = list(human_answer.values()); TV after normalising both lists (NaN when the
    lengths differ); TV_Uniform for rows with more than one option; the norm of a dataset_name is the
    mean TV_Uniform of its rows; row score 100 (1 - TV / norm) when norm > 0; a Model's score is the
    mean of its row scores."""
    df = pd.concat([pd.read_pickle(p) for p in pickles], ignore_index=True)

    def tv(h, m):
        h, m = np.array(h, dtype=float), np.array(m, dtype=float)
        if len(h) != len(m) or len(h) == 0:
            return np.nan
        h = h / h.sum() if h.sum() > 0 else h
        m = m / m.sum() if m.sum() > 0 else m
        return 0.5 * np.sum(np.abs(h - m))

    df["Human_Distribution"] = df["human_answer"].apply(lambda d: list(d.values()))
    df["Total_Variation"] = [tv(h, m) for h, m in zip(df["Human_Distribution"], df["Response_Distribution"])]
    df["TV_Uniform"] = [tv(h, [1 / len(h)] * len(h)) if len(h) > 1 else np.nan for h in df["Human_Distribution"]]
    norms = df.groupby("dataset_name")["TV_Uniform"].mean()
    df["SimBench_Score"] = [100 * (1 - t / norms[d]) if not np.isnan(t) and norms[d] > 0 else np.nan
                            for t, d in zip(df["Total_Variation"], df["dataset_name"])]
    return df.groupby("Model")["SimBench_Score"].mean()


def test_export_round_trip_gives_popsims_score(tmp_path):
    human = pd.DataFrame({"item": ["a1"] * 3 + ["a2"] * 2 + ["b1"] * 4,
                          "answer": [1, 2, 3, 1, 2, 0, 1, 2, 3],
                          "share": [.7, .2, .1, .5, .5, .1, .2, .3, .4]})
    # simulated answers as an agent table; a2 is answered only 1 (a zero share for option 2), and
    # b1's rounded shares sum to 1.02 (both sides are normalised)
    sim = pd.DataFrame({"agent": range(10), "item": "a1", "answer": [1, 1, 1, 1, 1, 1, 2, 2, 2, 3]})
    sim = pd.concat([sim, pd.DataFrame({"agent": range(4), "item": "a2", "answer": [1, 1, 1, 1]}),
                     pd.DataFrame({"agent": range(5), "item": "b1", "answer": [0, 1, 1, 3, 3]})])
    human.loc[human["item"] == "b1", "share"] *= 1.02
    ds = {"a1": "A", "a2": "A", "b1": "B"}
    frame = simbench_frame(sim, human, model="popsim/test", datasets=ds)
    assert list(frame.columns) == ["dataset_name", "Model", "item", "human_answer", "Response_Distribution"]
    row = frame.set_index("item").loc["a2"]
    assert row["human_answer"] == {"1": 0.5, "2": 0.5} and row["Response_Distribution"] == [1.0, 0.0]
    assert list(frame.set_index("item").loc["b1", "human_answer"]) == ["0", "1", "2", "3"]
    path = write_simbench(frame, tmp_path / "run.pkl")
    theirs = simbench_scorer([path])
    ours = summarise_scores(distribution_scores(sim, human, datasets=ds))["simbench"]
    assert theirs["popsim/test"] == pytest.approx(ours, abs=1e-10)
    # by hand: a1 TV .1 (sim .6 .3 .1), a2 TV .5, b1 TV .3; N_A = mean(.366667, 0), N_B = TV(unif, b1) = .2
    expected = np.mean([100 * (1 - .1 / (0.366667 / 2)), 100 * (1 - .5 / (0.366667 / 2)), 100 * (1 - .3 / .2)])
    assert ours == pytest.approx(expected, abs=1e-3)


def test_two_models_in_one_folder_are_scored_apart(tmp_path):
    human = pd.DataFrame({"item": ["q", "q"], "answer": [1, 2], "share": [.8, .2]})
    good = pd.DataFrame({"item": ["q", "q"], "answer": [1, 2], "share": [.8, .2]})
    bad = pd.DataFrame({"item": ["q"], "answer": [2], "share": [1.0]})
    p1 = write_simbench(simbench_frame(good, human, model="good"), tmp_path / "good.pkl")
    p2 = write_simbench(simbench_frame(bad, human, model="bad"), tmp_path / "bad.pkl")
    scores = simbench_scorer([p1, p2])
    assert scores["good"] == pytest.approx(100.0)
    # TV(bad) = .8, norm = TV(uniform, human) = .3: 100 (1 - .8/.3)
    assert scores["bad"] == pytest.approx(100 * (1 - 0.8 / 0.3))


def test_bad_input(tmp_path):
    human = pd.DataFrame({"item": ["q"], "answer": [1], "share": [1.0]})
    frame = simbench_frame(pd.DataFrame({"item": ["q"], "answer": [1], "share": [1.0]}), human, model="m")
    with pytest.raises(PopsimError, match=r"reads only \*\.pkl files"):
        write_simbench(frame, tmp_path / "out.csv")
    with pytest.raises(PopsimError, match="lacks SimBench's columns"):
        write_simbench(frame.drop(columns="Model"), tmp_path / "out.pkl")
    with pytest.raises(PopsimError, match="non-empty name"):
        simbench_frame(frame, human, model="")


# ------------------------------------------------------------------------------------------ popsim export


def test_cli_export_and_its_bad_input(tmp_path, capsys):
    from popsim.reporting.runs import execute

    from cli_run import run_cli

    execute(tmp_path / "ess", scenario="ess21", policy="reference", n_agents=30, rng=1, progress=False,
            figures=False)
    execute(tmp_path / "game", scenario="dictator", backend="scripted", n_agents=5, rng=1, progress=False,
            report=False, cache_path=tmp_path / "c.sqlite")
    code, out, err = run_cli(["export", tmp_path / "ess", "--out", tmp_path / "x" / "ess.pkl"], capsys)
    assert code == 0 and "written:" in out, err
    frame = pd.read_pickle(tmp_path / "x" / "ess.pkl")
    assert len(frame) == 21 and set(frame["Model"]) == {"popsim/reference-twins"}
    bad = {("--format", "csv"): "unknown export format 'csv'; choose one of: simbench",
           ("--out", "ess.csv"): "reads *.pkl files; give a file path ending in .pkl",
           ("run", "game"): "has no answers to items with human answer shares",
           ("run", "nowhere"): "does not exist; pass the --out folder of a finished run"}
    for (what, value), message in bad.items():
        run = tmp_path / (value if what == "run" else "ess")
        argv = ["export", run, "--out", tmp_path / ("ess.csv" if what == "--out" else "y.pkl")]
        argv += ["--format", value] if what == "--format" else []
        code, out, err = run_cli(argv, capsys)
        assert code == 2 and message in err and err.startswith("popsim: error:") and err.count("\n") == 1, err
        assert not (tmp_path / "y.pkl").exists() and not (tmp_path / "ess.csv").exists()
