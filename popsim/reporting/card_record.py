"""The fidelity card's part of the run record (`metrics.json` "card"): typed sections as in `record.py`.

Written by `card.fidelity_card`, read by attribute by the report, the page, comparisons and sweeps
(`m.card.marginal.scale.frame()`, `m.headline.simbench_score`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .section import Rows, Section


@dataclass(kw_only=True)
class DispersionSummary(Section):
    """Geometric mean of SD ratios (simulated / human) and the shares of rows under- and over-dispersed."""

    n: int | None = None
    dispersion_ratio: float | None = None
    share_under: float | None = None
    share_over: float | None = None


@dataclass(kw_only=True)
class ProfileSpread(Section):
    """Between-agent spread of value profiles (RMS distance from the mean profile) against the human one."""

    n: int | None = None
    sim_spread: float | None = None
    human_spread: float | None = None
    ratio: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(kw_only=True)
class Marginal(Section):
    """Distribution scores against floor, ceiling and baselines (`scale`, one row per score), per item
    (`items`: scores and SD ratio), dispersion of items and values, spread of value profiles."""

    n_items: int | None = None
    datasets: list | None = None
    scale: Rows | None = None
    items: Rows | None = None
    simbench_by_dataset: dict | None = None
    dispersion_items: DispersionSummary | None = None
    values: Rows | None = None
    dispersion_values: DispersionSummary | None = None
    profile_spread: ProfileSpread | None = None
    error: str | None = None


@dataclass(kw_only=True)
class Structural(Section):
    """Structure agreement (structure r, Tucker's phi, Procrustes, RANDALL) next to the human noise ceiling."""

    sample: str | None = None
    table: Rows | None = None
    error: str | None = None


@dataclass(kw_only=True)
class SignSummary(Section):
    n_pairs: int | None = None
    share_keep_sign: float | None = None
    n_human_nonzero: int | None = None
    share_keep_sign_nonzero: float | None = None
    share_flipped: float | None = None
    share_inside_ci: float | None = None
    level: float | None = None


@dataclass(kw_only=True)
class GameCard(Section):
    outcome: str | None = None
    mean_share: float | None = None
    low: float | None = None
    high: float | None = None
    human_mean_share: float | None = None
    human_source: str | None = None
    human_inside_ci: bool | None = None
    signs_as_expected: int | None = None
    signs_tested: int | None = None
    slope_per_round: float | None = None


@dataclass(kw_only=True)
class Behavioural(Section):
    """Value-outcome signs against the human 95% intervals; the game outcome against the published figure."""

    signs: SignSummary | None = None
    twin_signs: SignSummary | None = None
    sign_cells: Rows | None = None
    signs_error: str | None = None
    game: GameCard | None = None


@dataclass(kw_only=True)
class IndividualCard(Section):
    """Agents against their own respondents (from the record's `individual` section): accuracy, error and
    per-person r of the agents and of the two baselines; the agents' accuracy above the better baseline."""

    n_agents: int | None = None
    n_items: int | None = None
    summary: Rows | None = None  # predictor, accuracy, mae, r
    best_baseline: str | None = None
    accuracy_gain: float | None = None
    error: str | None = None


@dataclass(kw_only=True)
class Ppi(Section):
    """Prediction-powered inference of each item's human mean (labelled real respondents + the simulated rest)."""

    n_labelled: int | None = None
    n_respondents: int | None = None
    n_unlabelled_agents: int | None = None
    level: float | None = None
    skipped_items: list | None = None
    items: Rows | None = None  # item, ppi_mean/low/high/se, lam, classical_*, effective_n, gain, sample_mean, ...
    median_effective_n: float | None = None
    median_gain: float | None = None
    mean_lam: float | None = None
    ppi_coverage: float | None = None
    classical_coverage: float | None = None
    error: str | None = None


@dataclass(kw_only=True)
class Card(Section):
    """The fidelity card of a run (docs/analysis.md, section 10)."""

    marginal: Marginal | None = None
    structural: Structural | None = None
    behavioural: Behavioural | None = None
    individual: IndividualCard | None = None
    ppi: Ppi | None = None
