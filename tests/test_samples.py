"""Imported samples: a test-made ESS-layout file (drawn from the DE_ESS9 copula, written as CSV, .dta and
.sav) imports back into the DE_ESS9 tables within their sampling error; storage, listing, provenance; the
copula, strategies and country shifts run on an imported sample.

Round-trip tolerance (stated here, used below). Each table cell is an estimate from the file's respondents;
its standard error at Kish's effective size n_eff = (sum w)^2 / sum w^2 (of the respondents answering) is
    share p:        sqrt(p (1 - p) / n_eff)
    mean:           SD / sqrt(n_eff)
    SD:             SD / sqrt(n_eff)     (exact for kurtosis 5, conservative for these items)
    correlation r:  (1 - r^2) / sqrt(n_eff - 3)
A cell passes when |imported - DE_ESS9| <= z * SE + c, with z = the two-sided Bonferroni quantile for a 5%
family-wise error over every cell compared in the module (about 4.4), and c the generator's own departure
from the DE_ESS9 tables, not the importer's: 0 for shares and means (the copula's marginals are exact),
0.011 for correlations of value scores and value-outcome correlations (the copula reproduces the centered
value correlations within 0.011, docs/populations.md), 0.007 for item and item-outcome correlations (its
calibration, ibid.) plus, for the 21x21 item table, the gap between DE_ESS9's mean-imputed and pairwise
item correlations (the copula targets the pairwise ones). Top-value shares are compared with the copula's
own population (200,000 draws), since the copula is known not to reproduce DE_ESS9's tied share (0.38 vs
0.43, docs/populations.md).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import microdata
from popsim import datasets, samples
from popsim.errors import PopsimError
from popsim.instruments import score
from popsim.population import RespondentSampler, country_name, draw_population, human_top_shares
from popsim.values import CODES10, dominant_values

N_DRAWN = 8000  # before the informative selection; about 4,400 rows are written
FORMATS = ("csv", "dta", "sav")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tmp_path_factory.mktemp("popsim_data")


@pytest.fixture(scope="module")
def frame():
    return microdata.ess_frame(N_DRAWN, seed=11, select_un=True)


@pytest.fixture(scope="module")
def imported(frame, data, tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    out = {}
    for fmt in FORMATS:
        path = microdata.write(frame, d / f"de_test.{fmt}")
        out[fmt] = (path, samples.import_sample(path, f"RT_{fmt}", data_dir=data))
    return out


@pytest.fixture(autouse=True)
def _data_env(data, monkeypatch):
    monkeypatch.setenv("POPSIM_DATA", str(data))


def n_eff(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / np.sum(w**2))


class Tolerance:
    """Collects |diff| / (z SE + c) per cell; the module's z is fixed from the total number of cells."""

    z = stats.norm.ppf(1 - 0.05 / (2 * 6000))  # 6000 >= the cells compared in this module (3 formats)

    def __init__(self):
        self.worst: dict[str, float] = {}

    def check(self, name: str, got, want, se, c=0.0):
        got, want, se = (np.asarray(a, float) for a in (got, want, se))
        ratio = np.abs(got - want) / (self.z * se + c)
        self.worst[name] = max(self.worst.get(name, 0.0), float(np.nanmax(ratio)))
        assert np.isfinite(ratio).all(), name
        assert (ratio <= 1).all(), f"{name}: worst cell at {ratio.max():.2f} of its tolerance"


