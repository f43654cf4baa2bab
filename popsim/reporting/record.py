"""A run's record of numbers (`metrics.json`), typed: a schema version and one dataclass per section.

`evaluation.evaluate` computes the numbers; `Metrics.from_dict` types them and `Metrics.load(run_folder)` reads them
back, so every reader (the report, comparisons, sweeps, the replication, the demo, the page) uses attributes
(`m.values.agreement.pearson_r`), not nested string keys. A section a run does not have is None. A record of
another schema version, or a file that is not a popsim record, is refused with a one-line error that says how to
rebuild it (`popsim report RUN` rebuilds every number from the run's tables). Keys a section does not declare are
kept in its `extra` (and written back), so nothing a newer writer adds is lost.

Tables of the record (lists of row dicts) are `Rows`: `rows.frame()` is the tidy DataFrame. The base classes are in
`section.py`, the fidelity card's sections in `card_record.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import PopsimError
from .card_record import Card
from .section import Rows, Section  # noqa: F401 (Rows: part of the record's interface, record.Rows)

#: version of the metrics.json layout this popsim writes and reads (records without one are from before 2)
SCHEMA = 2


# ------------------------------------------------------------------------------------------ sections


@dataclass(kw_only=True)
class RunInfo(Section):
    """What the run was (its identity, as config.json has it) and how it went."""

    scenario: str | None = None
    n_agents: int | None = None
    population: str | None = None
    strategy: str | None = None
    prompt_style: str | None = None
    policy: str | None = None
    temperature: float | None = None
    option_order: str | None = None
    template_variant: int | None = None
    network: str | None = None
    seed: int | None = None
    backend: str | None = None
    model: str | None = None
    country: str | None = None
    female_share: float | None = None
    no_dominant_share: float | None = None
    transforms: dict | None = None
    scenario_options: dict | None = None
    network_options: dict | None = None
    backend_detail: dict | None = None
    engine: dict | None = None
    usage: dict | None = None  # tokens the server reported (prompt_tokens, completion_tokens, requests_with_usage)
    cost: dict | None = None  # those tokens at --price-per-mtok (usd; price_per_mtok)
    seconds: float | None = None
    population_record: dict | None = None


@dataclass(kw_only=True)
class Validity(Section):
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    median: float | None = None
    share_below_half: float | None = None
    n_asks: int | None = None


@dataclass(kw_only=True)
class Answers(Section):
    n: int | None = None
    missing: int | None = None
    missing_reasons: dict | None = None
    methods: dict | None = None
    validity: Validity | None = None


@dataclass(kw_only=True)
class ManipulationSummary(Section):
    values_primed: int | None = None
    values_testable: int | None = None
    baseline: str | None = None
    mean_diff: float | None = None
    mean_d: float | None = None
    mean_diff_expected: float | None = None
    mean_d_human: float | None = None
    n_significant: int | None = None
    mean_hit_rate: float | None = None
    twin_mean_diff: float | None = None


@dataclass(kw_only=True)
class ProfileRecovery(Section):
    n_agents: int | None = None
    n_valid: int | None = None
    mean_r: float | None = None
    median_r: float | None = None
    fisher_mean_r: float | None = None
    share_positive: float | None = None


@dataclass(kw_only=True)
class Agreement(Section):
    """Structure agreement of the simulated value correlations with a human sample's."""

    sample: str | None = None
    n_cells: int | None = None
    pearson_r: float | None = None
    pearson_low: float | None = None
    pearson_high: float | None = None
    spearman_rho: float | None = None
    mantel_p: float | None = None
    tucker_phi: float | None = None
    procrustes_disparity: float | None = None
    procrustes_p: float | None = None
    n_perm: int | None = None


@dataclass(kw_only=True)
class Randall(Section):
    """RANDALL correspondence index of the circular order (with its interval when simulated)."""

    ci: float | None = None
    low: float | None = None
    high: float | None = None
    agreements: int | None = None
    violations: int | None = None
    ties: int | None = None
    predictions: int | None = None
    p: float | None = None
    n_perm: int | None = None
    error: str | None = None


