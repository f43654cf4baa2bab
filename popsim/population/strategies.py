"""Population strategies: who the agents are (see `docs/populations.md` for the exact definitions).

`empirical` (respondents as drawn; the prime is the single top centered value, none when tied),
`uniform`, `h_norm`, `h_even`, `h_np` (dominant-value shares), `model_specific`, `custom`, `panel`, and
`respondents` (the real people of an imported sample, `respondents.py`). Every agent gets a human twin (a
synthetic one, or the real person), so every LLM population has a human-calibrated reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .. import datasets
from ..errors import PopsimError, unknown
from ..values import CODES10, check_value, dominant_values
from .profiles import read_profiles
from .respondents import draw_respondents
from .sampler import RespondentSampler, centered_profiles, parse_population
from .realised import transform_record
from .transforms import check_honoured, parse_transforms, transformed_sampler

STRATEGIES: tuple[str, ...] = ("empirical", "uniform", "h_norm", "h_even", "h_np", "model_specific", "custom",
                                "panel", "respondents")
DOMINANT_STRATEGIES: tuple[str, ...] = ("uniform", "h_norm", "h_even", "h_np", "model_specific", "panel")
#: the share without a single dominant value reported by Witte, Stanciu & Boehnke (2020), as cited by
#: the paper (profiles matched to ideal value types: not the statistic of the reference pack)
WITTE_NO_DOMINANT = 0.53



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
    return drawn_top_shares(RespondentSampler(sample))


def drawn_top_shares(sampler) -> tuple[dict[str, float], float]:
    """(top-value shares, tied share) of 40,000 synthetic respondents of a sampler (seeded)."""
    top = dominant_values(centered_profiles(sampler.draw(40_000, np.random.default_rng(0))[sampler.value_items])
                          .to_numpy())
    return {c: float(np.mean(top == c)) for c in CODES10}, float(np.mean(top == ""))


def strategy_weights(strategy: str, sample: str = "DE_ESS9", *, no_dominant_share: float | None = None,
                     accuracy: dict[str, float] | None = None,
                     top_shares: tuple[dict[str, float], float] | None = None) -> dict[str | None, float]:
    """Share of agents primed with each value (key None = unprimed, no single dominant value).

    - uniform: 1/10 each, nobody unprimed;
    - h_norm: the human top-value shares renormalised over the 10 values (tied respondents dropped);
    - h_even: the human top-value shares with the tied share spread evenly over the 10 values;
    - h_np: the human top-value shares, and the no-dominant share unprimed ("no prime"); by default
      the sample's tied share, else `no_dominant_share` (e.g. 0.53, Witte et al. 2020) with the 10
      value shares rescaled to fill the rest;
    - model_specific: human shares x the model's accuracy of expressing each value (share of agents
      primed with v whose measured top value is v, from a previous run), renormalised;

    `top_shares` replaces the sample's (e.g. those of a transformed distribution).
    - panel: each of the 10 values and unprimed equally often (1/11 each): a balanced design for
      induction tests (`popsim replicate` RQ1), not a population model.
    """
    check_strategy(strategy)
    top, tied = top_shares or human_top_shares(sample)
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
                    female_share: float = 0.5, transforms: dict | None = None) -> Population:
    """Draw `n` agents. Every agent gets a synthetic human twin from `sample` (for dominant-value
    strategies, a respondent whose single top centered value is the agent's prime, or a tied
    respondent for an unprimed agent), so every LLM population has a human-calibrated reference.
    `transforms` (`transforms.parse_transforms`) change the distribution the twins are drawn from."""
    check_strategy(strategy)
    if not 0.0 <= float(female_share) <= 1.0:
        raise PopsimError(f"female share must be in [0, 1], got {female_share}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise PopsimError(f"number of agents must be a positive integer, got {n!r}")
    rng = np.random.default_rng(rng)
    transforms = parse_transforms(transforms)
    if transforms:
        check_honoured(transforms, strategy=strategy, policy="reference")
    if strategy == "respondents":  # real people, not synthetic twins (an imported sample's respondents)
        if parse_population(sample)[0] == "country":
            raise PopsimError(f"strategy respondents draws real people of an imported sample, and {sample} is a "
                              "synthetic ESS11 country; use --population NAME of an imported sample")
        agents, responses, record = draw_respondents(int(n), sample, rng, female_share)
        return Population(agents=agents, responses=responses, record=record)
    sampler = transformed_sampler(sample, transforms)
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
        weights = strategy_weights(strategy, sample, no_dominant_share=no_dominant_share, accuracy=accuracy,
                                   top_shares=_top_shares(sampler) if transforms else None)
        record["weights"] = {("none" if k is None else k): round(v, 6) for k, v in weights.items()}
        if strategy == "h_np":
            record["no_dominant_share"] = weights.get(None, 0.0)
            record["no_dominant_source"] = (
                "user-set" if no_dominant_share is not None
                else "estimated: tied-top share of 40,000 synthetic respondents" if sampler.country or transforms
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
    if transforms:
        record["transform"] = transform_record(sampler, resp, sample)
    resp = resp.copy()
    resp.insert(0, "agent", np.arange(n))
    return Population(agents=agents, responses=resp, record=record)


def _top_shares(sampler) -> tuple[dict[str, float], float]:
    """Top-value shares of a transformed sampler, computed once per sampler."""
    if getattr(sampler, "_top_shares", None) is None:
        sampler._top_shares = drawn_top_shares(sampler)
    return sampler._top_shares


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