def test_round_trip_reproduces_the_de_ess9_tables(imported, frame):
    tol = Tolerance()
    resp = imported["csv"][1].respondents()
    w = resp["weight"].to_numpy()
    kish = n_eff(w) / len(w)
    # respondents with at most 5 of the 21 items missing (ESS codes 7, 8, 9) are exactly those imported
    items = list(microdata.ESS_ITEMS)
    assert len(resp) == int((frame[items].isin([7, 8, 9]).sum(axis=1) <= 5).sum())
    imputed_gap = np.abs(datasets.item_correlation_matrix("DE_ESS9").to_numpy()
                         - datasets.joint_correlation_matrix("DE_ESS9").iloc[:21, :21].to_numpy()).max()
    big = RespondentSampler("DE_ESS9").draw(200_000, np.random.default_rng(0))
    top = dominant_values(score(big[items], "ess21").centered.to_numpy())
    population_top = {c: float(np.mean(top == c)) for c in CODES10} | {"TIED": float(np.mean(top == ""))}
    for fmt, (_, s) in imported.items():
        it, de = datasets.item_stats(s.name).set_index("item"), datasets.item_stats("DE_ESS9").set_index("item")
        ne = it["n"] * kish
        tol.check("item mean", it["mean"], de["mean"], de["sd"] / np.sqrt(ne))
        tol.check("item sd", it["sd"], de["sd"], de["sd"] / np.sqrt(ne))
        for p in (f"p{i}" for i in range(1, 7)):
            tol.check("item shares", it[p], de[p], np.sqrt(de[p] * (1 - de[p]) / ne))
        vs, dv = datasets.value_stats(s.name).set_index("value"), datasets.value_stats("DE_ESS9").set_index("value")
        ne = len(w) * kish
        for col, sd in (("raw_mean", "raw_sd"), ("centered_mean", "centered_sd"), ("raw_sd", "raw_sd"),
                        ("centered_sd", "centered_sd")):
            tol.check(f"value {col}", vs[col], dv[col], dv[sd] / np.sqrt(ne))
        for scoring in ("centered", "raw"):
            r, h = datasets.value_correlation_matrix(s.name, scoring), datasets.value_correlation_matrix("DE_ESS9", scoring)
            tol.check(f"value correlations {scoring}", r, h, (1 - h**2) / np.sqrt(ne - 3), 0.011)
        r, h = datasets.item_correlation_matrix(s.name), datasets.item_correlation_matrix("DE_ESS9")
        tol.check("item correlations", r, h, (1 - h**2) / np.sqrt(ne - 3), 0.007 + imputed_gap)
        j, hj = datasets.joint_item_correlations(s.name), datasets.joint_item_correlations("DE_ESS9")
        m = j.merge(hj, on=["var_a", "var_b"], suffixes=("", "_de"))
        assert len(m) == 35 * 35
        tol.check("joint correlations", m["r"], m["r_de"], (1 - m["r_de"] ** 2) / np.sqrt(m["n"] * kish - 3), 0.007)
        b = datasets.behavior_distributions(s.name).merge(datasets.behavior_distributions("DE_ESS9"),
                                                          on=["item", "code"], suffixes=("", "_de"))
        assert len(b) == len(datasets.behavior_distributions("DE_ESS9"))
        n_item = b["item"].map(resp.notna().sum()) * kish
        tol.check("outcome shares", b["share"], b["share_de"], np.sqrt(b["share_de"] * (1 - b["share_de"]) / n_item))
        vb = datasets.value_behavior_correlations(s.name).merge(datasets.value_behavior_correlations("DE_ESS9"),
                                                                on=["item", "value"], suffixes=("", "_de"))
        assert len(vb) == 140
        tol.check("value-outcome correlations", vb["r"], vb["r_de"],
                  (1 - vb["r_de"] ** 2) / np.sqrt(vb["n"] * kish - 3), 0.011)
        sz, dz = datasets.sample_sizes(s.name).iloc[0], datasets.sample_sizes("DE_ESS9").iloc[0]
        assert sz["n_scored"] == len(resp)
        tol.check("mrat", [sz["mrat_mean"], sz["mrat_sd"]], [dz["mrat_mean"], dz["mrat_sd"]],
                  [dz["mrat_sd"] / np.sqrt(ne)] * 2)
        t = datasets.top_value_shares(s.name).set_index("top_value")["share"]
        want = pd.Series(population_top)
        tol.check("top-value shares (vs the copula's population)", t[want.index], want,
                  np.sqrt(want * (1 - want) / ne))
    print("\nround trip: n =", len(w), "n_eff =", round(n_eff(w)), "z =", round(Tolerance.z, 2),
          {k: round(v, 2) for k, v in tol.worst.items()})


def test_formats_give_the_same_tables(imported):
    """CSV (missing codes as numbers), .dta and .sav (declared user-missing, read as missing): the same sample."""
    for table in datasets.TABLE_COLUMNS:
        ref = datasets.sample_table(table, "RT_csv").drop(columns="sample")
        for fmt in ("dta", "sav"):
            got = datasets.sample_table(table, f"RT_{fmt}").drop(columns="sample")
            pd.testing.assert_frame_equal(got, ref, check_dtype=False, rtol=1e-9)


def test_weights_matter(imported, data):
    """The file over-represents low universalism; only its weights undo that: unweighted, ipeqopt's top share
    misses the DE_ESS9 figure by far more than the tolerance."""
    path = imported["csv"][0]
    un = samples.import_sample(path, "RT_unweighted", weight=None, data_dir=data)
    it = datasets.item_stats(un.name).set_index("item").loc["ipeqopt"]
    de = datasets.item_stats("DE_ESS9").set_index("item").loc["ipeqopt"]
    se = np.sqrt(de["p6"] * (1 - de["p6"]) / it["n"])
    assert de["p6"] - it["p6"] > 8 * se
    assert un.provenance["weights"] is None
    assert imported["csv"][1].provenance["weights"]["column"] == "anweight"  # ESS order: anweight, pspwght, dweight


