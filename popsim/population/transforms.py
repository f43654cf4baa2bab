"""Transforms of a value distribution, as plain data: `{"shift.UN": 0.5, "spread": 0.8, "coupling": 0.5}`.

One place validates them (`parse_transforms`) and one builds the transformed sampler
(`transformed_sampler`), whose synthetic respondents (the reference twins) are drawn from the transformed
joint latent Gaussian of the sample: value items and, where the sample has them, the ESS attitude
questions. The math is in `docs/populations.md` ("Transforms"). In order of application:

- `coupling = c` (0..1): latent correlations blended toward independence, R' = c R + (1 - c) I;
- `spread = s`, `spread.<VALUE> = s` (> 0, at most 3): each person's centered deviations scaled by s on the
  latent scale (her latent mean over the 21 value items kept), the factor calibrated so that the expected
  SD of each centered value is s times the untransformed one, and the answer means kept;
- `shift.<VALUE> = d` (-3..3): the value's expected centered mean rises by d human SDs and every other
  variable's expected answer moves by its regression on the shifted value(s) (jointly: the Gaussian
  conditional mean given the shifted values);
- `shift_only.<VALUE> = d`: only the value's own items move (equally), so its centered mean rises by d
  human SDs; the other values' raw scores and the attitudes stay;
- `mix.<SAMPLE> = w` (weights summing to 1): respondents drawn from several samples (each with the
  transforms above), the variables they share.

`female_share` and `no_dominant_share` are population settings, not transforms (they do not change the
value distribution): `PopulationModel(female_share=...)`, `--female-share`.
"""

from __future__ import annotations

import copy
import math
from functools import lru_cache

import numpy as np
import pandas as pd

from .. import datasets
from ..errors import PopsimError
from ..instruments import load_instrument
from ..values import CODES10
from .moments import answer_covariance, answer_means, centering_matrix, cuts_of, latent_means
from .sampler import RespondentSampler, parse_population

KINDS: tuple[str, ...] = ("shift", "shift_only", "spread", "coupling", "mix")
SETTINGS = {"female_share": "--female-share", "no_dominant_share": "--no-dominant-share"}
MAX_SHIFT, MAX_SPREAD = 3.0, 3.0
_FORMS = "shift.<VALUE>, shift_only.<VALUE>, spread, spread.<VALUE>, coupling, mix.<SAMPLE>"


def is_transform_key(key: str) -> bool:
    """Whether a study key names a transform ('shift.UN', 'spread', 'mix.DE_ESS9', ...), valid or not."""
    return str(key).partition(".")[0] in KINDS


def parse_assignment(text: str) -> tuple[str, float]:
    """'shift.UN=0.5' -> ('shift.UN', 0.5) (the CLI's `--transform`)."""
    key, sep, value = str(text).partition("=")
    if not sep or not key.strip():
        raise PopsimError(f"transform {text!r} is not KEY=NUMBER; write e.g. --transform shift.UN=0.5")
    return key.strip(), _number(key.strip(), value.strip())


def _number(key: str, value) -> float:
    if isinstance(value, bool):
        raise PopsimError(f"transform {key} = {value!r} is not a number; give a number, e.g. {key} = 0.5")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PopsimError(f"transform {key} = {value!r} is not a number; give a number, e.g. {key} = 0.5") from None
    if not math.isfinite(x):
        raise PopsimError(f"transform {key} = {value!r} is not a finite number; give a number, e.g. {key} = 0.5")
    return x


def _value_code(key: str, code: str) -> str:
    if code not in CODES10:
        from difflib import get_close_matches

        close = [code.upper()] if code.upper() in CODES10 else get_close_matches(code, CODES10, n=1)
        guess = f" (did you mean {key.split('.')[0]}.{close[0]}?)" if close else ""
        raise PopsimError(f"transform {key}: unknown value code {code!r}{guess}; use one of {', '.join(CODES10)}")
    return code


