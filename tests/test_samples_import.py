"""Importing respondent-level files, exactly: small hand-made files check scoring, reversal, weighting and the
missing-data rules against numbers worked out by hand; every bad input of the issue is one PopsimError naming
the file, the column and the fix, and nothing is written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import microdata
from popsim import datasets, samples
from popsim.errors import PopsimError
from popsim.instruments import load_instrument

ITEMS = list(microdata.ESS_ITEMS)
UN = ["ipeqopt", "ipudrst", "impenv"]
PO = ["imprich", "iprspot"]
C_MISSING = {"ipcrtiv": 7, "impdiff": 8, "ipgdtim": 9, "ipshabt": 77, "impsafe": 99}  # SD ST HE AC SE, 5 of 21


def rows(n: int, code: int, special: dict, weight: float, **extra) -> pd.DataFrame:
    """n identical respondents in ESS coding (1 = very much like me): every item `code` except `special`."""
    row = {it: special.get(it, code) for it in ITEMS}
    return pd.DataFrame([{**row, "pspwght": weight, "cntry": "DE", **extra}] * n)


def hand_made() -> pd.DataFrame:
    """A: 60 x weight 2, items 3 (ESS code 4) and universalism 6 (code 1); B: 60 x weight 1, items 4 (code 3)
    and power 1 (code 6); C: 10 x weight 1, as B with 5 items missing (kept); D: 10 rows with 6 missing (dropped)."""
    a = rows(60, 4, {it: 1 for it in UN}, 2.0, gndr=2, agea=30)
    b = rows(60, 3, {it: 6 for it in PO}, 1.0, gndr=1, agea=70)
    c = rows(10, 3, {**{it: 6 for it in PO}, **C_MISSING}, 1.0, gndr=1, agea=70)
    d = rows(10, 3, {**C_MISSING, "impfun": 8}, 1.0, gndr=1, agea=70)
    return pd.concat([a, b, c, d], ignore_index=True)


@pytest.fixture
def data(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("POPSIM_DATA", str(d))
    return d


def nothing_written(data) -> bool:
    root = data / "samples"
    return not root.exists() or not any(root.iterdir())


def test_scoring_weighting_and_missing_rules_exactly(tmp_path, data):
    path = tmp_path / "hand.csv"
    hand_made().to_csv(path, index=False)
    with pytest.warns(UserWarning, match="only 130 scored respondents"):
        s = samples.import_sample(path, "HAND")
    p = s.provenance
    assert p["rows_read"] == 140 and p["rows_imported"] == 130
    assert p["rows_dropped"] == {"filters": 0, "more than 5 of 21 value items missing": 10}
    assert p["missing_codes"]["value_items"]["ipshabt"] == ["77"] and p["weights"]["column"] == "pspwght"
    # by hand: MRAT A = (18*3 + 3*6)/21 = 72/21; B = (19*4 + 2*1)/21 = 78/21; C (16 items) = (14*4 + 2*1)/16
    mrat = {"A": 72 / 21, "B": 78 / 21, "C": 58 / 16}
    w = {"A": 120.0, "B": 60.0, "C": 10.0}  # total weight of each pattern
    raw_un = {"A": 6.0, "B": 4.0, "C": 4.0}
    raw_po = {"A": 3.0, "B": 1.0, "C": 1.0}
    W = sum(w.values())
    vs = datasets.value_stats("HAND").set_index("value")
    assert vs.loc["UN", "raw_mean"] == pytest.approx(sum(w[k] * raw_un[k] for k in w) / W)  # 1000/190
    assert vs.loc["UN", "centered_mean"] == pytest.approx(sum(w[k] * (raw_un[k] - mrat[k]) for k in w) / W)
    assert vs.loc["PO", "centered_mean"] == pytest.approx(sum(w[k] * (raw_po[k] - mrat[k]) for k in w) / W)
    m = 1000 / 190  # weighted SD: sqrt(sum w (x - m)^2 / sum w * n / (n - 1)), n = 130 respondents
    assert vs.loc["UN", "raw_sd"] == pytest.approx(np.sqrt((120 * (6 - m) ** 2 + 70 * (4 - m) ** 2) / 190 * 130 / 129))
    sizes = datasets.sample_sizes("HAND").iloc[0]
    assert sizes["n_scored"] == 130
    assert sizes["mrat_mean"] == pytest.approx(sum(w[k] * mrat[k] for k in w) / W)
    it = datasets.item_stats("HAND").set_index("item")
    # ipcrtiv: A answers 3 (weight 120), B 4 (weight 60), C missing
    assert it.loc["ipcrtiv", "n"] == 120 and it.loc["ipcrtiv", "mean"] == pytest.approx(10 / 3)
    assert it.loc["ipcrtiv", ["p3", "p4"]].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert it.loc["ipeqopt", "p6"] == pytest.approx(120 / 190) and it.loc["ipeqopt", "n"] == 130
    # A's single top value is UN; B and C tie nine values at the top
    top = datasets.top_value_shares("HAND").set_index("top_value")["share"]
    assert top["UN"] == pytest.approx(120 / 190) and top["TIED"] == pytest.approx(70 / 190)
    assert top.drop(["UN", "TIED"]).eq(0).all()
    # items answered by everyone take two values with these patterns: they correlate 1; ipcrtiv is missing for
    # C, whose answer is imputed by the item's weighted mean 10/3 (then numpy's weighted covariance)
    r = datasets.item_correlation_matrix("HAND")
    assert r.loc["ipeqopt", "imprich"] == pytest.approx(1.0)
    x, y = np.array([3.0, 4.0, 10 / 3]), np.array([3.0, 4.0, 4.0])
    assert r.loc["ipcrtiv", "impfree"] == pytest.approx(_wcorr(x, y, [120, 60, 10]))
    demo = datasets.demographics("HAND").set_index(["variable", "level"])["share"]
    assert demo[("gender", "female")] == pytest.approx(120 / 190) and demo[("age_band", "60-74")] == pytest.approx(70 / 190)
    with pytest.warns(UserWarning):
        unweighted = samples.import_sample(path, "HAND_UNW", weight=None)
    assert datasets.value_stats(unweighted.name).set_index("value").loc["UN", "raw_mean"] == pytest.approx(
        (60 * 6 + 70 * 4) / 130)


def _wcorr(x, y, w) -> float:
    c = np.cov(x, y, aweights=w)
    return float(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]))


def test_reversal_mapping_and_value_labels_orient_the_scale(tmp_path, data):
    """The same respondents as an ESS file, as a PVQ-style file (1 = not like me at all) mapped by hand, and as
    an ESS-coded file mapped with --reverse: identical tables. Labels that contradict the direction: an error."""
    ess = hand_made()
    ess.to_csv(tmp_path / "ess.csv", index=False)
    pvq = ess.rename(columns={it: f"q{i + 1}" for i, it in enumerate(ITEMS)})
    q = [f"q{i + 1}" for i in range(21)]
    mapping = dict(zip(ITEMS, q))
    flipped = pvq.copy()
    ok = flipped[q].isin(range(1, 7))
    flipped[q] = flipped[q].where(~ok, 7 - flipped[q])
    flipped.to_csv(tmp_path / "pvq.csv", index=False)
    pvq.to_csv(tmp_path / "pvq_reversed.csv", index=False)
    miss = [7, 8, 9, 77, 99]
    with pytest.warns(UserWarning):
        a = samples.import_sample(tmp_path / "ess.csv", "VIA_ESS")
        b = samples.import_sample(tmp_path / "pvq.csv", "VIA_MAP", mapping=mapping, missing=miss, weight="pspwght",
                                  gender="gndr", age="agea", country="cntry")
        c = samples.import_sample(tmp_path / "pvq_reversed.csv", "VIA_REV", mapping=mapping, reverse=True,
                                  missing=miss, weight="pspwght", gender="gndr", age="agea", country="cntry")
    assert b.provenance["orientation"]["reversed"] is False and c.provenance["orientation"]["reversed"] is True
    for table in ("value_stats", "item_stats", "value_correlations", "top_value_shares", "sample_sizes", "demographics"):
        ref = datasets.sample_table(table, a.name).drop(columns="sample")
        for other in (b, c):
            pd.testing.assert_frame_equal(datasets.sample_table(table, other.name).drop(columns="sample"), ref,
                                          check_dtype=False)
    # value labels orient a mapped file: labelled 1 = very much like me, no --reverse needed (7, 8, 9 are
    # labelled, so user-missing in the .sav; 77 and 99 are not: they must be declared)
    lab = {c_: dict(microdata.ITEM_LABELS) for c_ in q}
    microdata.write(pvq, tmp_path / "labelled.sav", value_labels=lab)
    with pytest.raises(PopsimError, match="column q4 .* code 77 in 20 rows .*--missing"):
        samples.import_sample(tmp_path / "labelled.sav", "X0", mapping=mapping)
    with pytest.warns(UserWarning):
        d = samples.import_sample(tmp_path / "labelled.sav", "VIA_LABELS", mapping=mapping, weight="pspwght",
                                  missing=[77, 99])
    assert d.provenance["orientation"] == {"reversed": True, "from": "value labels"}
    pd.testing.assert_frame_equal(datasets.value_stats(d.name).drop(columns="sample"),
                                  datasets.value_stats(a.name).drop(columns="sample"))
    with pytest.raises(PopsimError, match=r"labelled.sav: column q1 labels code 1 'very much like me'.*add --reverse"):
        samples.import_sample(tmp_path / "labelled.sav", "X1", mapping=mapping, reverse=False, missing=[77, 99])
    # an ESS-layout file whose labels say 6 = very much like me contradicts the ESS coding
    backwards = {it: {k: microdata.ITEM_LABELS[7 - k] for k in range(1, 7)} for it in ITEMS}
    microdata.write(ess, tmp_path / "backwards.sav", value_labels=backwards)
    with pytest.raises(PopsimError, match=r"backwards.sav: column ipcrtiv labels code 6 .*contradicts the ESS layout"):
        samples.import_sample(tmp_path / "backwards.sav", "X2")


def test_gss_layout_and_a_57_item_instrument(tmp_path, data):
    """GSS 2012 names (valorig ... valfun, 1 = very much like me, 0/8/9 missing, sex/age/educ); a PVQ-RR
    study through a mapping: scored to the 10 values, Face counting in MRAT, drawn by the copula."""
    from microdata import GSS_ITEMS

    f = microdata.ess_frame(600, seed=5, sample="US_GSS2012")
    gss = f[ITEMS].rename(columns=dict(zip(ITEMS, GSS_ITEMS))).replace({7: 8, 8: 9, 9: 0})
    gss["sex"], gss["age"], gss["educ"] = f["gndr"].replace(9, 1), f["agea"].where(f["agea"] < 90, 98), 12
    gss.to_parquet(tmp_path / "gss.parquet")
    s = samples.import_sample(tmp_path / "gss.parquet", "GSS_TEST")
    assert s.provenance["layout"] == "GSS" and s.provenance["weights"] is None
    assert samples.load_sample("GSS_TEST").demographics == ["gender", "age", "education", "country"]
    got = datasets.value_stats("GSS_TEST").set_index("value")["centered_mean"]
    want = datasets.value_stats("US_GSS2012").set_index("value")
    assert (np.abs(got - want["centered_mean"]) < 4.5 * want["centered_sd"] / np.sqrt(s.n)).all()

    rr = load_instrument("pvq_rr")
    rng = np.random.default_rng(0)
    lab = pd.DataFrame(rng.integers(1, 7, (150, 57)), columns=[f"v{i}" for i in range(1, 58)])
    lab.to_csv(tmp_path / "lab.csv", index=False)
    with pytest.warns(UserWarning):
        s = samples.import_sample(tmp_path / "lab.csv", "LAB", instrument="pvq_rr",
                                  mapping={it: f"v{i}" for i, it in enumerate(rr.item_ids, start=1)})
    assert len(datasets.item_stats("LAB")) == 57 and datasets.sample_instrument("LAB") == "pvq_rr"
    from popsim.population import draw_population

    pop = draw_population(20, sample="LAB", rng=1)
    assert pop.responses.shape == (20, 58) and pop.agents[list(datasets.value_stats("LAB")["value"])].notna().all().all()


def _file(path, content: bytes):
    path.write_bytes(content)
    return path


def _csv(tmp_path, df, name="bad.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


BAD = {
    "not a table": (lambda t: _file(t / "bad.csv", b"\x00\x01\x02PK\x03\x04" * 50), {},
                    ["bad.csv", "not a readable table", "give a CSV"]),
    "not an SPSS file": (lambda t: _file(t / "bad.sav", b"ipcrtiv,imprich\n1,2\n"), {},
                         ["bad.sav", "not a readable table"]),
    "unknown file type": (lambda t: _file(t / "bad.xlsx", b"x"), {}, ["bad.xlsx", "unknown file type"]),
    "missing file": (lambda t: t / "nope.csv", {}, ["nope.csv", "does not exist"]),
    "no layout": (lambda t: _csv(t, pd.DataFrame({"a": range(200), "b": 1})), {}, ["bad.csv", "no known layout", "--map"]),
    "half a layout": (lambda t: _csv(t, hand_made().drop(columns=["impfun", "imptrad"])), {},
                      ["bad.csv", "lacks the value items imptrad, impfun", "--map"]),
    "code out of range": (lambda t: _csv(t, hand_made().assign(ipcrtiv=lambda d: d["ipcrtiv"].where(d.index != 3, 12))), {},
                          ["bad.csv", "column ipcrtiv", "code 12", "row 4", "--missing"]),
    "text in an item": (lambda t: _csv(t, hand_made().astype({"impfun": object}).assign(
        impfun=lambda d: d["impfun"].where(d.index != 5, "high"))), {}, ["bad.csv", "column impfun", "'high'", "numeric codes"]),
    "item missing for everyone": (lambda t: _csv(t, hand_made().assign(impenv=9)), {},
                                  ["bad.csv", "column impenv", "no valid answer", "mapping"]),
    "too few respondents": (lambda t: _csv(t, hand_made().iloc[40:]), {}, ["bad.csv", "only 90 respondents", "at least 100"]),
    "negative weights": (lambda t: _csv(t, hand_made().assign(pspwght=lambda d: d["pspwght"].where(d.index != 0, -1.0))),
                         {"weight": "pspwght"}, ["bad.csv", "weight column pspwght", "negative", "--weight none"]),
    "weight gaps": (lambda t: _csv(t, hand_made().assign(pspwght=lambda d: d["pspwght"].where(d.index > 2))),
                    {"weight": "pspwght"}, ["bad.csv", "weight column pspwght", "empty in 3", "--weight none"]),
    "unknown weight column": (lambda t: _csv(t, hand_made()), {"weight": "pspwgt"},
                              ["bad.csv", "no column 'pspwgt'", "did you mean 'pspwght'"]),
    "name clash": (lambda t: _csv(t, hand_made()), {"name": "de_ess9"}, ["de_ess9", "clashes with the shipped sample DE_ESS9"]),
    "bad name": (lambda t: _csv(t, hand_made()), {"name": "my sample"}, ["'my sample'", "not valid"]),
    "filter matches nobody": (lambda t: _csv(t, hand_made()), {"filters": {"cntry": "FR"}},
                              ["bad.csv", "filter cntry=FR matches no row", "holds DE"]),
    "filter column missing": (lambda t: _csv(t, hand_made()), {"filters": {"country": "FR"}},
                              ["bad.csv", "no column 'country'"]),
    "mapping to a missing column": (lambda t: _csv(t, pd.DataFrame({"q1": [1] * 200})),
                                    {"mapping": {it: f"q{i}" for i, it in enumerate(ITEMS, 1)}},
                                    ["bad.csv", "no column 'q2'", "item imprich"]),
    "mapping of an unknown item": (lambda t: _csv(t, pd.DataFrame({"q1": [1] * 200})), {"mapping": {"pvq01": "q1"}},
                                   ["--map pvq01", "not an item of ess21"]),
    "incomplete mapping": (lambda t: _csv(t, pd.DataFrame({"q1": [1] * 200})), {"mapping": {"ipcrtiv": "q1"}},
                           ["bad.csv", "mapping lacks items imprich"]),
    "outcome column missing": (lambda t: _csv(t, hand_made()), {"outcomes": ["trust"]}, ["bad.csv", "no column 'trust'"]),
    "bad gender codes": (lambda t: _csv(t, hand_made().assign(gndr=3)), {}, ["bad.csv", "column gndr (gender)", "3"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_naming_file_column_and_fix(case, tmp_path, data):
    make, kwargs, parts = BAD[case]
    path = make(tmp_path)
    kwargs = dict(kwargs)
    name = kwargs.pop("name", "BAD")
    with pytest.raises(PopsimError) as err:
        samples.import_sample(path, name, **kwargs)
    msg = str(err.value)
    assert "\n" not in msg and ";" in msg, msg  # one line: what is wrong; how to fix it
    for part in parts:
        assert part in msg, msg
    assert nothing_written(data)


def test_an_existing_name_is_kept_unless_overwritten(tmp_path, data):
    path = _csv(tmp_path, hand_made())
    with pytest.warns(UserWarning):
        first = samples.import_sample(path, "TWICE")
    with pytest.raises(PopsimError, match="already exists.*popsim data remove TWICE"):
        samples.import_sample(path, "TWICE")
    with pytest.warns(UserWarning):
        again = samples.import_sample(path, "TWICE", overwrite=True, weight=None)
    assert again.provenance["weights"] is None and first.provenance["weights"] is not None
    assert samples.imported_names() == ["TWICE"] and [p.name for p in (data / "samples").iterdir()] == ["TWICE"]


def test_the_data_folder_is_never_the_repository_or_a_run_folder(tmp_path, monkeypatch):
    from popsim import userdata as store  # the user data folder

    repo = store._repository_root()
    if repo is not None:
        with pytest.raises(PopsimError, match="inside the popsim repository"):
            store.check_location(repo / "data")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "answers.parquet").write_text("")
    with pytest.raises(PopsimError, match="inside the run folder"):
        samples.import_sample(tmp_path / "x.csv", "X", data_dir=run / "data")
    monkeypatch.delenv("POPSIM_DATA", raising=False)
    import platformdirs

    assert store.data_dir() == __import__("pathlib").Path(platformdirs.user_data_dir("popsim", appauthor=False)).resolve()


def test_outcomes_named_by_the_user(tmp_path, data):
    """A user-named outcome comes in with its own codes; text, fractions and constants are refused."""
    f = hand_made()
    f["trust"] = np.tile(np.arange(0, 11), 20)[: len(f)]
    with pytest.warns(UserWarning):
        s = samples.import_sample(_csv(tmp_path, f, "out.csv"), "OUT", outcomes=["TRUST"])
    assert s.outcomes == ["trust"] and datasets.outcome_items("OUT") == ["trust"]
    dist = datasets.behavior_distributions("OUT")
    assert dist["code"].tolist() == list(range(11)) and dist["share"].sum() == pytest.approx(1)
    assert len(datasets.value_behavior_correlations("OUT")) == 10
    for values, msg in ((f["trust"] + 0.5, "has the value 0.5"), (f["trust"] * 0 + 3, "has one answer \\(3\\)")):
        with pytest.raises(PopsimError, match=f"out.csv: outcome column trust {msg}"):
            samples.import_sample(_csv(tmp_path, f.assign(trust=values), "out.csv"), "OUT2", outcomes=["trust"])
