"""The human reference data shipped in `human_data/` (pingouin-style: `list_datasets()`, `load()`).

Every loader returns a tidy `pandas.DataFrame`. Value and item scores are oriented
1 = "not like me at all" ... 6 = "very much like me"; ESS attitude questions keep their native
ESS codes (see `behavior_items()` for the direction of each). Provenance, citation and terms of
every file are in `list_datasets()` and `human_data/README.md`.

The loaders that take a `sample` answer for the shipped samples (`SAMPLES`) and for samples imported into
the user data folder (`popsim.samples`) alike: an imported sample's tables have the same columns. Called
without a sample they return the shipped file whole.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from .errors import PopsimError, unknown
from . import userdata

SAMPLES: tuple[str, ...] = userdata.SHIPPED
#: columns of each per-sample table (the human_data file of that name; `demographics` only for imported samples)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "value_stats": ("sample", "value", "raw_mean", "raw_sd", "centered_mean", "centered_sd"),
    "value_correlations": ("sample", "scoring", "value_a", "value_b", "r"),
    "item_stats": ("sample", "item", "value", "n", "mean", "sd", "p1", "p2", "p3", "p4", "p5", "p6"),
    "item_correlations": ("sample", "item_a", "item_b", "r"),
    "top_value_shares": ("sample", "top_value", "share"),
    "sample_sizes": ("sample", "n_scored", "mrat_mean", "mrat_sd"),
    "behavior_distributions": ("sample", "item", "code", "share"),
    "value_behavior_correlations": ("sample", "item", "value", "n", "r"),
    "joint_item_correlations": ("sample", "var_a", "var_b", "n", "r"),
    "demographics": ("sample", "variable", "level", "n", "share"),
}

ESS_LICENSE = "CC BY-NC-SA 4.0 (ESS ERIC); non-commercial use, derived work under the same license"
ESS9_CITE = "Adapted from ESS Round 9, edition 3.1 (ESS ERIC 2018; NSD/Sikt, Norway)"
ESS18_CITE = "Adapted from ESS Cumulative File rounds 1-8 (ESS ERIC; NSD/Sikt, Norway)"
GSS_CITE = "General Social Survey 2012, ICPSR 35478, doi:10.3886/ICPSR35478.v4"
SAMPLE_CITE = f"SE_ESS1-8: {ESS18_CITE}; DE_ESS9: {ESS9_CITE}; US_GSS2012: {GSS_CITE}"
SAMPLE_LICENSE = f"ESS samples: {ESS_LICENSE}; GSS: public data"
SCHWARTZ = ("Schwartz 1992 (Adv. Exp. Soc. Psych. 25); Schwartz et al. 2012, JPSP 103(4):663-688; "
            "Schwartz, Coding & Analysis Instructions PVQ-RR (2021)")

# name -> (file, description, sample, source, citation, license)
_INDEX: dict[str, tuple[str, str, str, str, str, str]] = {
    "values": ("values.json", "10 basic and 19 refined Schwartz values: codes, names, definitions, "
               "circular order, higher-order groups, answer scales, scoring rule", "-",
               "Schwartz's published value definitions", SCHWARTZ, "published definitions, quoted"),
    "instrument_items": ("instrument_items.csv", "items (male and female wording) and value keys of "
                         "ESS-21, PVQ-40 and PVQ-RR", "-", "ESS documentation; Schwartz PVQ-40 and PVQ-RR",
                         "ESS Human Values Scale (ESS documentation); Schwartz 2003 (PVQ-40); "
                         "Schwartz et al. 2012 (PVQ-RR)",
                         "ESS wording CC BY-SA 4.0; PVQ-40/PVQ-RR free for academic research, commercial "
                         "use needs a license from S. H. Schwartz"),
    "value_stats": ("value_stats.csv", "per sample and value: raw and centered mean and SD", "all",
                    "ESS and GSS microdata, aggregated", SAMPLE_CITE, SAMPLE_LICENSE),
    "value_correlations": ("value_correlations.csv", "10x10 Pearson correlations between value scores "
                           "(centered and raw), long format", "all", "ESS and GSS microdata, aggregated",
                           SAMPLE_CITE, SAMPLE_LICENSE),
    "item_stats": ("item_stats.csv", "per sample and ESS-21 item: n, mean, SD and the share of each "
                   "answer 1..6", "all", "ESS and GSS microdata, aggregated", SAMPLE_CITE, SAMPLE_LICENSE),
    "item_correlations": ("item_correlations.csv", "21x21 Pearson correlations between ESS-21 items "
                          "(missing answers mean-imputed, <1% of cells)", "all",
                          "ESS and GSS microdata, aggregated", SAMPLE_CITE, SAMPLE_LICENSE),
    "joint_item_correlations": ("joint_item_correlations.csv", "weighted pairwise Pearson r among the 21 "
                                "value items and the 14 ESS attitude/behaviour questions", "DE_ESS9",
                                "ESS round 9 microdata, aggregated", ESS9_CITE, ESS_LICENSE),
    "top_value_shares": ("top_value_shares.csv", "share of respondents whose single highest centered "
                         "value is X; TIED = no single dominant value", "all",
                         "ESS and GSS microdata, aggregated", SAMPLE_CITE, SAMPLE_LICENSE),
    "sample_sizes": ("sample_sizes.csv", "n scored and mean/SD of MRAT (a person's mean rating)", "all",
                     "ESS and GSS microdata, aggregated", SAMPLE_CITE, SAMPLE_LICENSE),
    "behavior_items": ("behavior_items.json", "ESS round 9 attitude and behaviour questions: wording, "
                       "answer codes, direction", "DE_ESS9", "ESS round 9 questionnaire and codebook",
                       "ESS documentation (questionnaires and codebooks)", "CC BY-SA 4.0"),
    "behavior_distributions": ("behavior_distributions.csv", "weighted share of each answer code of the "
                               "14 ESS questions", "DE_ESS9", "ESS round 9 microdata, aggregated",
                               ESS9_CITE, ESS_LICENSE),
    "value_behavior_correlations": ("value_behavior_correlations.csv", "weighted Pearson r between each "
                                    "centered value and each ESS question's native code", "DE_ESS9",
                                    "ESS round 9 microdata, aggregated", ESS9_CITE, ESS_LICENSE),
    "ess11_country_means": ("ess11_country_centered_means.csv", "ESS round 11 weighted centered value "
                            "means for 23 countries (no SDs)", "ESS11",
                            "third-party aggregate: GitHub Deckard2001/ertekvalasztas data/countries.js, "
                            "spot-checked against our recomputation (DE, SE within 0.1)",
                            "Adapted from ESS Round 11 (ESS ERIC 2023-24)", ESS_LICENSE),
    "persona_statements": ("persona_statements.jsonl", "1,600 yes/no statements, 40 persona dimensions "
                           "(20 'Yes' and 20 'No' matching statements each)", "-",
                           "Anthropic model-written evaluations, persona/ (GitHub anthropics/evals)",
                           "Perez et al. 2023, Discovering Language Model Behaviors with Model-Written "
                           "Evaluations, Findings of ACL", "CC BY 4.0"),
}


def data_path(filename: str) -> Path:
    """Path of a file inside the installed `human_data` folder."""
    path = Path(str(resources.files("popsim.human_data").joinpath(filename)))
    if not path.exists():
        raise PopsimError(f"human data file {filename!r} is missing from {path.parent}; reinstall popsim")
    return path


def sample_names(data_dir=None) -> tuple[str, ...]:
    """The shipped samples, then the samples imported into the data folder."""
    return SAMPLES + tuple(userdata.imported_names(data_dir))


def check_sample(sample: str, allowed: tuple[str, ...] | None = None) -> str:
    """`sample` if it is one of `allowed` (default: shipped or imported), else an error naming the choices."""
    if allowed is None and sample in SAMPLES:
        return sample
    known = sample_names() if allowed is None else allowed
    if sample not in known:
        raise unknown("sample", sample, known, hint="Import your own with popsim data import." if allowed is None
                      else "")
    return sample


def sample_table(table: str, sample: str | None = None, *, data_dir=None) -> pd.DataFrame:
    """One per-sample table (`TABLE_COLUMNS`): the shipped file's rows of `sample` or the imported sample's
    table; all shipped rows when `sample` is None. A sample without such a table gives an empty frame."""
    if table not in TABLE_COLUMNS:
        raise unknown("table", table, TABLE_COLUMNS)
    cols = list(TABLE_COLUMNS[table])
    if sample is not None and sample not in SAMPLES:
        df = userdata.read_table(str(sample), table, data_dir)
        return df if len(df.columns) else pd.DataFrame(columns=cols)
    if table == "demographics":
        return pd.DataFrame(columns=cols)
    df = _csv(f"{table}.csv")
    if sample is None:
        return df.copy()
    return df[df["sample"] == sample].reset_index(drop=True)


def sample_instrument(sample: str) -> str:
    """The value instrument a sample's items belong to (the shipped samples: ess21)."""
    return "ess21" if sample in SAMPLES else userdata.read_provenance(check_sample(sample)).get("instrument", "ess21")