def _check_one(key: str, value) -> tuple[str, float]:
    kind, dot, arg = key.partition(".")
    if kind in SETTINGS:
        raise PopsimError(f"{kind} is a population setting, not a transform of the value distribution; set it "
                          f"with {SETTINGS[kind]} (or {kind} in a study's [fixed]/[grid])")
    if kind not in KINDS:
        from difflib import get_close_matches

        close = get_close_matches(kind, KINDS, n=1)
        raise PopsimError(f"unknown transform {key!r}{f' (did you mean {close[0]}?)' if close else ''}; "
                          f"use one of {_FORMS}")
    if kind in ("shift", "shift_only", "mix") and not arg:
        raise PopsimError(f"transform {key!r} needs a {'sample' if kind == 'mix' else 'value'}: write "
                          f"{kind}.{'DE_ESS9' if kind == 'mix' else 'UN'}")
    if kind == "coupling" and dot:
        raise PopsimError(f"transform {key!r}: coupling applies to all items; write coupling = 0.5")
    x = _number(key, value)
    if kind in ("shift", "shift_only"):
        _value_code(key, arg)
        if abs(x) > MAX_SHIFT:
            raise PopsimError(f"transform {key} = {x:g} is outside -3..3 human SDs; use a shift within +-3")
    elif kind == "spread":
        if arg:
            _value_code(key, arg)
        if x <= 0 or x > MAX_SPREAD:
            raise PopsimError(f"transform {key} = {x:g}: a spread scales centered deviations and must be in "
                              f"(0, {MAX_SPREAD:g}]; use e.g. {key} = 0.5 (half the spread) or 1.5")
    elif kind == "coupling":
        if not 0 <= x <= 1:
            raise PopsimError(f"transform coupling = {x:g} is outside [0, 1]; use 1 (unchanged) ... 0 (independent)")
    elif kind == "mix":
        try:
            kind_, _, _ = parse_population(arg)
        except PopsimError as exc:
            raise PopsimError(f"transform {key}: {exc}") from None
        if not 0 < x <= 1:
            raise PopsimError(f"transform {key} = {x:g}: a mixture weight must be in (0, 1]")
    return key, x


def parse_transforms(spec) -> dict[str, float]:
    """Validate transforms given as a dict, a list of 'KEY=NUMBER' strings or None; returns a sorted plain
    dict (empty: no transform). Every error is one line naming the key and the fix."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, dict):
        pairs = list(spec.items())
    elif isinstance(spec, (list, tuple)):
        pairs = [parse_assignment(s) if isinstance(s, str) else tuple(s) for s in spec]
    else:
        raise PopsimError(f"transforms must be a table like {{'shift.UN': 0.5}}, got {type(spec).__name__}")
    out: dict[str, float] = {}
    for key, value in pairs:
        key, x = _check_one(str(key), value)
        if key in out:
            raise PopsimError(f"transform {key} is given twice; give it once")
        out[key] = x
    mix = {k: w for k, w in out.items() if k.startswith("mix.")}
    if mix and abs(sum(mix.values()) - 1) > 1e-6:
        raise PopsimError(f"mixture weights {', '.join(f'{k} = {w:g}' for k, w in mix.items())} sum to "
                          f"{sum(mix.values()):g}; make them sum to 1")
    for code in CODES10:
        if f"shift.{code}" in out and f"shift_only.{code}" in out:
            raise PopsimError(f"shift.{code} and shift_only.{code} both move {code}; keep one")
    if sum(k.startswith("shift.") for k in out) == len(CODES10):
        raise PopsimError("shift on all 10 values: the centered values sum to zero (weighted by their items), so "
                          "the tenth is fixed by the other nine; drop one shift")
    return dict(sorted(out.items()))


def transforms_label(transforms: dict) -> str:
    """'shift.UN=0.5,spread=0.8' (run names, tables)."""
    return ",".join(f"{k}={v:g}" for k, v in parse_transforms(transforms).items())


# ------------------------------------------------------------------------------------------ the sampler


def transformed_sampler(sample: str, transforms=None):
    """The sampler of `sample` (a population name) with `transforms` applied; the plain
    `RespondentSampler` when there are none (so untransformed runs draw exactly as before)."""
    t = parse_transforms(transforms)
    if not t:
        return RespondentSampler(sample)
    return _build(str(sample), tuple(t.items()))


@lru_cache(maxsize=32)
def _build(sample: str, items: tuple[tuple[str, float], ...]):
    t = dict(items)
    rest = {k: v for k, v in t.items() if not k.startswith("mix.")}
    mix = {k[4:]: w for k, w in t.items() if k.startswith("mix.")}
    if mix:
        return MixtureSampler(sample, [(_distort(_plain(s), rest), w) for s, w in mix.items()], t)
    return _distort(_plain(sample), rest)


@lru_cache(maxsize=16)
def _plain(name: str) -> RespondentSampler:
    """The untransformed sampler of a population (shared: transforms work on copies)."""
    return RespondentSampler(name)


def human_sd(sampler) -> pd.Series:
    """The unit of shifts: the human SD of each centered value of the sample (for an ESS11 country, of its
    structure sample), or the copula's own where the sample has no value statistics."""
    return _human_sd(sampler.name)


@lru_cache(maxsize=16)
def _human_sd(name: str) -> pd.Series:
    try:
        stats = datasets.value_stats(parse_population(name)[1]).set_index("value")["centered_sd"]
        return stats.reindex(list(CODES10))
    except PopsimError:
        return pd.Series(base_moments(name).value_sd, index=list(CODES10))


