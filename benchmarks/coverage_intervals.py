"""Coverage of the structure r's bootstrap intervals on simulated populations (not a speed benchmark).

The structure r is the Pearson r between the 45 off-diagonal cells of a population's value
correlation matrix and a human one. Data sets of n agents are drawn from a multivariate normal whose
correlation matrix is the human one (US_GSS2012, centered; so r is 1 for an infinite population) or
a 50/50 mix of it with a random correlation matrix (r about 0.6). For each data set, three 95%
intervals: the percentile bootstrap (what popsim reported before issue 11), BCa, and the interval
`popsim.analysis.agreement_interval` reports (basic interval of the expected r at n agents, Fisher z).
Printed per case: how often each interval covers E[r_n] (the mean r over the data sets), covers r of
an infinite population, contains its own estimate, and its mean width.

    .venv/bin/python benchmarks/coverage_intervals.py [--reps 200] [--boot 499]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from popsim import datasets  # noqa: E402
from popsim.analysis import agreement_interval, bootstrap_ci, correlation_batch  # noqa: E402
from popsim.values import CODES10  # noqa: E402

IU = np.triu_indices(10, 1)


def population_matrix(human: np.ndarray, mix: float) -> np.ndarray:
    a = np.random.default_rng(123).normal(size=(10, 10))
    s = a @ a.T
    d = np.sqrt(np.diag(s))
    r = (1 - mix) * human + mix * s / np.outer(d, d)
    w, v = np.linalg.eigh(r)  # centered scores are singular: keep the matrix positive definite
    r = v @ np.diag(np.clip(w, 1e-6, None)) @ v.T
    d = np.sqrt(np.diag(r))
    return r / np.outer(d, d)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--boot", type=int, default=499)
    ap.add_argument("--sizes", default="40,100,300,1500")
    ap.add_argument("--bca-max-n", type=int, default=300, help="skip BCa (a jackknife of n matrices) above this n")
    args = ap.parse_args()
    human_df = datasets.value_correlation_matrix("US_GSS2012", "centered").loc[list(CODES10), list(CODES10)]
    human = human_df.to_numpy()
    y = human[IU]
    yz = (y - y.mean()) / y.std()

    def pearson(data):
        c = correlation_batch(data)[..., IU[0], IU[1]]
        return (((c - c.mean(axis=-1, keepdims=True)) / c.std(axis=-1, keepdims=True)) * yz).mean(axis=-1)

    print(f"== coverage of 95% intervals of the structure r ({args.reps} data sets per case, {args.boot} resamples)")
    for label, mix in (("r_inf = 1 (human matrix)", 0.0), ("r_inf ~ 0.6 (50/50 mix)", 0.5)):
        pop = population_matrix(human, mix)
        r_inf = float(np.corrcoef(pop[IU], y)[0, 1])
        chol = np.linalg.cholesky(pop)
        for n in (int(s) for s in args.sizes.split(",")):
            rng = np.random.default_rng(7)
            rows = []
            for rep in range(args.reps):
                x = rng.normal(size=(n, 10)) @ chol.T
                new = agreement_interval(pd.DataFrame(x, columns=list(CODES10)), human_df, n_boot=args.boot, seed=rep)
                row = {"est": new["pearson_r"], "expected": (new["low"], new["high"])}
                row["percentile"] = bootstrap_ci(x, pearson, n_boot=args.boot, method="percentile", vectorized=True,
                                                 rng=rep)[1:]
                if n <= args.bca_max_n:
                    row["BCa"] = bootstrap_ci(x, pearson, n_boot=args.boot, method="BCa", vectorized=True, rng=rep)[1:]
                rows.append(row)
            est = np.array([r["est"] for r in rows])
            mu = est.mean()
            print(f"   {label}, n = {n}: r_inf {r_inf:.4f}, E[r_n] {mu:.4f} (SD {est.std():.4f})")
            for method in ("percentile", "BCa", "expected"):
                if method not in rows[0]:
                    continue
                lo, hi = np.array([r[method] for r in rows]).T
                print(f"      {method:10s}  covers E[r_n] {np.mean((lo <= mu) & (mu <= hi)):.2f}  covers r_inf "
                      f"{np.mean((lo <= r_inf) & (r_inf <= hi)):.2f}  contains its estimate "
                      f"{np.mean((lo <= est) & (est <= hi)):.2f}  mean width {np.mean(hi - lo):.4f}", flush=True)


if __name__ == "__main__":
    main()
