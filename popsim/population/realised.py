"""What a drawn population shows next to its untransformed sample: the run record's part about a transform
(`transform_record`) and the realised statistics of the twins (`realised_statistics`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..values import CODES10
from .sampler import centered_profiles
from .transforms import _plain, base_moments, human_sd


def realised_statistics(responses: pd.DataFrame, sample: str) -> dict:
    """What a drawn population looks like next to the untransformed sample: each centered value's mean and
    SD (and the change in human SDs, the SD ratio), the structure r (Pearson r of the 45 centered value
    correlations vs the untransformed copula's expected ones) and each attitude question's mean (and its
    change in the question's SDs). The untransformed figures are exact expectations of the sample's copula."""
    base = _plain(sample)
    ref = base_moments(sample)
    unit = human_sd(base)
    cen = centered_profiles(responses[base.value_items])[list(CODES10)]
    m, sd = cen.mean(), cen.std(ddof=1)
    out: dict = {"n": int(len(cen)), "value_mean": {}, "value_sd": {}, "value_mean_shift_sd": {}, "value_sd_ratio": {}}
    for i, v in enumerate(CODES10):
        out["value_mean"][v] = round(float(m[v]), 4)
        out["value_sd"][v] = round(float(sd[v]), 4)
        out["value_mean_shift_sd"][v] = round(float((m[v] - ref.value_means[i]) / unit[v]), 4)
        out["value_sd_ratio"][v] = round(float(sd[v] / ref.value_sd[i]), 4)
    iu = np.triu_indices(len(CODES10), 1)
    sim = cen.corr().to_numpy()[iu]
    d = ref.value_sd
    human = (ref.value_cov / np.outer(d, d))[iu]
    ok = np.isfinite(sim)
    out["structure_r"] = round(float(np.corrcoef(sim[ok], human[ok])[0, 1]), 4) if ok.sum() > 2 and np.std(sim[ok]) > 0 \
        else None
    att = [v for v in base.behavior_items if v in responses.columns]
    if att:
        out["attitude_mean"], out["attitude_shift_sd"] = {}, {}
        for v in att:
            j = base.variables.index(v)
            x = responses[v].astype(float)
            out["attitude_mean"][v] = round(float(x.mean()), 4)
            out["attitude_shift_sd"][v] = round(float((x.mean() - ref.means[j]) / np.sqrt(ref.C[j, j])), 4)
    return out


def transform_record(sampler, responses: pd.DataFrame, sample: str) -> dict:
    """The run record's part about the transform: the transforms, the expected value means and SDs of the
    transformed distribution, saturated items, and the realised statistics of the drawn population."""
    rec: dict = {"transforms": dict(sampler.transforms)}
    exp = getattr(sampler, "expected", None)
    if exp is not None:
        rec["expected_value_mean"] = {v: round(float(x), 4) for v, x in zip(CODES10, exp.value_means)}
        rec["expected_value_sd"] = {v: round(float(x), 4) for v, x in zip(CODES10, exp.value_sd)}
    for attr in ("saturated", "spread_factors"):
        if getattr(sampler, attr, None):
            rec[attr] = getattr(sampler, attr)
    rec["realised"] = realised_statistics(responses, sample)
    return rec