def _cuts(sampler):
    return _cuts_of_population(sampler.name)


@lru_cache(maxsize=16)
def _cuts_of_population(name: str):
    return cuts_of(_plain(name).marginals)


class Moments:
    """Exact expected answer means and covariance of a sampler's distribution, and its value moments."""

    def __init__(self, sampler, nu: np.ndarray, cov: np.ndarray):
        self.nu, self.cov = nu, cov
        cuts = _cuts(sampler)
        self.means = answer_means(nu, np.sqrt(np.diag(cov)), cuts)
        self.C = answer_covariance(nu, cov, cuts)
        key = load_instrument("ess21").key()
        self.A = centering_matrix(list(sampler.value_items), key, CODES10, len(sampler.variables))
        self.value_means = self.A @ self.means
        self.value_cov = self.A @ self.C @ self.A.T

    @classmethod
    def of(cls, sampler) -> "Moments":
        return cls(sampler, np.asarray(sampler._mu, float), np.asarray(sampler.latent, float))

    @property
    def value_sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.value_cov))


@lru_cache(maxsize=16)
def base_moments(sample: str) -> Moments:
    """The exact moments of a population's untransformed distribution."""
    return Moments.of(_plain(sample))


def _spread_map(k: int, n_value_items: int, factor: np.ndarray) -> np.ndarray:
    """Latent map: each value item's deviation from the person's latent mean over the value items scaled by
    its value's factor (one factor per value item); other variables unchanged."""
    B = np.eye(k)
    q = n_value_items
    B[:q, :q] = np.diag(factor) + (1.0 - factor)[:, None] / q
    return B


def _distort(base: RespondentSampler, t: dict[str, float]) -> RespondentSampler:
    """A copy of `base` whose latent mean and covariance carry the coupling, spread and shifts of `t`."""
    out = copy.copy(base)
    out.transforms = dict(t)
    if not t:
        return out
    k, q = len(base.variables), len(base.value_items)
    key = load_instrument("ess21").key()
    nu0 = np.asarray(base._mu, float)
    cov = np.asarray(base.latent, float).copy()
    if "coupling" in t:
        c = t["coupling"]
        cov = c * cov + (1 - c) * np.eye(k)
    start = Moments(out, nu0, cov) if "coupling" in t else base_moments(base.name)
    target_sd = {v: t.get(f"spread.{v}", t.get("spread")) for v in CODES10}
    target_sd = {v: s for v, s in target_sd.items() if s is not None}
    nu = nu0
    if target_sd:
        item_value = np.array([next(v for v in CODES10 if it in key[v]) for it in base.value_items])
        lam = {v: float(s) for v, s in target_sd.items()}
        for _ in range(40):
            factor = np.array([lam.get(v, 1.0) for v in item_value])
            B = _spread_map(k, q, factor)
            cov_s = B @ cov @ B.T
            nu, _ = latent_means(start.means, np.sqrt(np.diag(cov_s)), _cuts(base))
            got = Moments(out, nu, cov_s)
            ratio = {v: got.value_sd[CODES10.index(v)] / start.value_sd[CODES10.index(v)] for v in lam}
            err = max(abs(ratio[v] - target_sd[v]) for v in lam)
            if err < 1e-4:
                break
            lam = {v: float(np.clip(lam[v] * target_sd[v] / ratio[v], 1e-3, 50.0)) for v in lam}
        worst = max(lam, key=lambda v: abs(ratio[v] - target_sd[v]))
        if err > 0.01:
            name = f"spread.{worst}" if f"spread.{worst}" in t else "spread"
            raise PopsimError(f"transform {name} = {target_sd[worst]:g}: the 6-point answers of {base.name} cannot "
                              f"show that spread ({worst}'s SD reaches {ratio[worst]:.2f} x its own); use a spread "
                              "nearer 1 (about 0.5 to 1.6 works for every value of the shipped samples)")
        out.spread_factors = {v: round(lam[v], 6) for v in lam}
        cov = cov_s
    before = Moments(out, nu, cov) if target_sd else start
    shift = {k_[6:]: d for k_, d in t.items() if k_.startswith("shift.")}
    only = {k_[11:]: d for k_, d in t.items() if k_.startswith("shift_only.")}
    target = before.means.copy()
    unit = human_sd(base)
    if shift:
        rows = [CODES10.index(v) for v in shift]
        A_s = before.A[rows]
        dv = np.array([d * unit[v] for v, d in shift.items()])
        target += before.C @ A_s.T @ np.linalg.solve(A_s @ before.C @ A_s.T, dv)
    pos = {it: j for j, it in enumerate(base.value_items)}
    for v, d in only.items():
        n_v = len(key[v])
        for it in key[v]:
            target[pos[it]] += d * unit[v] / (1 - n_v / q)
    if shift or only:
        nu, saturated = latent_means(target, np.sqrt(np.diag(cov)), _cuts(base))
        out.saturated = [base.variables[j] for j in np.flatnonzero(saturated)]
    out._mu = nu
    out.latent = cov
    out._chol = _cholesky(cov)
    out.expected = Moments(out, nu, cov)
    for v, d in {**shift, **only}.items():
        i = CODES10.index(v)
        got = (out.expected.value_means[i] - before.value_means[i]) / unit[v]
        if abs(got - d) > 0.02:
            name = f"shift.{v}" if v in shift else f"shift_only.{v}"
            raise PopsimError(f"transform {name} = {d:g}: {v}'s items saturate at the end of the answer scale of "
                              f"{base.name}, so its centered mean moves only {got:+.2f} human SDs; use a smaller shift")
    return out


