"""Synthetic respondents of a reference sample (`RespondentSampler`), and the names of populations.

No respondent-level data ships with popsim (ESS asks that microdata not be re-hosted), so a respondent
is drawn from a Gaussian copula (`copula.py`) fitted to a reference sample's aggregates. Centered value
scores are linear in the items, so the value correlation structure of the sample is reproduced too. For a
sample whose tables hold outcomes (`DE_ESS9`: the 14 ESS round 9 attitude/behaviour questions; an imported
sample: the ESS round 9 questions in its file and the columns named as outcomes) the copula is joint over
the value items and the outcomes (`joint_item_correlations`), so values and behaviour are drawn together.
The tables of shipped and imported samples are read by the same `datasets` loaders.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from .. import datasets
from ..errors import unknown
from ..instruments import load_instrument, score
from ..values import CODES10
from .copula import Marginal, _thresholds, calibrate_latent


def _copula(sample: str) -> tuple[tuple[str, ...], tuple[Marginal, ...], np.ndarray, np.ndarray, int]:
    """(variables, marginals, target Pearson matrix, calibrated latent matrix, number of value items) of a
    sample, shipped or imported: its value items, then its outcomes when its tables hold any."""
    return _copula_of(sample, datasets.sample_version(sample))


@lru_cache(maxsize=8)
def _copula_of(sample: str, version: str):
    item_stats = datasets.item_stats(sample).set_index("item")
    variables = list(load_instrument(datasets.sample_instrument(sample)).item_ids)
    n_items = len(variables)
    marg = [Marginal(np.arange(1, 7), item_stats.loc[v, [f"p{i}" for i in range(1, 7)]].to_numpy(float))
            for v in variables]
    outcomes = datasets.outcome_items(sample)
    if outcomes:
        dist = datasets.behavior_distributions(sample)
        for v in outcomes:
            d = dist[dist["item"] == v].sort_values("code")
            variables.append(v)
            marg.append(Marginal(d["code"].to_numpy(int), d["share"].to_numpy(float)))
        corr = datasets.joint_correlation_matrix(sample)
    else:
        corr = datasets.item_correlation_matrix(sample)
    target = corr.loc[variables, variables].to_numpy(float)
    latent = calibrate_latent(target, [(m.points, m.shares) for m in marg])
    return tuple(variables), tuple(marg), target, latent, n_items


class RespondentSampler:
    """Draws synthetic respondents of a reference sample (`SE_ESS1-8`, `DE_ESS9`, `US_GSS2012`, an imported one), or of
    an ESS round 11 country (`ESS11:FR`, `ESS11:FR@SE_ESS1-8`): the country's centered value means with
    the correlation and SD structure of a reference sample (default DE_ESS9).

    `variables` are the sample's value items (`value_items`: answers 1..6, 6 = very much like me; the 21
    ESS items for the shipped samples) and its outcomes (`behavior_items`: for `DE_ESS9` the 14 ESS round 9
    attitude/behaviour questions, native ESS codes; for an imported sample its outcomes). For a country, each value
    item's latent normal is shifted so that its expected answer moves by the difference between the
    country's centered mean of that value and the structure sample's (`shift`); the structure
    sample's behaviour questions are left out (the country's are not in the reference pack).
    """

    def __init__(self, sample: str = "DE_ESS9"):
        self.name = sample
        self.kind, self.sample, self.country = parse_population(sample)
        variables, self.marginals, self.target, self.latent, n_items = _copula(self.sample)
        self.variables = list(variables)
        self.value_items = self.variables[:n_items]
        self.behavior_items = self.variables[n_items:]
        self._cuts = [_thresholds(m.shares) for m in self.marginals]
        self.shift: dict[str, float] = {}
        self._mu = np.zeros(len(self.variables))
        if self.country:
            k = len(self.value_items)
            self.variables, self.behavior_items = self.value_items, []
            self.marginals, self._cuts = self.marginals[:k], self._cuts[:k]
            self.target, self.latent = self.target[:k, :k], self.latent[:k, :k]
            self.shift = country_shift(self.country, self.sample)
            self._mu = _latent_means(self.value_items, self.marginals, self.shift,
                                     datasets.sample_instrument(self.sample))
        self._chol = np.linalg.cholesky(self.latent)

    def draw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """n respondents x variables (integer answers)."""
        z = rng.standard_normal((n, len(self.variables))) @ self._chol.T + self._mu
        cols = {}
        for j, v in enumerate(self.variables):
            cols[v] = self.marginals[j].points[np.searchsorted(self._cuts[j], z[:, j])]
        return pd.DataFrame(cols)


def parse_population(name: str) -> tuple[str, str, str | None]:
    """'DE_ESS9' -> ('sample', 'DE_ESS9', None); 'ESS11:FR' -> ('country', 'DE_ESS9', 'FR');
    'ESS11:FR@SE_ESS1-8' -> ('country', 'SE_ESS1-8', 'FR')."""
    name = str(name)
    if name.upper().startswith("ESS11:"):
        rest = name.split(":", 1)[1]
        country, _, structure = rest.partition("@")
        countries = tuple(datasets.ess11_country_means()["cntry"])
        if country.upper() not in countries:
            raise unknown("ESS round 11 country", country, countries, hint="Write e.g. ESS11:FR or ESS11:FR@SE_ESS1-8.")
        return "country", datasets.check_sample(structure or "DE_ESS9"), country.upper()
    known = datasets.sample_names()
    if name not in known:
        raise unknown("population", name, known + ("ESS11:<country>",),
                      hint="Import your own survey with popsim data import.")
    return "sample", name, None


COUNTRY_NAMES = {"AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia", "FI": "Finland",
                 "FR": "France", "GR": "Greece", "NL": "the Netherlands", "HR": "Croatia", "PL": "Poland",
                 "LV": "Latvia", "LT": "Lithuania", "HU": "Hungary", "DE": "Germany", "IT": "Italy", "PT": "Portugal",
                 "ES": "Spain", "SE": "Sweden", "SK": "Slovakia", "SI": "Slovenia", "EE": "Estonia", "IE": "Ireland"}
OTHER_COUNTRY_NAMES = {"US": "the United States", "GB": "the United Kingdom", "CH": "Switzerland", "NO": "Norway",
                       "DK": "Denmark", "IS": "Iceland", "IL": "Israel", "LU": "Luxembourg", "RS": "Serbia",
                       "ME": "Montenegro", "MK": "North Macedonia", "AL": "Albania", "UA": "Ukraine", "RU": "Russia",
                       "TR": "Turkey", "XK": "Kosovo"}
SAMPLE_COUNTRIES = {"DE_ESS9": "Germany", "SE_ESS1-8": "Sweden", "US_GSS2012": "the United States"}


def country_label(code: str) -> str:
    """A country's name from its ISO code as surveys write it ('FR' -> 'France'); the code itself if unknown."""
    code = str(code).strip()
    return COUNTRY_NAMES.get(code.upper()) or OTHER_COUNTRY_NAMES.get(code.upper()) or code


