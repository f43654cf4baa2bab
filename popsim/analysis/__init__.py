"""Analysis of simulated populations against the human reference data.

Flat functions, tidy DataFrames in and out (pingouin / scikit-learn style); every function
documents its input and output columns, takes a `seed`/`rng` where it resamples, and raises a
`PopsimError` on bad input. What each function computes, with formulas and citations, is in
`docs/analysis.md`.

- `stats`: fdr_bh, fisher_z_test, cronbach_alpha
- `intervals`: bootstrap_ci, mean_difference_ci, seed_interval, summarize_seeds, METRIC_KINDS
- `structure`: correlation_matrix, higher_order_scores, mds, angular_order, randall, randall_interval
- `agreement`: matrix_agreement, agreement_interval, aligned_maps, noise_ceiling, agreement_table
- `means`: value_means, profile_agreement
- `behaviour`: value_behaviour_correlations, compare_value_behaviour
- `distributions`: compare_distributions, value_item_shares, attitude_item_shares
- `manipulation`: manipulation_check, profile_recovery, reliability, human_reliability
- `games`: game_shares, per_round_shares, share_trend, agent_shares, mean_share, value_share_correlations
- `statements`: endorsement, circle_test, induction_effects
- `subgroups`: subgroup_means, subgroup_structure, subgroup_distributions (per demographic group vs humans)
- `fidelity`: individual_fidelity (each agent against its own respondent, with two baselines)
- `scores`: answer_shares, distribution_scores, summarise_scores (TV, SimBench, OpinionQA W1 score, JS)
- `baselines`: sampling_floor, split_half_ceiling, multinomial_ceiling, naive_baselines, independent_answers,
  fidelity_scale
- `dispersion`: dispersion_items, dispersion_values, profile_spread, dispersion_summary
- `signs`: fisher_ci, sign_check
- `ppi`: ppi_mean, ppi_item_means (prediction-powered inference)
"""

from .agreement import agreement_interval, agreement_table, aligned_maps, matrix_agreement, noise_ceiling
from .baselines import (fidelity_scale, independent_answers, multinomial_ceiling, naive_baselines, sampling_floor,
                        split_half_ceiling)
from .behaviour import compare_value_behaviour, value_behaviour_correlations
from .dispersion import dispersion_items, dispersion_summary, dispersion_values, profile_spread
from .distributions import attitude_item_shares, compare_distributions, value_item_shares
from .fidelity import individual_fidelity
from .games import (agent_shares, game_shares, mean_share, per_round_shares, share_trend, signs_as_expected,
                    value_share_correlations)
from .intervals import (KINDS, METRIC_KINDS, bootstrap_ci, mean_difference_ci, metric_kind, seed_interval,
                        summarize_seeds)
from .manipulation import human_reliability, manipulation_check, profile_recovery, reliability
from .means import profile_agreement, value_means
from .ppi import ppi_item_means, ppi_mean
from .scores import answer_shares, distribution_scores, summarise_scores
from .signs import fisher_ci, sign_check
from .statements import circle_test, endorsement, induction_effects
from .stats import cronbach_alpha, fdr_bh, fisher_z_test
from .subgroups import subgroup_distributions, subgroup_means, subgroup_structure
from .structure import (angular_order, correlation_batch, correlation_matrix, correspondence_indices, distances,
                        higher_order_scores, mds, randall, randall_interval)

__all__ = [
    "KINDS", "METRIC_KINDS", "agent_shares", "agreement_interval", "agreement_table", "aligned_maps",
    "angular_order", "answer_shares", "attitude_item_shares", "bootstrap_ci", "circle_test",
    "compare_distributions", "compare_value_behaviour", "correlation_batch", "correlation_matrix",
    "correspondence_indices", "cronbach_alpha", "dispersion_items", "dispersion_summary", "dispersion_values",
    "distances", "distribution_scores", "endorsement", "fdr_bh", "fidelity_scale", "fisher_ci", "fisher_z_test",
    "game_shares", "higher_order_scores", "human_reliability", "independent_answers", "individual_fidelity",
    "induction_effects", "manipulation_check", "matrix_agreement", "mds", "mean_difference_ci", "mean_share",
    "metric_kind", "multinomial_ceiling", "naive_baselines", "noise_ceiling", "per_round_shares", "ppi_item_means",
    "ppi_mean", "profile_agreement", "profile_recovery", "profile_spread", "randall", "randall_interval",
    "reliability", "sampling_floor", "seed_interval", "share_trend", "sign_check", "signs_as_expected",
    "split_half_ceiling", "subgroup_distributions", "subgroup_means", "subgroup_structure", "summarise_scores",
    "summarize_seeds", "value_behaviour_correlations", "value_item_shares", "value_means",
    "value_share_correlations",
]
