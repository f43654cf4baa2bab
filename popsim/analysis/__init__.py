"""Analysis of simulated populations against the human reference data.

Flat functions, tidy DataFrames in and out (pingouin / scikit-learn style); every function
documents its input and output columns, takes a `seed`/`rng` where it resamples, and raises a
`PopsimError` on bad input. What each function computes, with formulas and citations, is in
`docs/analysis.md`.

- `stats`: bootstrap_ci, fdr_bh, fisher_z_test, cronbach_alpha
- `structure`: correlation_matrix, higher_order_scores, mds, angular_order, randall
- `agreement`: matrix_agreement, noise_ceiling, agreement_table
- `behaviour`: value_behaviour_correlations, compare_value_behaviour
- `distributions`: compare_distributions, value_item_shares, attitude_item_shares
- `manipulation`: manipulation_check, profile_recovery, reliability
"""

from .agreement import agreement_table, matrix_agreement, noise_ceiling
from .behaviour import compare_value_behaviour, value_behaviour_correlations
from .distributions import attitude_item_shares, compare_distributions, value_item_shares
from .manipulation import manipulation_check, profile_recovery, reliability
from .stats import bootstrap_ci, cronbach_alpha, fdr_bh, fisher_z_test
from .structure import (angular_order, correlation_matrix, correspondence_indices, distances, higher_order_scores, mds,
                        randall)

__all__ = [
    "agreement_table", "angular_order", "attitude_item_shares", "bootstrap_ci", "compare_distributions",
    "compare_value_behaviour", "correlation_matrix", "correspondence_indices", "cronbach_alpha", "distances", "fdr_bh", "fisher_z_test",
    "higher_order_scores", "manipulation_check", "matrix_agreement", "mds", "noise_ceiling",
    "profile_recovery", "randall", "reliability", "value_behaviour_correlations", "value_item_shares",
]
