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
"""

from .agreement import agreement_interval, agreement_table, aligned_maps, matrix_agreement, noise_ceiling
from .behaviour import compare_value_behaviour, value_behaviour_correlations
from .distributions import attitude_item_shares, compare_distributions, value_item_shares
from .fidelity import individual_fidelity
from .games import (agent_shares, game_shares, mean_share, per_round_shares, share_trend, signs_as_expected,
                    value_share_correlations)
from .intervals import (KINDS, METRIC_KINDS, bootstrap_ci, mean_difference_ci, metric_kind, seed_interval,
                        summarize_seeds)
from .manipulation import human_reliability, manipulation_check, profile_recovery, reliability
from .means import profile_agreement, value_means
from .statements import circle_test, endorsement, induction_effects
from .stats import cronbach_alpha, fdr_bh, fisher_z_test
from .subgroups import subgroup_distributions, subgroup_means, subgroup_structure
from .structure import (angular_order, correlation_batch, correlation_matrix, correspondence_indices, distances,
                        higher_order_scores, mds, randall, randall_interval)

__all__ = [
    "KINDS", "METRIC_KINDS", "agent_shares", "agreement_interval", "agreement_table", "aligned_maps",
    "angular_order", "attitude_item_shares", "bootstrap_ci", "circle_test", "compare_distributions",
    "compare_value_behaviour", "correlation_batch", "correlation_matrix", "correspondence_indices",
    "cronbach_alpha", "distances", "endorsement", "fdr_bh", "fisher_z_test", "game_shares", "higher_order_scores",
    "human_reliability", "individual_fidelity", "induction_effects", "manipulation_check", "matrix_agreement", "mds", "mean_difference_ci",
    "mean_share", "metric_kind", "noise_ceiling", "per_round_shares", "profile_agreement", "profile_recovery",
    "randall", "randall_interval", "reliability", "seed_interval", "share_trend", "signs_as_expected",
    "subgroup_distributions", "subgroup_means", "subgroup_structure",
    "summarize_seeds", "value_behaviour_correlations", "value_item_shares", "value_means",
    "value_share_correlations",
]
