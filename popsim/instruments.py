"""Instruments (ESS-21, PVQ-40, PVQ-RR, the ESS round 9 attitude questions) and value scoring.

Scoring follows Schwartz's instructions (Coding & Analysis Instructions PVQ-RR, 2021):
value score = mean of the value's items; MRAT = the person's mean over all items of the
instrument; centered value = value score - MRAT. PVQ-RR is scored to the 19 refined values and to
the 10 basic values (the 10-value key of `instrument_items.csv`; Face has no 10-value parent but
counts in MRAT).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from . import datasets
from .errors import PopsimError, unknown
from .values import CODES10, CODES19

PVQ_LICENSE = ("PVQ-40 and PVQ-RR: free for academic research; commercial use needs a license from "
               "S. H. Schwartz.")


@dataclass(frozen=True, slots=True)
class Scale:
    """Answer scale: the scale points (codes) and the labels of the labelled points."""

    points: tuple[int, ...]
    labels: tuple[tuple[int, str], ...]
    #: the numbers are amounts (tokens, euros): always shown ascending, whatever the option order
    quantity: bool = False
    #: the answers are the label words themselves ("Yes"/"No"), not numbers
    words: bool = False

    @property
    def fully_labelled(self) -> bool:
        return len(self.labels) == len(self.points)

    def label(self, point: int) -> str | None:
        return dict(self.labels).get(point)


@dataclass(frozen=True, slots=True)
class Item:
    """One question. `text_male`/`text_female` are the gendered wordings (identical where none)."""

    id: str
    number: int
    text_male: str
    text_female: str
    scale: Scale
    value10: str | None = None
    value19: str | None = None
    stem: str | None = None

    def text(self, gender: str = "male") -> str:
        return self.text_female if gender == "female" else self.text_male


@dataclass(frozen=True, slots=True)
class Instrument:
    name: str
    title: str
    instruction: str
    question: str
    items: tuple[Item, ...]
    kind: str  # "values" (PVQ-type portraits) or "attitudes" (own question per item)
    license: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(it.id for it in self.items)

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise unknown("item", item_id, self.item_ids)

    def key(self, level: int = 10) -> dict[str, list[str]]:
        """value code -> item ids (level 10 or 19)."""
        codes = CODES10 if level == 10 else CODES19
        attr = "value10" if level == 10 else "value19"
        key = {c: [it.id for it in self.items if getattr(it, attr) == c] for c in codes}
        return {c: ids for c, ids in key.items() if ids}


INSTRUMENTS: tuple[str, ...] = ("ess21", "pvq40", "pvq_rr", "ess_attitudes")

_PVQ_QUESTION = "How much is this person like you?"


@lru_cache(maxsize=None)
def load_instrument(name: str) -> Instrument:
    """`ess21`, `pvq40`, `pvq_rr` or `ess_attitudes`."""
    if name not in INSTRUMENTS:
        raise unknown("instrument", name, INSTRUMENTS)
    if name == "ess_attitudes":
        return _attitudes()
    doc = datasets.values_json()["scales"]
    scale_doc = doc.get(name, {})
    if name == "ess21":
        # the pack stores the survey card (1 = very much like me); popsim scores 6 = very much like me
        card = scale_doc["options_survey_codes"]
        labels = tuple((7 - int(k), v) for k, v in card.items())
        labels = tuple(sorted(labels))
        instruction = scale_doc["instruction"].replace("listen to", "read")
        title = "ESS Human Values Scale (21 items)"
    else:
        labels = tuple(sorted((int(k), v) for k, v in scale_doc["options"].items()))
        instruction = scale_doc.get("instruction", doc["pvq_rr"]["instruction"])
        title = {"pvq40": "Portrait Values Questionnaire (PVQ-40)",
                 "pvq_rr": "Portrait Values Questionnaire, revised (PVQ-RR, 57 items)"}[name]
    scale = Scale(points=tuple(p for p, _ in labels), labels=labels)
    rows = datasets.instrument_items(name)
    items = tuple(
        Item(id=r.item, number=int(r.number), text_male=r.text_male, text_female=r.text_female, scale=scale,
             value10=r.value10 if isinstance(r.value10, str) else None,
             value19=r.value19 if isinstance(r.value19, str) else None)
        for r in rows.itertuples()
    )
    return Instrument(name=name, title=title, instruction=instruction, question=_PVQ_QUESTION, items=items,
                      kind="values", license="" if name == "ess21" else PVQ_LICENSE)


def _attitudes() -> Instrument:
    items = []
    for i, r in enumerate(datasets.behavior_items().itertuples(), start=1):
        labels = tuple(sorted(r.options.items()))
        scale = Scale(points=tuple(r.codes), labels=labels)
        items.append(Item(id=r.var, number=i, text_male=r.question, text_female=r.question, scale=scale,
                          stem=r.stem if isinstance(r.stem, str) else None))
    return Instrument(name="ess_attitudes", title="ESS round 9 attitude and behaviour questions",
                      instruction="", question="", items=tuple(items), kind="attitudes",
                      license="ESS questionnaire wording, CC BY-SA 4.0")


# --------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Scores:
    """Value scores of respondents (rows), values (columns, circular order)."""

    raw: pd.DataFrame
    centered: pd.DataFrame
    mrat: pd.Series

    def to_long(self) -> pd.DataFrame:
        """Columns: respondent, value, raw, centered, mrat."""
        raw = self.raw.rename_axis("respondent").reset_index().melt(
            id_vars="respondent", var_name="value", value_name="raw")
        cen = self.centered.rename_axis("respondent").reset_index().melt(
            id_vars="respondent", var_name="value", value_name="centered")
        out = raw.merge(cen, on=["respondent", "value"])
        return out.merge(self.mrat.rename("mrat").rename_axis("respondent").reset_index(), on="respondent")


def score(answers: pd.DataFrame, instrument: str | Instrument, *, level: int = 10,
          max_missing: int | None = None) -> Scores:
    """Score a wide answer table (rows = respondents, columns = item ids, values on the 1..6 scale).

    Missing answers (NaN) are skipped in the means; a respondent with more than `max_missing` missing
    items (default: the ESS rule, 5 of 21, scaled to the instrument's length) gets NaN scores.
    """
    inst = load_instrument(instrument) if isinstance(instrument, str) else instrument
    if inst.kind != "values":
        raise PopsimError(f"instrument {inst.name!r} has no value key; score ess21, pvq40 or pvq_rr")
    if level not in (10, 19):
        raise PopsimError(f"level must be 10 or 19, got {level!r}")
    key = inst.key(level)
    if not key:
        raise PopsimError(f"instrument {inst.name!r} has no {level}-value key; use level=10")
    missing_cols = [i for i in inst.item_ids if i not in answers.columns]
    if missing_cols:
        raise PopsimError(f"answer table lacks items {', '.join(missing_cols[:5])}"
                          f"{' ...' if len(missing_cols) > 5 else ''} of {inst.name}; give one column per item")
    x = answers[list(inst.item_ids)].apply(pd.to_numeric, errors="coerce").astype(float)
    lo, hi = inst.items[0].scale.points[0], inst.items[0].scale.points[-1]
    bad = ((x < lo) | (x > hi)).to_numpy()
    if bad.any():
        raise PopsimError(f"answers outside the {lo}..{hi} scale of {inst.name}; recode them or set them missing")
    if max_missing is None:
        max_missing = int(np.floor(5 * len(inst.items) / 21))
    mrat = x.mean(axis=1, skipna=True)
    raw = pd.DataFrame({c: x[ids].mean(axis=1, skipna=True) for c, ids in key.items()}, index=x.index)
    too_many = x.isna().sum(axis=1) > max_missing
    raw.loc[too_many, :] = np.nan
    mrat[too_many] = np.nan
    centered = raw.sub(mrat, axis=0)
    return Scores(raw=raw, centered=centered, mrat=mrat)
