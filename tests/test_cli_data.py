"""The command line of issue 12 from a clean state: import a test-made ESS file and a mapped lab study, list,
run real respondents (reference policy and a demographic prompt style); every bad input is one line, exit
status 2, and nothing is written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import microdata
from cli_run import run_cli
from popsim.instruments import load_instrument


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    ess = microdata.ess_frame(1500, seed=3)
    fr = microdata.ess_frame(900, seed=4, country="FR")
    both = pd.concat([ess, fr], ignore_index=True)
    microdata.write(both, d / "ESS10.csv")
    microdata.write(both, d / "ESS10.sav")
    rng = np.random.default_rng(1)
    rr = load_instrument("pvq_rr").item_ids
    lab = pd.DataFrame(rng.integers(1, 7, (320, 57)), columns=[f"q{i}" for i in range(1, 58)])
    lab["sex"], lab["age"] = rng.integers(1, 3, 320), rng.integers(18, 70, 320)
    lab.to_csv(d / "lab_study.csv", index=False)
    return d, {it: f"q{i}" for i, it in enumerate(rr, start=1)}


def one_line_error(code, err, *parts):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("popsim: error:"), err
    assert "Traceback" not in err
    for p in parts:
        assert p in lines[0], lines[0]


def test_the_issues_commands(files, tmp_path, capsys):
    d, mapping = files
    code, out, err = run_cli(["data", "import", d / "ESS10.csv", "--name", "FR_ESS10", "--filter", "cntry=FR",
                              "--weight", "anweight"], capsys)
    assert code == 0, err
    assert "imported FR_ESS10" in out and "weights anweight" in out
    argv = ["data", "import", d / "lab_study.csv", "--name", "LAB25", "--instrument", "pvq_rr", "--gender", "sex",
            "--age", "age"]
    for item, col in mapping.items():
        argv += ["--map", f"{item}={col}"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    code, out, _ = run_cli(["data", "list"], capsys)
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert {"FR_ESS10", "LAB25", "DE_ESS9"} <= set(rows)
    sha = json.loads((tmp_path / "popsim_data" / "samples" / "FR_ESS10" / "provenance.json").read_text())["source"]
    assert sha["sha256"][:12] in rows["FR_ESS10"] and "anweight" in rows["FR_ESS10"]  # n, weights, hash, date

    # a respondents run of the imported sample: a complete run folder with the subgroup and individual sections
    code, out, err = run_cli(["run", "ess21", "--population", "FR_ESS10", "--strategy", "respondents", "--agents", 500,
                              "--policy", "reference", "--seed", 2, "--out", tmp_path / "runs" / "fr",
                              "--no-progress"], capsys)
    assert code == 0, err
    run = tmp_path / "runs" / "fr"
    for f in ("config.json", "agents.parquet", "answers.parquet", "responses.parquet", "metrics.json", "report.md"):
        assert (run / f).is_file(), f
    report = (run / "report.md").read_text()
    assert "## Subgroups" in report and "## Individual-level fidelity" in report
    m = json.loads((run / "metrics.json").read_text())
    acc = {r["predictor"]: r["accuracy"] for r in m["individual"]["summary"]}
    assert acc["agent"] == 1.0 and acc["population mean"] < 0.6 and acc["random respondent"] < 0.6  # as the person
    assert m["answers"]["missing_reasons"]["no answer"] > 0  # items the person skipped stay unanswered
    agents = pd.read_parquet(run / "agents.parquet")
    assert set(agents["country"]) == {"FR"} and agents["respondent"].nunique() > 300 and agents["age"].notna().mean() > .95
    assert {"gender", "age_band", "education"} <= set(m["subgroups"]["variables"])
    assert m["run"]["population_record"]["strategy"] == "respondents"

    # values and demographics in the persona (the scripted double answers: the prompts are what matter here)
    code, out, err = run_cli(["run", "ess_attitudes", "--population", "FR_ESS10", "--strategy", "respondents",
                              "--style", "profile_demographic", "--agents", 8, "--backend", "scripted", "--seed", 1,
                              "--out", tmp_path / "runs" / "fr2", "--no-progress"], capsys)
    assert code == 0, err
    assert "## Individual-level fidelity" in (tmp_path / "runs" / "fr2" / "report.md").read_text()


def test_respondents_are_seeded_weighted_and_real(files, capsys):
    from popsim.model import PopulationModel
    from popsim.samples import import_sample, load_sample

    d, _ = files
    import_sample(d / "ESS10.sav", "DEFR")
    people = load_sample("DEFR").respondents().set_index("respondent")
    a = PopulationModel(n_agents=400, population="DEFR", strategy="respondents", policy="reference", rng=5)
    b = PopulationModel(n_agents=400, population="DEFR", strategy="respondents", policy="reference", rng=5)
    pd.testing.assert_frame_equal(a.agents_frame(), b.agents_frame())
    agents = a.agents_frame()
    person = people.loc[agents.loc[0, "respondent"]]
    first = a.ordered_agents[0]
    assert first.respondent["ipcrtiv"] == person["ipcrtiv"] or (np.isnan(first.respondent["ipcrtiv"])
                                                                and np.isnan(person["ipcrtiv"]))
    assert first.gender == person["gender"] and first.demographics["age"] == person["age"]
    assert first.demographics["country"] in ("Germany", "France")  # the country's name, for the persona
    persona = a.ordered_agents and __import__("popsim").prompts.persona_text("demographic", demographics=first.person)
    assert f"{int(person['age'])}-year-old" in persona
    # weighted bootstrap: heavier respondents are drawn more often (weights from 0.2 to 4 in the file)
    w = people["weight"]
    drawn = PopulationModel(n_agents=4000, population="DEFR", strategy="respondents", policy="reference",
                            rng=1).agents_frame()["respondent"]
    heavy, light = w[w > w.quantile(0.8)].index, w[w < w.quantile(0.2)].index
    assert drawn.isin(heavy).mean() > 2 * drawn.isin(light).mean()


BAD = [
    ("not a table", lambda d: ["data", "import", d / "junk.csv", "--name", "X"], ["junk.csv", "not a readable table"]),
    ("no layout, no mapping", lambda d: ["data", "import", d / "lab_study.csv", "--name", "X"],
     ["lab_study.csv", "no known layout", "--map"]),
    ("codes out of range", lambda d: ["data", "import", d / "range.csv", "--name", "X"],
     ["range.csv", "column ipcrtiv", "code 12"]),
    ("items missing for everyone", lambda d: ["data", "import", d / "empty_item.csv", "--name", "X"],
     ["empty_item.csv", "column impfun", "no valid answer"]),
    ("fewer than 100 respondents", lambda d: ["data", "import", d / "small.csv", "--name", "X"],
     ["small.csv", "at least 100"]),
    ("negative weights", lambda d: ["data", "import", d / "negative.csv", "--name", "X", "--weight", "pspwght"],
     ["negative.csv", "weight column pspwght", "negative"]),
    ("weight gaps", lambda d: ["data", "import", d / "gaps.csv", "--name", "X", "--weight", "pspwght"],
     ["gaps.csv", "weight column pspwght", "empty"]),
    ("a shipped name", lambda d: ["data", "import", d / "ESS10.csv", "--name", "DE_ESS9"], ["clashes", "DE_ESS9"]),
    ("a filter that matches nobody", lambda d: ["data", "import", d / "ESS10.csv", "--name", "X", "--filter", "cntry=IT"],
     ["ESS10.csv", "filter cntry=IT matches no row"]),
    ("a bad --map", lambda d: ["data", "import", d / "lab_study.csv", "--name", "X", "--map", "ipcrtiv"],
     ["--map 'ipcrtiv'", "ITEM=COLUMN"]),
    ("a bad --missing", lambda d: ["data", "import", d / "ESS10.csv", "--name", "X", "--missing", "7,eight"],
     ["--missing", "numeric codes"]),
    ("an unknown instrument", lambda d: ["data", "import", d / "ESS10.csv", "--name", "X", "--instrument", "pvq41"],
     ["unknown instrument 'pvq41'"]),
    ("no --name", lambda d: ["data", "import", d / "ESS10.csv"], ["--name"]),
    ("show an unknown sample", lambda d: ["data", "show", "NOPE"], ["unknown sample 'NOPE'"]),
    ("remove a shipped sample", lambda d: ["data", "remove", "DE_ESS9"], ["shipped sample"]),
    ("respondents of a shipped sample", lambda d: ["run", "ess21", "--strategy", "respondents", "--backend", "scripted",
                                                   "--out", d / "never"], ["strategy respondents", "popsim data import"]),
    ("a demographic style without demographics", lambda d: ["run", "ess21", "--style", "demographic", "--backend",
                                                             "scripted", "--out", d / "never"],
     ["--style demographic", "no", "--strategy respondents"]),
]


@pytest.mark.parametrize("case", [c[0] for c in BAD])
def test_bad_input_through_the_cli(case, files, tmp_path, capsys):
    d, _ = files
    ess = microdata.ess_frame(300, seed=9)
    (tmp_path / "junk.csv").write_bytes(b"\x00PK\x03\x04" * 100)
    ess.assign(ipcrtiv=np.where(np.arange(len(ess)) == 7, 12, ess["ipcrtiv"])).to_csv(tmp_path / "range.csv", index=False)
    ess.assign(impfun=9).to_csv(tmp_path / "empty_item.csv", index=False)
    ess.iloc[:80].to_csv(tmp_path / "small.csv", index=False)
    ess.assign(pspwght=-ess["pspwght"]).to_csv(tmp_path / "negative.csv", index=False)
    ess.assign(pspwght=ess["pspwght"].where(np.arange(len(ess)) > 3)).to_csv(tmp_path / "gaps.csv", index=False)
    for f in ("ESS10.csv", "lab_study.csv"):
        (tmp_path / f).write_bytes((d / f).read_bytes())
    before = sorted(p.name for p in tmp_path.rglob("*"))
    _, make, parts = next(c for c in BAD if c[0] == case)
    code, out, err = run_cli(make(tmp_path), capsys)
    one_line_error(code, err, *parts)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written (data folder, run folder)


def test_the_page_lists_and_uses_imported_samples(files, tmp_path):
    """The page's population control offers imported samples (from popsim.parameters) and runs them."""
    from popsim.page import settings as S
    from popsim.page.session import Session
    from popsim.samples import import_sample

    d, _ = files
    import_sample(d / "ESS10.csv", "PAGE_FR", filters={"cntry": "FR"})
    assert "PAGE_FR" in S.choices("population") and "respondents" in S.choices("strategy")
    session = Session(cache_path=tmp_path / "answers.sqlite")
    session.build(S.Settings(n_agents=40, population="PAGE_FR", strategy="respondents", policy="reference"))
    session.step()
    snap = session.snapshot()
    assert snap.sample == "PAGE_FR" and len(snap.agents) == 40
    session.shutdown()
