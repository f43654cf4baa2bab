"""Test-made survey microdata in the ESS layout (no real microdata may be shipped or fetched: ESS terms).

`ess_frame(n, seed=...)` draws n respondents from a shipped sample's copula (default DE_ESS9: the 21 value
items and the 14 ESS round 9 questions jointly) and writes them as an ESS file would hold them: value items
in ESS coding (1 = very much like me ... 6 = not like me at all), ESS missing codes (7/8/9 on short scales,
77/88/99 on longer ones), a few respondents with too many items missing, weights, demographics, country.
`write(frame, path)` writes .csv, .dta (pandas) or .sav (pyreadstat) with ESS value labels; in .sav the
missing codes are declared user-missing, as the ESS's SPSS files do.

Optional informative selection (`select_un=True`): respondents who rate `ipeqopt` (a universalism item) 5 or
6 are kept with probability 0.4, and `pspwght` carries the inverse, so only the weighted tables reproduce
the population (the unweighted ones over-represent low universalism).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from popsim import datasets
from popsim.population import RespondentSampler
from popsim.samples.layouts import ESS_ITEMS, GSS_ITEMS  # noqa: F401 (for the tests)

ITEM_LABELS = {1: "Very much like me", 2: "Like me", 3: "Somewhat like me", 4: "A little like me", 5: "Not like me",
               6: "Not like me at all", 7: "Refusal", 8: "Don't know", 9: "No answer"}
NO_ANSWER = {7: "Refusal", 8: "Don't know", 9: "No answer"}
NO_ANSWER_2 = {77: "Refusal", 88: "Don't know", 99: "No answer"}
SELECT_KEEP = 0.4  # probability of keeping a respondent with ipeqopt >= 5 under select_un


def missing_codes(var: str) -> tuple[int, ...]:
    """ESS no-answer codes of an attitude question: 7/8/9 when its codes stay below 6, else 77/88/99."""
    codes = datasets.behavior_items().set_index("var").loc[var, "codes"]
    return (7, 8, 9) if max(codes) < 6 else (77, 88, 99)


def ess_frame(n: int, *, seed: int = 0, sample: str = "DE_ESS9", missing_rate: float = 0.01,
              dropped_share: float = 0.02, select_un: bool = False, country: str = "DE") -> pd.DataFrame:
    """n rows (before selection) in the ESS layout, drawn from `sample`'s copula."""
    rng = np.random.default_rng(seed)
    draw = RespondentSampler(sample).draw(n, rng)
    keep = np.ones(n, bool)
    design = np.ones(n)
    if select_un:
        high = draw["ipeqopt"].to_numpy() >= 5
        keep = ~high | (rng.random(n) < SELECT_KEEP)
        design = np.where(high, 1 / SELECT_KEEP, 1.0)
    draw, design = draw[keep].reset_index(drop=True), design[keep]
    m = len(draw)
    out = pd.DataFrame({"idno": np.arange(1, m + 1), "cntry": country})
    for it in ESS_ITEMS:
        x = 7 - draw[it].to_numpy()  # ESS coding: 1 = very much like me
        gone = rng.random(m) < missing_rate
        x = np.where(gone, rng.choice([7, 8, 9], m), x)
        out[it] = x
    dropped = rng.random(m) < dropped_share  # 6 to 10 items missing: these respondents must be dropped
    for i in np.flatnonzero(dropped):
        cols = rng.choice(ESS_ITEMS, rng.integers(6, 11), replace=False)
        out.loc[i, list(cols)] = rng.choice([7, 8, 9], len(cols))
    for var in datasets.behavior_items()["var"]:
        if var in draw:
            y = draw[var].to_numpy()
            gone = rng.random(m) < missing_rate
            out[var] = np.where(gone, rng.choice(missing_codes(var), m), y)
    noise = rng.lognormal(0.0, 0.3, m)
    w = design * noise
    out["pspwght"] = w / w.mean()
    out["dweight"] = 1.0
    out["anweight"] = out["pspwght"] * 0.75  # pspwght x a country's constant population-size weight
    out["gndr"] = np.where(rng.random(m) < 0.01, 9, rng.integers(1, 3, m))
    out["agea"] = np.where(rng.random(m) < 0.01, 999, rng.integers(15, 91, m))
    out["eisced"] = np.where(rng.random(m) < 0.02, 55, rng.integers(1, 8, m))
    out["eduyrs"] = np.where(rng.random(m) < 0.01, 88, rng.integers(5, 22, m))
    return out


def labels(frame: pd.DataFrame) -> dict[str, dict[int, str]]:
    """ESS value labels of the columns of an `ess_frame`."""
    lab = {it: dict(ITEM_LABELS) for it in ESS_ITEMS if it in frame}
    beh = datasets.behavior_items().set_index("var")
    for var in beh.index:
        if var in frame:
            miss = NO_ANSWER if missing_codes(var) == (7, 8, 9) else NO_ANSWER_2
            lab[var] = {**{int(k): v for k, v in beh.loc[var, "options"].items()}, **miss}
    lab["gndr"] = {1: "Male", 2: "Female", 9: "No answer"}
    lab["eisced"] = {1: "ES-ISCED I , less than lower secondary", 7: "ES-ISCED V2, higher tertiary education, >= MA level",
                     55: "Other", 77: "Refusal", 88: "Don't know", 99: "No answer"}
    return {k: v for k, v in lab.items() if k in frame}


def write(frame: pd.DataFrame, path, *, value_labels: dict | None = None) -> Path:
    """Write `frame` as .csv, .dta or .sav (by the suffix), with ESS value labels in .dta and .sav."""
    path = Path(path)
    lab = labels(frame) if value_labels is None else value_labels
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".dta":
        ints = {c: frame[c].astype("int32") for c in lab}
        frame.assign(**ints).to_stata(path, write_index=False, version=118,
                                      value_labels={c: {int(k): v for k, v in m.items()} for c, m in lab.items()})
    elif path.suffix == ".sav":
        import pyreadstat

        miss = {c: [k for k, v in m.items() if v in ("Refusal", "Don't know", "No answer")] for c, m in lab.items()}
        pyreadstat.write_sav(frame, str(path), variable_value_labels={c: {float(k): v for k, v in m.items()}
                                                                      for c, m in lab.items()},
                             missing_ranges={c: v for c, v in miss.items() if v})
    else:
        raise ValueError(f"unknown suffix {path.suffix}")
    return path
