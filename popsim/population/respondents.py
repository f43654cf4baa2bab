"""Agents that are real respondents (strategy `respondents`): a weighted bootstrap of an imported sample.

Each agent is one respondent of the sample, drawn with probability proportional to the respondent's weight
(with replacement, seeded), and carries that person's demographics (gender, age, education, country where
the import has them), value profile (centered scores of the person's own answers, MRAT) and actual answers
(value items and outcomes; NaN where the person gave none), which `--policy reference` gives back. Its
prime, for the single-value prompt styles, is the person's single top centered value (none when tied), as
for `empirical`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ..instruments import load_instrument, score
from ..values import CODES10, dominant_values

DEMOGRAPHICS = ("age", "education", "country")


def draw_respondents(n: int, sample: str, rng: np.random.Generator, female_share: float = 0.5):
    """(agents, responses, record) of `n` agents drawn from `sample`'s respondents (see the module text)."""
    from ..samples import load_sample

    s = load_sample(sample)
    if not s.has_respondents:
        raise PopsimError(f"strategy respondents needs a sample with respondent-level data, and {sample} is a shipped "
                          "sample (aggregates only); import your survey (popsim data import FILE --name NAME) and "
                          "use --population NAME, or choose another --strategy")
    people = s.respondents()
    w = people["weight"].to_numpy(float)
    pick = rng.choice(len(people), size=n, replace=True, p=w / w.sum())
    chosen = people.iloc[pick].reset_index(drop=True)
    items = list(load_instrument(s.instrument).item_ids)
    scores = score(chosen[items], s.instrument)
    cen = scores.centered.reindex(columns=list(CODES10))
    filled = int(cen.isna().any(axis=1).sum())
    cen = cen.fillna(0.0)  # a value whose items a person all skipped: at the person's mean (recorded)
    top = dominant_values(cen.to_numpy())
    gender = chosen["gender"].astype(object).to_numpy() if "gender" in chosen else np.full(n, None, dtype=object)
    unknown = np.array([g not in ("male", "female") for g in gender])
    gender = np.where(unknown, np.where(rng.random(n) < female_share, "female", "male"), gender)
    agents = pd.DataFrame({"agent": np.arange(n), "gender": gender, "prime": top, "top": top,
                           "mrat": scores.mrat.to_numpy(float), "respondent": chosen["respondent"].to_numpy()})
    for d in DEMOGRAPHICS:
        agents[d] = chosen[d].to_numpy() if d in chosen else None
    for c in CODES10:
        agents[c] = cen[c].to_numpy(float)
    outcomes = [c for c in s.outcomes if c in chosen]
    responses = chosen[items + outcomes].copy()
    responses.insert(0, "agent", np.arange(n))
    record = {"strategy": "respondents", "sample": sample, "n": int(n), "respondents_available": int(len(people)),
              "distinct_respondents": int(chosen["respondent"].nunique()),
              "weights": (s.provenance.get("weights") or {}).get("column"),
              "note": "weighted bootstrap of the imported respondents: each agent is a real person (demographics, "
                      "value profile, actual answers)",
              "gender_unknown_drawn": int(unknown.sum()), "values_at_person_mean": filled,
              "demographics": [d for d in ("gender",) + DEMOGRAPHICS if d in s.demographics]}
    return agents, responses, record
