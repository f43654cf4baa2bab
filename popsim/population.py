"""Population samplers: synthetic human respondents and the dominant-value strategies of the paper.

**Synthetic respondents** (`RespondentSampler`). No respondent-level data ships with popsim (ESS
asks that microdata not be re-hosted), so a respondent is drawn from a Gaussian copula fitted to a
reference sample's aggregates: each item's answer shares are its marginal (thresholds on a latent
normal), and the latent correlations are calibrated pair by pair (Hermite series of the bivariate
normal, `ordinal_correlation`) so that the *observed* Pearson correlations of the drawn answers equal
the sample's. Centered value scores are linear in the items, so the value correlation structure of
the sample is reproduced too. For `DE_ESS9` the copula is joint over the 21 value items and the 14
ESS attitude/behaviour questions (`joint_item_correlations.csv`), so a respondent's values and
behaviour are drawn together.

**Strategies** (see `docs/populations.md` for the exact definitions):
`empirical` (respondents as drawn; the prime is the single top centered value, none when tied),
`uniform`, `h_norm`, `h_even`, `h_np` (dominant-value shares), `model_specific`, `custom`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from . import datasets
from .errors import PopsimError, unknown
from .instruments import load_instrument, score
from .values import CODES10, check_value, dominant_values

STRATEGIES: tuple[str, ...] = ("empirical", "uniform", "h_norm", "h_even", "h_np", "model_specific", "custom",
                                "panel")
DOMINANT_STRATEGIES: tuple[str, ...] = ("uniform", "h_norm", "h_even", "h_np", "model_specific", "panel")
#: the share without a single dominant value reported by Witte, Stanciu & Boehnke (2020), as cited by
#: the paper (profiles matched to ideal value types: not the statistic of the reference pack)
WITTE_NO_DOMINANT = 0.53


# ----------------------------------------------------------------------------- copula calibration


def _thresholds(shares: np.ndarray) -> np.ndarray:
    cum = np.cumsum(np.asarray(shares, float) / np.sum(shares))[:-1]
    return stats.norm.ppf(np.clip(cum, 1e-12, 1 - 1e-12))


def _hermite_coefficients(points: np.ndarray, shares: np.ndarray, n_terms: int) -> tuple[np.ndarray, float]:
    """alpha_n (n = 1..n_terms) of X = step(Z) in the normalised Hermite basis, and SD(X)."""
    p = np.asarray(shares, float) / np.sum(shares)
    x = np.asarray(points, float)
    sd = float(np.sqrt(p @ x**2 - (p @ x) ** 2))
    tau = _thresholds(p)
    dx = np.diff(x)
    phi = stats.norm.pdf(tau)
    # normalised probabilists' Hermite h_m = He_m / sqrt(m!)
    h_prev, h = np.zeros_like(tau), np.ones_like(tau)
    alpha = np.empty(n_terms)
    for n in range(1, n_terms + 1):
        m = n - 1  # alpha_n = sum_k dx_k h_{n-1}(tau_k) phi(tau_k) / sqrt(n)
        alpha[n - 1] = np.sum(dx * h * phi) / np.sqrt(n)
        h_prev, h = h, (tau * h - np.sqrt(m) * h_prev) / np.sqrt(m + 1)
    return alpha, sd


def ordinal_correlation(rho: np.ndarray, alpha_a: np.ndarray, alpha_b: np.ndarray, sd_a, sd_b) -> np.ndarray:
    """Pearson r of two ordinal variables cut from a bivariate normal with correlation rho (exact series)."""
    n = np.arange(1, alpha_a.shape[-1] + 1)
    powers = np.asarray(rho)[..., None] ** n
    return np.sum(powers * alpha_a * alpha_b, axis=-1) / (sd_a * sd_b)


def calibrate_latent(target: np.ndarray, marginals: list[tuple[np.ndarray, np.ndarray]],
                     n_terms: int = 80) -> np.ndarray:
    """Latent correlation matrix whose discretised Pearson correlations equal `target`."""
    k = len(marginals)
    coefs = [_hermite_coefficients(pts, sh, n_terms) for pts, sh in marginals]
    A = np.stack([c[0] for c in coefs])
    sd = np.array([c[1] for c in coefs])
    iu = np.triu_indices(k, 1)
    aa, ab = A[iu[0]], A[iu[1]]
    sa, sb = sd[iu[0]], sd[iu[1]]
    goal = target[iu]
    lo, hi = np.full(goal.shape, -0.999), np.full(goal.shape, 0.999)
    for _ in range(60):  # bisection: r(rho) is increasing in rho
        mid = (lo + hi) / 2
        r = ordinal_correlation(mid, aa, ab, sa, sb)
        below = r < goal
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    R = np.eye(k)
    R[iu] = (lo + hi) / 2
    R[(iu[1], iu[0])] = R[iu]
    return nearest_correlation(R)


def nearest_correlation(R: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Clip negative eigenvalues and rescale to unit diagonal (positive definite)."""
    w, V = np.linalg.eigh((R + R.T) / 2)
    if w.min() >= eps:
        return R
    C = (V * np.maximum(w, eps)) @ V.T
    d = np.sqrt(np.diag(C))
    return C / np.outer(d, d)