def _cholesky(cov: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return np.linalg.cholesky(cov + 1e-9 * np.eye(len(cov)))


class MixtureSampler:
    """Respondents from several (transformed) samples in proportion to their weights: the 21 value items
    and the attitude questions every component has. Same interface as `RespondentSampler`."""

    kind, country, shift = "mixture", None, {}

    def __init__(self, name: str, components: list[tuple[RespondentSampler, float]], transforms: dict):
        self.name, self.transforms = name, dict(transforms)
        self.sample = parse_population(name)[1]
        self.components = components
        self.weights = np.array([w for _, w in components], float)
        self.value_items = list(components[0][0].value_items)
        shared = set.intersection(*(set(s.behavior_items) for s, _ in components))
        self.behavior_items = [v for v in components[0][0].behavior_items if v in shared]
        self.variables = self.value_items + self.behavior_items

    def draw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        label = rng.choice(len(self.components), size=n, p=self.weights / self.weights.sum())
        parts, where = [], []
        for i, (s, _) in enumerate(self.components):
            idx = np.flatnonzero(label == i)
            if len(idx):
                parts.append(s.draw(len(idx), rng)[self.variables])
                where.append(idx)
        rows = pd.concat(parts, ignore_index=True)
        return rows.iloc[np.argsort(np.concatenate(where), kind="stable")].reset_index(drop=True)


def check_honoured(transforms, *, strategy: str = "empirical", policy: str = "llm", prompt_style: str = "value_prompt",
                   items: tuple[str, ...] = (), sample: str = "DE_ESS9") -> None:
    """Refuse transforms that a run could not honour: the custom strategy (agents from a profiles file, nothing
    drawn); an LLM whose persona states no values (style `none`), or only a prime chosen by a fixed design
    (`uniform`, `panel`), so the transform could not reach its answers; a mixture whose samples lack
    attitude questions the reference policy must answer (`items`: the scenario's item ids)."""
    t = parse_transforms(transforms)
    if not t:
        return
    first = next(iter(t))
    if strategy == "custom":
        raise PopsimError(f"transform {first}: the custom strategy takes its agents from a profiles file, so no "
                          "distribution is drawn to transform; use --strategy empirical or drop the transform")
    if strategy == "respondents":
        raise PopsimError(f"transform {first}: the respondents strategy takes real people as they are, so no "
                          "distribution is drawn to transform; use --strategy empirical or drop the transform")
    if policy == "llm":
        from ..prompts import check_style

        needs = check_style(prompt_style).needs
        if needs in ("nothing", "demographics"):
            raise PopsimError(f"transform {first}: prompt style {prompt_style!r} states no values, so the model's "
                              "answers cannot follow the transform; use a value style (e.g. value_prompt, profile) "
                              "or --policy reference")
        if needs == "prime" and strategy in ("uniform", "panel"):
            raise PopsimError(f"transform {first}: with strategy {strategy!r} the primes are fixed by design and "
                              f"style {prompt_style!r} states only the prime, so the model's answers cannot follow "
                              "the transform; use strategy empirical or h_np, or style profile")
    mix = [k[4:] for k in t if k.startswith("mix.")]
    if mix and policy == "reference":
        mixture = transformed_sampler(sample, t)
        some = set().union(*(c.variables for c, _ in mixture.components))
        lacking = [it for it in items if it in some and it not in mixture.variables]
        if lacking:
            raise PopsimError(f"transform mix.{mix[0]}: not every sample of the mixture has the attitude question "
                              f"{lacking[0]!r}, so the reference policy cannot answer it; mix samples that all have "
                              "it or use --policy llm")