def country_name(population: str) -> str:
    """The country a population's questions refer to ('[country]' in ESS wording): an ESS11 country's, a
    shipped sample's, an imported sample's when all its respondents live in one country."""
    kind, sample, country = parse_population(population)
    if country:
        return COUNTRY_NAMES.get(country, "your country")
    if sample in SAMPLE_COUNTRIES:
        return SAMPLE_COUNTRIES[sample]
    demo = datasets.demographics(sample)
    levels = demo.loc[demo["variable"] == "country", "level"].astype(str).str.upper().tolist()
    return country_label(levels[0]) if len(levels) == 1 else "your country"


def country_shift(country: str, structure: str) -> dict[str, float]:
    """Per value: the country's ESS11 centered mean minus the structure sample's centered mean."""
    cm = datasets.ess11_country_means().set_index("cntry").loc[country]
    base = datasets.value_stats(structure).set_index("value")["centered_mean"]
    return {c: float(cm[c] - base[c]) for c in CODES10}


def _latent_means(items: list[str], marginals, shift: dict[str, float], instrument: str = "ess21") -> np.ndarray:
    """Latent mean of each item so that its expected answer moves by its value's shift (items of no basic
    value, PVQ-RR's Face, stay)."""
    key = {it: v for v, ids in load_instrument(instrument).key().items() for it in ids}
    mu = np.zeros(len(items))
    for j, it in enumerate(items):
        m = marginals[j]
        tau = _thresholds(m.shares)
        goal = float(m.points @ (m.shares / m.shares.sum())) + shift.get(key.get(it), 0.0)
        lo, hi = -3.0, 3.0
        for _ in range(50):
            mid = (lo + hi) / 2
            cdf = np.concatenate([[0.0], stats.norm.cdf(tau - mid), [1.0]])
            if float(m.points @ np.diff(cdf)) < goal:
                lo = mid
            else:
                hi = mid
        mu[j] = (lo + hi) / 2
    return mu


def centered_profiles(answers: pd.DataFrame, instrument: str | None = None) -> pd.DataFrame:
    """Centered 10-value scores of value item answers (rows = respondents); the instrument is the first of
    ess21, pvq40, pvq_rr whose items the columns hold, unless given."""
    if instrument is None:
        cols = set(answers.columns)
        instrument = next((n for n in ("ess21", "pvq40", "pvq_rr") if set(load_instrument(n).item_ids) <= cols), "ess21")
    return score(answers, instrument).centered