# ----------------------------------------------------------------------------- respondents


@dataclass(frozen=True)
class Marginal:
    points: np.ndarray
    shares: np.ndarray


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


# ----------------------------------------------------------------------------- strategies


def check_strategy(name: str) -> str:
    if name not in STRATEGIES:
        raise unknown("strategy", name, STRATEGIES)
    return name


@lru_cache(maxsize=32)
def human_top_shares(sample: str) -> tuple[dict[str, float], float]:
    """(share of each value as the single top value, share tied) of a reference sample; for an
    ESS11 country, estimated from 40,000 synthetic respondents of its shifted copula (seeded)."""
    kind, base, country = parse_population(sample)
    if kind == "sample":
        df = datasets.top_value_shares(sample).set_index("top_value")["share"]
        return {c: float(df[c]) for c in CODES10}, float(df["TIED"])
    s = RespondentSampler(sample)
    top = dominant_values(centered_profiles(s.draw(40_000, np.random.default_rng(0))).to_numpy())
    return {c: float(np.mean(top == c)) for c in CODES10}, float(np.mean(top == ""))


def strategy_weights(strategy: str, sample: str = "DE_ESS9", *, no_dominant_share: float | None = None,
                     accuracy: dict[str, float] | None = None) -> dict[str | None, float]:
    """Share of agents primed with each value (key None = unprimed, no single dominant value).

    - uniform: 1/10 each, nobody unprimed;
    - h_norm: the human top-value shares renormalised over the 10 values (tied respondents dropped);
    - h_even: the human top-value shares with the tied share spread evenly over the 10 values;
    - h_np: the human top-value shares, and the no-dominant share unprimed ("no prime"); by default
      the sample's tied share, else `no_dominant_share` (e.g. 0.53, Witte et al. 2020) with the 10
      value shares rescaled to fill the rest;
    - model_specific: human shares x the model's accuracy of expressing each value (share of agents
      primed with v whose measured top value is v, from a previous run), renormalised;
    - panel: each of the 10 values and unprimed equally often (1/11 each): a balanced design for
      induction tests (`popsim replicate` RQ1), not a population model.
    """
    check_strategy(strategy)
    top, tied = human_top_shares(sample)
    total = sum(top.values())
    if strategy == "uniform":
        w = {c: 1 / 10 for c in CODES10}
    elif strategy == "h_norm":
        w = {c: s / total for c, s in top.items()}
    elif strategy == "h_even":
        w = {c: s + tied / 10 for c, s in top.items()}
    elif strategy == "h_np":
        p0 = tied if no_dominant_share is None else float(no_dominant_share)
        if not 0 <= p0 < 1:
            raise PopsimError(f"no-dominant share must be in [0, 1), got {p0}")
        w = {c: (1 - p0) * s / total for c, s in top.items()}
        w[None] = p0
    elif strategy == "panel":
        w = {c: 1 / 11 for c in CODES10}
        w[None] = 1 / 11
    elif strategy == "model_specific":
        if not accuracy:
            raise PopsimError("model_specific needs the model's accuracy per value: pass --accuracy-from RUN "
                              "(a previous run folder with a manipulation check)")
        bad = [c for c in accuracy if c not in CODES10]
        if bad:
            raise unknown("value code", bad[0], CODES10)
        raw = {c: top[c] * max(0.0, float(accuracy.get(c, 0.0))) for c in CODES10}
        z = sum(raw.values())
        if z <= 0:
            raise PopsimError("the model expressed no value above chance in that run; model_specific "
                              "weights are undefined (use h_norm)")
        w = {c: v / z for c, v in raw.items()}
    else:
        raise PopsimError(f"strategy {strategy!r} has no dominant-value weights")
    return w