def test_provenance_and_respondents(imported, frame):
    path, s = imported["sav"]
    p = s.provenance
    assert p["source"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert p["source"]["file"] == path.name and p["rows_read"] == len(frame)
    assert p["rows_imported"] + sum(p["rows_dropped"].values()) == p["rows_read"]
    assert p["layout"] == "ESS" and p["orientation"] == {"reversed": True, "from": "value labels"}
    assert p["popsim_version"] and p["imported_at"]
    assert p["demographics"] == {"gender": "gndr", "age": "agea", "education": "eisced", "country": "cntry"}
    assert p["outcomes"] == list(datasets.behavior_items()["var"])
    assert samples.load_sample("RT_csv").provenance["missing_codes"]["value_items"]["ipcrtiv"] == ["7", "8", "9"]
    r = s.respondents()
    # 6 = very much like me: the file's code 1 became 6
    src = frame.iloc[r["source_row"].to_numpy() - 1]
    ok = src["ipcrtiv"].between(1, 6).to_numpy()
    assert (r["ipcrtiv"].to_numpy()[ok] == 7 - src["ipcrtiv"].to_numpy()[ok]).all()
    assert set(r["gender"].dropna()) == {"male", "female"} and r["gender"].isna().sum() == (src["gndr"] == 9).sum()
    assert r["age"].max() <= 90 and r["age"].isna().sum() == (src["agea"] == 999).sum()
    assert set(r["country"]) == {"DE"} and r["education"].isna().sum() == (src["eisced"] == 55).sum()
    demo = datasets.demographics(s.name)
    assert set(demo["variable"]) == {"gender", "age_band", "education", "country"}
    assert demo.groupby("variable")["share"].sum().round(9).eq(1).all()


def test_list_show_remove_and_the_data_folder(imported, data, tmp_path, monkeypatch):
    listed = samples.list_samples().set_index("name")
    assert {"SE_ESS1-8", "DE_ESS9", "US_GSS2012", "RT_csv", "RT_sav"} <= set(listed.index)
    assert listed.loc["RT_csv", "kind"] == "imported" and listed.loc["DE_ESS9", "weights"] == "pspwght"
    text = samples.describe("RT_csv")
    for part in ("de_test.csv", imported["csv"][1].provenance["source"]["sha256"], "anweight", "dropped", "ESS"):
        assert part in text
    assert "aggregates only" in samples.describe("DE_ESS9")
    # the data_dir argument and POPSIM_DATA move the folder
    other = tmp_path / "elsewhere"
    s = samples.import_sample(imported["csv"][0], "MOVED", data_dir=other, overwrite=False)
    assert (other / "samples" / "MOVED" / "respondents.parquet").is_file()
    assert "MOVED" not in samples.imported_names()
    monkeypatch.setenv("POPSIM_DATA", str(other))
    assert samples.imported_names() == ["MOVED"] and datasets.sample_sizes("MOVED")["n_scored"].iloc[0] == s.n
    samples.remove_sample("MOVED")
    assert samples.imported_names() == [] and not (other / "samples" / "MOVED").exists()
    with pytest.raises(PopsimError, match="shipped sample"):
        samples.remove_sample("DE_ESS9")
    with pytest.raises(PopsimError, match="unknown sample 'MOVED'"):
        samples.load_sample("MOVED")


def test_the_copula_strategies_and_country_shifts_run_on_an_imported_sample(imported):
    name = imported["csv"][1].name
    s = RespondentSampler(name)
    assert s.value_items == list(microdata.ESS_ITEMS) and s.behavior_items == list(datasets.behavior_items()["var"])
    x = s.draw(40_000, np.random.default_rng(3))
    r = np.corrcoef(x.to_numpy(float).T)
    iu = np.triu_indices(len(s.variables), 1)
    assert np.abs(r[iu] - s.target[iu]).max() < 0.04  # the copula reproduces the imported joint correlations
    for strategy in ("empirical", "h_np", "uniform"):
        pop = draw_population(60, strategy=strategy, sample=name, rng=2)
        assert len(pop.agents) == 60 and "freehms" in pop.responses
    top, tied = human_top_shares(name)
    assert tied == pytest.approx(datasets.top_value_shares(name).set_index("top_value").loc["TIED", "share"])
    assert country_name(name) == "Germany"
    fr = RespondentSampler(f"ESS11:FR@{name}")
    cen = score(fr.draw(40_000, np.random.default_rng(4)), "ess21").centered.mean()
    want = datasets.ess11_country_means().set_index("cntry").loc["FR", list(CODES10)].astype(float)
    assert np.abs(cen[list(CODES10)] - want).max() < 0.03