def sample_version(sample: str) -> str:
    """Changes whenever a sample's tables change (imported again): a cache key for what is built from them."""
    return "shipped" if sample in SAMPLES else str(userdata.read_provenance(check_sample(sample)).get("fingerprint"))


def list_datasets() -> pd.DataFrame:
    """One row per dataset: name, description, sample, n, file, source, citation, license."""
    sizes = _csv("sample_sizes.csv").set_index("sample")["n_scored"]
    rows = []
    for name, (file, desc, sample, source, cite, lic) in _INDEX.items():
        if sample == "all":
            n = ", ".join(f"{s}: {int(sizes[s])}" for s in SAMPLES)
        elif sample in sizes.index:
            n = str(int(sizes[sample]))
        elif name == "ess11_country_means":
            n = f"{int(_csv(file)['n'].sum())} (23 countries)"
        else:
            n = "-"
        rows.append(dict(name=name, description=desc, sample=sample, n=n, file=file,
                         source=source, citation=cite, license=lic))
    return pd.DataFrame(rows)


def load(name: str) -> pd.DataFrame:
    """Load a dataset by its `list_datasets()` name as a tidy DataFrame."""
    loaders = {
        "values": values, "instrument_items": instrument_items, "value_stats": value_stats,
        "value_correlations": value_correlations, "item_stats": item_stats,
        "item_correlations": item_correlations, "joint_item_correlations": joint_item_correlations,
        "top_value_shares": top_value_shares, "sample_sizes": sample_sizes,
        "behavior_items": behavior_items, "behavior_distributions": behavior_distributions,
        "value_behavior_correlations": value_behavior_correlations,
        "ess11_country_means": ess11_country_means, "persona_statements": persona_statements,
    }
    if name not in loaders:
        raise unknown("dataset", name, loaders, hint="popsim.datasets.list_datasets() describes each.")
    return loaders[name]()