def allocate(weights: dict, n: int, rng: np.random.Generator) -> list:
    """Exactly n labels in proportion to `weights` (largest remainder), in random order."""
    keys = list(weights)
    w = np.array([weights[k] for k in keys], float)
    w = w / w.sum()
    base = np.floor(w * n).astype(int)
    rem = n - base.sum()
    if rem:
        frac = w * n - base
        # ties broken at random so no value is systematically favoured
        order = np.lexsort((rng.random(len(keys)), -frac))
        base[order[:rem]] += 1
    labels = [k for k, c in zip(keys, base) for _ in range(c)]
    return [labels[i] for i in rng.permutation(len(labels))]


@dataclass
class Population:
    """A drawn population. `agents` has one row per agent: agent, gender, prime (value code or ''),
    top (single top centered value or ''), mrat and the 10 centered values; `responses` holds the
    synthetic respondent's answers (agent x variable)."""

    agents: pd.DataFrame
    responses: pd.DataFrame
    record: dict


def draw_population(n: int, *, strategy: str = "empirical", sample: str = "DE_ESS9",
                    rng: np.random.Generator | int | None = None, no_dominant_share: float | None = None,
                    accuracy: dict[str, float] | None = None, profiles: pd.DataFrame | None = None,
                    female_share: float = 0.5) -> Population:
    """Draw `n` agents. Every agent gets a synthetic human twin from `sample` (for dominant-value
    strategies, a respondent whose single top centered value is the agent's prime, or a tied
    respondent for an unprimed agent), so every LLM population has a human-calibrated reference."""
    check_strategy(strategy)
    if not 0.0 <= float(female_share) <= 1.0:
        raise PopsimError(f"female share must be in [0, 1], got {female_share}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise PopsimError(f"number of agents must be a positive integer, got {n!r}")
    rng = np.random.default_rng(rng)
    sampler = RespondentSampler(sample)
    record: dict = {"strategy": strategy, "sample": sample, "n": int(n)}
    if sampler.country:
        record.update(country=sampler.country, structure_sample=sampler.sample,
                      shift={k: round(v, 4) for k, v in sampler.shift.items()},
                      note=(f"ESS round 11 centered means of {sampler.country} with the item marginals, correlations "
                            f"and SDs of {sampler.sample} (value items shifted on their latent scale)"))
    if strategy == "custom":
        return _custom(profiles, rng, sampler, female_share, record)
    if strategy == "empirical":
        resp = sampler.draw(n, rng)
        cen = centered_profiles(resp[sampler.value_items])
        top = dominant_values(cen.to_numpy())
        primes = list(top)
    else:
        weights = strategy_weights(strategy, sample, no_dominant_share=no_dominant_share, accuracy=accuracy)
        record["weights"] = {("none" if k is None else k): round(v, 6) for k, v in weights.items()}
        if strategy == "h_np":
            record["no_dominant_share"] = weights.get(None, 0.0)
            record["no_dominant_source"] = (
                "user-set" if no_dominant_share is not None
                else "estimated: tied-top share of 40,000 synthetic respondents" if sampler.country
                else "reference pack: share with a tied top value")
        primes = allocate(weights, n, rng)
        resp = _conditioned(sampler, primes, rng)
        cen = centered_profiles(resp[sampler.value_items])
        top = dominant_values(cen.to_numpy())
    gender = np.where(rng.random(n) < female_share, "female", "male")
    mrat = resp[sampler.value_items].mean(axis=1)
    agents = pd.DataFrame({"agent": np.arange(n), "gender": gender,
                           "prime": [p or "" for p in primes], "top": top, "mrat": mrat.to_numpy()})
    for c in CODES10:
        agents[c] = cen[c].to_numpy()
    resp = resp.copy()
    resp.insert(0, "agent", np.arange(n))
    return Population(agents=agents, responses=resp, record=record)


def _conditioned(sampler: RespondentSampler, primes: list, rng: np.random.Generator) -> pd.DataFrame:
    """For each prime, a respondent whose single top value is that prime ('' / None: a tied top)."""
    need: dict[str, list[int]] = {}
    for i, p in enumerate(primes):
        need.setdefault(p or "", []).append(i)
    found: dict[str, list[pd.DataFrame]] = {k: [] for k in need}
    have = dict.fromkeys(need, 0)
    draws = 0
    batch = 20000
    while any(have[k] < len(v) for k, v in need.items()):
        resp = sampler.draw(batch, rng)
        draws += batch
        top = dominant_values(centered_profiles(resp[sampler.value_items]).to_numpy())
        for k, idx in need.items():
            missing = len(idx) - have[k]
            if missing <= 0:
                continue
            rows = np.flatnonzero(top == k)[:missing]
            found[k].append(resp.iloc[rows])
            have[k] += len(rows)
        if draws > 5_000_000:
            short = [k for k, v in need.items() if have[k] < len(v)]
            raise PopsimError(f"could not draw respondents whose top value is {', '.join(short)} "
                              f"from {sampler.sample} (too rare); use fewer agents or another strategy")
    rows = pd.concat([part for k in need for part in found[k]], ignore_index=True)
    positions = np.array([i for idx in need.values() for i in idx])  # the agent each row goes to
    return rows.iloc[np.argsort(positions, kind="stable")].reset_index(drop=True).astype(int)


def _custom(profiles, rng, sampler, female_share, record) -> Population:
    prof = read_profiles(profiles)
    n = len(prof)
    cen = prof[list(CODES10)]
    top = dominant_values(cen.to_numpy())
    gender = prof["gender"].to_numpy() if "gender" in prof else np.where(rng.random(n) < female_share,
                                                                           "female", "male")
    prime = prof["prime"].fillna("").astype(str).to_numpy() if "prime" in prof else top
    for p in prime:
        if p:
            check_value(p)
    agents = pd.DataFrame({"agent": np.arange(n), "gender": gender, "prime": prime, "top": top,
                           "mrat": np.full(n, np.nan)})
    for c in CODES10:
        agents[c] = cen[c].to_numpy(float)
    record["source"] = "custom profiles"
    return Population(agents=agents, responses=pd.DataFrame({"agent": np.arange(n)}), record=record)


def _check_fields(path) -> None:
    """Every row has as many fields as the header (pandas would shift or drop extra fields silently)."""
    with open(path, encoding="utf-8", newline="") as fh:
        width = None
        for i, fields in enumerate(csv.reader(fh)):
            if width is None:
                width = len(fields)
            elif fields and len(fields) != width:
                raise PopsimError(f"profiles file {path}: row {i} has {len(fields)} fields, the header has {width}; "
                                  "give every row the same columns as the header")


def read_profiles(source) -> pd.DataFrame:
    """Validate custom profiles (a CSV path or a DataFrame): columns SD..UN (centered scores, each in
    [-5, 5]), optional `gender` (male/female) and `prime` (a value code or empty)."""
    from pathlib import Path

    if source is None:
        raise PopsimError("the custom strategy needs profiles: pass --profiles FILE.csv (columns SD..UN)")
    if isinstance(source, pd.DataFrame):
        df, name = source.copy(), "the profiles table"
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise PopsimError(f"profiles file {path} does not exist; pass a CSV with columns SD..UN")
        try:
            _check_fields(path)
            df = pd.read_csv(path, encoding="utf-8", index_col=False)
        except UnicodeDecodeError as exc:
            raise PopsimError(f"profiles file {path} is not UTF-8 text; save it as UTF-8 CSV") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise PopsimError(f"profiles file {path} is not a readable CSV ({exc}); fix the file") from exc
        except PopsimError:
            raise
        except (ValueError, csv.Error) as exc:  # e.g. NUL bytes
            raise PopsimError(f"profiles file {path} is not a readable CSV ({exc}); fix the file") from exc
    if len(df) == 0:
        raise PopsimError(f"{name} has no rows; give one row per agent")
    allowed = set(CODES10) | {"gender", "prime", "agent"}
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise PopsimError(f"{name} has unknown column {extra[0]!r}; allowed: {', '.join(CODES10)}, gender, prime "
                          "(value codes: SD ST HE AC PO SE CO TR BE UN)")
    missing = [c for c in CODES10 if c not in df.columns]
    if missing:
        raise PopsimError(f"{name} lacks columns {', '.join(missing)}; give all 10 centered values")
    for c in CODES10:
        vals = pd.to_numeric(df[c], errors="coerce")
        if vals.isna().any():
            row = int(np.flatnonzero(vals.isna().to_numpy())[0])
            raise PopsimError(f"{name}: column {c} row {row + 1} is missing or not a number ({df[c].iloc[row]!r})")
        if (vals.abs() > 5).any():
            row = int(np.flatnonzero((vals.abs() > 5).to_numpy())[0])
            raise PopsimError(f"{name}: column {c} row {row + 1} = {vals.iloc[row]} is out of range; centered "
                              "scores lie in [-5, 5] (value score minus the person's mean rating)")
        df[c] = vals.astype(float)
    if "gender" in df:
        bad = sorted(set(df["gender"].astype(str)) - {"male", "female"})
        if bad:
            raise PopsimError(f"{name}: gender {bad[0]!r} is not male or female")
    if "prime" in df:
        for row, p in enumerate(df["prime"].fillna("").astype(str), start=1):
            if p:
                try:
                    check_value(p)
                except PopsimError as exc:
                    raise PopsimError(f"{name}: column prime row {row}: {exc}") from None
    return df.reset_index(drop=True)
