"""Populations: who the agents are and the synthetic human twin each one carries.

- `copula`: the Gaussian copula (ordinal marginals, calibrated latent correlations);
- `sampler`: synthetic respondents of a reference sample or an ESS round 11 country (`RespondentSampler`);
- `strategies`: the population strategies and `draw_population`;
- `profiles`: custom profile files.
"""

from .copula import calibrate_latent, nearest_correlation, ordinal_correlation
from .profiles import read_profiles
from .sampler import (COUNTRY_NAMES, SAMPLE_COUNTRIES, RespondentSampler, centered_profiles, country_label, country_name,
                      country_shift, parse_population)
from .strategies import (DOMINANT_STRATEGIES, STRATEGIES, WITTE_NO_DOMINANT, Population, allocate, check_strategy,
                         draw_population, human_top_shares, strategy_weights)

__all__ = ["COUNTRY_NAMES", "DOMINANT_STRATEGIES", "SAMPLE_COUNTRIES", "STRATEGIES", "WITTE_NO_DOMINANT", "Population",
           "RespondentSampler", "allocate", "calibrate_latent", "centered_profiles", "check_strategy", "country_label", "country_name",
           "country_shift", "draw_population", "human_top_shares", "nearest_correlation", "ordinal_correlation",
           "parse_population", "read_profiles", "strategy_weights"]