@lru_cache(maxsize=None)
def _csv(filename: str) -> pd.DataFrame:
    return pd.read_csv(data_path(filename))


@lru_cache(maxsize=None)
def _json(filename: str):
    return json.loads(data_path(filename).read_text(encoding="utf-8"))


def _by_sample(table: str, sample: str | None) -> pd.DataFrame:
    if sample is not None:
        check_sample(sample)
    return sample_table(table, sample)


def values_json() -> dict:
    """The raw `values.json` document (definitions, orders, scales, scoring rule)."""
    return _json("values.json")


def values() -> pd.DataFrame:
    """Columns: code, name, definition, level (10 or 19), group (higher-order group or 10-value parent), order."""
    doc = values_json()
    rows = [dict(code=v["code"], name=v["name"], definition=v["definition"], level=10,
                 group=v["higher_order"], order=doc["circular_order_10"].index(v["code"]))
            for v in doc["values10"]]
    rows += [dict(code=v["code"], name=v["name"], definition=v["definition"], level=19,
                  group=v["parent10"], order=doc["circular_order_19"].index(v["code"]))
             for v in doc["values19"]]
    return pd.DataFrame(rows)


def instrument_items(instrument: str | None = None) -> pd.DataFrame:
    """Columns: instrument, number, item, value10, value19, text_male, text_female."""
    df = _csv("instrument_items.csv")
    if instrument is None:
        return df.copy()
    known = tuple(df["instrument"].unique())
    if instrument not in known:
        raise unknown("instrument", instrument, known)
    return df[df["instrument"] == instrument].reset_index(drop=True)


def value_stats(sample: str | None = None) -> pd.DataFrame:
    """Columns: sample, value, raw_mean, raw_sd, centered_mean, centered_sd."""
    return _by_sample("value_stats", sample)


def value_correlations(sample: str | None = None, scoring: str | None = None) -> pd.DataFrame:
    """Long format. Columns: sample, scoring ('centered' or 'raw'), value_a, value_b, r."""
    df = _by_sample("value_correlations", sample)
    if scoring is not None:
        if scoring not in ("centered", "raw"):
            raise unknown("scoring", scoring, ("centered", "raw"))
        df = df[df["scoring"] == scoring].reset_index(drop=True)
    return df


def value_correlation_matrix(sample: str, scoring: str = "centered") -> pd.DataFrame:
    """The 10x10 value correlation matrix of a sample, rows and columns in circular order."""
    order = list(values_json()["circular_order_10"])
    df = value_correlations(sample, scoring)
    m = df.pivot(index="value_a", columns="value_b", values="r")
    return m.loc[order, order]


def item_stats(sample: str | None = None) -> pd.DataFrame:
    """Columns: sample, item, value, n, mean, sd, p1..p6 (share of each answer, 6 = very much like me)."""
    return _by_sample("item_stats", sample)