@dataclass(kw_only=True)
class Values(Section):
    """Measured values: means, the manipulation check, structure, reliability."""

    instrument: str | None = None
    n_scored: int | None = None
    means: Rows | None = None
    manipulation: Rows | None = None
    manipulation_summary: ManipulationSummary | None = None
    manipulation_error: str | None = None
    profile_recovery: ProfileRecovery | None = None
    profile_recovery_error: str | None = None
    correlations: dict | None = None  # {"simulated": {...}, "human": {...}} 10 x 10, by value code
    agreement: Agreement | None = None
    agreement_all: Rows | None = None
    agreement_error: str | None = None
    randall: Randall | None = None
    randall_human: Randall | None = None
    noise_ceiling: Rows | None = None
    angular_order: list | None = None
    structure_error: str | None = None
    reliability: Rows | None = None


@dataclass(kw_only=True)
class ItemsSummary(Section):
    n_items: int | None = None
    mean_wasserstein: float | None = None
    mean_jensen_shannon: float | None = None
    mean_abs_mean_diff: float | None = None


@dataclass(kw_only=True)
class Items(Section):
    """The value items' answer distributions against the human ones."""

    sample: str | None = None
    table: Rows | None = None
    summary: ItemsSummary | None = None
    error: str | None = None


@dataclass(kw_only=True)
class ValueBehaviourSummary(Section):
    n_cells: int | None = None
    pearson_r: float | None = None
    mean_abs_diff: float | None = None
    sign_agreement: float | None = None
    n_significant: int | None = None
    alpha: float | None = None


@dataclass(kw_only=True)
class Behaviour(Section):
    """Attitude and behaviour items: distributions and value-behaviour correlations."""

    sample: str | None = None  # the human sample compared with (the run's own when it has outcomes, else DE_ESS9)
    items: Rows | None = None
    items_summary: ItemsSummary | None = None
    items_error: str | None = None
    value_behaviour: Rows | None = None
    value_behaviour_summary: ValueBehaviourSummary | None = None
    value_behaviour_error: str | None = None


@dataclass(kw_only=True)
class Game(Section):
    outcome: str | None = None
    endowment: float | None = None
    rounds: int | None = None
    mean_share: float | None = None
    low: float | None = None
    high: float | None = None
    per_round: Rows | None = None
    slope_per_round: float | None = None
    human_reference: dict | None = None
    expected_signs: dict | None = None
    value_correlations: Rows | None = None
    signs_as_expected: int | None = None
    signs_tested: int | None = None


@dataclass(kw_only=True)
class Statements(Section):
    endorsement: dict | None = None  # prime -> dimension -> mean endorsement
    n_statements: int | None = None


@dataclass(kw_only=True)
class Subgroups(Section):
    """Per demographic subgroup, the simulated population next to the human one (agents that are respondents)."""

    sample: str | None = None
    variables: list | None = None
    min_agents: int | None = None
    min_respondents: int | None = None
    means: Rows | None = None  # variable, group, value, sim_n, sim_mean, sim_low, sim_high, human_n, human_mean, ...
    structure: Rows | None = None  # variable, group, sim_n, human_n, structure_r
    distributions: Rows | None = None  # variable, group, item, sim_n, human_n, sim_mean, human_mean, ...
    error: str | None = None


@dataclass(kw_only=True)
class Individual(Section):
    """Individual-level fidelity: each agent's answers against its own respondent's, with two baselines."""

    items: list | None = None
    n_agents: int | None = None
    summary: Rows | None = None  # predictor, n_agents, accuracy, mae, r (with 95% CIs), n_r
    baseline_note: str | None = None
    error: str | None = None


@dataclass(kw_only=True)
class Realised(Section):
    """What the drawn twins show next to the untransformed sample (`population.realised_statistics`)."""

    n: int | None = None
    value_mean: dict | None = None  # value code -> centered mean
    value_sd: dict | None = None
    value_mean_shift_sd: dict | None = None  # change from the untransformed copula, in human SDs
    value_sd_ratio: dict | None = None
    structure_r: float | None = None  # 45 centered value correlations vs the untransformed copula's
    attitude_mean: dict | None = None
    attitude_shift_sd: dict | None = None  # change in the question's own SDs


