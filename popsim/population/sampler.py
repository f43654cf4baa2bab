"""Synthetic respondents of a reference sample (`RespondentSampler`), and the names of populations.

No respondent-level data ships with popsim (ESS asks that microdata not be re-hosted), so a respondent
is drawn from a Gaussian copula (`copula.py`) fitted to a reference sample's aggregates. Centered value
scores are linear in the items, so the value correlation structure of the sample is reproduced too. For
`DE_ESS9` the copula is joint over the 21 value items and the 14 ESS attitude/behaviour questions
(`joint_item_correlations.csv`), so a respondent's values and behaviour are drawn together.
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


@lru_cache(maxsize=8)
def _copula(sample: str) -> tuple[tuple[str, ...], tuple[Marginal, ...], np.ndarray, np.ndarray]:
    """(variables, marginals, target Pearson matrix, calibrated latent matrix) of a reference sample."""
    item_stats = datasets.item_stats(sample).set_index("item")
    variables = list(load_instrument("ess21").item_ids)
    marg = [Marginal(np.arange(1, 7), item_stats.loc[v, [f"p{i}" for i in range(1, 7)]].to_numpy(float))
            for v in variables]
    if sample == "DE_ESS9":
        beh = datasets.behavior_distributions()
        for v in datasets.behavior_items()["var"]:
            d = beh[beh["item"] == v].sort_values("code")
            variables.append(v)
            marg.append(Marginal(d["code"].to_numpy(int), d["share"].to_numpy(float)))
        corr = datasets.joint_correlation_matrix()
    else:
        corr = datasets.item_correlation_matrix(sample)
    target = corr.loc[variables, variables].to_numpy(float)
    latent = calibrate_latent(target, [(m.points, m.shares) for m in marg])
    return tuple(variables), tuple(marg), target, latent


class RespondentSampler:
    """Draws synthetic respondents of a reference sample (`SE_ESS1-8`, `DE_ESS9`, `US_GSS2012`), or of
    an ESS round 11 country (`ESS11:FR`, `ESS11:FR@SE_ESS1-8`): the country's centered value means with
    the correlation and SD structure of a reference sample (default DE_ESS9).

    `variables` are the 21 ESS value items (answers 1..6, 6 = very much like me) and, for `DE_ESS9`,
    the 14 ESS round 9 attitude/behaviour questions (native ESS codes). For a country, each value
    item's latent normal is shifted so that its expected answer moves by the difference between the
    country's centered mean of that value and the structure sample's (`shift`); the structure
    sample's behaviour questions are left out (the country's are not in the reference pack).
    """

    def __init__(self, sample: str = "DE_ESS9"):
        self.name = sample
        self.kind, self.sample, self.country = parse_population(sample)
        variables, self.marginals, self.target, self.latent = _copula(self.sample)
        self.variables = list(variables)
        self.value_items = self.variables[:21]
        self.behavior_items = self.variables[21:]
        self._cuts = [_thresholds(m.shares) for m in self.marginals]
        self.shift: dict[str, float] = {}
        self._mu = np.zeros(len(self.variables))
        if self.country:
            k = len(self.value_items)
            self.variables, self.behavior_items = self.value_items, []
            self.marginals, self._cuts = self.marginals[:k], self._cuts[:k]
            self.target, self.latent = self.target[:k, :k], self.latent[:k, :k]
            self.shift = country_shift(self.country, self.sample)
            self._mu = _latent_means(self.value_items, self.marginals, self.shift)
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
    if name not in datasets.SAMPLES:
        raise unknown("population", name, datasets.SAMPLES + ("ESS11:<country>",))
    return "sample", name, None


COUNTRY_NAMES = {"AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia", "FI": "Finland",
                 "FR": "France", "GR": "Greece", "NL": "the Netherlands", "HR": "Croatia", "PL": "Poland",
                 "LV": "Latvia", "LT": "Lithuania", "HU": "Hungary", "DE": "Germany", "IT": "Italy", "PT": "Portugal",
                 "ES": "Spain", "SE": "Sweden", "SK": "Slovakia", "SI": "Slovenia", "EE": "Estonia", "IE": "Ireland"}
SAMPLE_COUNTRIES = {"DE_ESS9": "Germany", "SE_ESS1-8": "Sweden", "US_GSS2012": "the United States"}


def country_name(population: str) -> str:
    """The country a population's questions refer to ('[country]' in ESS wording)."""
    kind, sample, country = parse_population(population)
    return COUNTRY_NAMES.get(country, "your country") if country else SAMPLE_COUNTRIES.get(sample, "your country")


def country_shift(country: str, structure: str) -> dict[str, float]:
    """Per value: the country's ESS11 centered mean minus the structure sample's centered mean."""
    cm = datasets.ess11_country_means().set_index("cntry").loc[country]
    base = datasets.value_stats(structure).set_index("value")["centered_mean"]
    return {c: float(cm[c] - base[c]) for c in CODES10}


def _latent_means(items: list[str], marginals, shift: dict[str, float]) -> np.ndarray:
    """Latent mean of each item so that its expected answer moves by its value's shift."""
    key = {it: v for v, ids in load_instrument("ess21").key().items() for it in ids}
    mu = np.zeros(len(items))
    for j, it in enumerate(items):
        m = marginals[j]
        tau = _thresholds(m.shares)
        goal = float(m.points @ (m.shares / m.shares.sum())) + shift[key[it]]
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


def centered_profiles(answers: pd.DataFrame) -> pd.DataFrame:
    """Centered 10-value scores of ESS-21 answers (rows = respondents)."""
    return score(answers, "ess21").centered