def item_answer_shares(sample: str | None = None) -> pd.DataFrame:
    """Long format of the ESS-21 answer shares. Columns: sample, item, value, answer (1..6), share."""
    df = item_stats(sample)
    long = df.melt(id_vars=["sample", "item", "value"], value_vars=[f"p{i}" for i in range(1, 7)],
                   var_name="answer", value_name="share")
    long["answer"] = long["answer"].str[1:].astype(int)
    return long.sort_values(["sample", "item", "answer"], kind="stable").reset_index(drop=True)


def item_correlations(sample: str | None = None) -> pd.DataFrame:
    """Long format. Columns: sample, item_a, item_b, r."""
    return _by_sample("item_correlations", sample)


def item_correlation_matrix(sample: str) -> pd.DataFrame:
    df = item_correlations(sample)
    order = list(dict.fromkeys(df["item_a"]))
    return df.pivot(index="item_a", columns="item_b", values="r").loc[order, order]


def joint_item_correlations(sample: str | None = None) -> pd.DataFrame:
    """Long format: value items (6 = very much like me) and outcomes (own codes) of a sample whose tables hold
    outcomes (shipped: DE_ESS9 and its 14 ESS round 9 questions). Columns: sample, var_a, var_b, n, r."""
    return _by_sample("joint_item_correlations", sample)


def joint_correlation_matrix(sample: str = "DE_ESS9") -> pd.DataFrame:
    df = joint_item_correlations(sample)
    if df.empty:
        raise PopsimError(f"sample {sample} has no outcomes, so no joint item-outcome correlations; use "
                          "item_correlation_matrix, or import the sample with its outcome columns")
    order = list(dict.fromkeys(df["var_a"]))
    return df.pivot(index="var_a", columns="var_b", values="r").loc[order, order]


def top_value_shares(sample: str | None = None) -> pd.DataFrame:
    """Columns: sample, top_value (a value code or 'TIED'), share."""
    return _by_sample("top_value_shares", sample)


def sample_sizes(sample: str | None = None) -> pd.DataFrame:
    """Columns: sample, n_scored, mrat_mean, mrat_sd (all shipped samples, or one sample)."""
    return _by_sample("sample_sizes", sample)


def demographics(sample: str) -> pd.DataFrame:
    """Demographic marginals of an imported sample (empty for the shipped ones, which ship none).
    Columns: sample, variable (gender, age_band, education, country), level, n (unweighted), share (weighted)."""
    return _by_sample("demographics", sample)


def behavior_items() -> pd.DataFrame:
    """One row per ESS attitude/behaviour question.

    Columns: var, stem, question, options (dict code -> label, endpoints only for 0-10 scales),
    codes (all answer codes), low, high, scale_note, verified.
    """
    doc = _json("behavior_items.json")
    rows = []
    for it in doc["items"]:
        codes = sorted(int(c) for c in it["options"])
        lo, hi = codes[0], codes[-1]
        full = list(range(lo, hi + 1)) if len(codes) == 2 and hi - lo > 2 else codes
        rows.append(dict(var=it["var"], stem=it.get("stem"), question=it["question"],
                         options={int(k): v for k, v in it["options"].items()}, codes=full, low=lo, high=hi,
                         scale_note=it.get("scale_note", ""), verified=bool(it.get("wording_verified"))))
    return pd.DataFrame(rows)


def behavior_distributions(sample: str | None = None) -> pd.DataFrame:
    """Outcome answer shares. Columns: sample, item, code, share (weighted; shipped: DE_ESS9)."""
    return _by_sample("behavior_distributions", sample)


def value_behavior_correlations(sample: str | None = None) -> pd.DataFrame:
    """Columns: sample, item, value, n, r (centered value x outcome code, weighted; shipped: DE_ESS9)."""
    return _by_sample("value_behavior_correlations", sample)


def outcome_items(sample: str) -> list[str]:
    """The outcomes a sample's tables hold, in table order (DE_ESS9: the 14 ESS round 9 questions)."""
    return list(dict.fromkeys(behavior_distributions(sample)["item"]))


def ess11_country_means() -> pd.DataFrame:
    """Columns: cntry, n, SD..UN (ESS round 11 weighted centered means)."""
    return _csv("ess11_country_centered_means.csv").copy()


def persona_statements() -> pd.DataFrame:
    """Columns: dimension, statement, answer_matching_behavior ('Yes'/'No'), label_confidence."""
    with open(data_path("persona_statements.jsonl"), encoding="utf-8") as fh:
        return pd.DataFrame([json.loads(line) for line in fh if line.strip()])
