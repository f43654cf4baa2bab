"""Populations: who the agents are and the synthetic human twin each one carries.

- `copula`: the Gaussian copula (ordinal marginals, calibrated latent correlations);
- `sampler`: synthetic respondents of a reference sample or an ESS round 11 country (`RespondentSampler`);
- `strategies`: the population strategies and `draw_population`;
- `profiles`: custom profile files;
- `transforms`: transforms of the value distribution as plain data (`{"shift.UN": 0.5}`);
- `realised`: what a drawn (transformed) population shows next to its untransformed sample;
- `moments`: exact answer means and covariances of a copula with any latent means and covariance.
"""

from .copula import calibrate_latent, nearest_correlation, ordinal_correlation
from .profiles import read_profiles
from .sampler import (COUNTRY_NAMES, SAMPLE_COUNTRIES, RespondentSampler, centered_profiles, country_label, country_name,
                      country_shift, parse_population)
from .strategies import (DOMINANT_STRATEGIES, STRATEGIES, WITTE_NO_DOMINANT, Population, allocate, check_strategy,
                         draw_population, human_top_shares, strategy_weights)
from .realised import realised_statistics
from .transforms import (check_honoured, is_transform_key, parse_assignment, parse_transforms, transformed_sampler,
                         transforms_label)

__all__ = ["COUNTRY_NAMES", "DOMINANT_STRATEGIES", "SAMPLE_COUNTRIES", "STRATEGIES", "WITTE_NO_DOMINANT", "Population",
           "RespondentSampler", "allocate", "calibrate_latent", "centered_profiles", "check_strategy", "country_label", "country_name",
           "country_shift", "draw_population", "human_top_shares", "nearest_correlation", "ordinal_correlation",
           "parse_population", "read_profiles", "strategy_weights", "check_honoured", "is_transform_key", "parse_assignment",
           "parse_transforms", "realised_statistics", "transformed_sampler", "transforms_label"]