@dataclass(kw_only=True)
class Transform(Section):
    """The transform of the value distribution the twins were drawn from (docs/populations.md)."""

    transforms: dict | None = None
    expected_value_mean: dict | None = None  # exact, of the transformed distribution
    expected_value_sd: dict | None = None
    saturated: list | None = None  # items at the end of their scale
    spread_factors: dict | None = None
    realised: Realised | None = None


@dataclass(kw_only=True)
class Headline(Section):
    """The few numbers a comparison shows (None where a run has no such number)."""

    validity_mean: float | None = None
    means_r: float | None = None
    means_abs_diff: float | None = None
    missing: int | None = None
    manipulation_diff_expected: float | None = None
    manipulation_d: float | None = None
    manipulation_significant: int | None = None
    hit_rate: float | None = None
    profile_r: float | None = None
    structure_r: float | None = None
    structure_r_low: float | None = None
    structure_r_high: float | None = None
    tucker_phi: float | None = None
    procrustes: float | None = None
    randall_ci: float | None = None
    items_js: float | None = None
    behaviour_js: float | None = None
    value_behaviour_r: float | None = None
    value_behaviour_sign: float | None = None
    game_mean_share: float | None = None
    game_slope: float | None = None
    game_signs: str | None = None
    # the fidelity card (card_record.Card; docs/analysis.md section 10)
    simbench_score: float | None = None
    simbench_floor: float | None = None
    simbench_ceiling: float | None = None
    simbench_normalised: float | None = None
    w1_score: float | None = None
    w1_floor: float | None = None
    w1_normalised: float | None = None
    tv_distance: float | None = None
    js_distance: float | None = None
    dispersion_ratio: float | None = None
    value_dispersion_ratio: float | None = None
    profile_spread_ratio: float | None = None
    value_outcome_keep_sign: float | None = None
    value_outcome_flipped: float | None = None
    value_outcome_inside_ci: float | None = None
    individual_accuracy_gain: float | None = None
    ppi_effective_n: float | None = None
    ppi_gain: float | None = None

    def as_dict(self) -> dict:
        """Every headline metric by name (None included), in the declared order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "present")} | self.extra


@dataclass(kw_only=True)
class Metrics(Section):
    """The whole record of a run (metrics.json)."""

    schema: int = SCHEMA
    run: RunInfo | None = None
    human_sample: str | None = None
    answers: Answers | None = None
    values: Values | None = None
    items: Items | None = None
    behaviour: Behaviour | None = None
    game: Game | None = None
    statements: Statements | None = None
    subgroups: Subgroups | None = None
    individual: Individual | None = None
    card: Card | None = None
    transform: Transform | None = None
    headline: Headline | None = None
    intervals: dict | None = None  # section -> how its intervals were computed
    figures: dict | None = None  # figure name -> path inside the run folder

    @classmethod
    def load(cls, run_folder: str | Path) -> "Metrics":
        """The record of a run folder; a missing, damaged, older or foreign record is a one-line error."""
        folder = Path(run_folder)
        path = folder / "metrics.json"
        fix = f"rebuild it from the run's tables with: popsim report {folder}"
        if not path.is_file():
            raise PopsimError(f"{folder} has no metrics.json; {fix}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PopsimError(f"{path} is damaged ({exc}); {fix}") from None
        return cls.of(data, str(path), fix)

    @classmethod
    def of(cls, data: Any, where: str = "metrics", fix: str = "rebuild it with popsim report RUN") -> "Metrics":
        """A record from its dict, checked: it must be a popsim record of this schema version."""
        if not isinstance(data, dict) or "headline" not in data or "run" not in data:
            raise PopsimError(f"{where} is not a popsim run record; {fix}")
        version = data.get("schema", 1)
        if version != SCHEMA:
            raise PopsimError(f"{where} has metrics schema {version} (this popsim reads schema {SCHEMA}); {fix}")
        return cls.from_dict(data, where)

    def save(self, run_folder: str | Path) -> Path:
        path = Path(run_folder) / "metrics.json"
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str), encoding="utf-8")
        return path
